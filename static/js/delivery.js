// Delivery run page: each tap is saved by htmx (hx-post on every item's form). Without
// JavaScript the same forms post normally. This file only makes failures visible, so a
// lost connection never looks like a saved answer.
(function () {
  "use strict";

  function showProblem(elt, text) {
    var item = elt && elt.closest ? elt.closest(".checklist-item") : null;
    if (!item) { return; }
    var box = item.querySelector(".save-status");
    if (!box) { return; }
    box.innerHTML = "";
    var alert = document.createElement("div");
    alert.className = "alert alert-danger py-2 mb-2";
    alert.setAttribute("role", "alert");
    alert.textContent = text;
    box.appendChild(alert);
    item.classList.remove("is-saving");
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var item = event.detail.elt.closest(".checklist-item");
    if (item) { item.classList.add("is-saving"); item.setAttribute("aria-busy", "true"); }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var item = event.detail.elt.closest ? event.detail.elt.closest(".checklist-item") : null;
    if (item) { item.classList.remove("is-saving"); item.removeAttribute("aria-busy"); }
  });
  // "Complete checklist" refused: the list of items still to record is at the top. Focus it, so
  // a screen reader reads it and a phone shows it, and cross items off as they are recorded.
  var summary = document.getElementById("complete-error");
  if (summary) { summary.focus(); }
  document.addEventListener("htmx:afterSettle", function () {
    var box = document.getElementById("complete-error");
    if (!box) { return; }
    box.querySelectorAll("[data-item]").forEach(function (entry) {
      if (document.querySelector("#item-" + entry.getAttribute("data-item") + " .recorded")) { entry.remove(); }
    });
    if (!box.querySelector("[data-item]")) { box.remove(); }
  });

  document.addEventListener("htmx:sendError", function (event) {
    showProblem(event.detail.elt, "Not saved: no connection. Tap again when you are back online.");
  });
  document.addEventListener("htmx:responseError", function (event) {
    showProblem(event.detail.elt, "Not saved: something went wrong on our side. Please tap again.");
  });
})();
