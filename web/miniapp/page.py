"""The Mini App's one page: a shell its script fills in after signing in with initData
(the words come with the person's view, in their language)."""

from __future__ import annotations

import json
from html import escape

from snowbot.text.texts import catalog

LEAFLET = "/app/leaflet"  # the vendored Leaflet, served to the app without the token


def app_page(lang: str, tiles: str) -> str:
    t = catalog(lang)
    data = json.dumps({"tiles": tiles}).replace("<", "\\u003c")
    return f"""<!doctype html>
<html lang="{"zh-CN" if t.language == "zh" else "en"}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<link rel="icon" href="data:,">
<title>{escape(t("app.title"))}</title>
<link rel="stylesheet" href="{LEAFLET}/leaflet.css">
<link rel="stylesheet" href="/app/static/app.css">
<script type="application/json" id="app-data">{data}</script>
</head>
<body>
<header><h1 id="title">{escape(t("app.title"))}</h1><span id="who"></span></header>
<p id="note" class="note">{escape(t("app.loading"))}</p>
<section id="duty" class="duty" hidden></section>
<div id="map" hidden></div>
<section id="tasks" hidden><h2 id="tasks-title"></h2>
  <ul id="task-list" class="cards"></ul></section>
<section id="reports" hidden><h2 id="reports-title"></h2><ul id="report-list" class="cards"></ul>
</section>
<section id="done" hidden><h2 id="done-title"></h2><ul id="done-list" class="cards"></ul></section>
<section id="streets" hidden><h2 id="streets-title"></h2>
  <input id="street-filter" type="search" autocomplete="off">
  <ul id="street-list" class="cards"></ul></section>
<section id="coordinator" hidden><button id="open-overview" class="big"></button></section>
<div id="sheet" class="sheet" hidden><h3 id="sheet-title"></h3>
  <label><span id="needed-label"></span>
    <input id="needed" type="number" min="1" max="999" value="1" inputmode="numeric"></label>
  <div class="row"><button id="post" class="big go"></button>
    <button id="sheet-close" class="big"></button></div></div>
<div id="toast" class="toast" role="status" hidden></div>
<script src="{LEAFLET}/leaflet.js"></script>
<script src="/app/static/app.js"></script>
</body>
</html>
"""
