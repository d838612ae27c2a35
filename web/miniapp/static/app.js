/* The Mini App: signs in with the initData Telegram passes in the address's fragment
   (#tgWebAppData=…), shows what the person's role may see, and acts through the API.
   Everything comes from this server; no token is ever put in an address. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("app-data").textContent);
  var POLL_MS = 4000; // places change as others accept: the view is read again this often
  var COLOURS = { open: "#ffb020", in_progress: "#3b8bff", mine: "#22c55e", street: "#ff4d4f", report: "#c026d3", me: "#ffffff" };
  var fragment = new URLSearchParams(window.location.hash.slice(1));
  var initData = fragment.get("tgWebAppData") || sessionStorage.getItem("tgWebAppData") || "";
  if (initData) { sessionStorage.setItem("tgWebAppData", initData); }
  var T = {}, state = null, map = null, layer = null, chosen = null, busy = false;

  function $(id) { return document.getElementById(id); }
  function fill(template, values) {
    return (template || "").replace(/\{(\w+)\}/g, function (all, key) { return key in values ? values[key] : all; });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function call(method, path, body) {
    var options = { method: method, headers: { Authorization: "tma " + initData }, cache: "no-store", credentials: "same-origin" };
    if (body) { options.headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
    return fetch(path, options).then(function (r) {
      if (r.status === 401) { throw new Error("401"); }
      if (!r.ok) { throw new Error(String(r.status)); }
      return r.json();
    });
  }
  function toast(text, ok) {
    var t = $("toast");
    t.textContent = text;
    t.className = "toast " + (ok ? "ok" : "bad");
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { t.hidden = true; }, 5000);
  }
  function note(text) { $("note").textContent = text; $("note").hidden = !text; }

  function act(body) {
    if (busy) { return; }
    busy = true;
    call("POST", "/app/api/act", body).then(function (outcome) {
      toast(outcome.text, outcome.ok);
      return refresh();
    }).catch(function () { toast(T.error || "…", false); })
      .then(function () { busy = false; });
  }

  function button(label, cls, onClick, id) {
    var b = el("button", "big " + cls, label);
    if (id) { b.id = id; }
    b.addEventListener("click", onClick);
    return b;
  }

  // -- the map --------------------------------------------------------------------------
  function ensureMap() {
    if (map) { return; }
    $("map").hidden = false;
    map = L.map("map", { zoomControl: true, attributionControl: false });
    if (data.tiles) { L.tileLayer(data.tiles, { maxZoom: 19 }).addTo(map); }
    layer = L.layerGroup().addTo(map);
  }
  function drawMap(view) {
    var points = [];
    ensureMap();
    layer.clearLayers();
    function dot(lat, lon, colour, radius, title, onClick) {
      var m = L.circleMarker([lat, lon], { radius: radius, color: "#000", weight: 1, fillColor: colour, fillOpacity: 0.9 });
      m.bindTooltip(title);
      if (onClick) { m.on("click", onClick); }
      m.addTo(layer);
      points.push([lat, lon]);
    }
    if (view.dispatcher) {
      view.dispatcher.unserved.forEach(function (s) {
        dot(s.lat, s.lon, COLOURS.street, 6, s.name, function () { choose(s); });
      });
      view.dispatcher.reports.forEach(function (r) { dot(r.lat, r.lon, COLOURS.report, 9, "R" + r.id + " " + r.street); });
    }
    if (view.cadre) {
      view.cadre.tasks.forEach(function (t) {
        dot(t.lat, t.lon, t.mine ? COLOURS.mine : COLOURS[t.status] || COLOURS.open, 11, "#" + t.id + " " + t.street);
      });
      if (view.cadre.position) { dot(view.cadre.position[0], view.cadre.position[1], COLOURS.me, 8, T.you || ""); }
    }
    if (points.length) { map.fitBounds(points, { padding: [24, 24], maxZoom: 16 }); }
    else { map.setView([0, 0], 2); }
  }

  // -- the cadre's tasks ----------------------------------------------------------------------
  function drawTasks(cadre) {
    $("tasks").hidden = false;
    var duty = $("duty");
    duty.hidden = false;
    duty.textContent = cadre.on_duty ? fill(T.on_duty, { headcount: cadre.headcount, free: cadre.free }) : T.not_on_duty;
    duty.className = "duty " + (cadre.on_duty ? "on" : "off");
    $("tasks-title").textContent = fill(T.tasks, { count: cadre.tasks.length });
    var list = $("task-list");
    list.textContent = "";
    if (!cadre.tasks.length) { list.appendChild(el("li", "empty", T.no_tasks)); }
    cadre.tasks.forEach(function (t) {
      var li = el("li", "card task " + t.status + (t.mine ? " mine" : ""));
      li.id = "task-" + t.id;
      var head = el("div", "head");
      head.appendChild(el("b", "id", "#" + t.id));
      head.appendChild(el("span", "street", t.street));
      if (t.urgent) { head.appendChild(el("span", "urgent", T.urgent)); }
      li.appendChild(head);
      var facts = [t.district, fill(T.places, { accepted: t.accepted, needed: t.needed })];
      if (t.km !== null) { facts.push(fill(T.km, { km: t.km })); }
      li.appendChild(el("div", "facts places", facts.join(" · ")));
      if (t.note) { li.appendChild(el("div", "facts", t.note)); }
      if (t.mine) { li.appendChild(el("div", "facts yours", fill(T.yours, { count: t.mine }))); }
      var row = el("div", "row");
      if (t.accepted < t.needed && cadre.free > 0) {
        row.appendChild(button(T.accept, "go accept", function () { act({ do: "accept", id: t.id }); }));
      }
      if (t.mine) {
        row.appendChild(button(T.release, "release", function () { act({ do: "release", id: t.id }); }));
        row.appendChild(button(T.done, "done", function () { act({ do: "done", id: t.id }); }));
      }
      li.appendChild(row);
      list.appendChild(li);
    });
  }

  // -- the dispatcher's district ------------------------------------------------------------
  function choose(street) {
    chosen = street;
    $("sheet-title").textContent = fill(T.post_on, { street: street.name, district: street.district });
    $("needed").value = "1";
    $("sheet").hidden = false;
  }
  function drawStreets(dispatcher) {
    $("streets").hidden = false;
    $("streets-title").textContent = fill(T.streets, { count: dispatcher.unserved_total });
    var wanted = $("street-filter").value.trim();
    var list = $("street-list");
    list.textContent = "";
    dispatcher.unserved.filter(function (s) { return !wanted || s.name.indexOf(wanted) >= 0; })
      .slice(0, 40).forEach(function (s) {
        var li = el("li", "card street");
        li.appendChild(el("span", "street", s.name + " · " + s.district));
        li.appendChild(button(T.post, "go post-street", function () { choose(s); }));
        list.appendChild(li);
      });
  }
  function drawReports(dispatcher) {
    $("reports").hidden = false;
    $("reports-title").textContent = fill(T.reports, { count: dispatcher.reports.length });
    var list = $("report-list");
    list.textContent = "";
    if (!dispatcher.reports.length) { list.appendChild(el("li", "empty", T.no_reports)); }
    dispatcher.reports.forEach(function (r) {
      var li = el("li", "card report");
      li.id = "report-" + r.id;
      var head = el("div", "head");
      head.appendChild(el("b", "id", "R" + r.id));
      head.appendChild(el("span", "street", r.street));
      li.appendChild(head);
      li.appendChild(el("div", "facts", r.district + " · " + fill(T.reporters, { count: r.reporters })));
      if (r.text) { li.appendChild(el("div", "facts", r.text)); }
      if (r.photo) { photo(li, "/app/api/photo/report/" + r.id); }
      var row = el("div", "row");
      row.appendChild(button(T.make_task, "go", function () { act({ do: "make_task", id: r.id }); }));
      row.appendChild(button(T.dismiss, "", function () { act({ do: "dismiss", id: r.id }); }));
      li.appendChild(row);
      list.appendChild(li);
    });
  }
  function drawDone(dispatcher) {
    $("done").hidden = !dispatcher.done.length;
    $("done-title").textContent = fill(T.done_title, { count: dispatcher.done.length });
    var list = $("done-list");
    list.textContent = "";
    dispatcher.done.forEach(function (t) {
      var li = el("li", "card proof");
      li.id = "proof-" + t.id;
      var head = el("div", "head");
      head.appendChild(el("b", "id", "#" + t.id));
      head.appendChild(el("span", "street", t.street + " · " + t.district));
      li.appendChild(head);
      photo(li, "/app/api/photo/task/" + t.id);
      list.appendChild(li);
    });
  }
  function photo(parent, path) {
    // fetched with the initData header (an <img src> could not carry it)
    var img = el("img", "photo");
    img.alt = T.photo;
    parent.appendChild(img);
    fetch(path, { headers: { Authorization: "tma " + initData } }).then(function (r) {
      if (!r.ok) { throw new Error(String(r.status)); }
      return r.blob();
    }).then(function (blob) { img.src = URL.createObjectURL(blob); })
      .catch(function () { img.remove(); });
  }

  // -- everything -------------------------------------------------------------------------
  var shownProofs = "";
  function sameProofs(done) {
    // photos are fetched once: the list is redrawn only when it changed
    var key = done.map(function (t) { return t.id; }).join(",");
    if (key === shownProofs) { return true; }
    shownProofs = key;
    return false;
  }
  function draw(view) {
    T = view.texts;
    document.documentElement.lang = view.lang === "zh" ? "zh-CN" : "en";
    $("title").textContent = fill(T.title_city, { city: view.city });
    $("who").textContent = T["role_" + view.role] || "";
    $("sheet-close").textContent = T.close;
    $("post").textContent = T.post;
    $("needed-label").textContent = T.needed;
    $("street-filter").placeholder = T.street_filter;
    $("open-overview").textContent = T.overview;
    note(view.role === "guest" ? T.guest : "");
    if (view.cadre) { drawTasks(view.cadre); }
    if (view.dispatcher) {
      drawReports(view.dispatcher);
      drawStreets(view.dispatcher);
      if (!sameProofs(view.dispatcher.done)) { drawDone(view.dispatcher); }
    }
    $("coordinator").hidden = !view.overview;
    if (view.cadre || view.dispatcher) { drawMap(view); }
    state = view;
    document.body.setAttribute("data-ready", "1");
  }
  function refresh() {
    return call("GET", "/app/api/view").then(draw).catch(function (e) {
      note(e.message === "401" ? (T.signin || "请从 Telegram 里的机器人打开本页 · Open this page from the bot in Telegram") : (T.error || "…"));
      document.body.setAttribute("data-ready", "0");
    });
  }

  $("sheet-close").addEventListener("click", function () { $("sheet").hidden = true; });
  $("post").addEventListener("click", function () {
    var needed = parseInt($("needed").value, 10);
    if (!chosen || !(needed >= 1 && needed <= 999)) { return; }
    $("sheet").hidden = true;
    act({ do: "post", street: chosen.id, needed: needed });
  });
  $("street-filter").addEventListener("input", function () { if (state && state.dispatcher) { drawStreets(state.dispatcher); } });
  $("open-overview").addEventListener("click", function () {
    call("POST", "/app/api/overview").then(function (r) { window.location.href = r.url; })
      .catch(function () { toast(T.error, false); });
  });
  if (!initData) {
    note("请从 Telegram 里的机器人打开本页 · Open this page from the bot in Telegram");
    document.body.setAttribute("data-ready", "0");
    return;
  }
  refresh();
  setInterval(function () { if (!document.hidden && !busy) { refresh(); } }, POLL_MS);
}());
