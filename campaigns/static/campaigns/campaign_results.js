// The campaign's results per day (Chart.js from the project's static files), from JSON in the page.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("campaign-results-data");
    var canvas = document.getElementById("chart-campaign-results");
    if (!source || !canvas || typeof Chart === "undefined") return;
    var s = JSON.parse(source.textContent);
    window.campaignResultsChart = new Chart(canvas, {
      data: {
        labels: s.labels,
        datasets: [
          { type: "line", label: "Sent", data: s.sent, borderColor: "#417690", tension: 0.2, yAxisID: "y" },
          { type: "line", label: "Delivered", data: s.delivered, borderColor: "#79aec8", tension: 0.2, yAxisID: "y" },
          { type: "line", label: "Human opens", data: s.opened_human, borderColor: "#2e7d32", tension: 0.2, yAxisID: "y" },
          { type: "line", label: "Human clicks", data: s.clicked_human, borderColor: "#f9a825", tension: 0.2, yAxisID: "y" },
          { type: "bar", label: "Orders", data: s.orders, backgroundColor: "rgba(198, 40, 40, 0.5)", yAxisID: "y" },
          { type: "line", label: "Revenue", data: s.revenue, borderColor: "#6a1b9a", borderDash: [4, 4], yAxisID: "revenue" },
        ],
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: {
          y: { beginAtZero: true, title: { display: true, text: "messages, orders" } },
          revenue: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "revenue" } },
        },
      },
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
