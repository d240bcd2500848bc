// Shared by the node tests of the explorers' views (tests/js/*.test.mjs): the modules'
// sources, the fixtures tests/test_widgets_js.py writes, a data-contract reader, a fake
// DOM just large enough for js/plot.js, and numeric comparisons.

import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";

export const JS_DIR = new URL("../../genotutor/widgets/js/", import.meta.url);
export const EXPLORERS = ["attention", "attribution", "filters", "motifs", "mutation", "priors", "splicing", "surrogate", "variants"];

// The folder of JSON fixtures (and bundles) written by tests/test_widgets_js.py; null when
// node --test runs alone (the tests that need fixtures are then skipped).
export const FIXTURES = process.env.GENOTUTOR_JS_FIXTURES || null;
export const NO_FIXTURES = FIXTURES ? false : "no fixtures: run tests/test_widgets_js.py (sets GENOTUTOR_JS_FIXTURES)";

export function source(name) {
  return readFileSync(new URL(`${name}.js`, JS_DIR), "utf8");
}

export function importExplorer(name) {
  return import(new URL(`${name}.js`, JS_DIR));
}

// Every fixture: { module, data, controls, cases: [{ controls, expected }], bad, packed }.
export function fixtures() {
  if (!FIXTURES || !existsSync(FIXTURES)) return [];
  return readdirSync(FIXTURES)
    .filter((file) => file.endsWith(".json"))
    .sort()
    .map((file) => ({ file, ...JSON.parse(readFileSync(`${FIXTURES}/${file}`, "utf8")) }));
}

// ------------------------------------------------------------------- data contract
const PACKED = new Set(["float32", "int32", "uint8"]);

// The contract at the top of js/<name>.js: `// @data NAME[?] TYPE [(SHAPE)]` and
// `// @trait NAME TYPE` lines.
export function contract(name) {
  const data = [];
  const traits = [];
  for (const line of source(name).split("\n")) {
    let m = line.match(/^\/\/ @data\s+(\w+)(\??)\s+(\S+)(?:\s+\(([^)]*)\))?/);
    if (m) {
      const shape = m[4] === undefined ? null : m[4].split(",").map((d) => d.trim()).filter((d) => d);
      data.push({ name: m[1], optional: m[2] === "?", types: m[3].split("|"), shape });
      continue;
    }
    m = line.match(/^\/\/ @trait\s+(\w+)\s+(\w+)/);
    if (m) traits.push({ name: m[1], type: m[2] });
  }
  return { data, traits };
}

function isType(value, type) {
  const base = type.replace(/(\[\])+$/, "");
  const depth = (type.length - base.length) / 2;
  if (depth > 0) return Array.isArray(value) && value.every((v) => isType(v, base + "[]".repeat(depth - 1)));
  if (base === "int") return Number.isInteger(value);
  if (base === "number") return typeof value === "number";
  if (base === "bool") return typeof value === "boolean";
  if (base === "string") return typeof value === "string";
  if (base === "dict" || base === "object") return value !== null && typeof value === "object" && !Array.isArray(value);
  throw new Error(`unknown contract type ${type}`);
}

// Check `data` against the contract: the keys, each value's type, and each shape, its
// named dimensions bound to one size across the keys (N of `bases` is N of `outputs`).
export function checkData(name, data) {
  const { data: entries } = contract(name);
  const documented = new Set(entries.map((e) => e.name));
  assert.deepEqual(Object.keys(data).filter((k) => !documented.has(k)), [], `${name}: keys of data not in its contract`);
  const sizes = {};
  const bind = (key, dims, actual) => {
    assert.equal(actual.length, dims.length, `${name}: ${key} has shape [${actual}], the contract (${dims.join(", ")})`);
    dims.forEach((dim, i) => {
      if (/^\d+$/.test(dim)) assert.equal(actual[i], Number(dim), `${name}: ${key} dimension ${i}`);
      else if (dim in sizes) assert.equal(actual[i], sizes[dim], `${name}: ${key}'s ${dim} is ${actual[i]}, elsewhere ${sizes[dim]}`);
      else sizes[dim] = actual[i];
    });
  };
  for (const entry of entries) {
    const value = data[entry.name];
    if (value === undefined) {
      assert.ok(entry.optional, `${name}: data lacks ${entry.name}`);
      continue;
    }
    if (entry.types.every((t) => PACKED.has(t))) {
      assert.ok(entry.types.includes(value.dtype), `${name}: ${entry.name} is ${value.dtype}, the contract ${entry.types.join("|")}`);
      bind(entry.name, entry.shape, value.shape);
    } else {
      assert.ok(entry.types.some((t) => isType(value, t)), `${name}: ${entry.name} is not ${entry.types.join("|")}: ${JSON.stringify(value).slice(0, 80)}`);
      if (entry.shape) {
        const actual = [value.length];
        if (entry.shape.length === 2) {
          assert.ok(value.every((v) => v.length === value[0].length), `${name}: ${entry.name} is ragged`);
          actual.push(value.length ? value[0].length : 0);
        }
        bind(entry.name, entry.shape, actual);
      }
    }
  }
  return sizes;
}

