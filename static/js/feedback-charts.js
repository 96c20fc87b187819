/* Results page: one bar chart per question from the JSON the page embeds. Each chart has a
   table beside it with the same numbers, so nothing depends on this file. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("feedback-charts");
    if (!source || typeof window.Chart === "undefined") { return; }
    JSON.parse(source.textContent).forEach(function (chart) {
      var canvas = document.getElementById(chart.id);
      if (!canvas) { return; }
      new window.Chart(canvas, {
        type: "bar",
        data: { labels: chart.labels, datasets: [{ data: chart.counts, backgroundColor: "#0b5ed7" }] },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { display: false } },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
        }
      });
    });
  });
})();
