// Draws the dashboard charts from the JSON embedded in the page (no network requests).
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("dashboard-data");
    if (!source || typeof Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var s = data.series;
    var charts = {};
    var common = { responsive: true, maintainAspectRatio: false, animation: false };
    charts.engagement = new Chart(document.getElementById("chart-engagement"), {
      type: "line",
      data: {
        labels: s.labels,
        datasets: [
          { label: "Sent", data: s.sent, borderColor: "#417690", tension: 0.2 },
          { label: "Human opens", data: s.opened_human, borderColor: "#2e7d32", tension: 0.2 },
          { label: "Human clicks", data: s.clicked_human, borderColor: "#f9a825", tension: 0.2 },
          { label: "All opens (incl. machines)", data: s.opened_all, borderColor: "#999", borderDash: [4, 4], tension: 0.2 },
        ],
      },
      options: common,
    });
    charts.revenue = new Chart(document.getElementById("chart-revenue"), {
      type: "bar",
      data: { labels: s.labels, datasets: [{ label: "Attributed revenue", data: s.revenue, backgroundColor: "#417690" }] },
      options: Object.assign({}, common, { scales: { y: { beginAtZero: true } } }),
    });
    var pct = function (values) { return values.map(function (v) { return v === null ? null : v * 100; }); };
    charts.health = new Chart(document.getElementById("chart-health"), {
      type: "line",
      data: {
        labels: s.labels,
        datasets: [
          { label: "Complaint rate %", data: pct(s.complaint_rate), borderColor: "#c62828", spanGaps: true },
          { label: "Bounce rate %", data: pct(s.bounce_rate), borderColor: "#f9a825", spanGaps: true },
          { label: "Gmail limit 0.3%", data: s.labels.map(function () { return data.complaint_red * 100; }),
            borderColor: "#c62828", borderDash: [6, 4], pointRadius: 0 },
        ],
      },
      options: Object.assign({}, common, { scales: { y: { beginAtZero: true, title: { display: true, text: "%" } } } }),
    });
    charts.lifecycle = new Chart(document.getElementById("chart-lifecycle"), {
      type: "bar",
      data: {
        labels: data.lifecycle.map(function (b) { return b.label; }),
        datasets: [{ label: "Customers", data: data.lifecycle.map(function (b) { return b.count; }), backgroundColor: "#79aec8" }],
      },
      options: Object.assign({}, common, { scales: { y: { beginAtZero: true } } }),
    });
    window.dashboardCharts = charts;
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
