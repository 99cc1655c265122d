// Balance over time on the escrow account page (ECharts).
(function () {
  var el = document.getElementById("balance-chart");
  if (!el || !window.echarts) return;
  fetch(el.dataset.seriesUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
    var chart = echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "axis" },
      xAxis: { type: "time" },
      yAxis: { type: "value", name: "元" },
      series: [{ type: "line", step: "end", data: data.points.map(function (p) { return [p[0], Number(p[1])]; }) }]
    });
  });
})();
