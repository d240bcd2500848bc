"""Tests of the chapter-8 surrogate explorer: a view over surrogate_grid."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genotutor.sequences import random_sequences
from genotutor.surrogate import surrogate_grid
from genotutor.widgets import SurrogateExplorer

RATES, SIZES = (0.1, 0.3), (200, 400)


def _grid(**options):
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(4 * 40, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)
    )
    options = {"window": 20, "rates": RATES, "sizes": SIZES, "fit_options": {"epochs": 5},
               "progress": False, **options}  # fmt: skip
    return surrogate_grid(model, random_sequences(2, 40, seed=0), **options)


@pytest.fixture(scope="module")
def grid():
    return _grid(centres=[12, 30])


@pytest.fixture(scope="module")
def surrogate_widget(grid):
    truth = torch.zeros(2, 40, dtype=torch.bool)
    truth[:, 5:9] = True
    return SurrogateExplorer(grid, truth=truth)


def test_the_browser_reads_the_table(surrogate_widget):
    """The view's lookup, run under Node.js, against the Python table."""
    from node_oracle import run_module

    script = """
const out = input.cases.map((at) => {
  const v = mod.surrogateShown(input.data, ...at);
  return { r2: v.r2, mutations: v.mutations, window: v.window, logo: Array.from(v.logo),
           output: Array.from(v.output).map((y) => (Number.isFinite(y) ? y : null)),
           curve: v.curve.map((c) => Array.from(c)) };
});
console.log(JSON.stringify(out));
"""
    explorer = surrogate_widget
    cases = [[0, 0, 0, 0], [1, 1, 1, 2], [0, 1, 0, 1]]
    inputs = {"data": explorer.view.data, "cases": cases}
    results = run_module("surrogate", script, inputs, exports="surrogateShown")
    table = explorer.table
    for at, got in zip(cases, results, strict=True):
        at = tuple(at)
        assert got["r2"] == pytest.approx(float(table.r2[at]), rel=1e-6)
        assert got["mutations"] == pytest.approx(float(table.mutations[at[:3]]), rel=1e-6)
        assert got["window"] == list(explorer.windows[at[0]])
        np.testing.assert_allclose(got["logo"], table.logo[at].flatten(), rtol=1e-6)
        outputs = np.array([np.nan if y is None else y for y in got["output"]], dtype=float)
        np.testing.assert_allclose(outputs, table.points[at][2], rtol=1e-6)
        np.testing.assert_allclose(got["curve"], table.curve[at], rtol=1e-6)


def test_controls_move_the_view(surrogate_widget):
    explorer = surrogate_widget
    seen = {tuple(explorer.shown().values())}
    explorer.size.value = SIZES[0]
    seen.add(tuple(explorer.shown().values()))
    explorer.rate.value = RATES[1]
    seen.add(tuple(explorer.shown().values()))
    explorer.family.value = "pairwise, GE"
    seen.add(tuple(explorer.shown().values()))
    explorer.locus.value = 1
    seen.add(tuple(explorer.shown().values()))
    assert len(seen) == 5
    view = explorer.view
    assert (view.locus, view.rate, view.size, view.family) == (1, 1, 0, 2)
    assert explorer.window() == (20, 40)
    assert explorer.shown()["r2"] == pytest.approx(float(explorer.table.r2[1, 1, 0, 2]))


def test_the_view_state_keeps_its_keys(surrogate_widget):
    data = surrogate_widget.view.data
    keys = {"logo", "r2", "mutations", "points", "curve", "windows", "rates", "sizes",
            "families", "truth"}  # fmt: skip
    assert set(data) == keys and data["rates"] == list(RATES) and data["sizes"] == list(SIZES)
    assert {"locus", "rate", "size", "family"} <= set(surrogate_widget.view.trait_names())
    assert list(surrogate_widget.rates) == list(RATES)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"grid": "fits"}, "grid must be a SurrogateGrid"),
        ({"truth": "x"}, "truth"),
        ({"truth": torch.zeros(2, 39, dtype=torch.bool)}, "truth"),
    ],
)
def test_bad_options_are_refused_by_name(grid, options, message):
    arguments = {"grid": grid, **options}
    with pytest.raises((TypeError, ValueError), match=message):
        SurrogateExplorer(arguments.pop("grid"), **arguments)