export function checkControls(name, controls) {
  const { traits } = contract(name);
  assert.deepEqual(Object.keys(controls).sort(), traits.map((t) => t.name).sort(), `${name}: the view's traits against its contract`);
  for (const { name: trait, type } of traits) {
    assert.ok(isType(controls[trait], type), `${name}: trait ${trait} = ${controls[trait]} is not ${type}`);
  }
}

// Every packed array in `value` (nested in dicts and lists), by its path: "scores.saliency".
export function packedArrays(value, path = "") {
  if (value === null || typeof value !== "object") return [];
  if (typeof value.b64 === "string" && typeof value.dtype === "string") return [[path, value]];
  return Object.entries(value).flatMap(([k, v]) => packedArrays(v, path ? `${path}.${k}` : k));
}

// ------------------------------------------------------------------- fake DOM
// Just what js/plot.js and the explorers call: elements with attributes and children.
export class FakeElement {
  constructor(tag) {
    this.tagName = tag;
    this.attributes = {};
    this.children = [];
    this.style = {};
    this.textContent = "";
    this.innerHTML = "";
    this.className = "";
  }
  setAttribute(key, value) {
    this.attributes[key] = String(value);
  }
  getAttribute(key) {
    return key in this.attributes ? this.attributes[key] : null;
  }
  appendChild(child) {
    this.children.push(child);
    return child;
  }
  append(...children) {
    for (const child of children) this.appendChild(child);
  }
  replaceChildren(...children) {
    this.children = [];
    this.append(...children);
  }
  *walk() {
    yield this;
    for (const child of this.children) yield* child.walk();
  }
  findAll(tag) {
    return [...this.walk()].filter((e) => e.tagName === tag);
  }
}

export function installDocument() {
  globalThis.document = {
    createElementNS: (_, tag) => new FakeElement(tag),
    createElement: (tag) => new FakeElement(tag),
  };
}

// Render an explorer's default export as anywidget does, with a model holding `data` and
// the controls; `set(name, value)` changes a trait and fires its change event.
export function render(mod, data, controls) {
  installDocument();
  const state = { data, ...controls };
  const listeners = {};
  const model = {
    get: (key) => state[key],
    on: (event, f) => (listeners[event] = listeners[event] || []).push(f),
    off: (event, f) => (listeners[event] = (listeners[event] || []).filter((g) => g !== f)),
  };
  const el = new FakeElement("div");
  const cleanup = mod.default.render({ model, el });
  const [summaryEl, figureEl] = el.children;
  return {
    summaryEl,
    figureEl,
    listeners,
    cleanup,
    set(key, value) {
      state[key] = value;
      for (const f of listeners[`change:${key}`] || []) f();
    },
  };
}

// ------------------------------------------------------------------- numbers
export function close(actual, expected, tolerance = 1e-5, what = "") {
  if (expected === null) {
    assert.ok(actual === null || Number.isNaN(actual), `${what}: expected none (NaN), found ${actual}`);
    return;
  }
  const gap = Math.abs(actual - expected);
  assert.ok(gap <= tolerance * Math.max(1, Math.abs(expected)), `${what}: ${actual} != ${expected}`);
}

export function allClose(actual, expected, tolerance = 1e-5, what = "") {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < expected.length; i++) close(actual[i], expected[i], tolerance, `${what}[${i}]`);
}

export function covers(lim, values, what = "") {
  const low = Math.min(lim[0], lim[1]);
  const high = Math.max(lim[0], lim[1]);
  for (const v of values) if (Number.isFinite(v)) assert.ok(v >= low && v <= high, `${what}: ${v} outside [${lim}]`);
}
