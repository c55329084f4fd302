// History charts of the worker page: reads each <figure class="chart" data-…>, fetches the JSON history API once per range, draws uPlot.
// Without this script (or without uPlot) the figures keep their server-rendered text, the summary table and the CSV links.
(function () {
  "use strict";

  var API_METRICS = ["utilization", "memoryUsed", "memoryTotal", "temperature", "powerUsage", "powerLimit"];
  var HEIGHT = 220;
  var SYNC_KEY = "vigil-history";
  // Distinct hues for the compare view's one line per GPU, readable on both themes.
  // Mid-tones that keep 3:1 against both the light (white) and the dark plot background (WCAG 1.4.11):
  // the earlier pastel set fell to 1.4:1 on white (#d4e157).
  var PALETTE = ["#0891b2", "#a855f7", "#d97706", "#16a34a", "#e11d48", "#2563eb", "#65a30d", "#db2777"];

  /** Every drawn chart: { fig, plot, build } so zoom, resize and theme changes reach all of them. */
  var charts = [];

  function cssVar(el, name, fallback) {
    var v = getComputedStyle(el).getPropertyValue(name).trim();
    return v || fallback;
  }

  function apiUrl(d, format) {
    var q = new URLSearchParams();
    q.set("since", d.since);
    if (d.until) q.set("until", d.until);
    q.set("gpu", d.gpu);
    q.set(
      "metrics",
      API_METRICS.map(function (m) {
        return "gpu." + m;
      }).join(","),
    );
    q.set("points", d.points || "600");
    if (format) q.set("format", format);
    return "/api/v1/workers/" + encodeURIComponent(d.worker) + "/metrics?" + q.toString();
  }

  function lastValue(arr) {
    for (var i = arr.length - 1; i >= 0; i--) if (arr[i] !== null && arr[i] !== undefined) return arr[i];
    return null;
  }

  function percentOf(used, totals) {
    var fallback = lastValue(totals);
    return used.map(function (v, i) {
      var t = totals[i] !== null && totals[i] !== undefined ? totals[i] : fallback;
      return v === null || v === undefined || !t ? null : (v / t) * 100;
    });
  }

  /** One GPU's series of the chart's metric as {min, avg, max} arrays in the chart's unit, and the power limit. */
  function seriesOf(gpu, metric) {
    var m = gpu.metrics;
    if (metric === "memoryPercent") {
      var totals = m.memoryTotal.avg;
      return {
        min: percentOf(m.memoryUsed.min, totals),
        avg: percentOf(m.memoryUsed.avg, totals),
        max: percentOf(m.memoryUsed.max, totals),
      };
    }
    if (metric === "power") {
      return { min: m.powerUsage.min, avg: m.powerUsage.avg, max: m.powerUsage.max, limit: m.powerLimit.avg };
    }
    return m[metric];
  }

  function fmt(unit) {
    return function (u, v) {
      return v === null || v === undefined ? "N/A" : (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1)) + " " + unit;
    };
  }

  /** uPlot options and aligned data for a figure, from the API's answer. Null when the range holds no point. */
  function build(fig, answer) {
    var d = fig.dataset;
    var unit = d.unit;
    var gpus = answer.gpus || [];
    var colors = {
      avg: cssVar(fig, "--worker-chart-avg", "#00bcd4"),
      band: cssVar(fig, "--worker-chart-band", "rgba(0,188,212,0.18)"),
      warn: cssVar(fig, "--worker-text-warn", "#f0b429"),
      crit: cssVar(fig, "--worker-text-crit", "#ff6b6b"),
      axis: cssVar(fig, "--pico-muted-color", "#8891a4"),
      grid: cssVar(fig, "--pico-muted-border-color", "rgba(128,128,128,0.25)"),
    };
    var tables = [];
    var series = [{}];
    var bands;
    var limit = null;
    gpus.forEach(function (g, i) {
      var xs = g.ts.map(function (t) {
        return Date.parse(t) / 1000;
      });
      var s = seriesOf(g, d.metric);
      if (s.limit) limit = Math.max(limit || 0, lastValue(s.limit) || 0) || limit;
      if (d.gpu === "all") {
        tables.push([xs, s.avg]);
        series.push({ label: "GPU " + g.index, stroke: PALETTE[i % PALETTE.length], width: 1.5, value: fmt(unit) });
      } else {
        // One GPU: the band between min and max is where the samples behind each point lay; the line is their average.
        tables.push([xs, s.min, s.avg, s.max]);
        series.push({ label: "min", stroke: colors.band, width: 1, value: fmt(unit) });
        series.push({ label: "average", stroke: colors.avg, width: 2, value: fmt(unit) });
        series.push({ label: "max", stroke: colors.band, width: 1, value: fmt(unit) });
        bands = [{ series: [3, 1], fill: colors.band }];
        if (s.limit) {
          tables.push([xs, s.limit]);
          series.push({ label: "power limit", stroke: colors.axis, width: 1, dash: [2, 4], value: fmt(unit) });
        }
      }
    });
    if (
      tables.length === 0 ||
      tables.every(function (t) {
        return t[0].length === 0;
      })
    )
      return null;
    var data = tables.length === 1 ? tables[0] : uPlot.join(tables);
    var xs0 = data[0];
    // Thresholds: fixed for most metrics; for power a percent of the limit, drawn only once the limit is known.
    var scale = d.thresholdOf === "powerLimit" ? (limit ? limit / 100 : null) : 1;
    var lines = [];
    if (scale !== null) {
      lines.push({ label: "warning", value: Number(d.warning) * scale, stroke: colors.warn });
      lines.push({ label: "critical", value: Number(d.critical) * scale, stroke: colors.crit });
    }
    lines.forEach(function (l) {
      data.push(
        xs0.map(function () {
          return l.value;
        }),
      );
      series.push({ label: l.label, stroke: l.stroke, width: 1.5, dash: [6, 4], points: { show: false }, value: fmt(unit) });
    });
    var fixed = d.metric === "utilization" || d.metric === "memoryPercent";
    var opts = {
      width: Math.max(280, fig.querySelector(".chart-plot").clientWidth),
      height: HEIGHT,
      series: series,
      scales: {
        x: { time: true },
        y: {
          range: function (u, min, max) {
            if (fixed) return [0, 100];
            var top = Math.max(max || 0, lines.length ? lines[lines.length - 1].value : 0, limit || 0);
            return [0, Math.ceil((top * 1.08) / 5) * 5 || 10];
          },
        },
      },
      axes: [
        { stroke: colors.axis, grid: { stroke: colors.grid }, ticks: { stroke: colors.grid } },
        {
          stroke: colors.axis,
          grid: { stroke: colors.grid },
          ticks: { stroke: colors.grid },
          size: 60,
          values: function (u, splits) {
            return splits.map(function (v) {
              return v + " " + unit;
            });
          },
        },
      ],
      cursor: { sync: { key: SYNC_KEY }, drag: { x: true, y: false } },
      legend: { live: true },
      hooks: { setScale: [onZoom] },
    };
    if (bands) opts.bands = bands;
    return { opts: opts, data: data };
  }

  /** The CSV links follow the zoom: they download what the charts show. */
  function setCsvLinks(fig, since, until) {
    var section = fig.closest("section") || document;
    var links = section.querySelectorAll("a.chart-csv, a.history-csv");
    links.forEach(function (a) {
      if (!a.dataset.href) a.dataset.href = a.getAttribute("href");
      var url = new URL(a.dataset.href, location.href);
      if (since === null) {
        a.setAttribute("href", a.dataset.href);
        return;
      }
      url.searchParams.set("since", new Date(since * 1000).toISOString());
      url.searchParams.set("until", new Date(until * 1000).toISOString());
      a.setAttribute("href", url.pathname + url.search);
    });
  }

  // uPlot's cursor sync (same key on every chart) already zooms all four together; each then reports here.
  function onZoom(u, key) {
    if (key !== "x") return;
    var entry = charts.find(function (c) {
      return c.plot === u;
    });
    if (!entry) return;
    var xs = u.data[0];
    var min = u.scales.x.min;
    var max = u.scales.x.max;
    var full = xs.length === 0 || (min <= xs[0] && max >= xs[xs.length - 1]);
    setCsvLinks(entry.fig, full ? null : min, full ? null : max);
  }

  function say(fig, text) {
    var plot = fig.querySelector(".chart-plot");
    plot.textContent = "";
    var p = document.createElement("p");
    p.className = "chart-placeholder";
    p.textContent = text;
    plot.appendChild(p);
  }

  function draw(entry) {
    var plotEl = entry.fig.querySelector(".chart-plot");
    if (entry.plot) entry.plot.destroy();
    entry.plot = null;
    var built = build(entry.fig, entry.answer);
    // How many instants the chart drew (0: none), for tests and tools to read off the figure. Not data-points: the
    // server renders that one, the most points the chart asks the API for.
    entry.fig.setAttribute("data-drawn", built ? String(built.data[0].length) : "0");
    if (!built) return say(entry.fig, "No data in this range.");
    plotEl.textContent = "";
    entry.plot = new uPlot(built.opts, built.data, plotEl);
  }

  function load(group) {
    var d = group[0].dataset;
    group.forEach(function (fig) {
      say(fig, "Loading…");
    });
    fetch(apiUrl(d), { credentials: "same-origin", headers: { accept: "application/json" } })
      .then(function (res) {
        return res.json().then(function (body) {
          if (!res.ok) throw new Error(body && body.error ? body.error : "HTTP " + res.status);
          return body;
        });
      })
      .then(function (answer) {
        group.forEach(function (fig) {
          var entry = { fig: fig, answer: answer, plot: null };
          charts.push(entry);
          draw(entry);
        });
      })
      .catch(function (err) {
        group.forEach(function (fig) {
          say(fig, "Could not load the history: " + err.message);
        });
      });
  }

  function start() {
    if (typeof uPlot === "undefined") return;
    var figs = Array.prototype.slice.call(document.querySelectorAll("figure.chart[data-worker][data-metric]"));
    // One request per distinct range and GPU, however many charts share it.
    var groups = {};
    figs.forEach(function (fig) {
      var key = apiUrl(fig.dataset);
      (groups[key] = groups[key] || []).push(fig);
    });
    Object.keys(groups).forEach(function (k) {
      load(groups[k]);
    });

    if (typeof ResizeObserver !== "undefined") {
      var ro = new ResizeObserver(function () {
        charts.forEach(function (c) {
          if (!c.plot) return;
          var w = Math.max(280, c.fig.querySelector(".chart-plot").clientWidth);
          if (Math.abs(w - c.plot.width) > 4) c.plot.setSize({ width: w, height: HEIGHT });
        });
      });
      figs.forEach(function (fig) {
        ro.observe(fig);
      });
    }
    // Canvas colours come from CSS variables once: redraw when the theme toggles.
    new MutationObserver(function () {
      charts.forEach(draw);
    }).observe(document.documentElement, {
      attributes: true,
      attributeFilter: ["data-theme"],
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
