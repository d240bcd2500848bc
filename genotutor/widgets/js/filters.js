// Chapter 3's explorer: one first-layer filter's PWM (in bits), its best JASPAR match on
// the strand it matches, and the filter's score along one sequence, the planted truth
// shaded. The PWMs, matches and tracks were computed in Python and kept in the state, so
// any choice of the controls is a lookup.

const decodedFilterTables = new WeakMap();

function filterTables(data) {
  if (!decodedFilterTables.has(data)) {
    decodedFilterTables.set(data, {
      pwms: decode(data.pwms), // (F, 4, w) letter heights in bits
      nSites: decode(data.n_sites).values, // (F,)
      matches: data.matches.map((m) => ({ ...m, logo: decode(m.logo) })), // logo (4, w')
      tracks: decode(data.tracks), // (N, F, L') the first convolution's scores
      truth: data.truth ? decode(data.truth) : null, // (N, L) uint8
    });
  }
  return decodedFilterTables.get(data);
}

// An information logo (letter heights in bits, 4 x w flat) in its own panel.
function bitsLogo(svg, box, heights, width, title) {
  const p = panel(svg, box, { xlim: [-0.5, width - 0.5], ylim: [0, 2], yticks: [0, 1, 2], ylabel: "bits", title });
  logo(p, heights, width, 0);
  return p;
}

function drawFilters(model, figureEl, summaryEl) {
  const data = model.get("data");
  const tables = filterTables(data);
  const [n, nFilters, trackLength] = tables.tracks.shape;
  const f = model.get("filter");
  const s = model.get("sequence");
  if (!(f >= 0 && f < nFilters)) throw new Error(`filter must be in [0, ${nFilters - 1}]; found ${f}`);
  if (!(s >= 0 && s < n)) throw new Error(`sequence must be in [0, ${n - 1}]; found ${s}`);
  const match = tables.matches[f];
  summary(summaryEl, `filter ${f}: ${tables.nSites[f]} sites, best match <b>${match.name}</b> (score ${fixed(match.score, 2)}, strand ${match.strand}, offset ${match.offset})`);

  const svg = figure(figureEl, 820, 360);
  const width = tables.pwms.shape[2];
  bitsLogo(svg, { x: 60, y: 22, w: 330, h: 120 }, row(tables.pwms, f), width, `filter ${f} (${tables.nSites[f]} sites)`);
  const matchWidth = match.logo.shape[1];
  bitsLogo(svg, { x: 470, y: 22, w: 330, h: 120 }, match.logo.values, matchWidth, `${match.name} (${match.strand} strand)`);

  const values = row(tables.tracks, s, f);
  // Score i is of the window starting at i - padding: drawn at that window's centre, so
  // it lines up with the shaded positions of the sequence.
  const xs = Array.from({ length: trackLength }, (_, i) => i + data.centre);
  const length = tables.truth ? tables.truth.shape[1] : trackLength;
  const xlim = [Math.min(-0.5, xs[0] - 0.5), Math.max(length - 0.5, xs[trackLength - 1] + 0.5)];
  const p = panel(svg, { x: 60, y: 200, w: 740, h: 115 }, { xlim, ylim: extent(Array.from(values).concat([0]), 0.08), xlabel: "position (window centre)", ylabel: "score", title: `filter ${f} along sequence ${s}` });
  if (tables.truth) shade(p, row(tables.truth, s), 0);
  hline(p, 0, { color: "#999" });
  polyline(p, xs, values, { width: 1 });
}

export default explorer(["data", "filter", "sequence"], drawFilters);
