// Chapter 7's explorer: the Fourier prior's weights for the chosen cutoff and softness,
// each model's normalised spectrum of one sequence's attribution track, and the smoothed
// tracks. Python computed only the tracks; everything the sliders change is computed here,
// as genotutor/priors.py computes it (checked against it under Node.js by
// tests/test_widgets_priors.py).
//
// Data contract: `data`, built by PriorExplorer (genotutor/widgets/priors.py); arrays are
// packed (decode()), with their dtype and shape:
// @data names    string[] (M)        the models' names
// @data tracks   float32  (M, N, L)  each model's attribution track of each sequence
// @data truth?   uint8    (N, L)     positions to shade (planted motifs)
// Controls, the view's synced traits (PriorView):
// @trait sequence  int     the sequence, in [0, N)
// @trait cutoff    int     the prior's cutoff K, in [1, L // 2]
// @trait softness  number  the prior's softness, in [0, 2]
// @trait sigma     int     the Gaussian smoothing's sigma, >= 0

import { SERIES, decode, explorer, extent, figure, fixed, legend, panel, polyline, row, shade, summary, vline, traitValues } from "./plot.js";

// ---------------------------------------------------------------- priorMath (no DOM)
// Pure functions of a track (an array of L numbers), in float64.
const priorMath = {
  // A Gaussian truncated at one sigma, 2 r + 1 taps (r = round(sigma)), summing to 1;
  // [1] for sigma 0 (gaussian_kernel).
  gaussianKernel(sigma) {
    if (!(Number.isFinite(sigma) && sigma >= 0)) throw new Error(`smooth_sigma must be a finite number >= 0; found ${sigma}`);
    const radius = Math.floor(sigma + 0.5);
    if (sigma === 0 || radius === 0) return Float64Array.of(1);
    const kernel = new Float64Array(2 * radius + 1);
    let total = 0;
    for (let k = -radius; k <= radius; k++) total += kernel[k + radius] = Math.exp(-0.5 * (k / sigma) ** 2);
    return kernel.map((v) => v / total);
  },

  // The kernel slid over the track with zero padding, same length (smooth_track).
  smoothTrack(track, sigma) {
    const kernel = priorMath.gaussianKernel(sigma);
    const radius = (kernel.length - 1) / 2;
    const length = track.length;
    const out = new Float64Array(length);
    for (let i = 0; i < length; i++) {
      let sum = 0;
      for (let k = Math.max(0, radius - i); k < kernel.length && i + k - radius < length; k++) sum += kernel[k] * track[i + k - radius];
      out[i] = sum;
    }
    return out;
  },

  // |rfft(x)| for frequencies 0 .. L // 2, by the direct sums (L is at most a few
  // thousand here); the twiddles come from one table of cos and sin of 2 pi m / L.
  rfftMagnitudes(x) {
    const length = x.length;
    const cos = new Float64Array(length);
    const sin = new Float64Array(length);
    for (let m = 0; m < length; m++) {
      cos[m] = Math.cos((2 * Math.PI * m) / length);
      sin[m] = Math.sin((2 * Math.PI * m) / length);
    }
    const out = new Float64Array(Math.floor(length / 2) + 1);
    for (let k = 0; k < out.length; k++) {
      let re = 0;
      let im = 0;
      for (let n = 0, m = 0; n < length; n++, m = (m + k) % length) {
        re += x[n] * cos[m];
        im -= x[n] * sin[m];
      }
      out[k] = Math.hypot(re, im);
    }
    return out;
  },

  // Magnitudes of the smoothed track over their sum with the DC term (a zero sum left at
  // zero), then the DC term dropped: L // 2 values, index k - 1 is frequency k (spectrum).
  spectrum(track, sigma) {
    const magnitudes = priorMath.rfftMagnitudes(priorMath.smoothTrack(track, sigma));
    let total = 0;
    for (const v of magnitudes) total += v;
    if (total === 0) total = 1;
    return magnitudes.subarray(1).map((v) => v / total);
  },

  // 1 up to the cutoff, then 1 / (1 + j ** softness) at frequency cutoff + j; 0 past the
  // cutoff when softness is null (frequency_weights).
  frequencyWeights(nFrequencies, cutoff, softness) {
    const weights = new Float64Array(nFrequencies).fill(1);
    for (let j = 1; cutoff + j <= nFrequencies; j++) {
      weights[cutoff + j - 1] = softness === null ? 0 : 1 / (1 + j ** softness);
    }
    return weights;
  },

  checkCutoff(cutoff, length) {
    const half = Math.floor(length / 2);
    if (!(Number.isInteger(cutoff) && cutoff >= 1 && cutoff <= half)) {
      throw new Error(`freq_limit must be an integer in [1, L // 2 = ${half}]; found ${cutoff}`);
    }
  },

  // 1 - sum(weights * spectrum) (fourier_penalty).
  fourierPenalty(track, cutoff, softness, sigma) {
    priorMath.checkCutoff(cutoff, track.length);
    const magnitudes = priorMath.spectrum(track, sigma);
    const weights = priorMath.frequencyWeights(magnitudes.length, cutoff, softness);
    let kept = 0;
    for (let k = 0; k < magnitudes.length; k++) kept += weights[k] * magnitudes[k];
    return 1 - kept;
  },

  // The share of the non-DC spectrum above the cutoff; 0 for a track that does not vary
  // (non-DC mass below 1e-9 of the total) (high_frequency_mass).
  highFrequencyMass(track, cutoff, sigma) {
    priorMath.checkCutoff(cutoff, track.length);
    const magnitudes = priorMath.spectrum(track, sigma || 0);
    let total = 0;
    let above = 0;
    magnitudes.forEach((v, k) => {
      total += v;
      if (k >= cutoff) above += v;
    });
    return total > 1e-9 ? above / total : 0;
  },
};

