// Charts of a feature's adoption page. Data comes from json_script (#adoption-chart-data): no inline script.
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("adoption-chart-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const common = { responsive: true, maintainAspectRatio: false, animation: false, interaction: { mode: "index", intersect: false } };
  const make = (id, config) => {
    const canvas = document.getElementById(id);
    if (canvas) {
      const chart = new Chart(canvas, config);
      canvas.dataset.rendered = "true";
      return chart;
    }
    return null;
  };
  make("adopters-chart", {
    type: "line",
    data: {
      labels: data.days,
      datasets: [
        { label: "Users that day", data: data.users, borderColor: "#1e88e5", backgroundColor: "rgba(30,136,229,.15)", fill: true, pointRadius: 0 },
        { label: "Users in 7 days", data: data.users_7d, borderColor: "#43a047", pointRadius: 0 },
      ],
    },
    options: { ...common, scales: { y: { beginAtZero: true, title: { display: true, text: "users" } } } },
  });
  const datasets = [{ label: "Adoption (7-day) %", data: data.adoption, borderColor: "#8e24aa", pointRadius: 0, spanGaps: true }];
  if (data.target !== null) {
    datasets.push({ label: "Target %", data: data.days.map(() => data.target), borderColor: "#e53935", borderDash: [6, 4], pointRadius: 0 });
  }
  make("adoption-chart", {
    type: "line",
    data: { labels: data.days, datasets },
    options: { ...common, scales: { y: { beginAtZero: true, suggestedMax: 100, title: { display: true, text: "%" } } } },
  });
  make("retention-chart", {
    type: "line",
    data: {
      labels: data.retention.map((p) => `week ${p.week}`),
      datasets: [{ label: "Share of cohort still using the feature", data: data.retention.map((p) => (p.share === null ? null : 100 * p.share)), borderColor: "#fb8c00", pointRadius: 3 }],
    },
    options: { ...common, scales: { y: { beginAtZero: true, max: 100, title: { display: true, text: "% of cohort" } } } },
  });
});
