// Chapter 8's explorer: a SQUID-style surrogate around a locus, for a grid of mutation
// rates, library sizes and model families, all fitted in Python beforehand
// (genotutor.surrogate.surrogate_grid). Draws the additive logo, the held-out fit and the GE nonlinearity with its band.
//
// Data contract: `data`, built by SurrogateExplorer._data (genotutor/widgets/
// surrogate.py); arrays are packed (decode()), with their dtype and shape, indexed
// [locus, rate, size, family]:
// @data logo       float32   (N, R, S, F, 4, W)  additive parameters, hierarchical gauge
// @data r2         float32   (N, R, S, F)        held-out R^2 (NaN: a constant surrogate)
// @data mutations  float32   (N, R, S)           mean mutations per sequence of the library
// @data points     float32   (N, R, S, F, 3, K)  held-out y_hat, phi, output (NaN: none)
// @data curve      float32   (N, R, S, F, 4, C)  the nonlinearity: phi, y_hat, lower, upper
// @data windows    int[][]   (N, 2)              each locus's [start, stop) window, W wide
// @data rates      number[]  (R)                 the mutation rates offered
// @data sizes      int[]     (S)                 the library sizes offered
// @data families   string[]  (F)                 the model families offered
// @data truth?     uint8     (N, L)              positions to shade (planted motifs)
// Controls, the view's synced traits (SurrogateView):
// @trait locus   int   the locus, in [0, N)
// @trait rate    int   index into rates
// @trait size    int   index into sizes
// @trait family  int   index into families

import { SERIES, decode, explorer, extent, figure, fixed, logo, logoLimits, node, panel, polyline, row, scatter, shade, summary, traitValues } from "./plot.js";

// The decoded tables of a state (decode() keeps each array decoded once).
function surrogateTables(data) {
  return {
    logo: decode(data.logo), // (N, R, S, F, 4, W)
    r2: decode(data.r2), // (N, R, S, F)
    mutations: decode(data.mutations), // (N, R, S)
    points: decode(data.points), // (N, R, S, F, 3, K): y_hat, phi, output (NaN = none)
    curve: decode(data.curve), // (N, R, S, F, 4, C): phi, y_hat, lower, upper
    truth: data.truth ? decode(data.truth) : null, // (N, L) uint8
  };
}

// The band between two curves, as one filled polygon.
function band(p, xs, lower, upper, options) {
  const o = options || {};
  const points = [];
  for (let i = 0; i < xs.length; i++) points.push(`${p.sx(xs[i]).toFixed(2)},${p.sy(upper[i]).toFixed(2)}`);
  for (let i = xs.length - 1; i >= 0; i--) points.push(`${p.sx(xs[i]).toFixed(2)},${p.sy(lower[i]).toFixed(2)}`);
  node("polygon", { points: points.join(" "), fill: o.color || "crimson", "fill-opacity": o.alpha || 0.15, stroke: "none" }, p.g);
}

// The finite pairs of two arrays (held-out slots past the library's end are NaN).
export function finitePairs(xs, ys) {
  const a = [];
  const b = [];
  for (let i = 0; i < xs.length; i++) {
    if (Number.isFinite(xs[i]) && Number.isFinite(ys[i])) {
      a.push(xs[i]);
      b.push(ys[i]);
    }
  }
  return [a, b];
}

