// Chapters 2, 5 and 11's explorer: one attribution map of one sequence as a logo over a
// window, the planted truth shaded, with the map's AUROC and AUPRC. Every map of every
// (sequence, method, correction) was computed in Python by genotutor.attribution.attribute
// and kept in the state, so any choice of the controls is a lookup.

// The decoded tables of a state, decoded once (a redraw only reads them).
const decodedTables = new WeakMap();

function attributionTables(data) {
  if (!decodedTables.has(data)) {
    const each = (packs) => Object.fromEntries(Object.entries(packs || {}).map(([k, p]) => [k, { observed: p.observed, ...decode(p) }]));
    decodedTables.set(data, {
      bases: decode(data.bases), // (N, L) uint8, 0..3 = A, C, G, T
      outputs: decode(data.outputs).values, // (N,)
      scores: each(data.scores), // (N, 4, L), or (N, L) at the observed bases
      auroc: each(data.auroc), // (N,), NaN without both kinds of position
      auprc: each(data.auprc),
      truth: data.truth ? decode(data.truth) : null, // (N, L) uint8
    });
  }
  return decodedTables.get(data);
}

// The (4, L) map of sequence s, flat row-major, from either form of the table.
function mapOf(entry, bases, s, length) {
  if (!entry.observed) return row(entry, s);
  const values = row(entry, s);
  const sequence = row(bases, s);
  const full = new Float32Array(4 * length);
  for (let i = 0; i < length; i++) full[sequence[i] * length + i] = values[i];
  return full;
}

function drawAttribution(model, figureEl, summaryEl) {
  const data = model.get("data");
  const tables = attributionTables(data);
  const [n, length] = tables.bases.shape;
  const s = model.get("sequence");
  const m = model.get("method");
  const start = model.get("start");
  const window = Math.min(data.window, length);
  if (!(s >= 0 && s < n)) throw new Error(`sequence must be in [0, ${n - 1}]; found ${s}`);
  if (!(m >= 0 && m < data.methods.length)) throw new Error(`method must be in [0, ${data.methods.length - 1}]; found ${m}`);
  if (!(start >= 0 && start <= length - window)) throw new Error(`start must be in [0, ${length - window}]; found ${start}`);
  const method = data.methods[m];
  const corrected = model.get("correct") && data.gradient[m];
  const key = corrected ? `${method}+correct` : method;

  let text = `output <b>${fixed(tables.outputs[s], 3)}</b>`;
  if (model.get("correct") && !data.gradient[m]) text += ` (no gradient correction for ${method})`;
  if (tables.truth) {
    const auroc = tables.auroc[key].values[s];
    const auprc = tables.auprc[key].values[s];
    if (Number.isFinite(auroc)) text += `, AUROC <b>${fixed(auroc, 3)}</b>, AUPRC <b>${fixed(auprc, 3)}</b> vs the shading`;
  }
  summary(summaryEl, text);

  const map = mapOf(tables.scores[key], tables.bases, s, length);
  const letters = new Float32Array(4 * window);
  for (let b = 0; b < 4; b++) for (let i = 0; i < window; i++) letters[b * window + i] = map[b * length + start + i];
  const truth = tables.truth ? row(tables.truth, s) : null;
  const svg = figure(figureEl, 820, 330);
  const name = `${method}${corrected ? ", gradient-corrected" : ""}`;
  const top = panel(svg, { x: 70, y: 22, w: 730, h: 150 }, { xlim: [start - 0.5, start + window - 0.5], ylim: logoLimits(letters, window), ylabel: "score", title: `sequence ${s}, ${name}: positions ${start} to ${start + window - 1}` });
  if (truth) shade(top, truth.subarray(start, start + window), start);
  logo(top, letters, window, start);

  // The whole sequence, one importance per position (|score| summed over the bases, as
  // genotutor.evaluation ranks positions), with the window of the logo outlined.
  const xs = [];
  const importance = [];
  for (let i = 0; i < length; i++) {
    let total = 0;
    for (let b = 0; b < 4; b++) total += Math.abs(map[b * length + i]);
    xs.push(i);
    importance.push(total);
  }
  const high = Math.max(...importance) || 1;
  const bottom = panel(svg, { x: 70, y: 215, w: 730, h: 75 }, { xlim: [-0.5, length - 0.5], ylim: [0, high * 1.08], xlabel: "position", ylabel: "|score|", title: "whole sequence: |score| summed over the bases; the logo's window outlined" });
  if (truth) shade(bottom, truth, 0);
  polyline(bottom, xs, importance, { width: 1 });
  node("rect", { x: bottom.sx(start - 0.5), y: bottom.box.y, width: bottom.sx(start + window - 0.5) - bottom.sx(start - 0.5), height: bottom.box.h, fill: "none", stroke: "crimson", "stroke-width": 1.5 }, bottom.g);
}

export default explorer(["data", "sequence", "method", "correct", "start"], drawAttribution);
