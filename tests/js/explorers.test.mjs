// The explorers' views (genotutor/widgets/js/<name>.js), each imported as the ES module it
// is: its imports, its documented data contract, and on the fixtures that
// tests/test_widgets_js.py writes (a small explorer's state and, per choice of the
// controls, what Python computes) its pure functions and its drawing on a fake DOM.

import assert from "node:assert/strict";
import { test } from "node:test";

import { EXPLORERS, NO_FIXTURES, allClose, checkControls, checkData, close, contract, covers, fixtures, importExplorer, packedArrays, render, source } from "./helpers.mjs";
import { decode } from "../../genotutor/widgets/js/plot.js";

const PLOT_EXPORTS = [...source("plot").matchAll(/^export (?:function|const) ([\w$]+)/gm)].map((m) => m[1]);

// --------------------------------------------------------------- every module, no fixture
for (const name of EXPLORERS) {
  test(`${name}: imports from ./plot.js exactly the helpers it uses`, () => {
    const text = source(name);
    const statements = [...text.matchAll(/^import\s*\{([^}]*)\}\s*from\s*"([^"]*)";?$/gm)];
    assert.deepEqual(statements.map((m) => m[2]), ["./plot.js"], "one import, from ./plot.js");
    assert.doesNotMatch(text.replace(statements[0][0], ""), /^\s*import\b/m);
    const imported = statements[0][1].split(",").map((s) => s.trim()).filter((s) => s);
    for (const n of imported) assert.ok(PLOT_EXPORTS.includes(n), `${n} is not exported by plot.js`);
    // The code without its comments, its import and property names (`.logo`, `logo:`).
    const code = text.replace(statements[0][0], "").replace(/(^|\s)\/\/.*$/gm, "$1");
    const declared = new Set([...code.matchAll(/\b(?:function|const|let|var)\s+([\w$]+)/g)].map((m) => m[1]));
    const uses = (n) => new RegExp(`(?<![\\w$.])${n.replace("$", "\\$")}(?![\\w$])(?!\\s*:)`).test(code);
    const missing = PLOT_EXPORTS.filter((n) => uses(n) && !imported.includes(n) && !declared.has(n));
    assert.deepEqual(missing, [], "helpers used but not imported");
    assert.deepEqual(imported.filter((n) => !uses(n)), [], "helpers imported but not used");
  });

  test(`${name}: documents its data and redraws on data and its documented traits`, async () => {
    const { data, traits } = contract(name);
    assert.ok(data.length > 0 && traits.length > 0, "a contract block with @data and @trait lines");
    const mod = await importExplorer(name);
    assert.deepEqual([...mod.default.traits].sort(), ["data", ...traits.map((t) => t.name)].sort());
    assert.equal(typeof mod.default.render, "function");
  });
}

