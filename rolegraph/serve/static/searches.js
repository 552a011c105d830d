// The searches of `rolegraph serve`: the reports `rolegraph search -o DIR` writes
// (GET /searches), and one search (GET /searches/{id}): score against evaluations, the
// Pareto front of score and cost, and a candidate's source with its diff from its parent.
// Uses app.js's helpers (el, getJSON, main); every value is set as text, never as HTML.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

function svgEl(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function fmt(value, digits) {
  if (value === null || value === undefined) return "—";
  return Number.isInteger(value) ? String(value) : value.toFixed(digits === undefined ? 3 : digits);
}

// Round tick values over [lo, hi] (about `count` of them).
function ticks(lo, hi, count) {
  if (hi <= lo) return [lo];
  const raw = (hi - lo) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(+t.toPrecision(12));
  return out;
}

function extent(values, pad) {
  let lo = Math.min(...values), hi = Math.max(...values);
  if (lo === hi) { lo -= pad || 1; hi += pad || 1; }
  return [lo, hi];
}

// A plot frame: axes with ticks and labels; returns {svg, x(v), y(v), layer} to draw in.
function frame(id, title, xLabel, yLabel, xr, yr) {
  const W = 560, H = 320, L = 58, R = 14, T = 28, B = 44;
  const x = (v) => L + (v - xr[0]) / (xr[1] - xr[0]) * (W - L - R);
  const y = (v) => H - B - (v - yr[0]) / (yr[1] - yr[0]) * (H - T - B);
  const axes = svgEl("g", { class: "axes" },
    svgEl("line", { x1: L, y1: H - B, x2: W - R, y2: H - B }),
    svgEl("line", { x1: L, y1: T, x2: L, y2: H - B }),
    ticks(xr[0], xr[1], 6).map((t) => svgEl("g", {},
      svgEl("line", { class: "grid", x1: x(t), y1: T, x2: x(t), y2: H - B }),
      svgEl("text", { x: x(t), y: H - B + 16, "text-anchor": "middle" }, fmt(t, 2)))),
    ticks(yr[0], yr[1], 5).map((t) => svgEl("g", {},
      svgEl("line", { class: "grid", x1: L, y1: y(t), x2: W - R, y2: y(t) }),
      svgEl("text", { x: L - 6, y: y(t) + 4, "text-anchor": "end" }, fmt(t, 2)))),
    svgEl("text", { class: "label", x: (L + W - R) / 2, y: H - 8, "text-anchor": "middle" }, xLabel),
    svgEl("text", { class: "label", x: 14, y: (T + H - B) / 2, "text-anchor": "middle",
      transform: `rotate(-90 14 ${(T + H - B) / 2})` }, yLabel),
    svgEl("text", { class: "title", x: L, y: 18 }, title));
  const layer = svgEl("g", {});
  const svg = svgEl("svg", { id, class: "plot", viewBox: `0 0 ${W} ${H}`, role: "img" }, axes, layer);
  return { svg, x, y, layer };
}

function point(plot, c, cx, cy, select, extra) {
  return svgEl("circle", {
    class: `point${c.on_front ? " front" : ""}${c.index === 0 ? " start" : ""}${extra || ""}`,
    cx, cy, r: c.on_front ? 5.5 : 4, "data-index": c.index,
    onclick: () => select(c.index),
  }, svgEl("title", {}, `#${c.index}: score ${fmt(c.score)}, cost ${fmt(c.cost, 0)}\n${c.made_by}`));
}

// Score against evaluations: each evaluation a point, the best so far a step line.
function progressPlot(candidates, select) {
  const scored = candidates.filter((c) => c.score !== null);
  const [lo, hi] = extent(scored.map((c) => c.score), 0.1);
  const plot = frame("progress-plot", "score against evaluations", "evaluations", "score",
    [0, Math.max(2, candidates.length + 1)], [Math.min(0, lo), Math.max(1, hi)]);
  let best = null, path = "";
  for (const c of scored) {
    const n = c.index + 1;
    if (best === null) { best = c.score; path = `M${plot.x(n)},${plot.y(best)}`; continue; }
    path += ` H${plot.x(n)}`;
    if (c.score > best) { best = c.score; path += ` V${plot.y(best)}`; }
  }
  plot.layer.append(svgEl("path", { class: "best-line", d: path }));
  for (const c of scored) plot.layer.append(point(plot, c, plot.x(c.index + 1), plot.y(c.score), select));
  return plot.svg;
}

// The Pareto front: score against cost, the front's points joined and highlighted.
function frontPlot(candidates, front, select) {
  const scored = candidates.filter((c) => c.score !== null && c.cost !== null);
  const [xlo, xhi] = extent(scored.map((c) => c.cost), 1);
  const [ylo, yhi] = extent(scored.map((c) => c.score), 0.1);
  const xpad = (xhi - xlo) * 0.05;
  const plot = frame("front-plot", "Pareto front: score against cost", "cost", "score",
    [Math.max(0, xlo - xpad), xhi + xpad], [Math.min(0, ylo), Math.max(1, yhi)]);
  const onFront = front.filter((c) => c.score !== null && c.cost !== null);
  if (onFront.length) {
    let d = `M${plot.x(onFront[0].cost)},${plot.y(onFront[0].score)}`;
    for (const c of onFront.slice(1)) d += ` H${plot.x(c.cost)} V${plot.y(c.score)}`;
    plot.layer.append(svgEl("path", { class: "front-line", d }));
  }
  // (candidates of the same score and cost, or nearly, are drawn around their point,
  // not on it: each one stays in reach; the front's come first, at their own point)
  const placed = [], drawn = [];
  const free = (x, y) => placed.every(([px, py]) => (px - x) ** 2 + (py - y) ** 2 >= 81);
  for (const c of [...onFront, ...scored.filter((c) => !c.on_front)]) {
    const cx = plot.x(c.cost), cy = plot.y(c.score);
    let at = [cx, cy];
    for (let k = 1; !free(...at) && k < 200; k++) {
      const ring = 9 * Math.ceil(Math.sqrt(k / 3)), angle = k * 2.39996;  // (a golden-angle spiral)
      at = [cx + ring * Math.cos(angle), cy - ring * Math.sin(angle)];
    }
    placed.push(at);
    drawn.push(point(plot, c, at[0], at[1], select));
  }
  plot.layer.append(...drawn.reverse());  // (the front's on top)
  return plot.svg;
}

function diffBlock(diff) {
  if (diff === null) return el("p", { class: "muted" }, "The start of the search: no parent.");
  if (!diff) return el("p", { class: "muted" }, "The same source as its parent.");
  const lines = diff.replace(/\n$/, "").split("\n").map((line) => {
    const kind = line.startsWith("+++") || line.startsWith("---") ? "file"
      : line.startsWith("@@") ? "hunk" : line.startsWith("+") ? "add"
      : line.startsWith("-") ? "del" : "ctx";
    return el("span", { class: `line ${kind}` }, line + "\n");
  });
  return el("pre", { class: "diff", id: "diff" }, lines);
}

function madeBy(text) {
  try { return json(JSON.parse(text)); } catch (_) { return text; }
}

function candidatePanel(search, index, select) {
  const c = search.candidates[index];
  if (!c) return el("p", { class: "muted" }, "Select a candidate: a point of a plot, or a row.");
  return el("div", { id: "candidate" },
    el("h2", {}, `Candidate #${c.index}`, c.on_front ? " " : "", c.on_front ? badge("on the front", "verdict") : ""),
    el("div", { class: "totals" },
      el("span", {}, "score ", el("b", {}, fmt(c.score))),
      el("span", {}, "cost ", el("b", {}, fmt(c.cost, 0))),
      el("span", {}, "calls ", el("b", {}, c.calls)),
      el("span", { class: "mono" }, c.fingerprint.slice(0, 16)),
      c.parent_index !== null && c.parent_index !== undefined
        ? el("a", { href: "#", onclick: (e) => { e.preventDefault(); select(c.parent_index); } },
          `parent #${c.parent_index}`) : ""),
    el("h3", {}, "Made by"),
    el("pre", { class: "made-by" }, madeBy(c.made_by)),
    el("h3", {}, "Diff from its parent", c.diff ? el("span", { class: "muted" }, `  +${c.added} −${c.removed}`) : ""),
    diffBlock(c.diff),
    el("details", { open: c.diff === null }, el("summary", {}, "Source"), el("pre", { id: "source" }, c.source)));
}

function frontTable(front, select) {
  return el("table", { id: "front" },
    el("tr", {}, ["#", "score", "cost", "calls", "made by"].map((h, i) =>
      el("th", { class: i && i < 4 ? "num" : "" }, h))),
    front.map((c) => el("tr", { class: "pick", "data-index": c.index, onclick: () => select(c.index) },
      el("td", {}, `#${c.index}`),
      el("td", { class: "num" }, fmt(c.score)),
      el("td", { class: "num" }, fmt(c.cost, 0)),
      el("td", { class: "num" }, c.calls),
      el("td", { class: "mono" }, c.made_by.length > 90 ? c.made_by.slice(0, 90) + "…" : c.made_by))));
}

function candidatesTable(candidates, select) {
  return el("details", { id: "all-candidates" }, el("summary", {}, `All ${candidates.length} candidates, in the order evaluated`),
    el("table", { id: "candidates" },
      el("tr", {}, ["#", "score", "cost", "parent", "made by"].map((h, i) =>
        el("th", { class: i && i < 3 ? "num" : "" }, h))),
      candidates.map((c) => el("tr", { class: "pick", "data-index": c.index, onclick: () => select(c.index) },
        el("td", {}, `#${c.index}`, c.on_front ? " ★" : ""),
        el("td", { class: "num" }, fmt(c.score)),
        el("td", { class: "num" }, fmt(c.cost, 0)),
        el("td", {}, c.parent_index === null ? "" : `#${c.parent_index}`),
        el("td", { class: "mono" }, c.made_by.length > 90 ? c.made_by.slice(0, 90) + "…" : c.made_by)))));
}

async function searchesPage() {
  const searches = await getJSON("/searches");
  main.replaceChildren(el("h1", {}, "Searches"),
    searches.length ? el("table", { id: "searches" },
      el("tr", {}, ["report", "agent", "candidates", "front", "best", "start", "model calls"].map((h, i) =>
        el("th", { class: i > 1 ? "num" : "" }, h))),
      searches.map((s) => s.diagnostics
        ? el("tr", {}, el("td", {}, s.id), el("td", { colspan: 6 },
          s.diagnostics.map((d) => el("pre", { class: "diagnostic" }, d.rendered))))
        : el("tr", {},
          el("td", {}, el("a", { href: `#/search/${encodeURIComponent(s.id)}` }, s.id)),
          el("td", {}, s.agent),
          el("td", { class: "num" }, s.totals.candidates),
          el("td", { class: "num" }, s.totals.front),
          el("td", { class: "num" }, fmt(s.totals.best_score)),
          el("td", { class: "num" }, fmt(s.totals.start_score)),
          el("td", { class: "num" }, s.totals.calls))))
      : el("p", { class: "muted", id: "searches" },
        "No search reports here: `rolegraph search FILE --data DATA -o DIR` writes DIR/search.json."));
}

async function searchPage(arg) {
  // (the id ends with search.json; a candidate's index may follow: out/search.json/3)
  const cut = arg.lastIndexOf("search.json") + "search.json".length;
  const id = arg.slice(0, cut);
  const wanted = parseInt(arg.slice(cut + 1), 10);
  const search = await getJSON(`/searches/${encodeURIComponent(id)}`);
  const byIndex = new Map(search.candidates.map((c) => [c.index, c]));
  const front = search.front.map((f) => search.candidates.find((c) => c.fingerprint === f)).filter(Boolean);
  const panel = el("div", { class: "card" });
  const select = (index) => {
    if (!byIndex.has(index)) return;
    history.replaceState(null, "", `#/search/${encodeURIComponent(id)}/${index}`);
    for (const node of main.querySelectorAll(".selected")) node.classList.remove("selected");
    for (const node of main.querySelectorAll(`[data-index="${index}"]`)) node.classList.add("selected");
    panel.replaceChildren(candidatePanel(search, search.candidates.indexOf(byIndex.get(index)), select));
  };
  const t = search.totals;
  main.replaceChildren(
    el("h1", {}, `Search: ${search.agent}`, el("span", { class: "muted" }, search.file ? `  ${search.file}` : "")),
    search.objective ? el("p", { class: "muted" }, `${search.objective.description}; scorer ${search.objective.score}`) : "",
    el("div", { class: "totals" },
      el("span", {}, "candidates ", el("b", {}, t.candidates)),
      el("span", {}, "on the front ", el("b", {}, t.front)),
      el("span", {}, "best score ", el("b", {}, fmt(t.best_score))),
      el("span", {}, "start score ", el("b", {}, fmt(t.start_score))),
      el("span", {}, "model calls ", el("b", {}, t.calls))),
    el("div", { class: "plots" },
      el("div", { class: "card" }, progressPlot(search.candidates, select)),
      el("div", { class: "card" }, frontPlot(search.candidates, front, select))),
    el("div", { class: "columns" },
      el("div", {}, el("h2", {}, "The Pareto front, cheapest first"), frontTable(front, select),
        candidatesTable(search.candidates, select)),
      panel));
  select(Number.isInteger(wanted) && byIndex.has(wanted) ? wanted : (front.length ? front[front.length - 1].index : 0));
}
