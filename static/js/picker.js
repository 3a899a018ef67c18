/* Pickers that filter as you type (core/widgets.py). Progressive enhancement: without this
   script the plain <select multiple> (or the check boxes) work as they are.

   - select[multiple][data-picker]: hidden, and shown instead as a text filter over a list of
     check boxes; each box sets its option, so the form submits the same field and values.
   - div.picker-group (check boxes): a text filter hides the boxes that do not match.

   Every word typed must appear in an option's text (any case). Keys: Down from the filter
   goes to the first box shown, Up/Down move between boxes, Space ticks, Escape clears the
   filter. The words come from data attributes rendered in the page's language. */
(function () {
  "use strict";
  var seq = 0;

  function fold(text) {
    return (text || "").toLocaleLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
  }

  function matches(text, query) {
    var words = fold(query).split(/\s+/).filter(Boolean);
    var hay = fold(text);
    return words.every(function (w) { return hay.indexOf(w) !== -1; });
  }

  function labelText(el) {
    var label = el.id && document.querySelector('label[for="' + el.id + '"]');
    if (!label) {
      var field = el.closest(".field, fieldset");
      label = field && field.querySelector("label, legend");
    }
    return label ? label.textContent.replace(/[*:]\s*$/, "").trim() : "";
  }

  // The filter box, the status line (a polite live region) and the wiring they share.
  function build(host, data, rows, chosen, insertBefore) {
    var id = "picker-" + (++seq);
    var filter = document.createElement("input");
    filter.type = "search";
    filter.id = id + "-filter";
    filter.autocomplete = "off";
    filter.placeholder = data.pickerFilter || "";
    var name = labelText(host);
    filter.setAttribute("aria-label", name ? name + " — " + filter.placeholder : filter.placeholder);
    var status = document.createElement("p");
    status.className = "picker-status";
    status.id = id + "-status";
    status.setAttribute("aria-live", "polite");
    filter.setAttribute("aria-describedby", status.id);
    insertBefore.parentNode.insertBefore(filter, insertBefore);

    function visibleBoxes() {
      return rows().filter(function (r) { return !r.row.hidden; }).map(function (r) { return r.box; });
    }
    function refresh() {
      var all = rows(), shown = 0;
      all.forEach(function (r) {
        r.row.hidden = !matches(r.text, filter.value);
        if (!r.row.hidden) shown++;
      });
      var text = (data.pickerStatus || "")
        .replace("{shown}", shown).replace("{total}", all.length).replace("{chosen}", chosen());
      status.textContent = shown === 0 && data.pickerEmpty ? data.pickerEmpty + " " + text : text;
    }
    filter.addEventListener("input", refresh);
    filter.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && filter.value) { filter.value = ""; refresh(); e.preventDefault(); }
      if (e.key === "Enter") e.preventDefault(); // typing, not submitting the form
      if (e.key === "ArrowDown") {
        var first = visibleBoxes()[0];
        if (first) { first.focus(); e.preventDefault(); }
      }
    });
    host.addEventListener("keydown", function (e) {
      if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
      var boxes = visibleBoxes(), i = boxes.indexOf(document.activeElement);
      if (i === -1) return;
      e.preventDefault();
      if (e.key === "ArrowDown" && i < boxes.length - 1) boxes[i + 1].focus();
      else if (e.key === "ArrowUp") (i > 0 ? boxes[i - 1] : filter).focus();
    });
    host.addEventListener("change", refresh);
    host.parentNode.insertBefore(status, host.nextSibling);
    refresh();
    return filter;
  }

  function enhanceSelect(select) {
    var data = select.dataset, wrap = document.createElement("div");
    wrap.className = "picker";
    var list = document.createElement("ul");
    list.className = "picker-list";
    list.setAttribute("role", "group");
    var name = labelText(select);
    if (name) list.setAttribute("aria-label", name);
    var entries = [];
    Array.prototype.forEach.call(select.options, function (option, n) {
      var li = document.createElement("li"), label = document.createElement("label");
      var box = document.createElement("input");
      box.type = "checkbox";
      box.id = (select.id || select.name) + "-pick-" + n;
      box.checked = option.selected;
      box.disabled = option.disabled || select.disabled;
      box.value = option.value;
      // the box is not a form field: the hidden select submits the values
      box.addEventListener("change", function () { option.selected = box.checked; });
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + option.text));
      li.appendChild(label);
      list.appendChild(li);
      entries.push({ row: li, box: box, text: option.text });
    });
    select.parentNode.insertBefore(wrap, select);
    wrap.appendChild(select);
    wrap.appendChild(list);
    select.hidden = true;
    select.setAttribute("aria-hidden", "true");
    select.tabIndex = -1;
    var filter = build(list, data, function () { return entries; }, function () {
      return entries.filter(function (e) { return e.box.checked; }).length;
    }, list);
    // the field's label now names the filter, where focus goes
    var label = select.id && document.querySelector('label[for="' + select.id + '"]');
    if (label) label.htmlFor = filter.id;
    select.classList.add("is-enhanced");
  }

  function enhanceGroup(group) {
    var boxes = Array.prototype.slice.call(group.querySelectorAll('input[type="checkbox"]'));
    if (!boxes.length) return;
    var entries = boxes.map(function (box) {
      var row = box.closest("div, li") || box.parentNode;
      if (row === group) row = box.parentNode;
      return { row: row, box: box, text: (box.closest("label") || row).textContent };
    });
    group.classList.add("picker", "is-enhanced");
    build(group, boxes[0].dataset, function () { return entries; }, function () {
      return boxes.filter(function (b) { return b.checked; }).length;
    }, group.firstChild || group);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[multiple][data-picker]").forEach(enhanceSelect);
    document.querySelectorAll("div.picker-group").forEach(enhanceGroup);
  });
})();