// --------------------------------------------------------------- on the fixtures
// Per module: check one case's pure function against what Python computed.
const CHECKS = {
  mutation(mod, data, c, e) {
    const v = mod.mutationShown(data, c.sequence, c.position, c.base);
    close(v.before, e.before, 1e-6, "before");
    close(v.after, e.after, 1e-6, "after");
    const length = data.bases.shape[1];
    assert.equal(v.window, Math.min(data.window, length));
    assert.ok(v.start >= 0 && v.start <= c.position && c.position < v.start + v.window && v.start + v.window <= length);
    for (let b = 0; b < 4; b++) {
      for (let i = 0; i < v.window; i++) {
        close(v.changes[b * v.window + i], e.change[b * length + v.start + i], 1e-5, `change of ${b} at ${v.start + i}`);
        const base = v.start + i === c.position ? c.base : v.sequence[v.start + i];
        assert.equal(v.letters[b * v.window + i], b === base ? 1 : 0);
      }
    }
    covers(v.ylim, v.changes.concat([0]), "ylim");
  },

  attribution(mod, data, c, e) {
    const v = mod.attributionShown(data, c.sequence, c.method, c.correct, c.start);
    close(v.output, e.output, 1e-6, "output");
    if ("auroc" in e) {
      close(v.auroc, e.auroc, 1e-6, "auroc");
      close(v.auprc, e.auprc, 1e-6, "auprc");
    } else assert.equal(v.auroc, null);
    allClose(v.map, e.scores, 1e-6, "map");
    const length = data.bases.shape[1];
    for (let i = 0; i < length; i++) {
      let total = 0;
      for (let b = 0; b < 4; b++) total += Math.abs(e.scores[b * length + i]);
      close(v.importance[i], total, 1e-5, `importance at ${i}`);
    }
    for (let b = 0; b < 4; b++) allClose(v.letters.subarray(b * v.window, (b + 1) * v.window), e.scores.slice(b * length + c.start, b * length + c.start + v.window), 1e-6, "letters");
  },

  filters(mod, data, c, e) {
    const v = mod.filtersShown(data, c.filter, c.sequence);
    const [name, score, strand, offset] = e.match;
    assert.deepEqual([v.match.name, v.match.strand, v.match.offset], [name, strand, offset]);
    close(v.match.score, score, 1e-9, "score");
    assert.equal(v.nSites, e.n_sites);
    assert.equal(v.match.logo.shape[0], 4);
    allClose(v.values, e.track, 1e-6, "track");
    assert.equal(v.xs.length, e.track.length);
    covers(v.xlim, v.xs, "xlim");
    covers(v.ylim, Array.from(v.values).concat([0]), "ylim");
  },

  motifs(mod, data, c, e) {
    const v = mod.motifsShown(data, c.pattern, c.sequence);
    assert.deepEqual(v.counts, e.counts);
    allClose(v.track, e.contributions, 1e-6, "contributions");
    covers(v.ylim, v.track, "ylim");
    const { values, width } = mod.patternLogo(data, c.pattern);
    assert.equal(width, e.width);
    allClose(values, e.cwm, 1e-6, "cwm");
  },

  attention(mod, data, c, e) {
    const v = mod.attentionShown(data, c.sequence, c.head);
    allClose(v.weights, e.weights, 1e-6, "weights");
    assert.deepEqual(v.marked, e.marked);
    close(v.share, e.share, 1e-5, "marked share");
    close(v.output, e.output, 1e-6, "output");
    allClose(v.received, e.received, 1e-5, "received");
  },

  priors(mod, data, c, e) {
    const v = mod.priorsShown(data, c.sequence, c.cutoff, c.softness, c.sigma);
    allClose(v.numbers.flat(), e.numbers.flat(), 1e-5, "penalty and mass");
  },

  splicing(mod, data, c, e) {
    const v = mod.splicingShown(data, c.sequence, c.position, c.base, c.edit);
    allClose(v.values.flat(), e.values.flat(), 1e-6, "before and after");
    assert.deepEqual(Array.from(v.edited), e.edited);
    assert.deepEqual(Array.from(v.changed), e.changed);
    assert.equal(v.nChanged, e.changed.reduce((a, b) => a + b, 0));
    assert.ok(v.start <= c.position && c.position < v.start + v.window);
    assert.equal(v.inView, e.changed.slice(v.start, v.start + v.window).reduce((a, b) => a + b, 0));
  },

  surrogate(mod, data, c, e) {
    const v = mod.surrogateShown(data, c.locus, c.rate, c.size, c.family);
    close(v.r2, e.r2, 1e-5, "r2");
    close(v.mutations, e.mutations, 1e-5, "mutations");
    assert.deepEqual(v.window, e.window);
    allClose(v.logo, e.logo, 1e-6, "logo");
    const [, cHat, cLow, cHigh] = v.curve;
    covers(v.ylim, v.fit[1].concat(Array.from(cLow), Array.from(cHigh)), "ylim");
    covers(v.fitLim, v.fit[0].concat(v.fit[1]), "fitLim");
    for (let i = 0; i < cHat.length; i++) assert.ok(cLow[i] <= cHat[i] + 1e-6 && cHat[i] <= cHigh[i] + 1e-6, "the band holds the curve");
  },

  variants(mod, data, c, e) {
    const v = mod.variantShown(data, c.variant, c.position, c.base);
    assert.equal(v.chosen.index, e.index);
    allClose(v.before, e.reference, 1e-6, "reference track");
    allClose(v.after, e.alternative, 1e-6, "alternative track");
    if (e.deltas === null) assert.equal(v.deltas, null);
    else {
      allClose(v.deltas, e.deltas, 1e-6, "deltas");
      assert.deepEqual(Array.from(v.at), e.at);
    }
  },
};

