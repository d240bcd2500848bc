"""Tests of surrogate_grid: each grid entry against explain_locus called directly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genotutor.sequences import random_sequences
from genotutor.surrogate import explain_locus, surrogate_grid
from genotutor.surrogate.grid import FAMILIES, POINTS

RATES, SIZES = (0.1, 0.3), (200, 400)


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(4 * 40, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)
    )


def _grid(model=None, **options):
    options = {"window": 20, "rates": RATES, "sizes": SIZES, "fit_options": {"epochs": 5},
               "progress": False, **options}  # fmt: skip
    return surrogate_grid(model or _model(), random_sequences(2, 40, seed=0), **options)


@pytest.fixture(scope="module")
def grid():
    return _grid(centres=[12, 30])


@pytest.mark.parametrize(("locus", "rate", "size", "family"), [(0, 0, 1, 0), (1, 1, 0, 2)])
def test_grid_entry_is_explain_locus(grid, locus, rate, size, family):
    """A grid entry against explain_locus called directly with the same settings."""
    gpmap, nonlinearity = FAMILIES[list(FAMILIES)[family]]
    direct = explain_locus(
        _model(), random_sequences(2, 40, seed=0)[locus], n=SIZES[size], mutation_rate=RATES[rate],
        window=grid.windows[locus], gpmap=gpmap, nonlinearity=nonlinearity, seed=0,
        epochs=5, progress=False,
    )  # fmt: skip
    at = (locus, rate, size, family)
    assert float(grid.r2[at]) == pytest.approx(direct.surrogate.valid_r2, abs=1e-5)
    logo = direct.surrogate.additive_params(gauge="hierarchical").to_numpy().T
    np.testing.assert_allclose(grid.logo[at].numpy(), logo, atol=1e-5)
    held_x, held_y = direct.held_out()
    k = min(POINTS, len(held_y))
    points, curve = grid.points[at].numpy(), grid.curve[at].numpy()
    np.testing.assert_allclose(points[2, :k], held_y[:k].numpy(), atol=1e-5)
    with torch.no_grad():
        y_hat = direct.surrogate.predict(held_x[:k]).numpy()
        output = direct.surrogate.net.output(torch.from_numpy(curve[0].copy())).numpy()
    np.testing.assert_allclose(points[0, :k], y_hat, atol=1e-5)
    assert np.isnan(points[:, k:]).all()
    np.testing.assert_allclose(curve[1], output, atol=1e-5)
    assert (curve[2] <= curve[1] + 1e-6).all() and (curve[1] <= curve[3] + 1e-6).all()
    mutations = (direct.library.argmax(1) != direct.library[0].argmax(0)).sum(1)[1:]
    assert float(grid.mutations[at[:3]]) == pytest.approx(float(mutations.float().mean()))
    assert grid.windows[locus] == ((2, 22), (20, 40))[locus] and grid.length == 40


def test_grid_shapes(grid):
    n, r, s, f = 2, len(RATES), len(SIZES), len(FAMILIES)
    assert grid.logo.shape == (n, r, s, f, 4, 20) and grid.r2.shape == (n, r, s, f)
    assert grid.mutations.shape == (n, r, s) and grid.points.shape[:5] == (n, r, s, f, 3)
    assert grid.rates == RATES and grid.sizes == SIZES and grid.families == tuple(FAMILIES)


def test_grid_labels_each_library_once():
    calls = []
    model = _model()
    model.register_forward_hook(lambda module, args, out: calls.append(len(args[0])))
    _grid(model, rates=(0.2,), sizes=(200, 300))
    assert sorted(c for c in calls if c > 1) == [200, 200, 300, 300]  # not x 3 families


def test_grid_is_cached(monkeypatch, tmp_path):
    import genotutor.surrogate.grid as module

    monkeypatch.setenv("GENOTUTOR_CACHE", str(tmp_path))
    first = _grid(rates=(0.2,), sizes=(200,), cache=True)

    def refuse(*args, **kwargs):
        raise AssertionError("refitted instead of reading the cache")

    monkeypatch.setattr(module, "explain_locus", refuse)
    again = _grid(rates=(0.2,), sizes=(200,), cache=True)
    assert torch.equal(again.logo, first.logo) and again.windows == first.windows
    with pytest.raises(AssertionError, match="refitted"):  # another grid is another entry
        _grid(rates=(0.3,), sizes=(200,), cache=True)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rates": ()}, "rates"),
        ({"rates": (0.1, 1.5)}, r"rates\[1\]"),
        ({"rates": (0.1, 0.1)}, "rates"),
        ({"sizes": (0,)}, r"sizes\[0\]"),
        ({"sizes": "big"}, "sizes"),
        ({"centres": [3]}, "centres"),
        ({"centres": [3, -1]}, r"centres\[1\]"),
        ({"window": 0}, "window"),
        ({"target": 1}, "target"),
        ({"fit_options": {"n": 10}}, "fit_options"),
        ({"fit_options": {"device": "cpu"}}, "fit_options"),
        ({"fit_options": "fast"}, "fit_options"),
        ({"cache": "yes"}, "cache"),
        ({"seed": -1}, "seed"),
        ({"device": "nowhere"}, "device"),
        ({"progress": 0}, "progress"),
    ],
)
def test_grid_refuses_bad_options_by_name(options, message):
    with pytest.raises((TypeError, ValueError), match=message):
        _grid(**options)
