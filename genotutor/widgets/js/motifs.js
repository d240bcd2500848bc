// Chapter 4's explorer: a TF-MoDISco pattern's CWM and its TOMTOM matches, and a chosen
// sequence's contributions with every pattern's FIMO instances marked (all computed in
// Python and kept in the state, so a choice is a lookup).
// Data: cwms (P, 4, W) padded, widths (P,), names, n_seqlets, matches (P strings);
// contributions (S, L) summed over bases; bases (S, L) uint8; hits (H, 4) rows of
// sequence, start, end, pattern; labels (S).

const PATTERN_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

function patternLogo(data, k) {
  const cwms = decode(data.cwms);
  const width = decode(data.widths).values[k];
  const padded = cwms.shape[2];
  const all = row(cwms, k);
  const values = new Float32Array(4 * width);
  for (let b = 0; b < 4; b++) for (let i = 0; i < width; i++) values[b * width + i] = all[b * padded + i];
  return { values, width };
}

function drawMotifs(model, figureEl, summaryEl) {
  const data = model.get("data");
  const k = model.get("pattern");
  const s = model.get("sequence");
  const contributions = decode(data.contributions);
  const [n, length] = contributions.shape;
  if (!(k >= 0 && k < data.names.length)) throw new Error(`pattern must be in [0, ${data.names.length - 1}]; found ${k}`);
  if (!(s >= 0 && s < n)) throw new Error(`sequence must be in [0, ${n - 1}]; found ${s}`);
  const hits = decode(data.hits);
  const mine = [];
  for (let h = 0; h < hits.shape[0]; h++) {
    const [seq, start, end, pattern] = row(hits, h);
    if (seq === s) mine.push({ start, end, pattern });
  }
  const counts = data.names.map((_, p) => mine.filter((h) => h.pattern === p).length);
  summary(summaryEl, `<b>${data.names[k]}</b> (${data.n_seqlets[k]} seqlets): ${data.matches[k]}<br>` +
    `sequence ${data.labels[s]}: ${counts.map((c, p) => `${data.names[p]} ${c}`).join(", ")} instance(s)`);
  const svg = figure(figureEl, 820, 330);
  const { values, width } = patternLogo(data, k);
  const top = panel(svg, { x: 60, y: 22, w: Math.min(740, 26 * width), h: 95 }, {
    xlim: [-0.5, width - 0.5], ylim: logoLimits(values, width), title: `${data.names[k]}: contribution weight matrix`,
  });
  logo(top, values, width, 0);
  const track = Array.from(row(contributions, s));
  const low = Math.min(0, ...track);
  const high = Math.max(1e-6, ...track);
  const p = panel(svg, { x: 60, y: 170, w: 740, h: 110 }, {
    xlim: [-0.5, length - 0.5], ylim: [low - 0.05 * (high - low), high + 0.05 * (high - low)],
    title: "contributions of the observed bases; instances shaded (colour = pattern, chosen darker)",
    xlabel: "position (nt)",
  });
  for (const h of mine) {
    const mask = new Uint8Array(length);
    for (let i = Math.max(0, h.start); i < Math.min(length, h.end); i++) mask[i] = 1;
    shade(p, mask, 0, { color: PATTERN_COLOURS[h.pattern % PATTERN_COLOURS.length], alpha: h.pattern === k ? 0.45 : 0.15 });
  }
  const positions = track.map((_, i) => i);
  bars(p, positions, track, { color: "#444", width: 0.8 });
}

export default explorer(["data", "pattern", "sequence"], drawMotifs);
