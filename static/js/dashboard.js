/* Dashboard charts. The numbers come from json_script blocks; every chart also has a table
   beside it for screen readers and print, so the chart is an extra, never the only way in. */
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  if (typeof Chart === "undefined") { return; }

  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  Chart.defaults.animation = reduceMotion ? false : Chart.defaults.animation;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#343a40";

  var trendCanvas = document.getElementById("trend-chart");
  var trend = data("trend-data");
  if (trendCanvas && trend) {
    new Chart(trendCanvas, {
      type: "line",
      data: {
        labels: trend.labels,
        datasets: [
          { label: "FFT positive (%)", data: trend.fft_positive, borderColor: "#0a58ca", backgroundColor: "#0a58ca",
            spanGaps: false, yAxisID: "pct", tension: 0.2 },
          { label: "NPS", data: trend.nps, borderColor: "#146c43", backgroundColor: "#146c43", borderDash: [6, 4],
            spanGaps: false, yAxisID: "nps", tension: 0.2 }
        ]
      },
      options: {
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          pct: { type: "linear", position: "left", min: 0, max: 100, title: { display: true, text: "FFT positive (%)" } },
          nps: { type: "linear", position: "right", min: -100, max: 100, grid: { drawOnChartArea: false },
                 title: { display: true, text: "NPS" } }
        },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }

  document.querySelectorAll("canvas[data-bar-source]").forEach(function (canvas) {
    var bars = data(canvas.getAttribute("data-bar-source"));
    if (!bars) { return; }
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: bars.labels,
        datasets: bars.datasets.map(function (set, i) {
          var colours = ["#0a58ca", "#adb5bd"];
          return { label: set.label, data: set.data, backgroundColor: colours[i % colours.length] };
        })
      },
      options: {
        maintainAspectRatio: false,
        indexAxis: bars.horizontal ? "y" : "x",
        // Counts of incidents: whole numbers on the value axis, not 0.2, 0.4, …
        scales: {
          x: { beginAtZero: true, ticks: { precision: 0 } },
          y: { beginAtZero: true, ticks: { precision: 0 } }
        },
        plugins: { legend: { position: "bottom" } }
      }
    });
  });
})();
