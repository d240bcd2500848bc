// Chapters 2, 5 and 11's explorer: one attribution map of one sequence as a logo over a
// window, the planted truth shaded, with the map's AUROC and AUPRC. Every map of every
// (sequence, method, correction) was computed in Python by genotutor.attribution.attribute
// and kept in the state, so any choice of the controls is a lookup.
//
// Data contract: `data`, built by AttributionExplorer._data (genotutor/widgets/
// attribution.py); arrays are packed (decode()), with their dtype and shape. A method's
// key is its name, or "<name>+correct" for a gradient method with the correction.
// @data bases      uint8    (N, L)  the sequences, 0..3 = A, C, G, T
// @data outputs    float32  (N,)    the model's output explained, per sequence
// @data methods    string[] (M)     the methods offered, in the control's order
// @data gradient   bool[]   (M)     whether each method takes the gradient correction
// @data scores     dict             key -> packed float32 (N, 4, L), or (N, L) at the
//                                   observed bases with `observed: true`
// @data window     int              how many positions the logo shows
// @data truth?     uint8    (N, L)  positions to shade (planted motifs)
// @data auroc?     dict             key -> packed float32 (N,), NaN without both kinds
// @data auprc?     dict             key -> packed float32 (N,), as auroc
// Controls, the view's synced traits (AttributionView):
// @trait sequence  int   the sequence, in [0, N)
// @trait method    int   index into methods
// @trait correct   bool  the gradient correction (for a gradient method)
// @trait start     int   the logo's first position, in [0, L - window]

import { decode, explorer, figure, fixed, logo, logoLimits, node, panel, polyline, row, shade, summary, traitValues } from "./plot.js";

// The decoded tables of a state (decode() keeps each array decoded once).
function attributionTables(data) {
  const each = (packs) => Object.fromEntries(Object.entries(packs || {}).map(([k, p]) => [k, { observed: p.observed, ...decode(p) }]));
  return {
    bases: decode(data.bases), // (N, L) uint8, 0..3 = A, C, G, T
    outputs: decode(data.outputs).values, // (N,)
    scores: each(data.scores), // (N, 4, L), or (N, L) at the observed bases
    auroc: each(data.auroc), // (N,), NaN without both kinds of position
    auprc: each(data.auprc),
    truth: data.truth ? decode(data.truth) : null, // (N, L) uint8
  };
}

// The (4, L) map of sequence s, flat row-major, from either form of the table.
export function mapOf(entry, bases, s, length) {
  if (!entry.observed) return row(entry, s);
  const values = row(entry, s);
  const sequence = row(bases, s);
  const full = new Float32Array(4 * length);
  for (let i = 0; i < length; i++) full[sequence[i] * length + i] = values[i];
  return full;
}

// What the view shows for one choice of the controls, from the table alone (no DOM): the
// summary's numbers (auroc and auprc null without truth), the map, the logo's letters
// (4 x window, flat) and the importance of each position (|score| summed over the bases).
export function attributionShown(data, s, m, correct, start) {
  const tables = attributionTables(data);
  const [n, length] = tables.bases.shape;
  const window = Math.min(data.window, length);
  if (!(s >= 0 && s < n)) throw new Error(`sequence must be in [0, ${n - 1}]; found ${s}`);
  if (!(m >= 0 && m < data.methods.length)) throw new Error(`method must be in [0, ${data.methods.length - 1}]; found ${m}`);
  if (!(start >= 0 && start <= length - window)) throw new Error(`start must be in [0, ${length - window}]; found ${start}`);
  const method = data.methods[m];
  const corrected = Boolean(correct && data.gradient[m]);
  const key = corrected ? `${method}+correct` : method;
  const auroc = tables.truth ? tables.auroc[key].values[s] : null;
  const auprc = tables.truth ? tables.auprc[key].values[s] : null;
  const map = mapOf(tables.scores[key], tables.bases, s, length);
  const letters = new Float32Array(4 * window);
  for (let b = 0; b < 4; b++) for (let i = 0; i < window; i++) letters[b * window + i] = map[b * length + start + i];
  // One importance per position, as genotutor.evaluation ranks positions.
  const importance = [];
  for (let i = 0; i < length; i++) {
    let total = 0;
    for (let b = 0; b < 4; b++) total += Math.abs(map[b * length + i]);
    importance.push(total);
  }
  return {
    output: tables.outputs[s], auroc, auprc, method, corrected, key, length, window, map, letters, importance,
    truth: tables.truth ? row(tables.truth, s) : null,
    ylim: logoLimits(letters, window),
  };
}

function drawAttribution(model, figureEl, summaryEl) {
  const [data, s, m, start] = traitValues(model, "data", "sequence", "method", "start");
  const v = attributionShown(data, s, m, model.get("correct"), start);
  const { method, corrected, length, window, truth } = v;

  let line = `output <b>${fixed(v.output, 3)}</b>`;
  if (model.get("correct") && !data.gradient[m]) line += ` (no gradient correction for ${method})`;
  if (truth && Number.isFinite(v.auroc)) line += `, AUROC <b>${fixed(v.auroc, 3)}</b>, AUPRC <b>${fixed(v.auprc, 3)}</b> vs the shading`;
  summary(summaryEl, line);

  const svg = figure(figureEl, 820, 330);
  const name = `${method}${corrected ? ", gradient-corrected" : ""}`;
  const top = panel(svg, { x: 70, y: 22, w: 730, h: 150 }, { xlim: [start - 0.5, start + window - 0.5], ylim: v.ylim, ylabel: "score", title: `sequence ${s}, ${name}: positions ${start} to ${start + window - 1}` });
  if (truth) shade(top, truth.subarray(start, start + window), start);
  logo(top, v.letters, window, start);

  // The whole sequence, one importance per position, with the window of the logo outlined.
  const xs = v.importance.map((_, i) => i);
  const high = Math.max(...v.importance) || 1;
  const bottom = panel(svg, { x: 70, y: 215, w: 730, h: 75 }, { xlim: [-0.5, length - 0.5], ylim: [0, high * 1.08], xlabel: "position", ylabel: "|score|", title: "whole sequence: |score| summed over the bases; the logo's window outlined" });
  if (truth) shade(bottom, truth, 0);
  polyline(bottom, xs, v.importance, { width: 1 });
  node("rect", { x: bottom.sx(start - 0.5), y: bottom.box.y, width: bottom.sx(start + window - 0.5) - bottom.sx(start - 0.5), height: bottom.box.h, fill: "none", stroke: "crimson", "stroke-width": 1.5 }, bottom.g);
}

export default explorer(["data", "sequence", "method", "correct", "start"], drawAttribution);
