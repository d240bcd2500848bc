// Chapter 1's explorer: mutate one base; the output before and after, the mutant's logo,
// and the change of every possible single-base mutation in the window (all computed in
// Python by ISM and kept in the state, so any choice of the controls is a lookup).

function drawMutation(model, figureEl, summaryEl) {
  const data = model.get("data");
  const bases = decode(data.bases); // (N, L) uint8, 0..3 = A, C, G, T
  const outputs = decode(data.outputs); // (N, 4, L): output with base b at position i
  const reference = decode(data.reference).values; // (N,)
  const [n, length] = bases.shape;
  const s = model.get("sequence");
  const pos = model.get("position");
  const base = model.get("base");
  if (!(s >= 0 && s < n)) throw new Error(`sequence must be in [0, ${n - 1}]; found ${s}`);
  if (!(pos >= 0 && pos < length)) throw new Error(`position must be in [0, ${length - 1}]; found ${pos}`);
  const table = row(outputs, s);
  const before = reference[s];
  const after = table[base * length + pos];
  summary(summaryEl, `output before <b>${fixed(before, 3)}</b>, after <b>${fixed(after, 3)}</b>, change <b>${signed(after - before, 3)}</b>`);

  const window = Math.min(data.window, length);
  const start = Math.max(0, Math.min(pos - Math.floor(window / 2), length - window));
  const letters = new Float32Array(4 * window);
  const sequence = row(bases, s);
  for (let i = 0; i < window; i++) {
    const b = start + i === pos ? base : sequence[start + i];
    letters[b * window + i] = 1;
  }
  const svg = figure(figureEl, 820, 300);
  const xlim = [start - 0.5, start + window - 0.5];
  const top = panel(svg, { x: 60, y: 22, w: 740, h: 90 }, { xlim, ylim: [0, 1.05], yticks: [], title: `sequence ${s}, ${BASES[base]} at position ${pos}` });
  if (data.truth) shade(top, row(decode(data.truth), s).subarray(start, start + window), start);
  logo(top, letters, window, start);
  vline(top, pos);

  const changes = [];
  for (let b = 0; b < 4; b++) for (let i = 0; i < window; i++) changes.push(table[b * length + start + i] - before);
  const bottom = panel(svg, { x: 60, y: 150, w: 740, h: 110 }, { xlim, ylim: extent(changes.concat([0]), 0.1), xlabel: "position", ylabel: "change", title: "change of the output for every single-base mutation in the window" });
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
