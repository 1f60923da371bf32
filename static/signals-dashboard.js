// The attribution chart: conversations per day (from ads / organic) and keyword flags, drawn with Chart.js.
(function () {
  "use strict";
  var canvas = document.getElementById("signals-chart");
  var source = document.getElementById("signals-chart-data");
  if (!canvas || !source || typeof Chart === "undefined") return;
  var data = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.days,
      datasets: [
        { label: gettext("From ads"), data: data.series.ad_driven, stack: "conversations", backgroundColor: "#fe2c55" },
        { label: gettext("Organic"), data: data.series.organic, stack: "conversations", backgroundColor: "#25f4ee" },
        { label: gettext("Keyword flags"), data: data.series.flags, type: "line", borderColor: "#333", backgroundColor: "#333" }
      ]
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } }
    }
  });
})();
