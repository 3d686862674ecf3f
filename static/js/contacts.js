// Contacts: pipeline drag and drop, select-all for bulk actions, confirmations.
// No inline script anywhere (CSP); HTMX does the requests.
(function () {
  "use strict";

  function status(text) {
    var el = document.getElementById("board-status");
    if (el) { el.textContent = text; }
  }

  function initBoard(root) {
    if (typeof Sortable === "undefined") { return; }
    var lists = root.querySelectorAll ? root.querySelectorAll("[data-stage-column]") : [];
    Array.prototype.forEach.call(lists, function (list) {
      if (list.dataset.sortable) { return; }
      list.dataset.sortable = "1";
      Sortable.create(list, {
        group: "pipeline",
        animation: 150,
        draggable: "li[data-move-url]",
        filter: "a, button, input, .more",
        preventOnFilter: false,
        onEnd: function (evt) {
          if (evt.from === evt.to) { return; }
          var card = evt.item;
          // Sortable leaves an empty style="" on the card; HTMX would carry it onto the
          // swapped card, and the CSP (no inline styles) reports it on every drop.
          if (card.getAttribute("style") === "") { card.removeAttribute("style"); }
          // The column it lands on is no longer empty.
          var empty = evt.to.querySelector("li.empty");
          if (empty) { empty.remove(); }
          card.dataset.fromColumn = evt.from.id;
          card.dataset.fromIndex = String(evt.oldIndex);
          var reason = document.getElementById("board-reason");
          card.classList.add("saving");
          htmx.ajax("POST", card.dataset.moveUrl, {
            source: card,
            target: card,
            swap: "outerHTML",
            values: { stage: evt.to.dataset.stageColumn, reason: reason ? reason.value : "" }
          });
        }
      });
    });
  }

  // A refused move (e.g. a stage the contact is already at) goes back where it was.
  document.addEventListener("htmx:responseError", function (event) {
    var card = event.detail.elt;
    if (!card || !card.dataset || !card.dataset.fromColumn) { return; }
    var from = document.getElementById(card.dataset.fromColumn);
    var index = parseInt(card.dataset.fromIndex, 10);
    card.classList.remove("saving");
    if (from) { from.insertBefore(card, from.children[index] || null); }
    status(event.detail.xhr.responseText);
  });

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("[data-select-all]")) {
      var boxes = document.querySelectorAll("input[type=checkbox][name='" + el.dataset.selectAll + "']");
      Array.prototype.forEach.call(boxes, function (box) { box.checked = el.checked; });
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    initBoard(document);
    if (window.htmx) { htmx.onLoad(initBoard); }
  });
})();
