// An agent's graph in SVG: a layered layout (Sugiyama, simplified) of the IR that
// GET /agents/{name} gives. Layers: the longest path over the edges that are not loop
// edges (the IR without its loop edges is acyclic: DESIGN §3 rule 1); order in a layer:
// barycentre sweeps; loop edges go back up on the right.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const NODE_H = 58, LAYER_GAP = 64, NODE_GAP = 36, MARGIN = 24, CHAR_W = 7.1;

function svgEl(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

function nodeDetail(node) {
  let shape = "";
  if (node.replicate) shape = ` x ${node.replicate}`;
  else if (node.map) shape = ` for ${node.map.var} max ${node.map.max}`;
  const kind = node.kind === "role" ? "" : ` (${node.kind})`;
  return `${node.callee}${shape}${kind} → ${node.type}`;
}

// layers and order: {name: {layer, order}} for the nodes and "return"
function layout(graph) {
  const names = graph.nodes.map((n) => n.name).concat(["return"]);
  const forward = graph.edges.filter((e) => !e.loop && e.source !== e.target);
  const preds = Object.fromEntries(names.map((n) => [n, new Set()]));
  for (const e of forward) if (preds[e.target] && e.source in preds) preds[e.target].add(e.source);
  for (const n of graph.nodes) for (const d of n.deps) if (d in preds) preds[n.name].add(d);
  const layer = {};
  const visiting = new Set();
  function depth(name) {  // longest path from a node without predecessors
    if (name in layer) return layer[name];
    if (visiting.has(name)) return 0;  // (a cycle the IR should not have: cut it)
    visiting.add(name);
    let d = 0;
    for (const p of preds[name]) d = Math.max(d, depth(p) + 1);
    visiting.delete(name);
    return (layer[name] = d);
  }
  names.forEach(depth);
  const top = Math.max(...names.filter((n) => n !== "return").map((n) => layer[n]), 0);
  layer["return"] = Math.max(layer["return"], top + (preds["return"].size ? 0 : 1));
  const rows = [];
  for (const n of names) (rows[layer[n]] = rows[layer[n]] || []).push(n);
  for (let i = 0; i < rows.length; i++) rows[i] = rows[i] || [];
  const position = {};
  const place = () => rows.forEach((row) => row.forEach((n, i) => (position[n] = i)));
  place();
  const succs = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) for (const p of preds[n]) succs[p].push(n);
  const bary = (n, near) => {
    const ps = near[n].filter((m) => m in position);
    return ps.length ? ps.reduce((s, m) => s + position[m], 0) / ps.length : position[n];
  };
  const predList = Object.fromEntries(names.map((n) => [n, [...preds[n]]]));
  for (let sweep = 0; sweep < 4; sweep++) {
    const down = sweep % 2 === 0;
    const order = down ? rows.keys() : [...rows.keys()].reverse();
    for (const i of order) {
      const near = down ? predList : succs;
      rows[i] = rows[i]
        .map((n, k) => [bary(n, near), k, n])
        .sort((a, b) => a[0] - b[0] || a[1] - b[1])
        .map((t) => t[2]);
      place();
    }
  }
  return { rows, layer, position };
}

