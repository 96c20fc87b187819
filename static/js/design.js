/* Service design pages: the goal form's metric preview, and the goal history chart.
   No inline scripts (CSP); the pages work without this file, it only makes them livelier. */
(function () {
  "use strict";

  var PREVIEW_FIELDS = ["metric_key", "location", "touchpoint", "need_profile", "period", "metric_params"];

  function formatValue(value, unit) {
    if (value === null || value === undefined) return "no data";
    var number = Math.round(value * 100) / 100;
    if (unit === "percent") return number + " %";
    if (unit === "hours") return number + " hours";
    return String(number);
  }

  function paragraph(text, className) {
    var p = document.createElement("p");
    p.className = className || "mb-1";
    p.textContent = text;
    return p;
  }

  function renderPreview(box, data) {
    box.replaceChildren();
    if (data.error) {
      box.appendChild(paragraph(data.error, "mb-0 text-danger"));
      return;
    }
    if (!data.key) {
      box.appendChild(paragraph("Choose a metric to see its unit and current value.", "mb-0 text-body-secondary"));
      return;
    }
    if (!data.registered) {
      box.appendChild(paragraph("This metric is not available yet, so the goal will show “no data” until it is.", "mb-0"));
      return;
    }
    var title = paragraph("", "mb-1");
    var strong = document.createElement("strong");
    strong.textContent = data.label;
    title.appendChild(strong);
    title.appendChild(document.createTextNode(" · unit: " + data.unit_label));
    box.appendChild(title);
    var current = paragraph("Current value (" + data.period_label.toLowerCase() + "): ", "mb-1");
    var value = document.createElement("strong");
    value.setAttribute("data-preview", "value");
    value.textContent = formatValue(data.value, data.unit);
    current.appendChild(value);
    box.appendChild(current);
    var hint = data.higher_is_better ? "Higher is better: usually “at least”." : "Lower is better: usually “at most”.";
    box.appendChild(paragraph(hint + " " + (data.description || ""), "small text-body-secondary mb-0"));
  }

  function setUpMetricPicker(form) {
    var box = document.getElementById("metric-preview");
    if (!box) return;
    var url = box.getAttribute("data-preview-url");
    var pending = null;
    var timer = null;

    function refresh() {
      var query = new URLSearchParams();
      PREVIEW_FIELDS.forEach(function (name) {
        var field = form.elements.namedItem(name);
        if (field && field.value) query.set(name, field.value);
      });
      if (pending) pending.abort();
      pending = new AbortController();
      box.setAttribute("aria-busy", "true");
      fetch(url + "?" + query.toString(), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: pending.signal,
      })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          renderPreview(box, data);
          var comparator = form.elements.namedItem("comparator");
          var target = form.elements.namedItem("target");
          // Suggest the usual direction only while the manager has not typed a target yet.
          if (data.registered && comparator && target && !target.value) comparator.value = data.suggested_comparator;
        })
        .catch(function (error) {
          if (error.name !== "AbortError") renderPreview(box, { error: "The current value could not be loaded." });
        })
        .finally(function () { box.removeAttribute("aria-busy"); });
    }

    form.addEventListener("change", function (event) {
      if (PREVIEW_FIELDS.indexOf(event.target.name) === -1) return;
      clearTimeout(timer);
      timer = setTimeout(refresh, 150);
    });
  }

  function setUpHistoryChart() {
    var canvas = document.getElementById("goal-history-chart");
    var source = document.getElementById("goal-history-data");
    if (!canvas || !source || typeof window.Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    if (!data.values.some(function (v) { return v !== null; })) {
      canvas.parentElement.hidden = true; // nothing to draw; the table says "no data"
      return;
    }
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          { label: data.label, data: data.values, borderColor: "#0d6efd", backgroundColor: "#0d6efd", spanGaps: false },
          {
            label: "Target",
            data: data.labels.map(function () { return data.target; }),
            borderColor: "#6c757d",
            borderDash: [6, 4],
            pointRadius: 0,
          },
        ],
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false },
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-goal-form]");
    if (form) setUpMetricPicker(form);
    setUpHistoryChart();
  });
})();
