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

  // the token came once in the address: the cookie keeps it now, so the address drops it
  if (window.location.search.indexOf("token=") >= 0) {
    var params = new URLSearchParams(window.location.search);
    params.delete("token");
    var rest = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : ""));
  }

  function $(id) { return document.getElementById(id); }
  function number(n) { return typeof n === "number" ? n.toLocaleString(data.lang === "zh" ? "zh-CN" : "en") : "–"; }
  function setText(id, value) { var el = $(id); if (el) { el.textContent = value; } }
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
    setText("clock", T.updated.replace("{time}", new Date().toLocaleTimeString(data.lang === "zh" ? "zh-CN" : "en-GB")));
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
        labels[d.district].setContent(d.district + " · " + T.served + " " +
          number(d.streets_total - d.streets_unserved) + "/" + number(d.streets_total));
      }
    });
    var table = $("districts");
    table.classList.toggle("dense", rows.length > 12);
    table.replaceChild(body, table.tBodies[0]);
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
  var labels = {}; // district -> its label on the map (up to MAX_LABELS districts)
  var MAX_LABELS = 40;

  function style(state) {
    var c = COLOURS[state] || COLOURS.unserved;
    return { color: c, fillColor: c, fillOpacity: 0.9, opacity: 0.95, weight: 3 };
  }

  var order = []; // street ids in the order of /api/streets and /api/street-states
  var city = null; // which city they are (an import makes another): then all is reloaded

  function restyle(id, state) {
    var found = streetLayers[id];
    if (found && found[1] !== state) { found[0].setStyle(style(state)); found[1] = state; }
  }

  function renderStreets(collection) {
    order = collection.features.map(function (f) { return f.id; });
    collection.features.forEach(function (f) {
      var state = f.properties.state;
      if (streetLayers[f.id]) { restyle(f.id, state); return; }
      var layer = L.geoJSON(f, {
        renderer: renderer,
        style: function () { return style(state); },
        pointToLayer: function (_, at) {
          return L.circleMarker(at, L.extend({ radius: 5, renderer: renderer }, style(state)));
        }
      });
      streetLayers[f.id] = [layer, state];
      streetGroup.addLayer(layer);
    });
    if (!fitted) { placeLabels(collection.features); }
    if (!fitted && collection.features.length) {
      map.fitBounds(L.featureGroup(Object.keys(streetLayers).map(function (k) {
        return streetLayers[k][0];
      })).getBounds(), { padding: [24, 24] });
      fitted = true;
    }
  }

  // after a change: one character a street, not the whole city again
  var STATES = ["unserved", "open", "in_progress", "served"];
  function renderStates(found) {
    if (city !== null && found.city !== city) {
      city = found.city;
      streetGroup.clearLayers();
      streetLayers = {};
      return get("api/streets").then(renderStreets);
    }
    city = found.city;
    if (found.states.length !== order.length) { return get("api/streets").then(renderStreets); }
    for (var i = 0; i < order.length; i++) { restyle(order[i], STATES[+found.states[i]]); }
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
        .setContent(d).addTo(map);
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
  window.addEventListener("resize", function () { chart.resize(); map.invalidateSize(); });

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
    tally: function () { return lastTally; }
  };
})();
