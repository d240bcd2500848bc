// genotutor's drawing helpers for the explorers: SVG panels, axes, lines, bars, scatter,
// heat maps and sequence logos (logomaker's "classic" colours and stacking), all drawn
// from the numbers in the widget's state, with no library.
//
// An ES module: each explorer's js/<name>.js imports what it uses from "./plot.js" (so
// Node.js runs the modules as they are, tests/js). The page cannot resolve that import
// (anywidget's _esm is one module string), so esm() of genotutor/widgets/_view.py inlines
// this file into each explorer's module: only `export function|const NAME` declarations
// here, and nothing imported.

const SVG_NS = "http://www.w3.org/2000/svg";
export const BASES = ["A", "C", "G", "T"];
// logomaker's "classic" scheme: A green, C blue, G orange, T red.
export const BASE_COLOURS = { A: "rgb(0,128,0)", C: "rgb(0,0,255)", G: "rgb(255,166,0)", T: "rgb(255,0,0)" };
export const SERIES = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

export function node(tag, attributes, parent) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes || {})) element.setAttribute(key, value);
  if (parent) parent.appendChild(element);
  return element;
}

export function text(parent, x, y, content, attributes) {
  const element = node("text", { x, y, "font-size": 11, "font-family": "sans-serif", ...attributes }, parent);
  element.textContent = content;
  return element;
}

// A packed array from Python (genotutor.widgets._view.pack): base64 little-endian bytes,
// as { values: typed array, shape }. The one decode cache of the explorers: decoded once
// per packed object (the state's arrays stay the same objects until the data change), so
// a redraw costs a lookup, not a decode of the whole table; the views keep no cache of
// their own. Treat the result as read-only: it is shared by every redraw.
const DECODED = new WeakMap();
export function decode(packed) {
  if (DECODED.has(packed)) return DECODED.get(packed);
  const bytes = Uint8Array.from(atob(packed.b64), (c) => c.charCodeAt(0));
  const kinds = { float32: Float32Array, int32: Int32Array, uint8: Uint8Array };
  const decoded = { values: new kinds[packed.dtype](bytes.buffer), shape: packed.shape };
  DECODED.set(packed, decoded);
  return decoded;
}

// Row `index` of the leading axis of a decoded array, as a flat typed-array view.
export function row(array, ...index) {
  let offset = 0;
  let size = array.values.length;
  for (let axis = 0; axis < index.length; axis++) {
    size /= array.shape[axis];
    offset += index[axis] * size;
  }
  return array.values.subarray(offset, offset + size);
}

export function niceTicks(low, high, count) {
  if (!(high > low)) return [low];
  const raw = (high - low) / Math.max(1, count);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let t = Math.ceil(low / step - 1e-9) * step; t <= high + step * 1e-9; t += step) {
    ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  }
  return ticks;
}

// The ticks of an axis over limits `lim` given in either order (a reversed axis, e.g. rows
// counted downwards, keeps its ticks): `given` if set, else about `count` nice ones; only
// those within the limits.
export function axisTicks(lim, given, count) {
  const low = Math.min(lim[0], lim[1]);
  const high = Math.max(lim[0], lim[1]);
  return (given || niceTicks(low, high, count)).filter((t) => !(t < low || t > high));
}

export function label(value) {
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e5)) return value.toExponential(1);
  return String(Number(value.toPrecision(4)));
}

export function extent(values, pad) {
  let low = Infinity;
  let high = -Infinity;
  for (const v of values) {
    if (Number.isFinite(v)) {
      if (v < low) low = v;
      if (v > high) high = v;
    }
  }
  if (!Number.isFinite(low)) return [0, 1];
  if (low === high) return [low - 0.5, high + 0.5];
  const margin = (high - low) * (pad === undefined ? 0.05 : pad);
  return [low - margin, high + margin];
}

