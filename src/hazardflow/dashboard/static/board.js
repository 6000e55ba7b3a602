/* The board's charts (Apache ECharts, SVG renderer, no animation) and its refresh. The data is the JSON
   in #hf-data, embedded by the server; nothing is fetched but the board's own version stamp. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("hf-data").textContent);
  var zh = data.lang === "zh";
  var L = data.labels;
  var colours = { stock: "#1d5fbf", inflow: "#b3261e", closed: "#2e7d32", rate: "#1d5fbf" };

  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var c = echarts.init(el, null, { renderer: "svg", locale: zh ? "ZH" : "EN" });
    option.animation = false;
    option.aria = { enabled: false };
    option.textStyle = { fontFamily: getComputedStyle(document.body).fontFamily };
    c.setOption(option);
    window.addEventListener("resize", function () { c.resize(); });
  }

  var months = data.trend.map(function (m) { return m.month; });
  chart("chart-trend", {
    tooltip: { trigger: "axis" },
    legend: { top: 0, data: [L.stock, L.inflow] },
    grid: { left: 40, right: 20, top: 40, bottom: 30 },
    xAxis: { type: "category", data: months },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: L.stock, type: "bar", stack: "open", data: data.trend.map(function (m) { return m.stock.n; }), color: colours.stock },
      { name: L.inflow, type: "bar", stack: "open", data: data.trend.map(function (m) { return m.new.n; }), color: colours.inflow }
    ]
  });

  function rateChart(id, rows, label) {
    chart(id, {
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : v + "%"; } },
      grid: { left: 110, right: 50, top: 10, bottom: 30 },
      xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", data: rows.map(label), inverse: true },
      series: [{ name: L.on_time_rate, type: "bar", color: colours.rate,
        data: rows.map(function (r) { return r.rate; }),
        label: { show: true, position: "right", formatter: "{c}%" } }]
    });
  }
  rateChart("chart-on-time-industry", data.on_time_by_industry, function (r) { return L.industry[r.id || ""]; });
  rateChart("chart-on-time-division", data.on_time_by_division, function (r) { return r.label; });
  document.body.setAttribute("data-ready", "1");

  // Refresh: poll the board's version stamp; reload when cases changed.
  var ms = parseInt(document.body.getAttribute("data-poll-ms"), 10);
  var url = document.body.getAttribute("data-version-url");
  if (!ms || !url) { return; }
  var seen = document.body.getAttribute("data-version");
  function poll() {
    fetch(url, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (v) {
        if (!v) { return; }
        if (String(v.version) !== seen) { window.location.reload(); return; }
        window.setTimeout(poll, ms);
      })
      .catch(function () { window.setTimeout(poll, ms); });
  }
  window.setTimeout(poll, ms);
})();
