// Support desk: canned responses inserted into the reply box, and the report's charts.
(function () {
  "use strict";

  // A canned response link fills the reply box (still editable) instead of reloading
  // the page; without JavaScript the link reloads with ?canned=ID, which does the same.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-canned-text]");
    if (!link) return;
    var box = document.getElementById(link.getAttribute("data-canned-target"));
    if (!box) return;
    event.preventDefault();
    box.value = link.getAttribute("data-canned-text");
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  });

  function charts() {
    var source = document.getElementById("support-report");
    if (!source || typeof window.Chart === "undefined") return;
    var report = JSON.parse(source.textContent);
    var colour = "#2b59c3";
    var specs = {
      by_day: {
        type: "line",
        labels: report.by_day.map(function (r) { return r.day; }),
        data: report.by_day.map(function (r) { return r.tickets; }),
      },
      by_network: {
        type: "bar",
        labels: report.by_network.map(function (r) { return r.network_label || r.network || "—"; }),
        data: report.by_network.map(function (r) { return r.tickets; }),
      },
      csat: {
        type: "bar",
        labels: report.csat.distribution.map(function (r) { return String(r.rating); }),
        data: report.csat.distribution.map(function (r) { return r.answers; }),
      },
    };
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var spec = specs[canvas.getAttribute("data-chart")];
      if (!spec) return;
      new window.Chart(canvas, {
        type: spec.type,
        data: {
          labels: spec.labels,
          datasets: [{ label: canvas.getAttribute("aria-label"), data: spec.data,
                       backgroundColor: colour, borderColor: colour }],
        },
        options: { plugins: { legend: { display: false } },
                   scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", charts);
  } else {
    charts();
  }
})();
