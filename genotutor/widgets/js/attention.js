// Chapter 6's explorer: one head's (or the heads' mean) attention map of one sequence, as
// a heat map with the marked tokens as red lines, and the attention each token receives
// (the map's column sums). Every map was read in Python and is kept in the state, so any
// choice of the controls is a lookup.
//
// Data contract: `data`, built by AttentionExplorer (genotutor/widgets/attention.py);
// arrays are packed (decode()), with their dtype and shape:
// @data maps     float32  (N, H, T, T)  each head's map: rows are queries, columns keys
// @data mean     float32  (N, T, T)     the heads' mean
// @data outputs  float32  (N,)          the model's first output, per sequence
// @data tokens?  uint8    (N, T)        tokens to mark
// Controls, the view's synced traits (AttentionView):
// @trait sequence  int   the sequence, in [0, N)
// @trait head      int   0 for the heads' mean, h + 1 for head h

import { bars, colourbar, decode, explorer, figure, fixed, heatmap, niceTicks, node, panel, row, summary, text } from "./plot.js";

// The share of their attention that the marked tokens send to other marked tokens:
// the marked block of the (T, T) map, less its diagonal, over the number marked.
export function markedShare(weights, t, marked) {
  let block = 0;
  for (const i of marked) for (const j of marked) if (i !== j) block += weights[i * t + j];
  return block / marked.length;
}

// What the view shows for one choice of the controls, from the table alone (no DOM): the
// (T, T) map (flat), the marked tokens, the output, the marked share (null with fewer
// than two marked) and the attention each token receives (the map's column sums).
export function attentionShown(data, s, head) {
  const maps = decode(data.maps); // (N, H, T, T): rows are queries, columns keys
  const mean = decode(data.mean); // (N, T, T)
  const outputs = decode(data.outputs).values; // (N,)
  const [n, heads, t] = maps.shape;
  if (!(s >= 0 && s < n)) throw new Error(`sequence must be in [0, ${n - 1}]; found ${s}`);
  if (!(head >= 0 && head <= heads)) throw new Error(`head must be mean or in [0, ${heads - 1}]; found ${head - 1}`);
  const weights = head === 0 ? row(mean, s) : row(maps, s, head - 1);
  const marked = [];
  if (data.tokens) row(decode(data.tokens), s).forEach((m, i) => m && marked.push(i));
  const received = new Float64Array(t); // column sums: attention each key receives
  for (let i = 0; i < t; i++) for (let j = 0; j < t; j++) received[j] += weights[i * t + j];
  const share = marked.length >= 2 ? markedShare(weights, t, marked) : null;
  return { t, weights, marked, output: outputs[s], share, received };
}

// Row ticks of a heat map drawn with row 0 at the top (panel() counts y upwards).
function rowTicks(p, ticks, rows) {
  const h = p.box.h / rows;
  for (const r of ticks) {
    const y = p.box.y + (r + 0.5) * h;
    node("line", { x1: p.box.x - 4, x2: p.box.x, y1: y, y2: y, stroke: "#333" }, p.axes);
    text(p.axes, p.box.x - 6, y + 3.5, String(r), { "text-anchor": "end", "font-size": 10 });
  }
}

function markLine(p, x1, y1, x2, y2) {
  node("line", { x1, y1, x2, y2, stroke: "red", "stroke-width": 0.8, "stroke-opacity": 0.7 }, p.g);
}

function drawAttention(model, figureEl, summaryEl) {
  const data = model.get("data");
  const s = model.get("sequence");
  const head = model.get("head"); // 0: the mean, h + 1: head h
  const { t, weights, marked, output, share, received } = attentionShown(data, s, head);
  let line = `output <b>${fixed(output, 3)}</b>`;
  if (share !== null) line += `; marked tokens send <b>${fixed(share, 2)}</b> of their attention to other marked tokens`;
  summary(summaryEl, line);

  const svg = figure(figureEl, 820, 345);
  const lim = [-0.5, t - 0.5];
  const ticks = niceTicks(0, t - 1, 5).filter((v) => Number.isInteger(v));
  const name = head === 0 ? "mean of heads" : `head ${head - 1}`;
  const heat = panel(svg, { x: 55, y: 22, w: 270, h: 270 }, { xlim: lim, ylim: lim, xticks: ticks, yticks: [], xlabel: "key token (attended to)", ylabel: "query token", title: `sequence ${s}, ${name}` });
  rowTicks(heat, ticks, t);
  const vmax = heatmap(heat, weights, t, t);
  colourbar(svg, { x: 335, y: 22, w: 12, h: 270 }, vmax);
  const cell = heat.box.h / t;
  for (const m of marked) {
    const y = heat.box.y + (m + 0.5) * cell;
    markLine(heat, heat.box.x, y, heat.box.x + heat.box.w, y);
    markLine(heat, heat.sx(m), heat.box.y, heat.sx(m), heat.box.y + heat.box.h);
  }

  const top = Math.max(...received) * 1.05 || 1;
  const bottom = panel(svg, { x: 450, y: 22, w: 350, h: 270 }, { xlim: lim, ylim: [0, top], xticks: ticks, xlabel: "token", ylabel: "attention received (column sum)" });
  const colours = Array.from(received, (_, j) => (marked.includes(j) ? "red" : "#808080"));
  bars(bottom, Array.from(received, (_, j) => j), received, { color: colours });
}

export default explorer(["data", "sequence", "head"], drawAttention);
