// Chapter 1's explorer: mutate one base; the output before and after, the mutant's logo,
// and the change of every possible single-base mutation in the window (all computed in
// Python by ISM and kept in the state, so any choice of the controls is a lookup).
//
// Data contract: `data`, built by MutationExplorer (genotutor/widgets/mutation.py);
// arrays are packed (decode()), with their dtype and shape:
// @data bases      uint8    (N, L)     the sequences, 0..3 = A, C, G, T
// @data outputs    float32  (N, 4, L)  the output with base b at position i
// @data reference  float32  (N,)      each sequence's own output
// @data window     int                 how many positions the figure shows
// @data truth?     uint8    (N, L)     positions to shade (planted motifs)
// Controls, the view's synced traits (MutationView):
// @trait sequence  int   the sequence, in [0, N)
// @trait position  int   the mutated position, in [0, L)
// @trait base      int   the new base, index into A, C, G, T

import { BASES, BASE_COLOURS, decode, explorer, extent, figure, fixed, hline, logo, node, panel, row, scatter, shade, signed, summary, vline, traitValues } from "./plot.js";

// What the view shows for one choice of the controls, from the table alone (no DOM): the
// output before and after, the window, the mutant's letters in it (4 x window, flat) and
// the change of every single-base mutation there (base-major, as the letters).
export function mutationShown(data, s, pos, base) {
  const bases = decode(data.bases);
  const outputs = decode(data.outputs);
  const reference = decode(data.reference).values;
  const [n, length] = bases.shape;
  if (!(s >= 0 && s < n)) throw new Error(`sequence must be in [0, ${n - 1}]; found ${s}`);
  if (!(pos >= 0 && pos < length)) throw new Error(`position must be in [0, ${length - 1}]; found ${pos}`);
  const table = row(outputs, s);
  const before = reference[s];
  const after = table[base * length + pos];
  const window = Math.min(data.window, length);
  const start = Math.max(0, Math.min(pos - Math.floor(window / 2), length - window));
  const sequence = row(bases, s);
  const letters = new Float32Array(4 * window);
  for (let i = 0; i < window; i++) {
    const b = start + i === pos ? base : sequence[start + i];
    letters[b * window + i] = 1;
  }
  const changes = [];
  for (let b = 0; b < 4; b++) for (let i = 0; i < window; i++) changes.push(table[b * length + start + i] - before);
  return { before, after, window, start, sequence, letters, changes, ylim: extent(changes.concat([0]), 0.1) };
}

function drawMutation(model, figureEl, summaryEl) {
  const [data, s, pos, base] = traitValues(model, "data", "sequence", "position", "base");
  const { before, after, window, start, sequence, letters, changes, ylim } = mutationShown(data, s, pos, base);
  summary(summaryEl, `output before <b>${fixed(before, 3)}</b>, after <b>${fixed(after, 3)}</b>, change <b>${signed(after - before, 3)}</b>`);

  const svg = figure(figureEl, 820, 300);
  const xlim = [start - 0.5, start + window - 0.5];
  const top = panel(svg, { x: 60, y: 22, w: 740, h: 90 }, { xlim, ylim: [0, 1.05], yticks: [], title: `sequence ${s}, ${BASES[base]} at position ${pos}` });
  if (data.truth) shade(top, row(decode(data.truth), s).subarray(start, start + window), start);
  logo(top, letters, window, start);
  vline(top, pos);

  const bottom = panel(svg, { x: 60, y: 150, w: 740, h: 110 }, { xlim, ylim, xlabel: "position", ylabel: "change", title: "change of the output for every single-base mutation in the window" });
  hline(bottom, 0, { color: "#999" });
  for (let b = 0; b < 4; b++) {
    const xs = [];
    const ys = [];
    for (let i = 0; i < window; i++) {
      if (sequence[start + i] === b) continue;
      xs.push(start + i);
      ys.push(changes[b * window + i]);
    }
    scatter(bottom, xs, ys, { color: BASE_COLOURS[BASES[b]], alpha: 0.8, r: 2.2 });
  }
  scatter(bottom, [pos], [after - before], { color: "none", alpha: 1, r: 5 });
  node("circle", { cx: bottom.sx(pos), cy: bottom.sy(after - before), r: 5, fill: "none", stroke: "crimson", "stroke-width": 1.5 }, bottom.g);
  vline(bottom, pos, { dash: "3,3", width: 0.8 });
}

export default explorer(["data", "sequence", "position", "base"], drawMutation);
