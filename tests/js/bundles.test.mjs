// The modules the page gets: genotutor.widgets._view.esm(name), written by
// tests/test_widgets_js.py as <fixtures>/bundles/<name>.mjs. Each is imported from a
// data: URL, where no relative import could resolve, so it must be self-contained; it must
// export what js/<name>.js exports and draw the same figures from the same state.

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";

import { EXPLORERS, FIXTURES, NO_FIXTURES, fixtures, importExplorer, render } from "./helpers.mjs";

function importBundle(name) {
  const text = readFileSync(`${FIXTURES}/bundles/${name}.mjs`, "utf8");
  return import(`data:text/javascript;base64,${Buffer.from(text).toString("base64")}`);
}

// A drawn view as text: its summary and every element with its attributes (the panels'
// random clip-path ids made equal).
function drawn(view) {
  const lines = [view.summaryEl.innerHTML];
  for (const element of view.figureEl.walk()) {
    const attributes = Object.entries(element.attributes).map(([k, v]) => `${k}=${v}`).join(" ");
    lines.push(`<${element.tagName} ${attributes}>${element.textContent}`);
  }
  return lines.join("\n").replace(/clip[0-9a-z]+/g, "clip");
}

for (const name of EXPLORERS) {
  test(`esm("${name}") is one module, with the exports of js/${name}.js`, { skip: NO_FIXTURES }, async () => {
    assert.ok(existsSync(`${FIXTURES}/bundles/${name}.mjs`));
    const bundle = await importBundle(name);
    const original = await importExplorer(name);
    assert.deepEqual(Object.keys(bundle).sort(), Object.keys(original).sort());
    assert.deepEqual(bundle.default.traits, original.default.traits);
  });
}

for (const fixture of fixtures()) {
  test(`${fixture.file}: esm("${fixture.module}") draws what js/${fixture.module}.js draws`, async () => {
    const bundle = await importBundle(fixture.module);
    const original = await importExplorer(fixture.module);
    for (const { controls } of [{ controls: fixture.controls }, ...fixture.cases, fixture.bad]) {
      const state = { ...fixture.controls, ...controls };
      assert.equal(drawn(render(bundle, fixture.data, state)), drawn(render(original, fixture.data, state)));
    }
  });
}
