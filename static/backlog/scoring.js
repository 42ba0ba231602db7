// Value vs effort: a Chart.js scatter with the 2x2 quadrant lines at 5 (scale 1-10).
(function () {
  "use strict";
  function init() {
    var canvas = document.getElementById("value-effort-chart");
    var data = document.getElementById("value-effort-data");
    if (!canvas || !data || !window.Chart) return;
    var points = JSON.parse(data.textContent);
    var quadrants = {
      id: "quadrants",
      beforeDraw: function (chart) {
        var ctx = chart.ctx, x = chart.scales.x, y = chart.scales.y;
        ctx.save();
        ctx.strokeStyle = "#9ca3af";
        ctx.setLineDash([4, 4]);
        ctx.beginPath();
        ctx.moveTo(x.getPixelForValue(5), y.top);
        ctx.lineTo(x.getPixelForValue(5), y.bottom);
        ctx.moveTo(x.left, y.getPixelForValue(5));
        ctx.lineTo(x.right, y.getPixelForValue(5));
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = "#6b7280";
        ctx.font = "12px sans-serif";
        ctx.fillText("Quick wins", x.left + 6, y.top + 14);
        ctx.fillText("Big bets", x.getPixelForValue(5) + 6, y.top + 14);
        ctx.fillText("Fill-ins", x.left + 6, y.bottom - 6);
        ctx.fillText("Money pits", x.getPixelForValue(5) + 6, y.bottom - 6);
        ctx.restore();
      },
    };
    new window.Chart(canvas, {
      type: "scatter",
      data: { datasets: [{ label: "Stories", data: points, backgroundColor: "#2563eb" }] },
      options: {
        animation: false,
        scales: {
          x: { min: 0, max: 10, title: { display: true, text: "Effort" } },
          y: { min: 0, max: 10, title: { display: true, text: "Value" } },
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (c) { return c.raw.label + " (value " + c.raw.y + ", effort " + c.raw.x + ")"; } } },
        },
      },
      plugins: [quadrants],
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
