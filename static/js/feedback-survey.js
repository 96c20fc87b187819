/* Survey pages. The form works without this file; it only makes it nicer:
   1. skip logic hides questions that do not apply yet;
   2. contact boxes appear once the patient ticks "contact me";
   3. the error summary takes focus so screen-reader users hear it;
   4. a kiosk clears itself for the next person (idle form, thank-you countdown);
   5. the Send button cannot be pressed twice. */
(function () {
  "use strict";

  var FFT = { very_good: 5, good: 4, neither: 3, poor: 2, very_poor: 1 };

  function numberFor(form, name) {
    var picked = form.querySelector('input[name="' + name + '"]:checked');
    if (!picked) { return null; }
    if (picked.value in FFT) { return FFT[picked.value]; }
    if (picked.value === "yes") { return 1; }
    if (picked.value === "no") { return 0; }
    if (picked.value === "dont_know") { return null; }
    var n = parseInt(picked.value, 10);
    return isNaN(n) ? null : n;
  }

  function applySkipLogic(form) {
    form.querySelectorAll("[data-show-if]").forEach(function (block) {
      var value = numberFor(form, block.dataset.showIf);
      var min = block.dataset.showMin === "" ? -Infinity : Number(block.dataset.showMin);
      var max = block.dataset.showMax === "" ? Infinity : Number(block.dataset.showMax);
      var shown = value !== null && value >= min && value <= max;
      if (shown) { block.removeAttribute("data-js-hidden"); } else { block.setAttribute("data-js-hidden", ""); }
      block.querySelectorAll(".condition-hint").forEach(function (hint) { hint.hidden = true; });
    });
  }

  function applyConsent(form) {
    form.querySelectorAll("[data-consent-details]").forEach(function (details) {
      var box = document.getElementById(details.dataset.consentDetails);
      if (box && !box.checked) { details.setAttribute("data-js-hidden", ""); } else { details.removeAttribute("data-js-hidden"); }
    });
  }

  function kioskIdle(form) {
    var seconds = Number(form.dataset.kioskIdle);
    if (!seconds) { return; }
    var timer = null;
    function reset() { window.location.replace(form.dataset.kioskUrl); }
    function touched() {
      window.clearTimeout(timer);
      timer = window.setTimeout(reset, seconds * 1000);
    }
    ["input", "change", "keydown", "pointerdown", "touchstart"].forEach(function (type) {
      form.addEventListener(type, touched, { passive: true });
    });
  }

  function kioskRestart() {
    var link = document.querySelector("[data-kiosk-restart]");
    if (!link) { return; }
    var left = Number(link.dataset.kioskRestart);
    var countdown = document.querySelector("[data-kiosk-countdown]");
    var tick = window.setInterval(function () {
      left -= 1;
      if (countdown && left > 0 && left % 5 === 0) {
        countdown.textContent = countdown.textContent.replace(/\d+/, String(left));
      }
      if (left <= 0) {
        window.clearInterval(tick);
        window.location.replace(link.href);
      }
    }, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
    kioskRestart();
    var form = document.querySelector(".survey-form");
    if (!form) { return; }
    applySkipLogic(form);
    applyConsent(form);
    form.addEventListener("change", function () { applySkipLogic(form); applyConsent(form); });
    kioskIdle(form);
    // A kiosk page restored from the back/forward cache must not show the last person's answers.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted && form.dataset.kioskUrl) { window.location.replace(form.dataset.kioskUrl); }
    });
    form.addEventListener("submit", function () {
      var button = form.querySelector('button[type="submit"]');
      if (button) { window.setTimeout(function () { button.disabled = true; }, 0); }
    });
  });
})();
