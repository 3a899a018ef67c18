/* Small progressive enhancements; every page works without them.
   No inline scripts anywhere: the Content-Security-Policy forbids them. */
(function () {
  "use strict";

  // A correction either re-dates the latest move (needs a date) or undoes it (needs none).
  function wireCorrection(form) {
    var radios = form.querySelectorAll('input[name="action"]');
    var at = form.querySelector('input[name="at"]');
    if (!radios.length || !at) return;
    function sync() {
      var undo = form.querySelector('input[name="action"][value="undo"]:checked');
      at.disabled = !!undo;
      var field = at.closest(".field");
      if (field) field.classList.toggle("is-disabled", !!undo);
    }
    radios.forEach(function (r) { r.addEventListener("change", sync); });
    sync();
  }

  // Opening one move's form closes the others, and puts the cursor in its first field.
  function wireMoves(list) {
    var all = list.querySelectorAll("details.move");
    all.forEach(function (d) {
      d.addEventListener("toggle", function () {
        if (!d.open) return;
        all.forEach(function (other) { if (other !== d) other.open = false; });
        var first = d.querySelector("input:not([type=hidden]), textarea, select");
        if (first) first.focus();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.correct-form").forEach(wireCorrection);
    document.querySelectorAll(".move-list").forEach(wireMoves);
  });
})();
