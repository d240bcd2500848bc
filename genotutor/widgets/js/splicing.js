// Chapters 9 and 10's explorer: mutate a base of an exon and / or add or remove a
// confounder (CpG, in-frame stop codons); every model's output before and after, and the
// logo of the edited sequence with the changed bases shaded. Every combination of the
// controls was edited and run through the models in Python; the state holds the outputs
// and, per combination, the bases that changed, so any choice is a lookup.
//
// Data contract: `data`, built by SplicingExplorer (genotutor/widgets/splicing.py); arrays
// are packed (decode()), with their dtype and shape. A combination c is the flat index of
// (sequence, edit, base, position - first) over (N, E, 4, P); its changed bases are
// changed_at / changed_to [offsets[c], offsets[c + 1]).
// @data names       string[]     (M)              the models' names
// @data bases       uint8        (N, L)           the sequences, 0..3 = A, C, G, T
// @data before      float32      (M, N)           each model's output on each sequence
// @data after       float32      (M, N, E, 4, P)  each model's output after each edit
// @data offsets     int32        (C,)             C = N E 4 P + 1, where each
//                                                 combination's changes start
// @data changed_at  uint8|int32  (K,)             positions changed (uint8 for L <= 256)
// @data changed_to  uint8        (K,)             the bases they now hold
// @data positions   int[]        (2)              the position control's [first, last)
// @data window      int                           how many positions the logo shows
// Controls, the view's synced traits (SplicingView):
// @trait sequence  int   the sequence, in [0, N)
// @trait position  int   the mutated position, in [first, last)
// @trait base      int   0 to keep the reference's base, b + 1 for base b of A, C, G, T
// @trait edit      int   the confounder edit, index into the E edits (0: none)

import { SERIES, bars, decode, explorer, extent, figure, fixed, hline, logo, node, panel, row, shade, signed, summary, text, vline } from "./plot.js";

// The decoded tables of a state (decode() keeps each array decoded once).
function splicingTables(data) {
  return {
    bases: decode(data.bases), // (N, L) uint8, 0..3 = A, C, G, T
    before: decode(data.before), // (M, N)
    after: decode(data.after), // (M, N, E, 4, P)
    offsets: decode(data.offsets).values, // (N * E * 4 * P + 1,) int32
    changedAt: decode(data.changed_at).values, // positions, int32
    changedTo: decode(data.changed_to).values, // bases, uint8
  };
}

// Grouped bars, one group per model: before (blue) and after (orange), names below.
function splicingBars(svg, box, names, values) {
  const all = values.flat().concat([0]);
  const p = panel(svg, box, { xlim: [-0.6, names.length - 0.4], ylim: extent(all, 0.12), xticks: [], ylabel: "prediction" });
  hline(p, 0, { color: "#333" });
  const spots = names.map((_, i) => i);
  bars(p, spots.map((i) => i - 0.2), values.map((v) => v[0]), { width: 0.38, color: SERIES[0] });
  bars(p, spots.map((i) => i + 0.2), values.map((v) => v[1]), { width: 0.38, color: SERIES[1] });
  names.forEach((name, i) => {
    const x = p.sx(i);
    const y = box.y + box.h + 10;
    text(p.axes, x, y, name, { "text-anchor": "end", "font-size": 10, transform: `rotate(-30 ${x} ${y})` });
  });
  [["before", SERIES[0]], ["after", SERIES[1]]].forEach(([name, colour], k) => {
    const x = box.x + 4 + 58 * k;
    node("rect", { x, y: box.y - 14, width: 9, height: 9, fill: colour }, p.axes);
    text(p.axes, x + 12, box.y - 6, name, { "font-size": 10 });
  });
  return p;
}

// What the view shows for one choice of the controls, from the table alone (no DOM):
// each model's output before and after, the edited sequence and which bases changed,
// and the logo's window: its start, its letters (4 x window, flat) and the changes in it.
export function splicingShown(data, s, pos, base, edit) {
  const { bases, before, after, offsets, changedAt, changedTo } = splicingTables(data);
  const [n, length] = bases.shape;
  const [nModels, , nEdits, , nPositions] = after.shape;
  if (nModels !== data.names.length) throw new Error("the table does not match the models' names");
  const [first, last] = data.positions; // the position control's range, [first, last)
  if (!(s >= 0 && s < n)) throw new Error(`sequence must be in [0, ${n - 1}]; found ${s}`);
  if (!(pos >= first && pos < last)) throw new Error(`position must be in [${first}, ${last - 1}]; found ${pos}`);
  if (!(base >= 0 && base <= 4)) throw new Error(`base must be keep, A, C, G or T; found ${base}`);
  if (!(edit >= 0 && edit < nEdits)) throw new Error(`edit must be one of ${nEdits} confounder edits; found ${edit}`);
  const sequence = row(bases, s);
  const b = base === 0 ? sequence[pos] : base - 1; // "keep" is the reference's own base
  const combination = ((s * nEdits + edit) * 4 + b) * nPositions + (pos - first);
  const perModel = n * nEdits * 4 * nPositions;
  const values = data.names.map((_, m) => [before.values[m * n + s], after.values[m * perModel + combination]]);
  const edited = Uint8Array.from(sequence);
  const changed = new Uint8Array(length);
  for (let j = offsets[combination]; j < offsets[combination + 1]; j++) {
    edited[changedAt[j]] = changedTo[j];
    changed[changedAt[j]] = 1;
  }
  const window = Math.min(data.window, length);
  const start = Math.max(0, Math.min(pos - Math.floor(window / 2), length - window));
  const letters = new Float32Array(4 * window);
  for (let i = 0; i < window; i++) letters[edited[start + i] * window + i] = 1;
  const nChanged = changed.reduce((total, c) => total + c, 0);
  const inView = changed.subarray(start, start + window).reduce((total, c) => total + c, 0);
  return { values, edited, changed, window, start, letters, nChanged, inView };
}

function drawSplicing(model, figureEl, summaryEl) {
  const data = model.get("data");
  const s = model.get("sequence");
  const pos = model.get("position");
  const { values, changed, window, start, letters, nChanged, inView } = splicingShown(data, s, pos, model.get("base"), model.get("edit"));
  summary(summaryEl, data.names.map((name, m) => {
    const [a, z] = values[m];
    return `${name} <b>${fixed(a, 2)}</b> &rarr; <b>${fixed(z, 2)}</b> (${signed(z - a, 2)})`;
  }).join(", "));

  const svg = figure(figureEl, 820, 250);
  splicingBars(svg, { x: 55, y: 26, w: 200, h: 150 }, data.names, values);
  const right = panel(svg, { x: 310, y: 26, w: 490, h: 150 }, {
    xlim: [start - 0.5, start + window - 0.5], ylim: [0, 1.05], yticks: [], xlabel: "position",
    title: `sequence ${s} after the edits: ${nChanged} base${nChanged === 1 ? "" : "s"} changed, ${inView} in view (shaded)`,
  });
  shade(right, changed.subarray(start, start + window), start, { color: "crimson", alpha: 0.25 });
  logo(right, letters, window, start);
  vline(right, pos, { color: "#555", dash: "3,3", width: 0.8 });
}

export default explorer(["data", "sequence", "position", "base", "edit"], drawSplicing);
