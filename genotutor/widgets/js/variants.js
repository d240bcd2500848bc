// Chapter 11's explorer: SpliceAI's acceptor and donor tracks around a variant, before
// (grey) and after (colour), and its four delta scores (all computed in Python by
// genotutor.variants.spliceai_tracks and kept in the state, so a choice is a lookup).
// Data: reference, alternative (V, 2, 2 d + 1) acceptor and donor probabilities; deltas
// (V, 4) and at (V, 4) in the order acceptor gain, acceptor loss, donor gain, donor loss;
// distance d; labels, refs (V); in grid mode positions (P,), position_labels (P) and
// rows (P, 4), -1 = reference.

function chosenVariant(model, data) {
  if (!data.rows) return { index: model.get("variant"), label: data.labels[model.get("variant")] };
  const positions = decode(data.positions).values;
  const rows = decode(data.rows);
  const p = model.get("position");
  const b = model.get("base");
  if (!(p >= 0 && p < positions.length)) throw new Error(`position must be in [0, ${positions.length - 1}]; found ${p}`);
  const index = row(rows, p)[b];
  const where = `position ${data.position_labels[p]}`;
  const label = index < 0 ? `${where}, ${BASES[b]}` : `${where}, ${data.refs[index]}&gt;${BASES[b]}`;
  return { index, label, position: positions[p] };
}

function drawVariant(model, figureEl, summaryEl) {
  const data = model.get("data");
  const reference = decode(data.reference);
  const alternative = decode(data.alternative);
  const n = reference.shape[0];
  const d = data.distance;
  const chosen = chosenVariant(model, data);
  const offsets = [];
  for (let i = -d; i <= d; i++) offsets.push(i);
  let before, after;
  if (chosen.index < 0) {
    // the reference base: nothing changes; draw the reference track of a neighbour variant
    const rows = decode(data.rows);
    const p = model.get("position");
    const any = row(rows, p).find((r) => r >= 0);
    before = row(reference, any);
    after = before;
    summary(summaryEl, `${chosen.label}: the reference base, no change`);
  } else {
    if (!(chosen.index >= 0 && chosen.index < n)) throw new Error(`variant must be in [0, ${n - 1}]; found ${chosen.index}`);
    before = row(reference, chosen.index);
    after = row(alternative, chosen.index);
    const deltas = row(decode(data.deltas), chosen.index);
    const at = row(decode(data.at), chosen.index);
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
