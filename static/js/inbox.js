// The conversation inbox's keys (j/k move, r reply, c canned answer, e handled,
// t ticket, ? help) and the canned-answer picker. No inline script: the CSP forbids it.
(function () {
  "use strict";

  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#conv-list .conv-row"));
  }

  function openKey() {
    var grid = document.querySelector("#thread .thread-grid");
    return grid ? grid.getAttribute("data-key") : null;
  }

  function markCurrent() {
    var key = openKey();
    rows().forEach(function (row) {
      row.classList.toggle("current", row.getAttribute("data-key") === key);
    });
    var layout = document.getElementById("inbox-layout");
    if (layout) {
      layout.classList.toggle("has-thread", key !== null);
    }
  }

  function move(step) {
    var list = rows();
    if (!list.length) {
      return;
    }
    var key = openKey();
    var index = -1;
    list.forEach(function (row, i) {
      if (row.getAttribute("data-key") === key) {
        index = i;
      }
    });
    var next = list[Math.min(list.length - 1, Math.max(0, index + step))];
    if (index === -1) {
      next = list[0];
    }
    var link = next.querySelector("a.conv-link");
    if (link) {
      link.click();
      next.scrollIntoView({ block: "nearest" });
    }
  }

  function press(action) {
    var button = document.querySelector('#thread button[data-action="' + action + '"]');
    if (button && !button.disabled) {
      button.click();
    }
  }

  function insert(textarea, text) {
    var start = textarea.selectionStart || 0;
    var end = textarea.selectionEnd || 0;
    var value = textarea.value;
    textarea.value = value.slice(0, start) + text + value.slice(end);
    textarea.focus();
    var at = start + text.length;
    textarea.setSelectionRange(at, at);
  }

  document.addEventListener("change", function (event) {
    var picker = event.target;
    if (!picker.matches || !picker.matches("select[data-canned-into]")) {
      return;
    }
    var textarea = document.getElementById(picker.getAttribute("data-canned-into"));
    if (textarea && picker.value) {
      insert(textarea, picker.value);
    }
    picker.value = "";
  });

  document.addEventListener("keydown", function (event) {
    if (!document.getElementById("inbox-layout")) {
      return;
    }
    if (event.key === "Escape" && typing(document.activeElement)) {
      document.activeElement.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    var dialog = document.getElementById("inbox-keys");
    switch (event.key) {
      case "j":
        move(1);
        break;
      case "k":
        move(-1);
        break;
      case "r": {
        var box = document.querySelector("#thread .thread-answer textarea");
        if (box) {
          box.focus();
        }
        break;
      }
      case "c": {
        var picker = document.getElementById("canned-pick");
        if (picker) {
          picker.focus();
        }
        break;
      }
      case "e":
        press("handled");
        break;
      case "t":
        press("ticket");
        break;
      case "?":
        if (dialog && !dialog.open) {
          dialog.showModal();
        }
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  document.addEventListener("htmx:afterSettle", markCurrent);
  document.addEventListener("DOMContentLoaded", markCurrent);
})();
