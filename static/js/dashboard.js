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

  // One quantity per chart: FFT % positive and NPS have different scales, so each has its own.
  function weekly(canvasId, values, label, min, max, colour) {
    var canvas = document.getElementById(canvasId);
    if (!canvas) { return; }
    new Chart(canvas, {
      type: "line",
      data: {
        labels: trend.labels,
        datasets: [{ label: label, data: values, borderColor: colour, backgroundColor: colour, spanGaps: false, tension: 0.2 }]
      },
      options: {
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: { min: min, max: max, title: { display: true, text: label } } },
        plugins: { legend: { display: false } }
      }
    });
  }
  var trend = data("trend-data");
  if (trend) {
    weekly("trend-chart-fft", trend.fft_positive, "FFT positive (%)", 0, 100, "#0a58ca");
    weekly("trend-chart-nps", trend.nps, "NPS", -100, 100, "#146c43");
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
