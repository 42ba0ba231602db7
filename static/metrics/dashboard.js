/* KPI dashboards: sparklines, the KPI chart with target line and thresholds, the period picker
   (redraws from the JSON endpoint without reloading) and PNG export. No inline script (CSP). */
(function () {
  "use strict";
  var COLORS = { on_track: "#1a7f37", at_risk: "#b7791f", off_track: "#c62828", unknown: "#6b7280" };
  var sparkCharts = {};
  var mainChart = null;
  var state = null;

  function readData() {
    var el = document.getElementById("dashboard-data");
    return el ? JSON.parse(el.textContent) : null;
  }

  function byId(id) {
    for (var i = 0; i < state.kpis.length; i++) { if (String(state.kpis[i].id) === String(id)) { return state.kpis[i]; } }
    return null;
  }

  function drawSparklines() {
    document.querySelectorAll("canvas[data-sparkline]").forEach(function (canvas) {
      var kpi = byId(canvas.dataset.sparkline);
      if (!kpi) { return; }
      // An empty chart reads as broken: say there is nothing to draw instead.
      canvas.hidden = kpi.points.length === 0;
      var note = canvas.nextElementSibling && canvas.nextElementSibling.matches(".spark-empty") ? canvas.nextElementSibling : null;
      if (kpi.points.length === 0) {
        if (!note) { note = document.createElement("small"); note.className = "muted spark-empty"; note.textContent = "No values in this period."; canvas.after(note); }
        return;
      }
      if (note) { note.remove(); }
      var labels = kpi.points.map(function (p) { return p[0]; });
      var values = kpi.points.map(function (p) { return p[1]; });
      canvas.dataset.pointCount = String(values.length);
      if (sparkCharts[kpi.id]) { sparkCharts[kpi.id].destroy(); }
      sparkCharts[kpi.id] = new window.Chart(canvas, {
        type: "line",
        data: { labels: labels, datasets: [{ data: values, borderColor: COLORS[kpi.health] || COLORS.unknown,
          borderWidth: 1.5, pointRadius: values.length === 1 ? 3 : 0, tension: 0.2 }] },
        options: { animation: false, responsive: true, maintainAspectRatio: false,
          plugins: { legend: { display: false }, tooltip: { enabled: false } },
          scales: { x: { display: false }, y: { display: false } } }
      });
      var delta = document.querySelector("[data-delta-for='" + kpi.id + "']");
      if (delta) {
        delta.textContent = kpi.change ? kpi.change.text : "–";
        delta.className = "delta" + (kpi.change ? " delta-" + kpi.change.tone : "");
      }
    });
  }

  function flat(labels, value) { return labels.map(function () { return value; }); }

  function drawMain() {
    var canvas = document.getElementById("kpi-chart");
    if (!canvas) { return; }
    var select = document.querySelector("[data-chart-select]");
    var kpi = byId(select ? select.value : canvas.dataset.kpiId) || state.kpis[0];
    if (!kpi) { return; }
    var labels = kpi.points.map(function (p) { return p[0]; });
    var datasets = [{ label: kpi.name, data: kpi.points.map(function (p) { return p[1]; }),
      borderColor: "#1565c0", backgroundColor: "#1565c0", pointRadius: labels.length > 60 ? 0 : 2, tension: 0.15 }];
    if (kpi.target !== null) {
      datasets.push({ label: "Target " + kpi.target_text,
        data: flat(labels, kpi.target), borderColor: COLORS.on_track, borderDash: [6, 4], pointRadius: 0 });
    }
    if (kpi.warning !== null) {
      datasets.push({ label: "Warning", data: flat(labels, kpi.warning), borderColor: COLORS.at_risk, borderDash: [2, 3], pointRadius: 0 });
    }
    if (kpi.critical !== null) {
      datasets.push({ label: "Critical", data: flat(labels, kpi.critical), borderColor: COLORS.off_track, borderDash: [2, 3], pointRadius: 0 });
    }
    if (mainChart) { mainChart.destroy(); }
    mainChart = new window.Chart(canvas, {
      type: "line", data: { labels: labels, datasets: datasets },
      options: { animation: false, responsive: true, interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom" } } }
    });
    canvas.dataset.pointCount = String(labels.length);
    canvas.dataset.kpiId = String(kpi.id);
  }

  function drawAll() { drawSparklines(); drawMain(); }

  function paramsOf(form) {
    var params = new URLSearchParams(new FormData(form));
    if (params.get("range") !== "custom") { params.delete("start"); params.delete("end"); }
    return params;
  }

  function reload(form) {
    var params = paramsOf(form);
    var url = form.dataset.dataUrl + "?" + params.toString();
    var box = document.querySelector("[data-dashboard]");
    if (box) { box.setAttribute("aria-busy", "true"); }
    window.PMHub.fetch(url, { headers: { Accept: "application/json" } })  // rejects on a non-2xx answer
      .then(function (r) { return r.json(); })
      .then(function (data) {
        state = data;
        drawAll();
        if (box) { box.dataset.range = data.window.key; box.removeAttribute("aria-busy"); }
        form.querySelector("[name=start]").value = data.window.start;
        form.querySelector("[name=end]").value = data.window.end;
        var label = document.querySelector("[data-window-label]");
        if (label) {
          label.textContent = data.window.start + " – " + data.window.end + ", compared with " +
            data.window.previous_start + " – " + data.window.previous_end;
        }
        var exportLink = document.querySelector("[data-export-link]");
        if (exportLink) { exportLink.href = form.dataset.exportUrl + "?" + params.toString(); }
        window.history.replaceState(null, "", "?" + params.toString());
      })
      .catch(function () { form.submit(); });
  }

  function bindCharts() {
    var select = document.querySelector("[data-chart-select]");
    if (select) { select.addEventListener("change", drawMain); }
    document.querySelectorAll("[data-png-for]").forEach(function (link) {
      link.addEventListener("click", function () {
        if (mainChart) { link.href = mainChart.toBase64Image("image/png", 1); }
      });
    });
  }

  function init() {
    state = readData();
    if (!state || !window.Chart) { return; }
    drawAll();
    var form = document.querySelector("[data-period-form]");
    if (form) {
      form.addEventListener("submit", function (e) { e.preventDefault(); reload(form); });
      form.querySelector("[name=range]").addEventListener("change", function (e) {
        if (e.target.value !== "custom") { reload(form); }
      });
    }
    bindCharts();
    // Live updates (static/js/live.js) replaced the tiles and their data: draw them again.
    document.addEventListener("pmhub:live-refreshed", function (event) {
      if (!event.target.matches || !event.target.matches("[data-dashboard]")) { return; }
      Object.keys(sparkCharts).forEach(function (id) { sparkCharts[id].destroy(); });
      sparkCharts = {};
      if (mainChart) { mainChart.destroy(); mainChart = null; }
      state = readData();
      if (!state) { return; }
      drawAll();
      bindCharts();
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
