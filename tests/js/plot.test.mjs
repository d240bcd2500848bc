// The drawing helpers of js/plot.js: decode() and its cache, the axes' ticks, and a
// panel's ticks on a fake DOM (reversed limits included).

import assert from "node:assert/strict";
import { test } from "node:test";

import { FakeElement, installDocument } from "./helpers.mjs";
import { axisTicks, decode, explorer, figure, niceTicks, panel, row } from "../../genotutor/widgets/js/plot.js";

// What genotutor.widgets._view.pack gives for a little-endian array.
function pack(TypedArray, dtype, values, shape) {
  const bytes = new Uint8Array(TypedArray.from(values).buffer);
  return { dtype, shape, b64: Buffer.from(bytes).toString("base64") };
}

test("decode reads each dtype with its shape", () => {
  const floats = decode(pack(Float32Array, "float32", [1.5, -2, 0.25, 4, 5, 6], [2, 3]));
  assert.ok(floats.values instanceof Float32Array);
  assert.deepEqual(Array.from(floats.values), [1.5, -2, 0.25, 4, 5, 6]);
  assert.deepEqual(floats.shape, [2, 3]);
  assert.deepEqual(Array.from(row(floats, 1)), [4, 5, 6]);
  assert.deepEqual(Array.from(decode(pack(Int32Array, "int32", [-1, 7], [2])).values), [-1, 7]);
  assert.deepEqual(Array.from(decode(pack(Uint8Array, "uint8", [0, 3, 255], [3])).values), [0, 3, 255]);
});

test("decode keeps one decoded array per packed object", () => {
  const packed = pack(Float32Array, "float32", [1, 2, 3, 4], [2, 2]);
  const first = decode(packed);
  assert.equal(decode(packed), first, "the same packed object: the cached result");
  const copy = { ...packed };
  assert.notEqual(decode(copy), first, "an equal but new object (new data): decoded afresh");
  assert.deepEqual(Array.from(decode(copy).values), Array.from(first.values));
});

test("row indexes the leading axes", () => {
  const array = decode(pack(Float32Array, "float32", Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]));
  assert.deepEqual(Array.from(row(array, 1, 2)), [20, 21, 22, 23]);
  assert.equal(row(array, 0).length, 12);
});

test("axisTicks keeps the ticks of reversed limits", () => {
  const upwards = axisTicks([0, 10], undefined, 5);
  assert.deepEqual(axisTicks([10, 0], undefined, 5), upwards);
  assert.deepEqual(upwards, niceTicks(0, 10, 5));
  assert.deepEqual(axisTicks([2.5, -0.5], [0, 1, 2, 3], 0), [0, 1, 2], "given ticks, within the limits");
  assert.deepEqual(axisTicks([-0.5, 2.5], [], 5), [], "an empty list asks for no ticks");
});

// The labels of a panel's ticks on each axis, read back from its SVG.
function tickLabels(options) {
  installDocument();
  const svg = figure(new FakeElement("div"), 400, 300);
  const p = panel(svg, { x: 50, y: 20, w: 300, h: 200 }, options);
  const labels = (anchor) => p.axes.findAll("text").filter((t) => t.attributes["text-anchor"] === anchor);
  return { p, y: labels("end"), x: labels("middle") };
}

test("panel draws y ticks for reversed y-limits, at the same values and heights flipped", () => {
  const up = tickLabels({ xlim: [0, 1], ylim: [0, 4] });
  const down = tickLabels({ xlim: [0, 1], ylim: [4, 0] });
  assert.ok(up.y.length >= 3);
  assert.deepEqual(down.y.map((t) => t.textContent).sort(), up.y.map((t) => t.textContent).sort());
  // Reversed, 0 is at the top of the box (y = 20) and 4 at the bottom (y = 220).
  const at = (labels, text) => Number(labels.find((t) => t.textContent === text).attributes.y) - 3.5;
  assert.equal(at(down.y, "0"), 20);
  assert.equal(at(down.y, "4"), 220);
  assert.equal(at(up.y, "0"), 220);
});

test("panel draws x ticks for reversed x-limits", () => {
  const left = tickLabels({ xlim: [0, 10], ylim: [0, 1] });
  const right = tickLabels({ xlim: [10, 0], ylim: [0, 1] });
  assert.ok(left.x.length >= 3);
  assert.deepEqual(right.x.map((t) => t.textContent).sort(), left.x.map((t) => t.textContent).sort());
});

test("panel leaves out given ticks outside the limits", () => {
  const { y } = tickLabels({ xlim: [0, 1], ylim: [1, -1], yticks: [-2, -1, 0, 1, 2] });
  assert.deepEqual(y.map((t) => t.textContent), ["-1", "0", "1"]);
});

test("explorer redraws on its traits, shows an error in red, and lets go when removed", () => {
  installDocument();
  let calls = 0;
  const view = explorer(["data", "k"], (model, figureEl, summaryEl) => {
    calls++;
    if (model.get("k") < 0) throw new Error("k must be >= 0");
    summaryEl.innerHTML = `k = ${model.get("k")}`;
  });
  assert.deepEqual(view.traits, ["data", "k"]);
  const state = { data: {}, k: 1 };
  const listeners = {};
  const model = {
    get: (key) => state[key],
    on: (event, f) => (listeners[event] = f),
    off: (event) => delete listeners[event],
  };
  const el = new FakeElement("div");
  const cleanup = view.render({ model, el });
  assert.equal(calls, 1);
  assert.equal(el.children[0].innerHTML, "k = 1");
  state.k = -1;
  listeners["change:k"]();
  assert.match(el.children[0].innerHTML, /color:#b00020.*Cannot show this: k must be >= 0/);
  cleanup();
  assert.deepEqual(Object.keys(listeners), []);
});
