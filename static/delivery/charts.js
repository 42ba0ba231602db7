// Burn-down, burn-up and velocity charts (Chart.js). Data comes from json_script blocks.
(function () {
  "use strict";
  function read(id) {
    const el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  const builders = {
    burndown: function (days) {
      return { type: "line", data: { labels: days.map(function (d) { return d.day; }), datasets: [
        { label: "Remaining", data: days.map(function (d) { return d.remaining; }), borderColor: "#1565c0", tension: 0 },
        { label: "Ideal", data: days.map(function (d) { return d.ideal; }), borderColor: "#9e9e9e", borderDash: [6, 4], pointRadius: 0 },
      ] } };
    },
    burnup: function (days) {
      return { type: "line", data: { labels: days.map(function (d) { return d.day; }), datasets: [
        { label: "Completed", data: days.map(function (d) { return d.completed; }), borderColor: "#2e7d32", tension: 0 },
        { label: "Scope", data: days.map(function (d) { return d.scope; }), borderColor: "#ef6c00", stepped: true },
      ] } };
    },
    velocity: function (v) {
      return { type: "bar", data: { labels: v.labels, datasets: [
        { label: "Committed", data: v.committed, backgroundColor: "#90caf9" },
        { label: "Completed", data: v.completed, backgroundColor: "#2e7d32" },
      ] } };
    },
  };
  let drawn = [];
  function draw(root) {
    if (typeof Chart === "undefined") return;
    // Charts whose canvas a live update replaced (static/js/live.js) are let go.
    drawn = drawn.filter(function (chart) {
      if (chart.canvas && chart.canvas.isConnected) return true;
      chart.destroy();
      return false;
    });
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      const data = read(canvas.dataset.source);
      const build = builders[canvas.dataset.chart];
      if (!data || !build) return;
      const config = build(data);
      config.options = { responsive: true, maintainAspectRatio: false, animation: false,
        scales: { y: { beginAtZero: true, title: { display: true, text: "Points" } } } };
      drawn.push(new Chart(canvas, config));
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  // A live region holding charts (the iteration's burn charts) was refreshed: draw its new canvases.
  document.addEventListener("pmhub:live-refreshed", function (event) {
    if (event.target.querySelector && event.target.querySelector("canvas[data-chart]")) draw(event.target);
  });
})();
