// Charts (ECharts) for every element with class "wuye-chart". data-kind: bar | line | pie |
// stacked; data-labels: JSON array; data-values: JSON array of numbers, or for "stacked" a
// JSON array of [series name, [numbers]] pairs; data-colors: optional JSON array of colours, one
// per series (the SLA states: overdue red, due today orange, on time green, no deadline grey). The same numbers are always in a table beside the
// chart, so nothing depends on the chart being drawn.
(function () {
  if (!window.echarts) return;
  document.querySelectorAll(".wuye-chart").forEach(function (el) {
    var labels = JSON.parse(el.dataset.labels || "[]"), values = JSON.parse(el.dataset.values || "[]");
    var kind = el.dataset.kind || "bar";
    if (!labels.length) { el.style.display = "none"; return; }
    var option;
    if (kind === "pie") {
      option = { tooltip: { trigger: "item" }, legend: { bottom: 0 },
        series: [{ type: "pie", radius: ["35%", "65%"], data: labels.map(function (l, i) {
          return { name: l, value: Number(values[i]) }; }) }] };
    } else {
      var series = kind === "stacked"
        ? values.map(function (pair) {
            return { name: pair[0], type: "bar", stack: "all", data: pair[1].map(Number) }; })
        : [{ type: kind, data: values.map(Number) }];
      option = { tooltip: { trigger: "axis" }, legend: kind === "stacked" ? { top: 0 } : undefined,
        grid: { left: 50, right: 10, top: kind === "stacked" ? 30 : 10, bottom: 60 },
        xAxis: { type: "category", data: labels, axisLabel: { rotate: labels.length > 4 ? 30 : 0 } },
        yAxis: { type: "value" }, series: series };
    }
    if (el.dataset.colors) option.color = JSON.parse(el.dataset.colors);
    var chart = echarts.init(el);
    chart.setOption(option);
    el.dataset.drawn = "true";
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
