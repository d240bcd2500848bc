// Chapter 11's explorer: SpliceAI's acceptor and donor tracks around a variant, before
// (grey) and after (colour), and its four delta scores (all computed in Python by
// genotutor.variants.spliceai_tracks and kept in the state, so a choice is a lookup).
//
// Data contract: `data`, built by VariantExplorer (genotutor/widgets/variants.py); arrays
// are packed (decode()), with their dtype and shape. The four deltas are in the order
// acceptor gain, acceptor loss, donor gain, donor loss; the tracks are W = 2 distance + 1
// long. In grid mode (every substitution at each of a run of positions) the three keys
// marked "grid" are there too, and the position and base controls choose the variant.
// @data reference         float32  (V, 2, W)  acceptor, donor probabilities before
// @data alternative       float32  (V, 2, W)  and after each variant
// @data deltas            float32  (V, 4)     the delta scores
// @data at                int32    (V, 4)     where each delta is, relative to the variant
// @data distance          int                 the tracks' reach on each side
// @data labels            string[] (V)        one label per variant (list mode)
// @data refs              string[] (V)        each variant's reference allele
// @data positions?        int32    (P,)       grid: the positions offered
// @data rows?             int32    (P, 4)     grid: the variant with base b at position
//                                             i, -1 for the reference base
// @data position_labels?  string[] (P)        grid: one label per position
// Controls, the view's synced traits (VariantView):
// @trait variant   int   list mode: the variant, in [0, V)
// @trait position  int   grid mode: index into positions
// @trait base      int   grid mode: index into A, C, G, T

import { BASES, SERIES, bars, decode, explorer, figure, fixed, panel, row, signed, summary, vline } from "./plot.js";

// The variant the controls choose: its row (-1: the reference base, grid mode only) and
// its label, and in grid mode its position.
function chooseVariant(data, variant, p, b) {
  if (!data.rows) return { index: variant, label: data.labels[variant] };
  const positions = decode(data.positions).values;
  const rows = decode(data.rows);
  if (!(p >= 0 && p < positions.length)) throw new Error(`position must be in [0, ${positions.length - 1}]; found ${p}`);
  const index = row(rows, p)[b];
  const where = `position ${data.position_labels[p]}`;
  const label = index < 0 ? `${where}, ${BASES[b]}` : `${where}, ${data.refs[index]}&gt;${BASES[b]}`;
  return { index, label, position: positions[p] };
}

// chooseVariant with the controls read from the view's model.
export function chosenVariant(model, data) {
  return chooseVariant(data, model.get("variant"), model.get("position"), model.get("base"));
}

// What the view shows for one choice of the controls, from the table alone (no DOM): the
// chosen variant, its (2, W) tracks before and after (flat), and its deltas and their
// offsets (null for the reference base, whose tracks are a neighbour's reference).
export function variantShown(data, variant, p, b) {
  const reference = decode(data.reference);
  const alternative = decode(data.alternative);
  const n = reference.shape[0];
  const chosen = chooseVariant(data, variant, p, b);
  if (chosen.index < 0) {
    // the reference base: nothing changes; draw the reference track of a neighbour variant
    const any = row(decode(data.rows), p).find((r) => r >= 0);
    const before = row(reference, any);
    return { chosen, before, after: before, deltas: null, at: null };
  }
  if (!(chosen.index >= 0 && chosen.index < n)) throw new Error(`variant must be in [0, ${n - 1}]; found ${chosen.index}`);
  return {
    chosen,
    before: row(reference, chosen.index),
    after: row(alternative, chosen.index),
    deltas: row(decode(data.deltas), chosen.index),
    at: row(decode(data.at), chosen.index),
  };
}

function drawVariant(model, figureEl, summaryEl) {
  const data = model.get("data");
  const d = data.distance;
  const { chosen, before, after, deltas, at } = variantShown(data, model.get("variant"), model.get("position"), model.get("base"));
  const offsets = [];
  for (let i = -d; i <= d; i++) offsets.push(i);
  if (deltas === null) {
    summary(summaryEl, `${chosen.label}: the reference base, no change`);
  } else {
    const names = ["acceptor gain", "acceptor loss", "donor gain", "donor loss"];
    const parts = names.map((name, k) => `${name} <b>${fixed(deltas[k], 2)}</b> (${signed(at[k], 0)})`);
    summary(summaryEl, `${chosen.label}: ${parts.join(", ")}`);
  }
  const width = offsets.length;
  const svg = figure(figureEl, 820, 330);
  const xlim = [-d - 0.5, d + 0.5];
  const titles = ["acceptor probability", "donor probability"];
  for (let k = 0; k < 2; k++) {
    const p = panel(svg, { x: 60, y: 22 + k * 150, w: 740, h: 105 }, {
      xlim, ylim: [0, 1], yticks: [0, 0.5, 1], title: `${titles[k]}: before (grey), after (colour)`,
      xlabel: k === 1 ? "position relative to the variant (nt)" : undefined,
    });
    const ref = Array.from(before.subarray(k * width, (k + 1) * width));
    const alt = Array.from(after.subarray(k * width, (k + 1) * width));
    bars(p, offsets, ref, { color: "#bbb", width: 0.9 });
    bars(p, offsets, alt, { color: k === 0 ? SERIES[0] : SERIES[1], width: 0.45 });
    vline(p, 0, { dash: "3,3", width: 0.8 });
  }
}

export default explorer(["data", "variant", "position", "base"], drawVariant);