const FIXTURE_LIST = fixtures();
test("the fixtures cover every explorer", { skip: NO_FIXTURES }, () => {
  assert.deepEqual([...new Set(FIXTURE_LIST.map((f) => f.module))].sort(), [...EXPLORERS].sort());
});

for (const fixture of FIXTURE_LIST) {
  const { file, module: name, data, controls, cases } = fixture;

  test(`${file}: the state follows ${name}.js's contract`, () => {
    checkData(name, data);
    checkControls(name, controls);
    for (const { controls: c } of cases) checkControls(name, c);
  });

  test(`${file}: every packed array decodes to Python's shape and values`, () => {
    const found = packedArrays(data);
    assert.deepEqual(found.map(([path]) => path).sort(), Object.keys(fixture.packed).sort());
    for (const [path, packed] of found) {
      const { shape, sum, nan } = fixture.packed[path];
      const decoded = decode(packed);
      assert.deepEqual(decoded.shape, shape, path);
      assert.equal(decoded.values.length, shape.reduce((a, b) => a * b, 1), path);
      let total = 0;
      let scale = 0;
      let nans = 0;
      for (const x of decoded.values) {
        if (Number.isNaN(x)) nans++;
        else {
          total += x;
          scale += Math.abs(x);
        }
      }
      assert.equal(nans, nan, `${path}: NaN count`);
      assert.ok(Math.abs(total - sum) <= 1e-9 * Math.max(1, scale), `${path}: sum ${total} != ${sum}`);
      assert.equal(decode(packed), decoded, `${path}: decoded once`);
    }
  });

  test(`${file}: what it shows equals what Python computes`, async () => {
    const mod = await importExplorer(name);
    assert.ok(cases.length > 0);
    for (const { controls: c, expected } of cases) CHECKS[name](mod, data, c, expected);
  });

  test(`${file}: draws every case, redraws on a control, and reports a bad value`, async () => {
    const mod = await importExplorer(name);
    const view = render(mod, data, controls);
    for (const { controls: c } of cases) {
      for (const [key, value] of Object.entries(c)) view.set(key, value);
      assert.doesNotMatch(view.summaryEl.innerHTML, /Cannot show this/, JSON.stringify(c));
      const [svg] = view.figureEl.children;
      assert.equal(svg.tagName, "svg");
      const marks = svg.findAll("path").length + svg.findAll("rect").length + svg.findAll("polyline").length + svg.findAll("circle").length;
      assert.ok(marks > 0, "something drawn");
      for (const element of svg.walk()) {
        for (const [key, value] of Object.entries(element.attributes)) {
          assert.doesNotMatch(value, /undefined/, `${element.tagName} ${key}="${value}"`);
        }
      }
    }
    for (const [key, value] of Object.entries(fixture.bad.controls)) view.set(key, value);
    assert.match(view.summaryEl.innerHTML, /Cannot show this/);
    assert.ok(view.summaryEl.innerHTML.includes(fixture.bad.message), `${view.summaryEl.innerHTML} lacks ${fixture.bad.message}`);
    assert.deepEqual(view.figureEl.children, []);
    view.cleanup();
    assert.ok(Object.values(view.listeners).every((fs) => fs.length === 0), "listeners removed");
  });
}
