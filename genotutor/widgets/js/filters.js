// Chapter 3's explorer: one first-layer filter's PWM (in bits), its best JASPAR match on
// the strand it matches, and the filter's score along one sequence, the planted truth
// shaded. The PWMs, matches and tracks were computed in Python and kept in the state, so
// any choice of the controls is a lookup.
//
// Data contract: `data`, built by FilterExplorer._data (genotutor/widgets/filters.py);
// arrays are packed (decode()), with their dtype and shape (S: the sequences the sequence
// control offers, T: the length of a filter's track):
// @data pwms       float32  (F, 4, W)  each filter's letter heights, in bits
// @data n_sites    int32    (F,)       the sites each PWM was built from
// @data matches    object[] (F)        each filter's best match: name, score, strand,
//                                      offset and logo (packed float32 (4, W'), in bits)
// @data tracks     float32  (S, F, T)  each filter's activation (or convolution score, as
//                                      the table's scores=) along each sequence
// @data centre     number              the offset of score i's window centre from i
// @data truth?     uint8    (S, L)     positions to shade (planted motifs)
// Controls, the view's synced traits (FilterView):
// @trait filter    int   the filter, in [0, F)
// @trait sequence  int   the sequence, in [0, S)

import { decode, explorer, extent, figure, fixed, hline, logo, panel, polyline, row, shade, summary } from "./plot.js";

// An information logo (letter heights in bits, 4 x w flat) in its own panel.
function bitsLogo(svg, box, heights, width, title) {
  const p = panel(svg, box, { xlim: [-0.5, width - 0.5], ylim: [0, 2], yticks: [0, 1, 2], ylabel: "bits", title });
  logo(p, heights, width, 0);
  return p;
}

// What the view shows for one choice of the controls, from the table alone (no DOM): the
// filter's PWM and best match (its logo decoded), and its track along the sequence with
// the positions it is drawn at (each window's centre) and the panel's limits.
export function filtersShown(data, f, s) {
  const pwms = decode(data.pwms); // (F, 4, w) letter heights in bits
  const tracks = decode(data.tracks); // (N, F, L') what the site rule thresholds
  const truth = data.truth ? decode(data.truth) : null; // (N, L) uint8
  const [n, nFilters, trackLength] = tracks.shape;
  if (!(f >= 0 && f < nFilters)) throw new Error(`filter must be in [0, ${nFilters - 1}]; found ${f}`);
  if (!(s >= 0 && s < n)) throw new Error(`sequence must be in [0, ${n - 1}]; found ${s}`);
  const match = { ...data.matches[f], logo: decode(data.matches[f].logo) }; // logo (4, w')
  const values = row(tracks, s, f);
  // Score i is of the window starting at i - padding: drawn at that window's centre, so
  // it lines up with the shaded positions of the sequence.
  const xs = Array.from({ length: trackLength }, (_, i) => i + data.centre);
  const length = truth ? truth.shape[1] : trackLength;
  return {
    nSites: decode(data.n_sites).values[f],
    pwm: row(pwms, f),
    width: pwms.shape[2],
    match,
    values,
    xs,
    truth: truth ? row(truth, s) : null,
    xlim: [Math.min(-0.5, xs[0] - 0.5), Math.max(length - 0.5, xs[trackLength - 1] + 0.5)],
    ylim: extent(Array.from(values).concat([0]), 0.08),
  };
}

function drawFilters(model, figureEl, summaryEl) {
  const data = model.get("data");
  const f = model.get("filter");
  const s = model.get("sequence");
  const v = filtersShown(data, f, s);
  const match = v.match;
  summary(summaryEl, `filter ${f}: ${v.nSites} sites, best match <b>${match.name}</b> (score ${fixed(match.score, 2)}, strand ${match.strand}, offset ${match.offset})`);

  const svg = figure(figureEl, 820, 360);
  bitsLogo(svg, { x: 60, y: 22, w: 330, h: 120 }, v.pwm, v.width, `filter ${f} (${v.nSites} sites)`);
  const matchWidth = match.logo.shape[1];
  bitsLogo(svg, { x: 470, y: 22, w: 330, h: 120 }, match.logo.values, matchWidth, `${match.name} (${match.strand} strand)`);

  const p = panel(svg, { x: 60, y: 200, w: 740, h: 115 }, { xlim: v.xlim, ylim: v.ylim, xlabel: "position (window centre)", ylabel: "score", title: `filter ${f} along sequence ${s}` });
  if (v.truth) shade(p, v.truth, 0);
  hline(p, 0, { color: "#999" });
  polyline(p, v.xs, v.values, { width: 1 });
}

export default explorer(["data", "filter", "sequence"], drawFilters);
