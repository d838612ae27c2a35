"""The overview's one HTML page, in the reader's language. Its numbers are filled in by
static/overview.js from the API; the texts come from the catalogs (section `overview`)."""

from __future__ import annotations

import json
from html import escape

from snowbot.text.texts import LANGUAGES, catalog

VENDOR = "static/vendor"


def language(asked: str | None, default: str) -> str:
    """`?lang=` when it is one we speak; anything else falls back to the default."""
    return asked if asked in LANGUAGES else default


def page(lang: str, city: str, incident: str, tiles: str, timezone: str = "UTC") -> str:
    """`timezone`: the city's (an IANA name): the page shows its times in it, not in the
    zone of the PC that shows it."""
    t = catalog(lang)
    texts = {
        key.removeprefix("overview."): value
        for key, value in t.texts.items()
        if key.startswith("overview.")
    }
    other = "en" if lang == "zh" else "zh"
    # the texts travel as a JSON data block (never run as script: the CSP allows only files)
    data = json.dumps(
        {"lang": lang, "texts": texts, "tiles": tiles, "timezone": timezone}, ensure_ascii=False
    )
    data = data.replace("<", "\\u003c")

    def card(key: str, ident: str, extra: str = "") -> str:
        return (
            f'<section class="card" id="card-{ident}"><h2>{escape(t("overview." + key))}</h2>'
            f'<div class="big" id="{ident}">–</div>{extra}</section>'
        )

    duty = (
        f'<div class="sub" id="duty-split" hidden>{escape(t("overview.assigned"))} '
        f'<b id="assigned">–</b> · {escape(t("overview.available"))} <b id="available">–</b></div>'
    )
    statuses = "".join(
        f'<li class="st-{s}"><span>{escape(t("overview.task_" + s))}</span>'
        f'<b id="tasks-{s}">–</b></li>'
        for s in ("open", "in_progress", "done", "cancelled")
    )
    reports = "".join(
        f'<li class="rp-{s}"><span>{escape(t("overview.report_" + s))}</span>'
        f'<b id="reports-{s}">0</b></li>'
        for s in ("open", "tasked", "resolved", "dismissed")
    )
    legend = "".join(
        f'<li><i class="dot {s}"></i>{escape(t("overview.legend_" + s))}</li>'
        for s in ("unserved", "open", "in_progress", "served", "positions")
    )
    return f"""<!doctype html>
<html lang="{"zh-CN" if lang == "zh" else "en"}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(t("overview.title", city=city))}</title>
<link rel="icon" href="static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{VENDOR}/leaflet/leaflet.css">
<link rel="stylesheet" href="static/overview.css">
<script type="application/json" id="overview-data">{data}</script>
</head>
<body>
<header>
  <h1>{escape(t("overview.title", city=city))}</h1>
  <span class="incident" id="incident">{escape(t("overview.incident", incident=incident))}</span>
  <span class="status" id="status"><i></i>
    <span id="status-text">{escape(t("overview.live"))}</span></span>
  <span class="clock" id="clock"></span>
  <a class="lang" href="?lang={other}">{escape(t("overview.language"))}</a>
</header>
<main>
  <div class="cards">
    {card("person_times", "person-times")}
    {card("on_duty", "on-duty", duty)}
    {card("people", "people")}
    <section class="card tasks"><h2>{escape(t("overview.tasks"))}</h2><ul>{statuses}</ul></section>
    <section class="card streets"><h2>{escape(t("overview.streets"))}</h2>
      <div class="big"><span id="streets-share">–</span><small>%</small></div>
      <div class="bar"><div id="streets-bar"></div></div>
      <div class="sub">{escape(t("overview.served"))} <b id="streets-served">–</b> ·
        {escape(t("overview.unserved"))} <b id="streets-unserved">–</b></div>
    </section>
    <section class="card reports quiet" id="card-reports"><h2>{escape(t("overview.reports"))}</h2>
      <ul>{reports}</ul>
      <div class="sub">{escape(t("overview.report_wait"))} <b id="reports-wait">–</b></div>
    </section>
  </div>
  <section class="panel map-panel"><h2>{escape(t("overview.map"))}
    <label class="unit-filter">{escape(t("overview.filter"))}
      <select id="unit-filter"><option value="">{escape(t("overview.filter_all"))}</option>
      </select></label></h2>
    <div id="map"></div><div class="filter-note" id="filter-note" hidden></div>
    <ul class="legend">{legend}</ul></section>
  <section class="panel table-panel"><h2>{escape(t("overview.districts"))}</h2>
    <div class="table-wrap"><table id="districts"><thead><tr>
      <th>{escape(t("overview.district"))}</th><th>{escape(t("overview.person_times"))}</th>
      <th>{escape(t("overview.on_duty"))}</th><th>{escape(t("overview.tasks_done"))}</th>
      <th>{escape(t("overview.streets_unserved"))}</th></tr></thead><tbody></tbody></table></div>
  </section>
  <section class="panel units-panel"><h2>{escape(t("overview.units"))}
    <small id="units-count"></small></h2>
    <div class="table-wrap" id="units-wrap"><table id="units"><thead><tr>
      <th>{escape(t("overview.unit"))}</th><th>{escape(t("overview.person_times"))}</th>
      <th>{escape(t("overview.on_duty"))}</th><th>{escape(t("overview.unit_unserved"))}</th>
      </tr></thead><tbody></tbody><tfoot></tfoot></table></div>
  </section>
  <section class="panel chart-panel"><h2>{escape(t("overview.turnout"))}</h2>
    <div id="turnout"></div></section>
</main>
<script src="{VENDOR}/leaflet/leaflet.js"></script>
<script src="{VENDOR}/echarts/echarts.min.js"></script>
<script src="static/overview.js"></script>
</body>
</html>
"""
