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

  // Alert settings: the exporter boxes matter only for "only these", the hour only with a
  // digest. They stay enabled (and submitted); they are only dimmed.
  function wireSettings(form) {
    function dim(field, off) { if (field) field.classList.toggle("is-disabled", off); }
    var box = form.querySelector("input[name=watched_exporters]");
    var exporters = box ? box.closest(".field") : null;
    var hour = form.querySelector("select[name=digest_hour]");
    var digest = form.querySelector("input[name=digest]");
    function sync() {
      var all = form.querySelector('input[name="watch"][value="all"]:checked');
      dim(exporters, !!all);
      if (hour && digest) dim(hour.closest(".field"), !digest.checked);
    }
    form.querySelectorAll('input[name="watch"], input[name="digest"]').forEach(function (i) {
      i.addEventListener("change", sync);
    });
    sync();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.settings-form").forEach(wireSettings);
    document.querySelectorAll("form.correct-form").forEach(wireCorrection);
    document.querySelectorAll(".move-list").forEach(wireMoves);
  });
})();