// What the view shows for one choice of the controls, from the tracks alone (no DOM):
// per model, the penalty and the unsmoothed mass above the cutoff (the summary), the
// normalised spectrum and the smoothed track.
function priorsShown(data, s, cutoff, softness, sigma) {
  const tracks = decode(data.tracks); // (models, N, L) float32
  const [, n, length] = tracks.shape;
  if (!(s >= 0 && s < n)) throw new Error(`sequence must be in [0, ${n - 1}]; found ${s}`);
  priorMath.checkCutoff(cutoff, length);
  const numbers = [];
  const spectra = [];
  const smoothed = [];
  data.names.forEach((_, i) => {
    const track = Float64Array.from(row(tracks, i, s));
    numbers.push([priorMath.fourierPenalty(track, cutoff, softness, sigma), priorMath.highFrequencyMass(track, cutoff, 0)]);
    spectra.push(priorMath.spectrum(track, sigma));
    smoothed.push(priorMath.smoothTrack(track, sigma));
  });
  return { length, numbers, spectra, smoothed };
}

// ---------------------------------------------------------------- drawing
function drawPriors(model, figureEl, summaryEl) {
  const [data, s, cutoff, softness, sigma] = traitValues(model, "data", "sequence", "cutoff", "softness", "sigma");
  const { length, numbers, spectra, smoothed } = priorsShown(data, s, cutoff, softness, sigma);
  const rows = data.names.map((name, i) => {
    const [penalty, mass] = numbers[i];
    return `${name}: penalty <b>${fixed(penalty, 3)}</b>, mass above K <b>${fixed(mass, 2)}</b>`;
  });
  summary(summaryEl, rows.join("; "));

  const half = Math.floor(length / 2);
  const frequencies = Array.from({ length: half }, (_, k) => k + 1);
  const positions = Array.from({ length }, (_, i) => i);
  const colours = data.names.map((_, i) => SERIES[i % SERIES.length]);
  const svg = figure(figureEl, 820, 540);
  const box = (y, h) => ({ x: 70, y, w: 730, h });
  const flim = [0.5 - 0.02 * half, half + 0.5 + 0.02 * half];

  const title = `sequence ${s}: cutoff K = ${cutoff} (period ${fixed(length / cutoff, 1)} bases)`;
  const top = panel(svg, box(22, 110), { xlim: flim, ylim: [-0.05, 1.05], ylabel: "weight", title });
  polyline(top, frequencies, priorMath.frequencyWeights(half, cutoff, softness), { color: "black" });
  vline(top, cutoff + 0.5, { dash: "5,3" });

  const middle = panel(svg, box(165, 140), { xlim: flim, ylim: extent([0, ...spectra.flatMap((v) => Array.from(v))]), xlabel: "frequency k (cycles per sequence)", ylabel: "normalised |FFT|" });
  spectra.forEach((v, i) => polyline(middle, frequencies, v, { color: colours[i] }));
  vline(middle, cutoff + 0.5, { dash: "5,3" });
  legend(middle, data.names, colours);

  const bottom = panel(svg, box(355, 140), { xlim: [-0.5, length - 0.5], ylim: extent(smoothed.flatMap((v) => Array.from(v))), xlabel: "position", ylabel: "smoothed track" });
  if (data.truth) shade(bottom, row(decode(data.truth), s), 0);
  smoothed.forEach((v, i) => polyline(bottom, positions, v, { color: colours[i] })); // colours as above
}

export { priorMath, priorsShown };
export default explorer(["data", "sequence", "cutoff", "softness", "sigma"], drawPriors);