// An SVG figure replacing whatever `el` showed; returns the <svg>.
export function figure(el, width, height) {
  el.replaceChildren();
  const svg = node("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
  svg.style.cssText = `background: white; width: 100%; max-width: ${width}px; height: auto`;
  el.appendChild(svg);
  return svg;
}

// A panel with axes at pixel box (x, y, w, h) over data limits xlim, ylim (either may be
// reversed: its axis then runs the other way, ticks included).
export function panel(svg, box, options) {
  const { x, y, w, h } = box;
  const xlim = options.xlim;
  const ylim = options.ylim;
  const sx = (v) => x + ((v - xlim[0]) / (xlim[1] - xlim[0])) * w;
  const sy = (v) => y + h - ((v - ylim[0]) / (ylim[1] - ylim[0])) * h;
  const clipId = `clip${Math.random().toString(36).slice(2)}`;
  const defs = node("defs", {}, svg);
  node("rect", { x, y, width: w, height: h }, node("clipPath", { id: clipId }, defs));
  const back = node("g", {}, svg);
  const g = node("g", { "clip-path": `url(#${clipId})` }, svg);
  const axes = node("g", {}, svg);
  node("rect", { x, y, width: w, height: h, fill: "none", stroke: "#333", "stroke-width": 0.8 }, axes);
  for (const t of axisTicks(xlim, options.xticks, Math.max(2, Math.floor(w / 70)))) {
    node("line", { x1: sx(t), x2: sx(t), y1: y + h, y2: y + h + 4, stroke: "#333" }, axes);
    text(axes, sx(t), y + h + 15, options.xtickLabel ? options.xtickLabel(t) : label(t), { "text-anchor": "middle", "font-size": 10 });
  }
  for (const t of axisTicks(ylim, options.yticks, Math.max(2, Math.floor(h / 35)))) {
    node("line", { x1: x - 4, x2: x, y1: sy(t), y2: sy(t), stroke: "#333" }, axes);
    text(axes, x - 6, sy(t) + 3.5, label(t), { "text-anchor": "end", "font-size": 10 });
  }
  if (options.xlabel) text(axes, x + w / 2, y + h + 30, options.xlabel, { "text-anchor": "middle" });
  if (options.ylabel) {
    text(axes, 0, 0, options.ylabel, { "text-anchor": "middle", transform: `translate(${x - 42},${y + h / 2}) rotate(-90)` });
  }
  if (options.title) text(axes, x, y - 6, options.title, { "font-size": 11 });
  return { g, back, axes, sx, sy, box, xlim, ylim };
}

export function polyline(p, xs, ys, options) {
  const points = [];
  for (let i = 0; i < xs.length; i++) points.push(`${p.sx(xs[i]).toFixed(2)},${p.sy(ys[i]).toFixed(2)}`);
  const o = options || {};
  return node("polyline", { points: points.join(" "), fill: "none", stroke: o.color || SERIES[0], "stroke-width": o.width || 1.2, "stroke-dasharray": o.dash || "none" }, p.g);
}

export function bars(p, xs, heights, options) {
  const o = options || {};
  const width = o.width === undefined ? 0.8 : o.width;
  for (let i = 0; i < xs.length; i++) {
    const top = p.sy(Math.max(0, heights[i]));
    const bottom = p.sy(Math.min(0, heights[i]));
    const colour = Array.isArray(o.color) ? o.color[i] : o.color || "#888";
    node("rect", { x: p.sx(xs[i] - width / 2), y: top, width: Math.max(0.5, p.sx(xs[i] + width / 2) - p.sx(xs[i] - width / 2)), height: Math.max(0, bottom - top), fill: colour }, p.g);
  }
}

export function scatter(p, xs, ys, options) {
  const o = options || {};
  const g = node("g", { fill: o.color || SERIES[0], "fill-opacity": o.alpha || 0.4 }, p.g);
  for (let i = 0; i < xs.length; i++) node("circle", { cx: p.sx(xs[i]).toFixed(1), cy: p.sy(ys[i]).toFixed(1), r: o.r || 1.6 }, g);
}

export function vline(p, x, options) {
  const o = options || {};
  node("line", { x1: p.sx(x), x2: p.sx(x), y1: p.box.y, y2: p.box.y + p.box.h, stroke: o.color || "crimson", "stroke-width": o.width || 1, "stroke-dasharray": o.dash || "none" }, p.g);
}

export function hline(p, y, options) {
  const o = options || {};
  node("line", { x1: p.box.x, x2: p.box.x + p.box.w, y1: p.sy(y), y2: p.sy(y), stroke: o.color || "black", "stroke-width": o.width || 0.5 }, p.g);
}

// Shade the runs of true values of `mask` (positions start, start + 1, ...), as
// genotutor.plotting.shade_truth does: gold, alpha 0.3, behind the data.
export function shade(p, mask, start, options) {
  const o = options || {};
  const offset = start || 0;
  let i = 0;
  while (i < mask.length) {
    if (!mask[i]) { i++; continue; }
    let j = i;
    while (j < mask.length && mask[j]) j++;
    const x0 = p.sx(offset + i - 0.5);
    node("rect", { x: x0, y: p.box.y, width: p.sx(offset + j - 0.5) - x0, height: p.box.h, fill: o.color || "gold", "fill-opacity": o.alpha || 0.3 }, p.back);
    i = j;
  }
}

export function legend(p, names, colours) {
  names.forEach((name, i) => {
    const y = p.box.y + 12 + 14 * i;
    node("line", { x1: p.box.x + p.box.w - 110, x2: p.box.x + p.box.w - 92, y1: y - 4, y2: y - 4, stroke: colours[i], "stroke-width": 2 }, p.axes);
    text(p.axes, p.box.x + p.box.w - 88, y, name, { "font-size": 10 });
  });
}

// Letter outlines in a unit box (x right, y down), each a list of contours filled
// even-odd, drawn stretched to the box of each stacked value, as logomaker stretches its
// font's glyphs.
const GLYPHS = {
  A: ["M0,1 L0.39,0 L0.61,0 L1,1 L0.78,1 L0.68,0.73 L0.32,0.73 L0.22,1 Z M0.38,0.57 L0.62,0.57 L0.5,0.23 Z"],
  C: [ring(45, 315)],
  G: [ring(45, 360), "M0.55,0.5 L1,0.5 L1,0.64 L0.55,0.64 Z"],
  T: ["M0,0 L1,0 L1,0.18 L0.6,0.18 L0.6,1 L0.4,1 L0.4,0.18 L0,0.18 Z"],
};

// A ring open on the right (outer radius 0.5, inner 0.3 by 0.32), from `from` degrees
// (counter-clockwise from the right, as on a clock face turned) round the left side to `to`.
function ring(from, to) {
  const at = (rx, ry, degrees) => {
    const a = (degrees * Math.PI) / 180;
    return `${(0.5 + rx * Math.cos(a)).toFixed(3)},${(0.5 - ry * Math.sin(a)).toFixed(3)}`;
  };
  return `M${at(0.5, 0.5, from)} A0.5,0.5 0 1 0 ${at(0.5, 0.5, to)} L${at(0.3, 0.32, to)} A0.3,0.32 0 1 1 ${at(0.3, 0.32, from)} Z`;
}

// A sequence logo of `values` (4 rows x n positions, flat row-major) at positions
// start..start+n-1, stacked as logomaker does: positive values above zero with the
// largest on top, negative values below zero with the most negative at the bottom.
export function logo(p, values, n, start) {
  const g = node("g", {}, p.g);
  for (let i = 0; i < n; i++) {
    const column = BASES.map((base, b) => [base, values[b * n + i]]);
    const positive = column.filter(([, v]) => v > 0).sort((a, b) => a[1] - b[1]);
    const negative = column.filter(([, v]) => v < 0).sort((a, b) => b[1] - a[1]);
    const x0 = p.sx(start + i - 0.475);
    const x1 = p.sx(start + i + 0.475);
    for (const [stack, sign] of [[positive, 1], [negative, -1]]) {
      let floor = 0;
      for (const [base, v] of stack) {
        const y0 = p.sy(floor);
        const y1 = p.sy(floor + v);
        floor += v;
        const top = sign > 0 ? y1 : y0;
        const height = Math.abs(y1 - y0);
        if (height < 0.05) continue;
        const transform = `translate(${x0.toFixed(2)},${top.toFixed(2)}) scale(${(x1 - x0).toFixed(3)},${height.toFixed(3)})`;
        for (const d of GLYPHS[base]) node("path", { d, fill: BASE_COLOURS[base], "fill-rule": "evenodd", transform }, g);
      }
    }
  }
  hline(p, 0);
}

// Limits of a logo's stacks (sum of the positive and of the negative values per column).
export function logoLimits(values, n) {
  let low = 0;
  let high = 0;
  for (let i = 0; i < n; i++) {
    let up = 0;
    let down = 0;
    for (let b = 0; b < 4; b++) {
      const v = values[b * n + i];
      if (v > 0) up += v; else down += v;
    }
    high = Math.max(high, up);
    low = Math.min(low, down);
  }
  if (high === low) high = low + 1;
  const margin = 0.05 * (high - low);
  return [low - (low < 0 ? margin : 0), high + margin];
}

// Matplotlib's viridis, 9 anchors, linearly interpolated.
const VIRIDIS = [[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141], [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37]];
export function viridis(t) {
  const s = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(s));
  const f = s - i;
  const c = VIRIDIS[i].map((v, k) => Math.round(v + f * (VIRIDIS[i + 1][k] - v)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

// A heat map of a rows x cols matrix (flat row-major) with row 0 at the top.
export function heatmap(p, matrix, rows, cols, vmax) {
  const top = vmax || Math.max(...matrix) || 1;
  const w = p.box.w / cols;
  const h = p.box.h / rows;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      node("rect", { x: (p.box.x + c * w).toFixed(2), y: (p.box.y + r * h).toFixed(2), width: (w + 0.3).toFixed(2), height: (h + 0.3).toFixed(2), fill: viridis(matrix[r * cols + c] / top) }, p.g);
    }
  }
  return top;
}

export function colourbar(svg, box, vmax) {
  const steps = 40;
  for (let s = 0; s < steps; s++) {
    node("rect", { x: box.x, y: box.y + box.h - ((s + 1) * box.h) / steps, width: box.w, height: box.h / steps + 0.3, fill: viridis((s + 0.5) / steps) }, svg);
  }
  const p = { sy: (v) => box.y + box.h - (v / vmax) * box.h };
  for (const t of niceTicks(0, vmax, 4)) {
    if (t > vmax) continue;
    text(svg, box.x + box.w + 4, p.sy(t) + 3.5, label(t), { "font-size": 10 });
  }
}

// The explorer's summary line (HTML from numbers the module formats itself).
export function summary(el, html) {
  el.innerHTML = html;
}

export function fixed(value, digits) {
  return Number(value).toFixed(digits);
}

export function signed(value, digits) {
  const s = Number(value).toFixed(digits);
  return value >= 0 ? `+${s}` : s;
}

// The values of the named traits of a widget's model, in order.
export function traitValues(model, ...names) {
  return names.map((name) => model.get(name));
}

// Lay out an explorer: a summary line above a figure; re-render on every change of the
// named traits (kept as `traits`, for the tests). `draw(model, figureEl, summaryEl)` does
// the work; an error inside it is shown in the widget (red), as a bad value is in a live
// kernel.
export function explorer(traits, draw) {
  return {
    traits: [...traits],
    render({ model, el }) {
      const summaryEl = document.createElement("div");
      summaryEl.className = "genotutor-summary";
      summaryEl.style.cssText = "font-family: sans-serif; font-size: 13px; margin: 4px 0";
      const figureEl = document.createElement("div");
      figureEl.className = "genotutor-figure";
      el.append(summaryEl, figureEl);
      const update = () => {
        try {
          draw(model, figureEl, summaryEl);
        } catch (error) {
          figureEl.replaceChildren();
          summaryEl.innerHTML = `<p style="color:#b00020"><b>Cannot show this: ${String(error.message || error)}</b></p>`;
        }
      };
      for (const name of traits) model.on(`change:${name}`, update);
      update();
      return () => {
        for (const name of traits) model.off(`change:${name}`, update);
      };
    },
  };
}
