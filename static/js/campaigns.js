// Campaign funnel charts (Chart.js, vendored). Data comes from the page's
// <script type="application/json" id="funnel-data"> written by json_script.
(function () {
  "use strict";
  var COLORS = ["#2b59c3", "#a15c00", "#1b7a3d", "#7b3fa0", "#b3261e", "#00838f", "#5b6475"];

  function draw() {
    var source = document.getElementById("funnel-data");
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var total = document.querySelector('canvas[data-chart="total"]');
    if (total) {
      new window.Chart(total, {
        type: "bar",
        data: {
          labels: data.steps,
          datasets: [{ label: total.getAttribute("aria-label"), data: data.total, backgroundColor: COLORS.slice(0, 3) }]
        },
        options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }
      });
    }
    var perAccount = document.querySelector('canvas[data-chart="accounts"]');
    if (perAccount) {
      new window.Chart(perAccount, {
        type: "bar",
        data: {
          labels: data.steps,
          datasets: data.accounts.map(function (account, i) {
            return { label: account.label, data: account.values, backgroundColor: COLORS[i % COLORS.length] };
          })
        },
        options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
