from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from node_oracle import run_module
from tiny_models import splicing_models

from genotutor.splicing import EDITS, Layout, edit_table, reporter_sequences
from genotutor.widgets import SplicingExplorer
from genotutor.widgets._view import unpack

LAYOUT = Layout()
POSITIONS = (LAYOUT.exon_start, LAYOUT.exon_start + 12)


def _models() -> dict:
    return splicing_models(LAYOUT)


def _explorer(**options):
    options = {"region": LAYOUT.body, "frame": LAYOUT.exon_start, "positions": POSITIONS, **options}
    x = reporter_sequences(4, seed=1)
    return SplicingExplorer(edit_table(_models(), x, progress=False, **options), x)


@pytest.fixture(scope="module")
def explorer():
    return _explorer()


def _run(model, x) -> float:
    with torch.no_grad():
        return float(model(x)[0, 0])


def test_table_matches_the_models_on_the_edited_sequences(explorer):
    """Brute force: for a sample of combinations, edit with mutate / edit_feature
    (``edited()``) and run each model; the table and the packed changes must agree."""
    after = unpack(explorer.view.data["after"])
    offsets = unpack(explorer.view.data["offsets"])
    at, to = unpack(explorer.view.data["changed_at"]), unpack(explorer.view.data["changed_to"])
    bases = unpack(explorer.view.data["bases"])
    rng = np.random.default_rng(0)
    combos = list(itertools.product(range(4), range(*POSITIONS), range(5), range(len(EDITS))))
    for s, p, b, e in [combos[i] for i in rng.choice(len(combos), 60, replace=False)]:
        explorer.sequence.value, explorer.position.value = s, p
        explorer.base.index, explorer.edit.index = b, e
        before, edited = explorer.edited()
        predictions = explorer.predictions()
        code = int(before[0, :, p].argmax()) if b == 0 else b - 1
        flat = np.ravel_multi_index((s, e, code, p - POSITIONS[0]), after.shape[1:])
        for m, (name, model) in enumerate(_models().items()):
            assert abs(after[m, s, e, code, p - POSITIONS[0]] - _run(model, edited)) < 1e-4
            assert predictions[name] == pytest.approx(
                (_run(model, before), _run(model, edited)), abs=1e-4
            )
        rebuilt = bases[s].copy()
        rebuilt[at[offsets[flat] : offsets[flat + 1]]] = to[offsets[flat] : offsets[flat + 1]]
        assert (rebuilt == edited[0].argmax(0).numpy()).all()
        assert set(at[offsets[flat] : offsets[flat + 1]]) == set(
            np.flatnonzero((edited != before)[0].any(0).numpy())
        )


_SHOWN = """
const out = input.cases.map(([s, p, b, e]) => {
  const shown = mod.splicingShown(input.data, s, p, b, e);
  const { values, edited, changed } = shown;
  return { values, edited: Array.from(edited), changed: Array.from(changed) };
});
console.log(JSON.stringify(out));
"""


def test_the_browser_shows_what_python_computes(explorer):
    """The view's lookup, run under Node.js, against predictions() and edited()."""
    rng = np.random.default_rng(1)
    cases = [
        [int(rng.integers(4)), int(rng.integers(*POSITIONS)), int(rng.integers(5)), e]
        for e in range(len(EDITS))
        for _ in range(6)
    ]
    inputs = {"data": explorer.view.data, "cases": cases}
    results = run_module("splicing", _SHOWN, inputs, exports="splicingShown")
    for (s, p, b, e), got in zip(cases, results, strict=True):
        explorer.sequence.value, explorer.position.value = s, p
        explorer.base.index, explorer.edit.index = b, e
        expected = [list(pair) for pair in explorer.predictions().values()]
        np.testing.assert_allclose(got["values"], expected, rtol=1e-6)
        before, after = explorer.edited()
        assert got["edited"] == after[0].argmax(0).tolist()
        assert got["changed"] == (after != before)[0].any(0).int().tolist()


