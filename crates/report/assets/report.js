// report.html (cxr report): builds the runs table, learning curves, freeze-depth and transfer
// charts and run details from the JSON in #cxr-data. Plain DOM and SVG, no library, so the page
// opens offline and has nothing to pin.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("cxr-data").textContent);
  const RUNS = DATA.runs;
  const BY_ID = new Map(RUNS.map((r) => [r.id, r]));
  const SVG = "http://www.w3.org/2000/svg";
  // Tableau 10: distinct on screen and in greyscale print.
  const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
  const state = { sort: null, hidden: {}, ticked: new Set(), metric: "val_micro_recall", run: null };

  // ---- DOM helpers -------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    setAttrs(node, attrs);
    node.append(...children.flat().filter((c) => c !== null && c !== undefined));
    return node;
  }
  function svgEl(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    setAttrs(node, attrs);
    node.append(...children.flat().filter((c) => c !== null && c !== undefined));
    return node;
  }
  function setAttrs(node, attrs) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
  }
  function fmt(v, digits) {
    if (v === null || v === undefined) return "–";
    if (typeof v === "number") {
      if (Number.isInteger(v)) return String(v);
      const d = digits === undefined ? 3 : digits;
      return Math.abs(v) >= 0.001 || v === 0 ? v.toFixed(d) : v.toExponential(2);
    }
    return String(v);
  }
  const color = (i) => PALETTE[i % PALETTE.length];

  // ---- Charts --------------------------------------------------------------------------------
  function niceTicks(lo, hi, count) {
    if (!(hi > lo)) return [lo];
    const raw = (hi - lo) / count;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
    const ticks = [];
    for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) {
      ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    }
    return ticks;
  }
  function extent(values, pad) {
    const v = values.filter((x) => x !== null && Number.isFinite(x));
    if (!v.length) return [0, 1];
    let lo = Math.min(...v), hi = Math.max(...v);
    if (lo === hi) { lo -= 0.5; hi += 0.5; }
    const p = (hi - lo) * (pad === undefined ? 0.06 : pad);
    return [lo - p, hi + p];
  }
  // An empty chart with axes: x linear (or categories at 0..n-1), y linear.
  function makeChart(o) {
    const W = o.width || 640, H = o.height || 320;
    const m = { l: 58, r: 14, t: o.title ? 26 : 10, b: 42 };
    const [x0, x1] = o.x.domain, [y0, y1] = o.y.domain;
    const sx = (v) => m.l + ((v - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
    const sy = (v) => H - m.b - ((v - y0) / (y1 - y0 || 1)) * (H - m.t - m.b);
    const svg = svgEl("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img" });
    if (o.title) svg.append(svgEl("text", { class: "title", x: m.l, y: 16, text: o.title }));
    const grid = svgEl("g", { class: "grid" }), axis = svgEl("g", { class: "axis" });
    for (const t of niceTicks(y0, y1, 5)) {
      grid.append(svgEl("line", { x1: m.l, x2: W - m.r, y1: sy(t), y2: sy(t) }));
      axis.append(svgEl("text", { x: m.l - 6, y: sy(t) + 4, "text-anchor": "end", text: o.y.format ? o.y.format(t) : fmtTick(t) }));
    }
    const xt = o.x.ticks || niceTicks(x0, x1, 8).filter((t) => !o.x.integer || Number.isInteger(t));
    for (const t of xt) {
      axis.append(svgEl("line", { x1: sx(t), x2: sx(t), y1: H - m.b, y2: H - m.b + 4 }));
      axis.append(svgEl("text", { x: sx(t), y: H - m.b + 16, "text-anchor": "middle", text: o.x.format ? o.x.format(t) : fmtTick(t) }));
    }
    axis.append(svgEl("path", { d: `M${m.l},${m.t}V${H - m.b}H${W - m.r}`, fill: "none" }));
    axis.append(svgEl("text", { x: (m.l + W - m.r) / 2, y: H - 6, "text-anchor": "middle", text: o.x.label || "" }));
    axis.append(svgEl("text", { transform: `translate(14,${(m.t + H - m.b) / 2}) rotate(-90)`, "text-anchor": "middle", text: o.y.label || "" }));
    const plot = svgEl("g", { class: "plot" });
    svg.append(grid, axis, plot);
    return { svg, sx, sy, plot };
  }
  function fmtTick(t) {
    if (Math.abs(t) >= 1e6) return (t / 1e6).toFixed(1) + "M";
    if (Math.abs(t) >= 1e4) return (t / 1e3).toFixed(0) + "k";
    return String(Math.round(t * 1000) / 1000);
  }
  // An x axis over `epochs` (1-based), integer ticks, at least 1 to 2.
  function epochAxis(epochs) {
    return { domain: [Math.min(1, ...epochs), Math.max(2, ...epochs)], label: "epoch", integer: true };
  }
  function path(points, sx, sy) {
    return points.filter((p) => p[1] !== null && Number.isFinite(p[1]))
      .map((p, i) => (i ? "L" : "M") + sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1)).join("");
  }
  function legend(items) {
    return el("div", { class: "legend" }, items.map(([name, c]) =>
      el("span", {}, el("span", { class: "swatch", style: `background:${c}` }), name)));
  }

  // ---- Runs table ----------------------------------------------------------------------------
  const num = (key, label, digits) => ({ key, label, numeric: true, get: (r) => r.summary[key], digits });
  function columns() {
    const any = (f) => RUNS.some(f);
    const cols = [
      { key: "id", label: "run", get: (r) => r.id },
      { key: "model", label: "model", get: (r) => r.line },
      { key: "freeze", label: "freeze", numeric: true, get: (r) => r.summary.freeze },
      { key: "seed", label: "seed", numeric: true, get: (r) => r.summary.seed },
    ];
    if (any((r) => r.summary.fold !== null)) cols.push({ key: "fold", label: "fold", numeric: true, get: (r) => r.summary.fold });
    if (any((r) => r.kind === "head")) cols.push({ key: "head", label: "head", get: (r) => r.summary.head || "linear" });
    for (const axis of DATA.axes) {
      // Shown by the columns above (the fold column is `split.fold`'s value).
      if (["model.name", "model.freeze", "seed", "model.weights", "model.head", "split.fold"].includes(axis)) continue;
      const values = RUNS.map((r) => r.axes[axis]);
      const numeric = values.every((v) => v === undefined || (v !== "" && !isNaN(Number(v))));
      cols.push({ key: "axis:" + axis, label: axis, numeric, get: (r) => (r.axes[axis] === undefined ? null : numeric ? Number(r.axes[axis]) : r.axes[axis]) });
    }
    cols.push({ key: "status", label: "status", get: (r) => r.summary.status });
    if (any((r) => r.multilabel)) cols.push(num("test_mean_auroc", "test mean AUROC"));
    cols.push(num("test_micro_recall", "test micro-recall"), num("test_macro_recall", "test macro-recall"));
    if (any((r) => r.summary.test_ece !== null)) cols.push(num("test_ece", "test ECE"));
    if (any((r) => r.kind === "autoencoder")) cols.push(num("test_loss", "test loss", 4));
    cols.push(num("epochs_to_converge", "epochs to converge"), num("epoch_time_s", "s/epoch"),
      num("trainable_params", "trainable params"));
    return cols;
  }
  const COLUMNS = columns();
  // Filters: every column of values a reader picks from (axes, status), with two values or more.
  const FILTERS = COLUMNS.filter((c) => !c.key.startsWith("test_") && !["id", "epochs_to_converge", "epoch_time_s", "trainable_params"].includes(c.key))
    .map((c) => ({ col: c, values: [...new Set(RUNS.map((r) => c.get(r)))] }))
    .filter((f) => f.values.length > 1)
    .map((f) => ({ ...f, values: f.values.sort((a, b) => compare(a, b)) }));

  function compare(a, b) {
    const na = a === null || a === undefined || (typeof a === "number" && isNaN(a));
    const nb = b === null || b === undefined || (typeof b === "number" && isNaN(b));
    if (na || nb) return na === nb ? 0 : na ? 1 : -1;
    if (typeof a === "number" && typeof b === "number") return a - b;
    return String(a).localeCompare(String(b), undefined, { numeric: true });
  }
  function visible(r) {
    return FILTERS.every((f) => !(state.hidden[f.col.key] || new Set()).has(f.col.get(r)));
  }
  function sortedRuns() {
    const runs = RUNS.slice();
    if (!state.sort) return runs;
    const col = COLUMNS.find((c) => c.key === state.sort.key);
    return runs.sort((a, b) => {
      const va = col.get(a), vb = col.get(b);
      const missing = (v) => v === null || v === undefined;
      if (missing(va) || missing(vb)) return compare(va, vb); // missing last either way
      return state.sort.dir * compare(va, vb);
    });
  }
  function buildRuns() {
    const view = document.getElementById("view-runs");
    view.replaceChildren();
    view.append(el("h2", { text: `Runs of ${DATA.grid}` }),
      el("p", { class: "hint", text: "Click a column to sort (again to reverse), untick a value to hide its runs, tick runs to overlay their learning curves, click a run for its detail." }));
    const filters = el("div", { class: "filters", id: "filters" });
    for (const f of FILTERS) {
      const box = el("fieldset", { "data-filter": f.col.key }, el("legend", { text: f.col.label }));
      for (const v of f.values) {
        box.append(el("label", {}, el("input", {
          type: "checkbox", checked: true, "data-value": String(v),
          onchange: (e) => {
            const hidden = state.hidden[f.col.key] || (state.hidden[f.col.key] = new Set());
            if (e.target.checked) hidden.delete(v); else hidden.add(v);
            renderRows();
          },
        }), " " + fmt(v)));
      }
      filters.append(box);
    }
    const count = el("span", { class: "count", id: "runs-count" });
    const toolbar = el("div", { class: "toolbar" }, count,
      el("button", { id: "show-curves", onclick: () => { location.hash = "#curves"; }, text: "Overlay ticked curves" }),
      el("button", { id: "clear-ticks", onclick: () => { state.ticked.clear(); renderRows(); updateTicks(); }, text: "Clear ticks" }));
    const head = el("tr", {}, el("th", { class: "tick", title: "tick to overlay learning curves" }, "✓"),
      COLUMNS.map((c) => el("th", {
        "data-key": c.key, class: c.numeric ? "num" : null,
        onclick: () => {
          const first = c.numeric && c.key !== "freeze" && c.key !== "seed" && c.key !== "fold" ? -1 : 1;
          state.sort = state.sort && state.sort.key === c.key ? { key: c.key, dir: -state.sort.dir } : { key: c.key, dir: first };
          renderRows();
        },
      }, c.label)));
    const table = el("table", { class: "runs", id: "runs-table" }, el("thead", {}, head), el("tbody"));
    view.append(filters, toolbar, el("div", { class: "table-wrap" }, table));
    if (DATA.missing.length) {
      view.append(el("p", { class: "hint", text: `${DATA.missing.length} planned run(s) not finished yet: ${DATA.missing.join(", ")}` }));
    }
    renderRows();
  }
  function renderRows() {
    const table = document.getElementById("runs-table");
    for (const th of table.querySelectorAll("th[data-key]")) {
      const sorted = state.sort && state.sort.key === th.dataset.key;
      if (sorted) th.setAttribute("aria-sort", state.sort.dir > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    }
    const body = table.tBodies[0];
    body.replaceChildren();
    let shown = 0;
    for (const r of sortedRuns()) {
      const row = el("tr", { "data-run": r.id, class: r.summary.status === "ok" ? null : "failed", title: r.summary.error || null });
      row.hidden = !visible(r);
      if (!row.hidden) shown += 1;
      row.append(el("td", {}, el("input", {
        type: "checkbox", class: "tick", "data-run": r.id, checked: state.ticked.has(r.id),
        "aria-label": "tick " + r.id,
        onchange: (e) => { if (e.target.checked) state.ticked.add(r.id); else state.ticked.delete(r.id); updateTicks(); },
      })));
      for (const c of COLUMNS) {
        const v = c.get(r);
        if (c.key === "id") row.append(el("td", {}, el("a", { href: "#run=" + encodeURIComponent(r.id), class: "run-link" }, el("code", { text: r.id }))));
        else row.append(el("td", { class: c.numeric ? "num" : null, "data-key": c.key, "data-value": v === null || v === undefined ? "" : String(v) }, fmt(v, c.digits)));
      }
      body.append(row);
    }
    document.getElementById("runs-count").textContent = `${shown} of ${RUNS.length} runs shown, ${state.ticked.size} ticked`;
  }
  function updateTicks() {
    document.getElementById("tick-count").textContent = state.ticked.size ? `(${state.ticked.size})` : "";
    const count = document.getElementById("runs-count");
    if (count) count.textContent = count.textContent.replace(/\d+ ticked/, `${state.ticked.size} ticked`);
  }

  // ---- Learning curves of the ticked runs ----------------------------------------------------
  const CURVE_METRICS = [
    ["val_micro_recall", "validation micro-recall"], ["val_macro_recall", "validation macro-recall"],
    ["val_mean_auroc", "validation mean AUROC"], ["val_loss", "validation loss"], ["train_loss", "training loss"],
  ].filter(([k]) => RUNS.some((r) => r.history && r.history[k]));
  function buildCurves() {
    const view = document.getElementById("view-curves");
    view.replaceChildren();
    view.append(el("h2", { text: "Learning curves of the ticked runs" }));
    const select = el("select", { id: "curve-metric", onchange: (e) => { state.metric = e.target.value; buildCurves(); } },
      CURVE_METRICS.map(([k, label]) => el("option", { value: k, selected: k === state.metric }, label)));
    view.append(el("div", { class: "toolbar" }, el("label", {}, "Metric ", select),
      el("a", { href: "#runs", text: "tick runs in the runs table" })));
    const runs = [...state.ticked].map((id) => BY_ID.get(id)).filter((r) => r && r.history && r.history[state.metric]);
    if (!runs.length) {
      view.append(el("p", { class: "hint", id: "curves-empty", text: "No ticked run has this curve yet: tick runs (trained by epochs) in the Runs table." }));
      return;
    }
    const label = CURVE_METRICS.find(([k]) => k === state.metric)[1];
    const epochs = runs.flatMap((r) => r.history.epoch);
    const values = runs.flatMap((r) => r.history[state.metric]);
    const chart = makeChart({
      width: 760, height: 380, title: label + " per epoch",
      x: epochAxis(epochs),
      y: { domain: extent(values), label },
    });
    runs.forEach((r, i) => {
      const pts = r.history.epoch.map((e, k) => [e, r.history[state.metric][k]]);
      chart.plot.append(svgEl("path", { class: "curve", "data-run": r.id, d: path(pts, chart.sx, chart.sy), stroke: color(i) },
        svgEl("title", { text: r.id })));
      const k = r.history.epoch.indexOf(r.history.kept);
      if (k >= 0) chart.plot.append(svgEl("circle", { cx: chart.sx(r.history.kept), cy: chart.sy(r.history[state.metric][k]), r: 4, fill: color(i) },
        svgEl("title", { text: `${r.id}: kept epoch ${r.history.kept}` })));
    });
    view.append(chart.svg, legend(runs.map((r, i) => [r.id, color(i)])),
      el("p", { class: "hint", text: "A dot marks each run's kept epoch (the weights it was tested with)." }));
    const table = el("table", { id: "ticked-table" }, el("tr", {}, ["run", "model", "freeze", "seed", "test micro-recall", "epochs to converge", ""].map((h) => el("th", { text: h }))));
    for (const r of runs) {
      table.append(el("tr", {}, el("td", {}, el("a", { href: "#run=" + encodeURIComponent(r.id), text: r.id })),
        el("td", { text: r.line }), el("td", { class: "num", text: fmt(r.summary.freeze) }), el("td", { class: "num", text: fmt(r.summary.seed) }),
        el("td", { class: "num", text: fmt(r.summary.test_micro_recall) }), el("td", { class: "num", text: fmt(r.summary.epochs_to_converge) }),
        el("td", {}, el("button", { text: "untick", onclick: () => { state.ticked.delete(r.id); updateTicks(); renderRows(); buildCurves(); } }))));
    }
    view.append(table);
  }

  // ---- Freeze depth and transfer -------------------------------------------------------------
  // Each configuration's runs as points (one per seed and fold), its mean, and its spread
  // (lowest to highest); a point opens its run.
  function spreadChart(title, groups, xOf, xAxis, metric, metricLabel) {
    const values = groups.flatMap((g) => g.runs.map((r) => r.summary[metric]));
    const chart = makeChart({ width: 640, height: 330, title, x: xAxis, y: { domain: extent(values, 0.1), label: metricLabel } });
    const lines = [...new Set(groups.map((g) => g.series))];
    lines.forEach((series, i) => {
      const offset = (i - (lines.length - 1) / 2) * (lines.length > 1 ? 0.5 / lines.length : 0);
      const means = [];
      for (const g of groups.filter((g) => g.series === series)) {
        const v = g.runs.map((r) => r.summary[metric]).filter((x) => x !== null);
        if (!v.length) continue;
        const x = xOf(g) + offset, mean = v.reduce((a, b) => a + b, 0) / v.length;
        means.push([x, mean]);
        chart.plot.append(svgEl("line", { class: "spread", x1: chart.sx(x), x2: chart.sx(x), y1: chart.sy(Math.min(...v)), y2: chart.sy(Math.max(...v)), stroke: color(i) }));
        // The mean as a short tick, so it shows even where no line joins it.
        chart.plot.append(svgEl("line", { class: "mean", x1: chart.sx(x - 0.06), x2: chart.sx(x + 0.06), y1: chart.sy(mean), y2: chart.sy(mean), stroke: color(i) },
          svgEl("title", { text: `${series}: mean ${fmt(mean)} over ${v.length} run(s), ${fmt(Math.min(...v))} to ${fmt(Math.max(...v))}` })));
        // Points spread sideways, wider with more of them, so seeds of equal score stay apart.
        const width = Math.min(0.3, 0.02 * g.runs.length) / Math.max(1, lines.length / 1.5);
        g.runs.forEach((r, k) => {
          if (r.summary[metric] === null) return;
          const jitter = g.runs.length > 1 ? (k / (g.runs.length - 1) - 0.5) * width : 0;
          chart.plot.append(svgEl("circle", {
            class: "point", "data-run": r.id, cx: chart.sx(x + jitter), cy: chart.sy(r.summary[metric]), r: 4.5, fill: color(i),
            onclick: () => { location.hash = "#run=" + encodeURIComponent(r.id); },
          }, svgEl("title", { text: `${r.id}: ${fmt(r.summary[metric])}` })));
        });
      }
      means.sort((a, b) => a[0] - b[0]);
      chart.plot.append(svgEl("path", { class: "mean", d: path(means, chart.sx, chart.sy), stroke: color(i) }));
    });
    return el("figure", {}, chart.svg, legend(lines.map((s, i) => [s, color(i)])));
  }
  function groupBy(runs, key) {
    const out = new Map();
    for (const r of runs) {
      const k = key(r);
      if (!out.has(k)) out.set(k, []);
      out.get(k).push(r);
    }
    return out;
  }
  // The score a chart of `runs` shows, and its label: mean AUROC for multi-label runs.
  function headline(runs) {
    return runs.some((r) => r.multilabel) ? ["test_mean_auroc", "test mean AUROC"] : ["test_micro_recall", "test micro-recall"];
  }
  function buildFigures() {
    const view = document.getElementById("view-figures");
    view.replaceChildren();
    const networks = RUNS.filter((r) => r.kind === "network" && r.summary.status === "ok");
    view.append(el("h2", { text: "Test score against frozen stages" }),
      el("p", { class: "hint", text: "Each point is one run (a seed, or a fold); the bar spans the lowest to the highest run of the configuration and the line joins the means. Click a point for its run." }));
    if (!networks.length) view.append(el("p", { class: "hint", text: "No finished network run trained by epochs." }));
    for (const [facet, runs] of groupBy(networks, (r) => r.facet)) {
      const [metric, metricLabel] = headline(runs);
      const groups = [...groupBy(runs, (r) => r.line + "\u0000" + r.summary.freeze).values()]
        .map((rs) => ({ series: rs[0].line, freeze: rs[0].summary.freeze, runs: rs }));
      const freezes = [...new Set(groups.map((g) => g.freeze))];
      const box = el("div", { class: "charts" }, spreadChart(`${metricLabel}${facet ? " (" + facet + ")" : ""}`, groups, (g) => g.freeze,
        { domain: [Math.min(...freezes) - 0.5, Math.max(...freezes) + 0.5], ticks: freezes, label: "frozen stages", format: (t) => String(t) }, metric, metricLabel));
      view.append(box);
    }
    const transfer = networks.filter((r) => r.axes["model.weights"] !== undefined);
    if (transfer.length) {
      view.append(el("h2", { text: "Pretraining source against random init" }),
        el("p", { class: "hint", text: "Each weights source of the grid, per model and frozen stages: every run a point, its spread and mean." }));
      for (const [facet, runs] of groupBy(transfer, (r) => r.facet)) {
        const sources = [...new Set(runs.map((r) => r.axes["model.weights"]))];
        const [metric, metricLabel] = headline(runs);
        const groups = [...groupBy(runs, (r) => [r.summary.model, r.summary.freeze, r.axes["model.weights"]].join("\u0000")).values()]
          .map((rs) => ({ series: `${rs[0].summary.model} f${rs[0].summary.freeze}`, source: rs[0].axes["model.weights"], runs: rs }));
        view.append(el("div", { class: "charts" }, spreadChart(`${metricLabel} by weights source${facet ? " (" + facet + ")" : ""}`, groups,
          (g) => sources.indexOf(g.source),
          { domain: [-0.5, sources.length - 0.5], ticks: sources.map((_, i) => i), label: "weights source", format: (t) => sources[t] }, metric, metricLabel)));
      }
    }
  }

  // ---- Run detail ----------------------------------------------------------------------------
  function historyChart(r, keys, title, yLabel) {
    const h = r.history;
    const present = keys.filter(([k]) => h[k]);
    const [lo, hi] = extent(present.flatMap(([k]) => h[k]));
    const chart = makeChart({ width: 460, height: 280, title, x: epochAxis(h.epoch), y: { domain: [lo, hi], label: yLabel } });
    if (h.kept !== null) {
      chart.plot.append(svgEl("line", { class: "kept", x1: chart.sx(h.kept), x2: chart.sx(h.kept), y1: chart.sy(lo), y2: chart.sy(hi) },
        svgEl("title", { text: `kept epoch ${h.kept}` })));
    }
    present.forEach(([k], i) => {
      chart.plot.append(svgEl("path", { class: "curve", "data-metric": k, d: path(h.epoch.map((e, j) => [e, h[k][j]]), chart.sx, chart.sy), stroke: color(i), "stroke-dasharray": i ? "6 3" : null }));
    });
    return el("figure", {}, chart.svg, legend(present.map(([, label], i) => [label, color(i)])));
  }
  function reliabilityChart(rel) {
    const chart = makeChart({ width: 360, height: 320, title: `Reliability (ECE ${fmt(rel.ece)})`, x: { domain: [0, 1], label: "confidence" }, y: { domain: [0, 1], label: "accuracy" } });
    chart.plot.append(svgEl("line", { class: "diagonal", x1: chart.sx(0), y1: chart.sy(0), x2: chart.sx(1), y2: chart.sy(1) }));
    for (const [lo, hi, count, conf, acc] of rel.bins) {
      if (!count) continue;
      chart.plot.append(svgEl("rect", { class: "bin", x: chart.sx(lo) + 1, width: Math.max(1, chart.sx(hi) - chart.sx(lo) - 2), y: chart.sy(acc), height: chart.sy(0) - chart.sy(acc), fill: PALETTE[0], opacity: 0.8 },
        svgEl("title", { text: `${fmt(lo, 2)}–${fmt(hi, 2)}: ${count} images, confidence ${fmt(conf)}, accuracy ${fmt(acc)}` })));
    }
    return el("figure", {}, chart.svg, el("figcaption", { text: "Bars: accuracy of the test images in each confidence bin; dashed: perfect calibration." + (rel.temperature ? ` Temperature ${fmt(rel.temperature)}.` : "") }));
  }
  function rocChart(f) {
    const chart = makeChart({ width: 260, height: 240, title: f.finding, x: { domain: [0, 1], ticks: [0, 0.5, 1], label: "1 - specificity" }, y: { domain: [0, 1], label: "sensitivity" } });
    chart.plot.append(svgEl("line", { class: "diagonal", x1: chart.sx(0), y1: chart.sy(0), x2: chart.sx(1), y2: chart.sy(1) }));
    chart.plot.append(svgEl("text", { x: chart.sx(0.97), y: chart.sy(0.05), "text-anchor": "end", text: `AUROC ${fmt(f.auroc)}` }));
    chart.plot.append(svgEl("path", { class: "curve", d: path(f.roc, chart.sx, chart.sy), stroke: PALETTE[0] }));
    return chart.svg;
  }
  function tableOf(headers, rows, attrs) {
    return el("table", attrs || {}, el("tr", {}, headers.map((h) => el("th", { text: h }))),
      rows.map((cells) => el("tr", {}, cells.map((c) => (c instanceof Node ? el("td", {}, c) : el("td", { class: typeof c === "number" ? "num" : null, text: fmt(c) }))))));
  }
  function buildRun() {
    const view = document.getElementById("view-run");
    view.replaceChildren();
    const r = BY_ID.get(state.run) || RUNS[0];
    if (!r) return;
    state.run = r.id;
    const index = RUNS.indexOf(r);
    const go = (k) => () => { location.hash = "#run=" + encodeURIComponent(RUNS[(k + RUNS.length) % RUNS.length].id); };
    const picker = el("select", { id: "run-picker", onchange: (e) => { location.hash = "#run=" + encodeURIComponent(e.target.value); } },
      RUNS.map((x) => el("option", { value: x.id, selected: x.id === r.id }, x.id)));
    view.append(el("div", { class: "toolbar" }, el("button", { onclick: go(index - 1), text: "◀ previous" }), picker, el("button", { onclick: go(index + 1), text: "next ▶" })));
    view.append(el("div", { class: "run-head" }, el("h2", { id: "run-title" }, el("code", { text: r.id })),
      el("span", { class: "badge", text: r.line }), el("span", { class: "badge", text: r.kind }),
      el("span", { class: "badge " + (r.summary.status === "ok" ? "" : "status-failed"), text: r.summary.status }),
      r.facet ? el("span", { class: "badge", text: r.facet }) : null));
    if (r.summary.error) view.append(el("div", { class: "error-box", text: r.summary.error }));
    const numbers = el("table", { class: "numbers", id: "run-numbers" }, el("tr", {}, el("th", { text: "summary.parquet column" }), el("th", { text: "value" })),
      DATA.summary_columns.map((c) => {
        const v = r.summary[c];
        return el("tr", { "data-field": c }, el("td", {}, el("code", { text: c })),
          el("td", { class: typeof v === "number" ? "num" : null, "data-value": v === null ? "" : String(v), title: v === null ? null : String(v) }, fmt(v, 4)));
      }));
    const axes = tableOf(["axis", "value"], Object.entries(r.axes).map(([k, v]) => [el("code", { text: k }), v]), { id: "run-axes" });
    const charts = el("div", { class: "charts" });
    if (r.history) {
      charts.append(historyChart(r, [["train_loss", "training loss"], ["val_loss", "validation loss"]], "Loss per epoch", "loss"));
      charts.append(historyChart(r, [["val_micro_recall", "val micro-recall"], ["val_macro_recall", "val macro-recall"], ["val_mean_auroc", "val mean AUROC"]], "Validation per epoch", "score"));
    }
    if (r.reliability) charts.append(reliabilityChart(r.reliability));
    view.append(el("h3", { text: "Curves" }), charts.childNodes.length ? charts : el("p", { class: "hint", text: "No per-epoch history (a classic head is fitted, not trained by epochs)." }));
    const tables = el("div", { class: "detail-grid" });
    const left = el("div", {}, el("h3", { text: "Numbers" }), numbers);
    const right = el("div", {}, el("h3", { text: "Axes" }), axes);
    if (r.confusion) {
      const c = r.confusion;
      const max = Math.max(1, ...c.counts.flat());
      const t = el("table", { class: "confusion", id: "run-confusion" }, el("tr", {}, el("th", { text: "true \\ predicted" }), c.classes.map((k) => el("th", { text: k }))),
        c.counts.map((row, i) => el("tr", {}, el("th", { text: c.classes[i] }), row.map((n) => el("td", { style: `background: rgba(78,121,167,${(0.85 * n / max).toFixed(3)}); color: ${n / max > 0.55 ? "#fff" : "inherit"}`, text: String(n) })))));
      right.append(el("h3", { text: "Test confusion matrix" }), t);
    }
    if (r.per_class.length) {
      right.append(el("h3", { text: "Per class (test)" }), tableOf(["class", "precision", "recall", "F1", "images"], r.per_class.map((p) => [p.class, p.precision, p.recall, p.f1, p.support]), { id: "run-per-class" }));
    }
    tables.append(left, right);
    view.append(tables);
    if (r.findings.length) {
      view.append(el("h3", { text: "Per finding (test)" }),
        tableOf(["finding", "AUROC", "95% interval", "positives", "negatives"], r.findings.map((f) => [f.finding, f.auroc, f.auroc_low === null ? null : `${fmt(f.auroc_low)}–${fmt(f.auroc_high)}`, f.positives, f.negatives]), { id: "run-findings" }),
        el("div", { class: "charts", id: "run-roc" }, r.findings.filter((f) => f.roc.length).map(rocChart)));
    }
    view.append(el("h3", { text: "Config" }), el("pre", { class: "config", text: r.config || "(no config.toml)" }));
    view.append(el("h3", { text: "Files" }), el("ul", { class: "files" },
      r.files.map((f) => el("li", {}, el("a", { href: f, text: f.split("/").pop() }))),
      r.figures.map(([what, f]) => el("li", {}, el("a", { href: f, text: what + " (figure)" })))));
  }

  // ---- Views ---------------------------------------------------------------------------------
  const built = {};
  function show(name) {
    for (const v of document.querySelectorAll(".view")) v.classList.toggle("active", v.id === "view-" + name);
    for (const a of document.querySelectorAll("nav#tabs a")) a.classList.toggle("active", a.dataset.view === name);
    if (name === "curves") buildCurves();
    if (name === "figures" && !built.figures) { buildFigures(); built.figures = true; }
    if (name === "run") buildRun();
    window.scrollTo(0, 0);
  }
  function route() {
    const hash = decodeURIComponent(location.hash.slice(1));
    if (hash.startsWith("run=")) { state.run = hash.slice(4); show("run"); return; }
    show(["runs", "curves", "figures", "report", "run"].includes(hash) ? hash : "runs");
  }
  buildRuns();
  window.addEventListener("hashchange", route);
  route();
})();