function drawGraph(graph, states) {
  states = states || {};
  const byName = Object.fromEntries(graph.nodes.map((n) => [n.name, n]));
  const { rows, layer } = layout(graph);
  const width = {};
  for (const n of graph.nodes) {
    const text = Math.max(n.name.length * 1.15, nodeDetail(n).length, 14);
    width[n.name] = Math.min(360, Math.max(120, text * CHAR_W + 24));
  }
  width["return"] = 96;
  const rowWidth = rows.map((r) => r.reduce((s, n) => s + width[n], 0) + NODE_GAP * (r.length - 1));
  const inner = Math.max(...rowWidth, 200);
  // every data dependency is an edge, and the explicit edges beside them
  const edges = [];
  for (const n of graph.nodes) for (const d of n.deps) edges.push({ kind: "data", source: d,
    target: n.name, label: "", loop: false, condition: "always" });
  for (const e of graph.edges) if (e.kind !== "data") edges.push(e);
  const labelOf = (e) => [e.label, e.ports && e.ports.length ? `(${e.ports.join(", ")})` : ""]
    .filter(Boolean).join(" ");
  // loops, and edges that skip a layer, go around on the right (never through a node)
  const around = (e) => e.loop || layer[e.target] - layer[e.source] !== 1;
  const channel = edges.filter((e) => e.source in layer && e.target in layer && around(e));
  const longest = Math.max(0, ...channel.map((e) => labelOf(e).length));
  const loopRoom = 40 + 26 * channel.length + longest * 6.3;
  const pos = {};
  rows.forEach((row, i) => {
    let x = MARGIN + (inner - rowWidth[i]) / 2;
    for (const n of row) {
      pos[n] = { x, y: MARGIN + i * (NODE_H + LAYER_GAP), w: width[n], h: NODE_H };
      x += width[n] + NODE_GAP;
    }
  });
  const W = MARGIN * 2 + inner + loopRoom;
  const H = MARGIN * 2 + rows.length * (NODE_H + LAYER_GAP) - LAYER_GAP;
  const svg = svgEl("svg", { class: "graph", viewBox: `0 0 ${W} ${H}`, role: "img",
    style: `max-width: ${W}px`,  // (a small graph is not blown up)
    "aria-label": `graph of ${graph.name}` });
  const defs = svgEl("defs");
  for (const [id, color] of [["data", "#6b7384"], ["control", "#2463c7"], ["return", "#1d7f4e"],
    ["loop", "#c05a00"], ["error", "#b42318"]]) {
    const marker = svgEl("marker", { id: `arrow-${id}`, viewBox: "0 0 10 10", refX: 9, refY: 5,
      markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
    marker.appendChild(svgEl("path", { d: "M0,0 L10,5 L0,10 z", fill: color }));
    defs.appendChild(marker);
  }
  svg.appendChild(defs);
  const edgeLayer = svgEl("g"), nodeLayer = svgEl("g"), labelLayer = svgEl("g");
  svg.append(edgeLayer, nodeLayer, labelLayer);

  let loopIndex = 0;
  const pairCount = {};
  for (const e of edges) {
    const a = pos[e.source], b = pos[e.target];
    if (!a || !b) continue;
    const cls = e.loop ? "loop"
      : e.condition === "error" ? "error" : e.kind;
    const g = svgEl("g", { class: `edge ${cls}`, "data-source": e.source, "data-target": e.target });
    let d, lx, ly, room = Infinity, anchor = "start";
    if (around(e)) {
      const x = MARGIN + inner + 30 + 26 * loopIndex++;
      const y1 = a.y + a.h / 2, y2 = b.y + b.h / 2;
      d = `M${a.x + a.w},${y1} C${x},${y1} ${x},${y2} ${b.x + b.w},${y2}`;
      lx = x + 6; ly = (y1 + y2) / 2;
    } else {
      const key = `${e.source}>${e.target}`;
      const k = (pairCount[key] = (pairCount[key] || 0) + 1) - 1;
      const x1 = a.x + a.w / 2 + k * 18, y1 = a.y + a.h;
      const x2 = b.x + b.w / 2 + k * 18, y2 = b.y;
      const my = (y1 + y2) / 2;
      d = `M${x1},${y1} C${x1},${my} ${x2},${my} ${x2},${y2}`;
      // the label just above its target, where fanned-out edges are apart; cut to the
      // target's width (the whole of it in the tooltip)
      room = Math.floor((b.w + NODE_GAP - 8) / 6.3);
      lx = x2; ly = y2 - 14 - k * 17; anchor = "middle";
    }
    g.appendChild(svgEl("path", { d, "marker-end": `url(#arrow-${cls})` }));
    edgeLayer.appendChild(g);
    const whole = labelOf(e);
    const label = whole.length > room ? whole.slice(0, room - 1) + "…" : whole;
    if (label) {
      const width = label.length * 6.3 + 4;
      const left = anchor === "middle" ? lx - width / 2 : lx - 2;
      const lg = svgEl("g", { class: `edge ${cls}` });
      lg.appendChild(svgEl("title", {}, `${e.source} → ${e.target}: ${whole}`));
      lg.appendChild(svgEl("rect", { class: "label-bg", x: left, y: ly - 9, width, height: 16, rx: 3 }));
      lg.appendChild(svgEl("text", { x: lx, y: ly + 4,
        "text-anchor": anchor, class: `edge-label ${cls}`, "data-label": whole }, label));
      labelLayer.appendChild(lg);
    }
  }
  for (const name of Object.keys(pos)) {
    const p = pos[name];
    if (name === "return") {
      const g = svgEl("g", { class: "node return", "data-node": "return" });
      g.appendChild(svgEl("ellipse", { cx: p.x + p.w / 2, cy: p.y + p.h / 2, rx: p.w / 2, ry: 20 }));
      g.appendChild(svgEl("text", { x: p.x + p.w / 2, y: p.y + p.h / 2 + 5, "text-anchor": "middle",
        class: "name" }, "return"));
      nodeLayer.appendChild(g);
      continue;
    }
    const n = byName[name];
    const state = states[name] || "";
    const g = svgEl("g", { class: `node ${n.entry ? "entry" : ""} ${state}`, "data-node": name });
    g.appendChild(svgEl("title", {}, `${name}: ${nodeDetail(n)}; at most ${n.firings} firing(s), ${n.calls} model call(s)` + (n.model ? `; model ${n.model}` : "")));
    g.appendChild(svgEl("rect", { x: p.x, y: p.y, width: p.w, height: p.h, rx: 7 }));
    g.appendChild(svgEl("text", { x: p.x + 10, y: p.y + 18, class: "name" }, name));
    g.appendChild(svgEl("text", { x: p.x + 10, y: p.y + 35, class: "detail" }, nodeDetail(n)));
    g.appendChild(svgEl("text", { x: p.x + 10, y: p.y + 50, class: "bound" },
      `≤ ${n.firings} firing${n.firings === 1 ? "" : "s"} · ≤ ${n.calls} call${n.calls === 1 ? "" : "s"}`));
    nodeLayer.appendChild(g);
  }
  return svg;
}

window.rolegraphGraph = { layout, drawGraph, nodeDetail };