def test_the_browser_refuses_a_position_outside_the_range(explorer):
    script = """
try { mod.splicingShown(input, 0, 0, 0, 0); console.log(JSON.stringify(null)); }
catch (error) { console.log(JSON.stringify(error.message)); }
"""
    message = run_module("splicing", script, explorer.view.data, exports="splicingShown")
    assert message == f"position must be in [{POSITIONS[0]}, {POSITIONS[1] - 1}]; found 0"


def test_confounder_edits_are_deterministic_and_depend_on_the_mutation(explorer):
    explorer.sequence.value, explorer.edit.value = 0, "add 2 CpG"
    explorer.base.value = "keep"
    first, again = explorer.edited()[1], explorer.edited()[1]
    assert torch.equal(first, again)
    sites = set()
    for position in range(*POSITIONS):
        explorer.position.value = position
        for base in "ACGT":
            explorer.base.value = base
            sites.add(explorer.edited()[1].argmax(1).numpy().tobytes())
    assert len(sites) > 4 * (POSITIONS[1] - POSITIONS[0]) // 2  # mutants edit differently


def test_each_control_moves_the_view(explorer):
    explorer.sequence.value, explorer.position.value = 0, POSITIONS[0] + 3
    explorer.base.value, explorer.edit.value = "keep", "none"
    seen = {tuple(explorer.predictions()["student"])}
    none = explorer.predictions()
    assert all(a == b for a, b in none.values())  # nothing edited, nothing changes
    explorer.base.value = "G" if explorer.edited()[0][0, 2, POSITIONS[0] + 3] == 0 else "A"
    seen.add(explorer.predictions()["student"])
    explorer.edit.value = "add 2 CpG"
    seen.add(explorer.predictions()["student"])
    explorer.position.value = POSITIONS[0] + 7
    seen.add(explorer.predictions()["student"])
    explorer.sequence.value = 2
    seen.add(explorer.predictions()["student"])
    assert len(seen) == 5
    view = explorer.view
    assert (view.sequence, view.position) == (2, POSITIONS[0] + 7)
    assert view.base == ["keep", "A", "C", "G", "T"].index(explorer.base.value)
    assert view.edit == list(EDITS).index("add 2 CpG")


def test_position_control_covers_the_range(explorer):
    assert (explorer.position.min, explorer.position.max) == (POSITIONS[0], POSITIONS[1] - 1)
    assert explorer.after.shape == (2, 4, len(EDITS), 4, POSITIONS[1] - POSITIONS[0])
    assert unpack(explorer.view.data["after"]).shape == tuple(explorer.after.shape)


def test_whole_sequence_by_default():
    x = reporter_sequences(1, seed=2)
    small = SplicingExplorer(edit_table(_models(), x, region=LAYOUT.body, progress=False), x)
    assert (small.position.min, small.position.max) == (0, LAYOUT.length - 1)
    assert small.after.shape[-1] == LAYOUT.length


def test_the_view_state_keeps_its_keys(explorer):
    keys = {"names", "bases", "before", "after", "offsets", "changed_at", "changed_to",
            "positions", "window"}  # fmt: skip
    assert set(explorer.view.data) == keys and explorer.view.data["names"] == ["truth", "student"]
    assert unpack(explorer.view.data["changed_at"]).dtype == np.uint8  # L <= 256
    assert {"sequence", "position", "base", "edit"} <= set(explorer.view.trait_names())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"window": 0}, "window"),
        ({"table": "after"}, "table must be an EditTable"),
        ({"x": reporter_sequences(3, seed=1)}, "x must be the table's 2 sequences"),
        ({"x": torch.zeros(2, 4, LAYOUT.length)}, "x"),
    ],
)
def test_bad_options_are_refused_by_name(options, message):
    x = reporter_sequences(2, seed=1)
    arguments = {"table": edit_table(_models(), x, positions=POSITIONS, progress=False), "x": x}
    arguments.update(options)
    with pytest.raises((TypeError, ValueError), match=message):
        SplicingExplorer(arguments.pop("table"), arguments.pop("x"), **arguments)