// What the view shows for one grid point, from the table alone (no DOM): the summary's
// numbers, the logo, the held-out points (finite pairs: fit = (y_hat, output), phi =
// (phi, output)), the curve and the panels' limits (one y range for both lower panels).
export function surrogateShown(data, locus, rate, size, family) {
  const t = surrogateTables(data);
  const [n, nRates, nSizes, nFamilies, , width] = t.logo.shape;
  if (!(locus >= 0 && locus < n)) throw new Error(`locus must be in [0, ${n - 1}]; found ${locus}`);
  if (!(rate >= 0 && rate < nRates)) throw new Error(`rate must be one of ${data.rates.join(", ")}`);
  if (!(size >= 0 && size < nSizes)) throw new Error(`library must be one of ${data.sizes.join(", ")}`);
  if (!(family >= 0 && family < nFamilies)) throw new Error(`model must be one of ${data.families.join("; ")}`);
  const points = row(t.points, locus, rate, size, family); // (3, K)
  const k = points.length / 3;
  const curve = row(t.curve, locus, rate, size, family); // (4, C)
  const c = curve.length / 4;
  const [start, stop] = data.windows[locus];
  const yHat = points.subarray(0, k);
  const phi = points.subarray(k, 2 * k);
  const output = points.subarray(2 * k, 3 * k);
  const [cPhi, , cLow, cHigh] = [0, 1, 2, 3].map((i) => curve.subarray(i * c, (i + 1) * c));
  const [fitX, fitY] = finitePairs(yHat, output);
  const [phiX, phiY] = finitePairs(phi, output);
  return {
    r2: row(t.r2, locus, rate, size)[family],
    mutations: row(t.mutations, locus, rate)[size],
    window: [start, stop],
    width,
    logo: row(t.logo, locus, rate, size, family), // (4, W), flat
    truth: t.truth ? row(t.truth, locus).subarray(start, stop) : null,
    yHat,
    phi,
    output,
    curve: [0, 1, 2, 3].map((i) => curve.subarray(i * c, (i + 1) * c)), // phi, y_hat, lower, upper
    fit: [fitX, fitY],
    phiPoints: [phiX, phiY],
    ylim: extent(fitY.concat(Array.from(cLow), Array.from(cHigh)), 0.05),
    fitLim: extent(fitX.concat(fitY), 0.05),
    phiLim: [Math.min(...cPhi), Math.max(...cPhi)],
  };
}

function drawSurrogate(model, figureEl, summaryEl) {
  const [data, locus, rate, size, family] = traitValues(model, "data", "locus", "rate", "size", "family");
  const v = surrogateShown(data, locus, rate, size, family);
  const r2Text = Number.isFinite(v.r2) ? `<b>${fixed(v.r2, 3)}</b>` : "<b>undefined</b> (the surrogate predicts a constant)";
  summary(summaryEl, `held-out R<sup>2</sup> ${r2Text}; ${fixed(v.mutations, 1)} mutations per sequence on average (library of ${data.sizes[size]} at rate ${data.rates[rate]})`);

  const [start, stop] = v.window;
  const [cPhi, cHat, cLow, cHigh] = v.curve;
  const svg = figure(figureEl, 820, 430);
  const top = panel(svg, { x: 60, y: 22, w: 740, h: 140 }, {
    xlim: [start - 0.5, stop - 0.5], ylim: logoLimits(v.logo, v.width), xlabel: "position",
    title: `locus ${locus}: additive parameters (${data.families[family]}, hierarchical gauge)`,
  });
  if (v.truth) shade(top, v.truth, start);
  logo(top, v.logo, v.width, start);

  const [fitX, fitY] = v.fit;
  const [phiX, phiY] = v.phiPoints;
  const { ylim, fitLim, phiLim } = v;
  const left = panel(svg, { x: 60, y: 225, w: 330, h: 160 }, { xlim: fitLim, ylim, xlabel: "surrogate prediction", ylabel: "model output", title: "held-out mutants" });
  polyline(left, fitLim, fitLim, { color: "#999", dash: "4,3", width: 0.8 });
  scatter(left, fitX, fitY, { color: SERIES[0], alpha: 0.4, r: 1.8 });

  const right = panel(svg, { x: 470, y: 225, w: 330, h: 160 }, { xlim: phiLim, ylim, xlabel: "latent phenotype \u03c6", title: "nonlinearity (16-84 % noise band)" });
  band(right, cPhi, cLow, cHigh, { color: "crimson", alpha: 0.15 });
  scatter(right, phiX, phiY, { color: "grey", alpha: 0.35, r: 1.8 });
  polyline(right, cPhi, cHat, { color: "crimson", width: 1.6 });
}

export default explorer(["data", "locus", "rate", "size", "family"], drawSurrogate);
