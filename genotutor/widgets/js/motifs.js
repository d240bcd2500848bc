// Chapter 4's explorer: a TF-MoDISco pattern's CWM and its TOMTOM matches, and a chosen
// sequence's contributions with every pattern's FIMO instances marked (all computed in
// Python and kept in the state, so a choice is a lookup).
//
// Data contract: `data`, built by MotifExplorer (genotutor/widgets/motifs.py); arrays are
// packed (decode()), with their dtype and shape:
// @data cwms           float32  (P, 4, W)  each pattern's CWM, zero-padded to the widest
// @data widths         int32    (P,)       each pattern's own width
// @data names          string[] (P)        the patterns' names
// @data n_seqlets      int[]    (P)        the seqlets behind each pattern
// @data matches        string[] (P)        each pattern's best TOMTOM matches, one line
// @data contributions  float32  (S, L)     contributions, summed over the bases
// @data bases          uint8    (S, L)     the sequences, 0..3 = A, C, G, T
// @data hits           int32    (H, 4)     instances: sequence, start, end, pattern
// @data labels         string[] (S)        one label per sequence
// Controls, the view's synced traits (MotifView):
// @trait pattern   int   index into names
// @trait sequence  int   the sequence, in [0, S)

import { bars, decode, explorer, figure, logo, logoLimits, panel, row, shade, summary } from "./plot.js";

const PATTERN_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

// Pattern k's CWM without its padding: (4, width), flat.
export function patternLogo(data, k) {
  const cwms = decode(data.cwms);
  const width = decode(data.widths).values[k];
  const padded = cwms.shape[2];
  const all = row(cwms, k);
  const values = new Float32Array(4 * width);
  for (let b = 0; b < 4; b++) for (let i = 0; i < width; i++) values[b * width + i] = all[b * padded + i];
  return { values, width };
}

// What the view shows for one choice of the controls, from the table alone (no DOM): the
// sequence's instances, how many of each pattern, its contributions and their limits.
export function motifsShown(data, k, s) {
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
  const track = Array.from(row(contributions, s));
  const low = Math.min(0, ...track);
  const high = Math.max(1e-6, ...track);
  return { length, mine, counts, track, ylim: [low - 0.05 * (high - low), high + 0.05 * (high - low)] };
}

function drawMotifs(model, figureEl, summaryEl) {
  const data = model.get("data");
  const k = model.get("pattern");
  const s = model.get("sequence");
  const { length, mine, counts, track, ylim } = motifsShown(data, k, s);
  summary(summaryEl, `<b>${data.names[k]}</b> (${data.n_seqlets[k]} seqlets): ${data.matches[k]}<br>` +
    `sequence ${data.labels[s]}: ${counts.map((c, p) => `${data.names[p]} ${c}`).join(", ")} instance(s)`);
  const svg = figure(figureEl, 820, 330);
  const { values, width } = patternLogo(data, k);
  const top = panel(svg, { x: 60, y: 22, w: Math.min(740, 26 * width), h: 95 }, {
    xlim: [-0.5, width - 0.5], ylim: logoLimits(values, width), title: `${data.names[k]}: contribution weight matrix`,
  });
  logo(top, values, width, 0);
  const p = panel(svg, { x: 60, y: 170, w: 740, h: 110 }, {
    xlim: [-0.5, length - 0.5], ylim,
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
