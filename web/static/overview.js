/* The one-screen overview: reads the API, draws, and follows the live feed (SSE).
   Everything it loads comes from this server; map tiles only when [dashboard] tiles is set. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("overview-data").textContent);
  var T = data.texts;
  var COLOURS = {
    unserved: "#ff4d4f", open: "#ffb020", in_progress: "#3b8bff", served: "#34d399"
  };
  var MAX_LINES = 8; // districts drawn one by one in the turnout chart; the rest together
  var MAX_UNIT_ROWS = 60; // units listed at most; fewer when the panel is shorter
  var NONE = "\u0000none"; // the unit filter's value for streets without a unit

  // the token came once in the address: the cookie keeps it now, so the address drops it
  var params = new URLSearchParams(window.location.search);
  function keepAddress() {
    var rest = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : ""));
  }
  if (params.has("token")) { params.delete("token"); keepAddress(); }
  // a wall may open with one unit's streets picked out: ?unit=NAME
  var wantedUnit = params.get("unit");

  function $(id) { return document.getElementById(id); }
  function number(n) { return typeof n === "number" ? n.toLocaleString(data.lang === "zh" ? "zh-CN" : "en") : "–"; }
  function setText(id, value) { var el = $(id); if (el) { el.textContent = value; } }
  // names come from the city's files: always text, never HTML (Leaflet takes a string as HTML)
  function asText(value) { var span = document.createElement("span"); span.textContent = value; return span; }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) { return key in values ? values[key] : all; });
  }
  function byName(a, b) { return a < b ? -1 : a > b ? 1 : 0; }
  function get(path) {
    return fetch(path, { credentials: "same-origin", cache: "no-cache" }).then(function (r) {
      if (!r.ok) { throw new Error(path + ": " + r.status); }
      return r.json();
    });
  }

  // -- the numbers --------------------------------------------------------------------
  var lastTally = null;
  function renderTally(t) {
    lastTally = t;
    setText("person-times", number(t.person_times));
    setText("on-duty", number(t.on_duty));
    setText("people", number(t.people));
    if (typeof t.assigned === "number" && typeof t.available === "number") {
      $("duty-split").hidden = false;
      setText("assigned", number(t.assigned));
      setText("available", number(t.available));
    }
    ["open", "in_progress", "done", "cancelled"].forEach(function (s) {
      setText("tasks-" + s, number(t.tasks[s]));
    });
    var total = t.streets.total, served = t.streets.served;
    var share = total ? (100 * served / total) : 0;
    setText("streets-share", share.toFixed(share > 0 && share < 10 ? 1 : 0));
    $("streets-bar").style.width = share.toFixed(2) + "%";
    setText("streets-served", number(served));
    setText("streets-unserved", number(t.streets.unserved));
    setText("incident", T.incident.replace("{incident}", t.incident));
    renderDistricts(t.districts);
    renderUnits(t);
    renderReports(t.reports);
    // the city's clock, whatever zone the PC on the wall is set to
    var shown = new Date().toLocaleTimeString(data.lang === "zh" ? "zh-CN" : "en-GB",
      { timeZone: data.timezone || undefined, hour12: false });
    setText("clock", T.updated.replace("{time}", shown));
  }

  function renderDistricts(districts) {
    var rows = districts.slice().sort(function (a, b) {
      return b.streets_unserved - a.streets_unserved || b.person_times - a.person_times ||
        (a.district < b.district ? -1 : 1);
    });
    var body = document.createElement("tbody");
    rows.forEach(function (d) {
      var tr = document.createElement("tr");
      [d.district, number(d.person_times), number(d.on_duty), number(d.tasks_done),
        number(d.streets_unserved) + " / " + number(d.streets_total)].forEach(function (v, i) {
        var td = document.createElement("td");
        td.textContent = v;
        if (i === 4) { td.className = d.streets_unserved ? "bad" : "good"; }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    rows.forEach(function (d) {
      if (labels[d.district]) {
        labels[d.district].setContent(asText(d.district + " · " + T.served + " " +
          number(d.streets_total - d.streets_unserved) + "/" + number(d.streets_total)));
      }
    });
    var table = $("districts");
    table.classList.toggle("dense", rows.length > 12);
    table.replaceChild(body, table.tBodies[0]);
  }

  // -- units (单位包保): the busiest first, as many as the panel holds, the rest summed --------
  function cell(tr, value, className) {
    var td = document.createElement("td");
    td.textContent = value;
    if (className) { td.className = className; }
    tr.appendChild(td);
    return td;
  }
  function unitRow(tr, name, u) {
    cell(tr, name);
    cell(tr, number(u.person_times));
    cell(tr, number(u.on_duty));
    if (u.streets_total) {
      cell(tr, number(u.streets_unserved) + " / " + number(u.streets_total),
        u.streets_unserved ? "bad" : "good");
    } else {
      cell(tr, "–", "none");
    }
    return tr;
  }

  function renderUnits(t) {
    var units = (t.units || []).slice().sort(function (a, b) {
      return b.person_times - a.person_times || b.on_duty - a.on_duty || byName(a.unit, b.unit);
    });
    setText("units-count", units.length ? fill(T.units_count, { count: number(units.length) }) : T.units_none);
    var body = document.createElement("tbody");
    var shown = Math.min(units.length, MAX_UNIT_ROWS);
    units.slice(0, shown).forEach(function (u) {
      var tr = unitRow(document.createElement("tr"), u.unit, u);
      tr.dataset.unit = u.unit;
      if (u.unit === unitFilter) { tr.className = "chosen"; }
      body.appendChild(tr);
    });
    var foot = document.createElement("tfoot");
    var rest = { person_times: 0, on_duty: 0, streets_total: 0, streets_unserved: 0 };
    units.slice(shown).forEach(function (u) {
      Object.keys(rest).forEach(function (k) { rest[k] += u[k]; });
    });
    var restRow = document.createElement("tr");
    restRow.id = "units-rest";
    function drawRest() {
      restRow.textContent = "";
      unitRow(restRow, fill(T.units_rest, { count: number(units.length - shown) }), rest);
      restRow.hidden = shown === units.length;
    }
    drawRest();
    foot.appendChild(restRow);
    var none = t.no_unit || { person_times: 0, on_duty: 0 };
    var noneRow = unitRow(document.createElement("tr"), T.no_unit,
      { person_times: none.person_times, on_duty: none.on_duty, streets_total: 0 });
    noneRow.id = "units-none";
    foot.appendChild(noneRow);
    var table = $("units");
    table.replaceChild(body, table.tBodies[0]);
    table.replaceChild(foot, table.tFoot);
    // never a scroll bar: the rows that do not fit go into "the other units"
    var wrap = $("units-wrap");
    while (shown > 0 && wrap.scrollHeight > wrap.clientHeight) {
      // as many rows at once as the overflow is tall: a few layouts, not one per row
      var rowHeight = body.lastChild.offsetHeight || 1;
      var drop = Math.min(shown, Math.ceil((wrap.scrollHeight - wrap.clientHeight) / rowHeight));
      for (; drop > 0; drop -= 1) {
        shown -= 1;
        body.removeChild(body.lastChild);
        Object.keys(rest).forEach(function (k) { rest[k] += units[shown][k]; });
      }
      drawRest();
    }
  }

  $("units").addEventListener("click", function (e) {
    var tr = e.target.closest("tbody tr");
    if (tr && tr.dataset.unit) { setFilter(tr.dataset.unit === unitFilter ? "" : tr.dataset.unit); }
  });

  // -- residents' reports (群众求助) --------------------------------------------------------
  var waitKey = null; // the median changes only with the resolved reports: asked then
  function duration(seconds) {
    var minutes = Math.max(1, Math.round(seconds / 60));
    if (minutes < 60) { return fill(T.wait_minutes, { minutes: number(minutes) }); }
    return fill(T.wait_hours, { hours: number(Math.floor(minutes / 60)), minutes: number(minutes % 60) });
  }
  function renderReports(r) {
    if (!r) { return; }
    var any = false;
    ["open", "tasked", "resolved", "dismissed"].forEach(function (s) {
      setText("reports-" + s, number(r[s]));
      any = any || r[s] > 0;
    });
    $("card-reports").classList.toggle("quiet", !any); // zeros are shown, quietly
    var key = lastTally.incident + "|" + r.resolved;
    if (key !== waitKey) { waitKey = key; waitSoon(); }
  }
  function loadWait() {
    return get("api/reports").then(function (found) {
      setText("reports-wait", found.median_wait === null ? T.wait_none : duration(found.median_wait));
    }).catch(function () { waitKey = null; }); // asked again at the next change
  }

  // -- the map --------------------------------------------------------------------------
  var map = L.map("map", { preferCanvas: true, zoomControl: false, attributionControl: false,
    zoomSnap: 0.25 });
  if (data.tiles) { L.tileLayer(data.tiles, { maxZoom: 19, opacity: 0.55 }).addTo(map); }
  var renderer = L.canvas({ padding: 0.2 });
  // people under the streets, so that a crowd never hides what state its street is in
  map.createPane("people").style.zIndex = 390;
  var peopleRenderer = L.canvas({ padding: 0.2, pane: "people" });
  var streetLayers = {}; // street id -> [layer, state]
  var positionGroup = L.layerGroup().addTo(map);
  var streetGroup = L.layerGroup().addTo(map);
  var fitted = false;
  // the whole city (or the chosen unit's streets) in view, again when the screen changes
  // size, until someone moves the map
  var cityBounds = null, focus = null, moved = false, fitting = false;
  function fitCity() {
    var bounds = focus || cityBounds;
    if (!bounds || moved) { return; }
    fitting = true;
    map.fitBounds(bounds, { padding: [24, 24], animate: false, maxZoom: 17 });
    fitting = false;
  }
  map.on("movestart zoomstart", function () { if (!fitting) { moved = true; } });
  var labels = {}; // district -> its label on the map (up to MAX_LABELS districts)
  var MAX_LABELS = 40;

  // the unit filter: "" every street; NONE those without a unit; else one unit's streets
  var unitFilter = "";
  var unitOf = {}; // street id -> the name of its unit, or null
  function picked(id) {
    var u = unitOf[id];
    return unitFilter === NONE ? u === null : u === unitFilter;
  }
  function style(state, id) {
    var c = COLOURS[state] || COLOURS.unserved;
    if (unitFilter === "") { return { color: c, fillColor: c, fillOpacity: 0.9, opacity: 0.95, weight: 3 }; }
    if (picked(id)) { return { color: c, fillColor: c, fillOpacity: 1, opacity: 1, weight: 5 }; }
    return { color: c, fillColor: c, fillOpacity: 0.12, opacity: 0.12, weight: 2 };
  }

  var order = []; // street ids in the order of /api/streets and /api/street-states
  var city = null; // which city they are (an import makes another): then all is reloaded

  function restyle(id, state) {
    var found = streetLayers[id];
    if (found && found[1] !== state) { found[0].setStyle(style(state, id)); found[1] = state; }
  }

  function setFilter(value) {
    unitFilter = value;
    var select = $("unit-filter");
    if (select.value !== value) { select.value = value; }
    if (value === "") { params.delete("unit"); } else { params.set("unit", value === NONE ? "" : value); }
    keepAddress();
    var chosen = [];
    Object.keys(streetLayers).forEach(function (id) {
      var found = streetLayers[id];
      found[0].setStyle(style(found[1], id));
      if (value !== "" && picked(id)) { found[0].bringToFront(); chosen.push(found[0]); }
    });
    // a unit chosen: its streets fill the map; "all": the city again
    focus = chosen.length ? L.featureGroup(chosen).getBounds() : null;
    moved = false;
    fitCity();
    renderFilterNote();
    if (lastTally) { renderUnits(lastTally); }
  }
  $("unit-filter").addEventListener("change", function (e) { setFilter(e.target.value); });

  function renderFilterOptions(features) {
    var names = {}, without = false;
    features.forEach(function (f) {
      var u = f.properties.unit;
      if (typeof u === "string") { names[u] = true; } else { without = true; }
    });
    var list = Object.keys(names).sort(function (a, b) { return a.localeCompare(b, data.lang === "zh" ? "zh-CN" : "en"); });
    var select = $("unit-filter");
    while (select.options.length > 1) { select.remove(1); }
    list.forEach(function (name) { select.add(new Option(name, name)); });
    if (list.length && without) { select.add(new Option(T.filter_none, NONE)); }
    select.parentNode.hidden = !list.length; // a city without units has nothing to filter
    var wanted = wantedUnit !== null ? (wantedUnit === "" ? NONE : wantedUnit) : unitFilter;
    wantedUnit = null;
    var known = wanted === NONE ? list.length > 0 && without : names[wanted] === true;
    var next = known ? wanted : "";
    if (next !== unitFilter) { setFilter(next); return; }
    select.value = next; // the streets were drawn for this filter already
    renderFilterNote();
  }

  function renderFilterNote() {
    var note = $("filter-note");
    if (unitFilter === "") { note.hidden = true; return; }
    var total = 0, unserved = 0;
    Object.keys(streetLayers).forEach(function (id) {
      if (picked(id)) { total += 1; if (streetLayers[id][1] !== "served") { unserved += 1; } }
    });
    var values = { unit: unitFilter, total: number(total), unserved: number(unserved) };
    note.textContent = fill(unitFilter === NONE ? T.filter_note_none : T.filter_note, values);
    note.hidden = false;
  }

  function renderStreets(collection) {
    order = collection.features.map(function (f) { return f.id; });
    collection.features.forEach(function (f) {
      var state = f.properties.state;
      unitOf[f.id] = typeof f.properties.unit === "string" ? f.properties.unit : null;
      if (streetLayers[f.id]) { restyle(f.id, state); return; }
      var layer = L.geoJSON(f, {
        renderer: renderer,
        style: function () { return style(state, f.id); },
        pointToLayer: function (_, at) {
          return L.circleMarker(at, L.extend({ radius: 5, renderer: renderer }, style(state, f.id)));
        }
      });
      layer.on("click", function (e) { showProofs(f.id, f.properties.street, e.latlng); });
      streetLayers[f.id] = [layer, state];
      streetGroup.addLayer(layer);
    });
    renderFilterOptions(collection.features);
    if (!fitted) { placeLabels(collection.features); }
    if (!fitted && collection.features.length) {
      cityBounds = L.featureGroup(Object.keys(streetLayers).map(function (k) {
        return streetLayers[k][0];
      })).getBounds();
      fitCity();
      fitted = true;
    }
  }

  // a street's details: its proof photos of /done (served beside the bot; none without it)
  function showProofs(id, name, at) {
    return get("api/street/" + id + "/proofs").catch(function () { return []; }).then(function (found) {
      var box = document.createElement("div");
      box.className = "proofs";
      box.appendChild(document.createElement("b")).textContent = name;
      found.forEach(function (p) {
        var img = new Image();
        img.className = "proof";
        img.alt = "#" + p.task;
        img.src = "api/photo/task/" + p.task;
        var line = box.appendChild(document.createElement("div"));
        line.textContent = fill(T["photos.proof"], { id: p.task });
        box.appendChild(img);
      });
      if (!found.length) { box.appendChild(document.createElement("div")).textContent = T["photos.none"]; }
      L.popup({ maxWidth: 280 }).setLatLng(at).setContent(box).openOn(map);
    });
  }

  // after a change: one character a street, not the whole city again
  var STATES = ["unserved", "open", "in_progress", "served"];
  function renderStates(found) {
    if (city !== null && found.city !== city) {
      city = found.city;
      streetGroup.clearLayers();
      streetLayers = {};
      unitOf = {};
      return get("api/streets").then(renderStreets);
    }
    city = found.city;
    if (found.states.length !== order.length) { return get("api/streets").then(renderStreets); }
    for (var i = 0; i < order.length; i++) { restyle(order[i], STATES[+found.states[i]]); }
    renderFilterNote();
    return null;
  }

  function placeLabels(features) {
    var sums = {};
    features.forEach(function (f) {
      var c = f.geometry.coordinates;
      while (typeof c[0] !== "number") { c = c[0]; } // a line's first vertex
      var d = f.properties.district, acc = sums[d] || (sums[d] = [0, 0, 0]);
      acc[0] += c[1]; acc[1] += c[0]; acc[2] += 1;
    });
    var names = Object.keys(sums);
    if (names.length > MAX_LABELS) { return; }
    names.forEach(function (d) {
      var acc = sums[d];
      labels[d] = L.tooltip({ permanent: true, direction: "right", offset: [10, 0],
        className: "district-label" }).setLatLng([acc[0] / acc[2], acc[1] / acc[2]])
        .setContent(asText(d)).addTo(map);
    });
    if (lastTally) { renderDistricts(lastTally.districts); }
  }

  function renderPositions(found) {
    positionGroup.clearLayers();
    found.positions.forEach(function (p) {
      positionGroup.addLayer(L.circleMarker([p[0], p[1]], {
        renderer: peopleRenderer, pane: "people", radius: Math.min(1.5 + Math.sqrt(p[2]) / 2, 6), color: "#ffffff",
        weight: 0.5, fillColor: "#e8f6ff", fillOpacity: 0.7
      }));
    });
  }

  // -- turnout over time ----------------------------------------------------------------
  var chart = echarts.init($("turnout"), null, { renderer: "canvas" });
  function renderTurnout(s) {
    var ds = s.districts.slice().sort(function (a, b) {
      return (b.person_times[b.person_times.length - 1] || 0) - (a.person_times[a.person_times.length - 1] || 0);
    });
    var shown = ds.length > MAX_LINES ? ds.slice(0, MAX_LINES - 1) : ds;
    var rest = ds.slice(shown.length);
    function sum(list, key) {
      return s.hours.map(function (_, i) {
        return list.reduce(function (acc, d) { return acc + d[key][i]; }, 0);
      });
    }
    var symbol = s.hours.length <= 2 ? "circle" : "none"; // one hour is a dot, not a line
    var lines = shown.map(function (d) { return { name: d.district, values: d.on_duty }; });
    if (rest.length) { lines.push({ name: T.others, values: sum(rest, "on_duty") }); }
    var series = lines.map(function (l) {
      return { name: l.name, type: "line", stack: "duty", areaStyle: { opacity: 0.35 },
        symbol: symbol, lineStyle: { width: 1 }, data: l.values };
    });
    series.push({ name: T.series_person_times + "（" + T.total + "）", type: "line", yAxisIndex: 1,
      symbol: symbol, lineStyle: { width: 2.5, color: "#37c4ff" }, itemStyle: { color: "#37c4ff" },
      data: sum(ds, "person_times") });
    var axisText = { color: "#7f9bb8" };
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: "inherit" },
      grid: { left: 48, right: 58, top: 58, bottom: 24 },
      legend: { type: "scroll", top: 0, textStyle: { color: "#d8e6f5" }, pageTextStyle: axisText,
        pageIconColor: "#37c4ff", itemWidth: 14, itemHeight: 8 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: s.hours, axisLabel: axisText, boundaryGap: false,
        axisLine: { lineStyle: { color: "#1d3a5f" } } },
      yAxis: [
        { type: "value", name: T.series_on_duty, nameTextStyle: axisText, axisLabel: axisText,
          splitLine: { lineStyle: { color: "#13294a" } } },
        { type: "value", name: T.series_person_times, nameTextStyle: axisText, axisLabel: axisText,
          splitLine: { show: false } }
      ],
      color: ["#3b8bff", "#34d399", "#ffb020", "#b37feb", "#ff7a45", "#13c2c2", "#f759ab", "#8c8c8c"],
      series: series
    }, true);
  }
  // the panels change size with the window and with the district table's rows
  new ResizeObserver(function () { chart.resize(); }).observe($("turnout"));
  new ResizeObserver(function () { map.invalidateSize({ pan: false }); fitCity(); }).observe($("map"));
  var unitsHeight = 0;
  new ResizeObserver(function () {
    var height = $("units-wrap").clientHeight;
    // as many units as the panel now holds (its own rows never change its height)
    if (height !== unitsHeight && lastTally) { renderUnits(lastTally); }
    unitsHeight = height;
  }).observe($("units-wrap"));

  // -- loading and following ------------------------------------------------------------
  function later(work, wait) {
    var timer = null;
    return function () {
      if (timer === null) { timer = setTimeout(function () { timer = null; work(); }, wait); }
    };
  }
  function loadMap() {
    return Promise.all([get("api/streets").then(renderStreets), get("api/positions").then(renderPositions)]);
  }
  function refreshMap() {
    return Promise.all([get("api/street-states").then(renderStates), get("api/positions").then(renderPositions)]);
  }
  function loadTurnout() { return get("api/turnout").then(renderTurnout); }
  var mapSoon = later(function () { refreshMap().catch(function () {}); }, 150);
  var turnoutSoon = later(function () { loadTurnout().catch(function () {}); }, 3000);
  var waitSoon = later(loadWait, 150);

  function status(up) {
    $("status").classList.toggle("down", !up);
    setText("status-text", up ? T.live : T.offline);
  }

  get("api/tally").then(renderTally).catch(function () {});
  loadMap().catch(function () {});
  loadTurnout().catch(function () {});
  var feed = new EventSource("api/events");
  feed.addEventListener("open", function () { status(true); });
  feed.addEventListener("error", function () { status(false); });
  feed.addEventListener("tally", function (e) {
    status(true);
    renderTally(JSON.parse(e.data));
    mapSoon();
    turnoutSoon();
  });

  // what the browser test reads: the state a street is drawn in, and the dots drawn
  window.snowbotOverview = {
    streetState: function (id) { var f = streetLayers[id]; return f ? f[1] : null; },
    streetColour: function (id) {
      var f = streetLayers[id], colour = null;
      if (f) { f[0].eachLayer(function (l) { colour = l.options.color; }); }
      return colour;
    },
    positions: function () { return positionGroup.getLayers().length; },
    streetDimmed: function (id) {
      var f = streetLayers[id], dimmed = null;
      if (f) { f[0].eachLayer(function (l) { dimmed = l.options.opacity < 0.5; }); }
      return dimmed;
    },
    tally: function () { return lastTally; },
    // where a street is drawn, in the page's pixels (a test clicks there)
    pixel: function (id) {
      var layer = streetLayers[id] && streetLayers[id][0];
      if (!layer) { return null; }
      var at = map.latLngToContainerPoint(layer.getBounds().getCenter());
      var box = $("map").getBoundingClientRect();
      return [box.left + at.x, box.top + at.y];
    }
  };
})();
