"""Surrogate models: libraries, recovery of planted parameters, gauges, variant effects."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from planted_libraries import planted_phi

from genotutor.sequences import random_sequences
from genotutor.surrogate import (
    explain_locus,
    fit_surrogate,
    fix_gauge,
    mutagenesis_library,
    single_mutants,
    variant_effects,
)


# --------------------------------------------------------------------------- libraries
def test_library_keeps_wild_type_first_and_mutates_at_the_rate():
    wild = random_sequences(1, 60, seed=3)[0]
    library = mutagenesis_library(wild, 4000, mutation_rate=0.1, seed=0)
    assert library.shape == (4000, 4, 60)
    assert torch.equal(library[0], wild)
    assert torch.all(library.sum(dim=1) == 1)  # still one-hot
    changed = (library.argmax(1) != wild.argmax(0)).sum(dim=1).float()
    assert abs(float(changed[1:].mean()) - 6.0) < 0.25  # Poisson mean = rate * L
    # Poisson: variance close to the mean
    assert abs(float(changed[1:].var()) - 6.0) < 1.0


def test_library_window_and_seed():
    wild = random_sequences(1, 50, seed=4)[0]
    library = mutagenesis_library(wild, 500, mutation_rate=0.3, window=(10, 20), seed=1)
    differs = library.argmax(1) != wild.argmax(0)
    assert not differs[:, :10].any() and not differs[:, 20:].any()
    assert differs[:, 10:20].any()
    again = mutagenesis_library(wild, 500, mutation_rate=0.3, window=(10, 20), seed=1)
    assert torch.equal(library, again)
    other = mutagenesis_library(wild, 500, mutation_rate=0.3, window=(10, 20), seed=2)
    assert not torch.equal(library, other)


@pytest.mark.parametrize("rate", [0.0, 1.0, -0.1, 1.5])
def test_library_rejects_rates_outside_unit_interval(rate):
    wild = random_sequences(1, 20, seed=0)[0]
    with pytest.raises(ValueError, match="mutation_rate must be in \\(0, 1\\)"):
        mutagenesis_library(wild, 10, mutation_rate=rate)


def test_library_rejects_bad_window_and_batches():
    wild = random_sequences(2, 20, seed=0)
    with pytest.raises(ValueError, match="x must be one sequence"):
        mutagenesis_library(wild, 10)
    with pytest.raises(ValueError, match="window must satisfy"):
        mutagenesis_library(wild[0], 10, window=(5, 30))


# --------------------------------------------------------------------------- recovery
def _additive_task(n: int, length: int, *, seed: int):
    """A library labelled by a known additive model through a known sigmoid, plus noise."""
    library, phi, theta, _ = planted_phi(n, length, seed=seed)
    y = 3.0 * torch.sigmoid(2.0 * phi) + 0.05 * torch.randn(
        n, generator=torch.Generator().manual_seed(seed)
    )
    return library, y, theta


def test_ge_fit_survives_a_library_with_few_mutations():
    """Rate 0.02 on 40 nt (0.8 mutations per mutant, 45 % wild type): labels that are flat
    except for rare large drops. The default GE start collapsed here to a constant (every
    weight at its bound b = 0, R^2 undefined); the start from the additive fit must not."""
    wild_type = random_sequences(1, 40, seed=3)[0]
    library = mutagenesis_library(wild_type, 2000, mutation_rate=0.02, seed=4)
    broken = (library[:, :, 10:16] != wild_type[:, 10:16]).any(dim=1).sum(dim=1).float()
    others = (library != wild_type).any(dim=1).sum(dim=1).float() - broken
    y = torch.sigmoid(4.0 - 5.0 * broken - 0.3 * others)
    for noise in ("gaussian", "skewed_t"):
        fit = fit_surrogate(library, y, noise=noise, seed=0, progress=False)
        assert float(fit.net.b.sum()) > 0 and fit.valid_r2 > 0.8, (noise, fit.valid_r2)


def test_additive_ge_recovers_planted_parameters():
    library, y, theta = _additive_task(6000, 30, seed=0)
    surrogate = fit_surrogate(library, y, progress=False, seed=0)
    estimate = surrogate.additive_params(gauge="hierarchical").to_numpy()
    truth = theta - theta.mean(axis=1, keepdims=True)  # the same (hierarchical) gauge
    assert np.corrcoef(estimate.ravel(), truth.ravel())[0, 1] >= 0.98
    assert surrogate.valid_r2 > 0.9
    # the GE nonlinearity is monotone and saturates like the planted sigmoid
    curve = surrogate.nonlinearity_curve()
    assert (np.diff(curve["y_hat"]) >= -1e-6).all()


def test_ge_beats_linear_on_a_saturating_truth():
    library, y, _ = _additive_task(4000, 20, seed=1)
    ge = fit_surrogate(library, y, progress=False)
    linear = fit_surrogate(library, y, nonlinearity="linear", progress=False)
    assert ge.valid_r2 > linear.valid_r2 + 0.02


def test_pairwise_recovers_a_planted_interaction():
    length, n = 8, 6000
    rng = np.random.default_rng(2)
    library = random_sequences(n, length, seed=2)  # all pairs observed often
    theta = rng.normal(scale=0.5, size=(length, 4))
    codes = library.argmax(1).numpy()
    phi = theta[np.arange(length), codes].sum(axis=1)
    phi = phi + 2.0 * ((codes[:, 1] == 2) & (codes[:, 5] == 0))  # G at 1 with A at 5
    y = torch.from_numpy(phi).float() + 0.1 * torch.randn(
        n, generator=torch.Generator().manual_seed(0)
    )
    surrogate = fit_surrogate(library, y, gpmap="pairwise", nonlinearity="linear", progress=False)
    pairs = surrogate.pairwise_params(gauge="hierarchical")
    strongest = np.unravel_index(np.abs(pairs).argmax(), pairs.shape)
    assert strongest[0] == 1 and strongest[2] == 5
    strength = surrogate.pairwise_strength(gauge="hierarchical").to_numpy()
    assert np.unravel_index(strength.argmax(), strength.shape) in {(1, 5), (5, 1)}
    # the additive surrogate cannot capture it: lower held-out fit
    additive = fit_surrogate(library, y, nonlinearity="linear", progress=False)
    assert surrogate.valid_r2 > additive.valid_r2 + 0.05


# --------------------------------------------------------------------------- gauges
@pytest.mark.parametrize("gpmap", ["additive", "pairwise"])
def test_gauge_fixing_leaves_predictions_unchanged(gpmap):
    library, y, _ = _additive_task(1500, 10, seed=3)
    surrogate = fit_surrogate(library, y, gpmap=gpmap, epochs=5, progress=False)
    phi = surrogate.predict(library, output="phi").double().numpy()
    x = library.transpose(1, 2).double().numpy()  # (N, L, 4)
    for gauge in ("empirical", "hierarchical", "wildtype"):
        theta_0, theta_lc, pairs = surrogate.parameters(gauge=gauge)
        rebuilt = theta_0 + np.einsum("nlc,lc->n", x, theta_lc)
        if pairs is not None:
            rebuilt = rebuilt + np.einsum("nac,acbd,nbd->n", x, pairs, x)
        assert np.allclose(rebuilt, phi, atol=1e-4), gauge


def test_fix_gauge_conditions_hold():
    rng = np.random.default_rng(0)
    length = 6
    theta = rng.normal(size=(length, 4))
    pairs = (
        rng.normal(size=(length, 4, length, 4))
        * np.triu(np.ones((length, length)), 1)[:, None, :, None]
    )
    p = rng.dirichlet(np.ones(4), size=length)
    _, fixed, fixed_pairs = fix_gauge(0.5, theta, pairs, p)
    assert np.allclose((fixed * p).sum(axis=1), 0)
    assert np.allclose(np.einsum("acbd,ac->abd", fixed_pairs, p), 0)
    assert np.allclose(np.einsum("acbd,bd->acb", fixed_pairs, p), 0)
    with pytest.raises(ValueError, match="rows must sum to 1"):
        fix_gauge(0.0, theta, None, p * 2)


def test_wildtype_gauge_equals_variant_effects_on_phi():
    library, y, _ = _additive_task(1500, 12, seed=4)
    surrogate = fit_surrogate(library, y, epochs=10, progress=False)
    effects = variant_effects(surrogate, output="phi")
    frame = surrogate.additive_params(gauge="wildtype")
    assert effects.shape == (4, 12)
    assert np.allclose(effects.T.numpy(), frame.to_numpy(), atol=1e-5)
    assert torch.all(effects[library[0].bool()] == 0)


def test_single_mutants_layout():
    x = random_sequences(1, 5, seed=0)[0]
    mutants = single_mutants(x)
    assert mutants.shape == (20, 4, 5)
    assert mutants[2 * 4 + 3, 3, 2] == 1 and mutants[2 * 4 + 3, :, 2].sum() == 1
    assert torch.equal(mutants[7][:, [0, 2, 3, 4]], x[:, [0, 2, 3, 4]])


# --------------------------------------------------------------------------- bad input
def test_bad_inputs_raise_clear_errors():
    library, y, _ = _additive_task(200, 10, seed=5)
    with pytest.raises(ValueError, match="NaN or infinite"):
        fit_surrogate(library, torch.where(torch.arange(200) == 7, float("nan"), y))
    with pytest.raises(ValueError, match="one label per library sequence"):
        fit_surrogate(library, y[:-1])
    with pytest.raises(ValueError, match="gpmap must be one of"):
        fit_surrogate(library, y, gpmap="cubic")
    with pytest.raises(ValueError, match="must be one-hot"):
        fit_surrogate(library * 2, y)
    surrogate = fit_surrogate(library, y, epochs=2, progress=False)
    with pytest.raises(
        ValueError, match="has length 12; this surrogate models sequences of length 10"
    ):
        surrogate.predict(random_sequences(3, 12, seed=0))
    with pytest.raises(ValueError, match="gauge must be one of"):
        surrogate.additive_params(gauge="consensus")
    with pytest.raises(ValueError, match="needs a surrogate fitted with gpmap='pairwise'"):
        surrogate.pairwise_params()


def test_explain_locus_on_a_model_matches_its_window():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4 * 30, 1))
    wild = random_sequences(1, 30, seed=6)[0]
    result = explain_locus(model, wild, n=1500, window=(5, 25), nonlinearity="linear", seed=0)
    assert result.library.shape == (1500, 4, 30) and result.y.shape == (1500,)
    frame = result.surrogate.additive_params(gauge="hierarchical")
    assert list(frame.index) == list(range(5, 25))
    # a linear model is its own additive surrogate: recovered weights match (centred)
    weights = model[1].weight.detach().reshape(4, 30)[:, 5:25].T.double().numpy()
    truth = weights - weights.mean(axis=1, keepdims=True)
    assert np.corrcoef(frame.to_numpy().ravel(), truth.ravel())[0, 1] > 0.99
    with pytest.raises(ValueError, match="target must be in"):
        explain_locus(model, wild, n=100, target=3)


def test_predictive_information_orders_fits():
    library, y, _ = _additive_task(2000, 15, seed=7)
    good = fit_surrogate(library, y, progress=False)
    noisy = y + 1.0 * torch.randn(len(y), generator=torch.Generator().manual_seed(1))
    clean, clean_se = good.predictive_information(library, y)
    blurred, blurred_se = good.predictive_information(library, noisy)
    assert clean > blurred + 3 * (clean_se + blurred_se) and blurred > 0
    assert 0 < clean_se < 0.1 and 0 < blurred_se < 0.1


# --------------------------------------------------------------------------- consistency, widget
def test_map_consistency_oracle():
    from genotutor.surrogate import map_consistency, motif_maps

    rng = np.random.default_rng(0)
    base = rng.normal(size=(4, 6))
    scores = np.zeros((3, 4, 20))
    scores[0, :, 2:8] = base
    scores[1, :, 10:16] = base[::-1, ::-1]  # the same motif on the minus strand
    scores[2, :, 5:11] = base
    import pandas as pd

    sites = pd.DataFrame({"start": [2, 10, 5], "end": [8, 16, 11], "strand": ["+", "-", "+"]})
    maps = motif_maps(scores, sites)
    assert maps.shape == (3, 4, 6)
    assert map_consistency(maps) == pytest.approx(1.0)
    noisy = maps + rng.normal(scale=1.0, size=maps.shape)
    assert map_consistency(noisy) < 0.9


def test_distances_from_mean_oracle():
    from genotutor.surrogate import distances_from_mean, map_scales

    rng = np.random.default_rng(1)
    base = rng.normal(size=(4, 6))
    # the same map, scaled and offset per position: zero error once standardised
    scales = np.array([1.0, 2.0, 0.5])
    maps = np.stack([s * base + rng.normal(size=(1, 6)) for s in scales])
    assert distances_from_mean(maps, scales) == pytest.approx(np.zeros(3), abs=1e-12)
    assert distances_from_mean(maps).max() > 0.5  # unstandardised, the scales differ
    # by hand: centred, Frobenius distance from the mean
    other = rng.normal(size=(5, 4, 6))
    centred = other - other.mean(axis=1, keepdims=True)
    expected = [np.sqrt(((c - centred.mean(0)) ** 2).sum()) for c in centred]
    assert distances_from_mean(other) == pytest.approx(expected)
    # map_scales: the std of each centred window
    scores = np.zeros((2, 4, 10))
    scores[:, :, 2:8] = other[:2]
    got = map_scales(scores, [(2, 8), (2, 8)])
    assert got == pytest.approx([centred[0].std(), centred[1].std()])
    with pytest.raises(ValueError, match="scales"):
        distances_from_mean(other, np.ones(4))
    with pytest.raises(ValueError, match="K >= 2"):
        distances_from_mean(other[:1])


# The grid of surrogates is tested in tests/test_surrogate_grid.py, its explorer in
# tests/test_widgets_surrogate.py.


# --------------------------------------------------------------------------- many loci
def _loci_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv1d(4, 4, 5), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * 36, 1)
    ).eval()


def _thetas(fits):
    return [fit.surrogate.net.theta.detach().clone() for fit in fits]


def test_explain_loci_is_the_same_serially_and_on_a_thread_pool():
    from concurrent.futures import ThreadPoolExecutor

    from genotutor.parallel import seed_of_task
    from genotutor.surrogate import explain_loci

    model, loci = _loci_model(), random_sequences(3, 40, seed=7)
    options = {"n": 300, "windows": (5, 30), "epochs": 4}
    serial = explain_loci(model, loci, seed=1, progress=False, **options)
    with ThreadPoolExecutor(3) as pool:
        threaded = explain_loci(model, loci, seed=1, executor=pool, progress=False, **options)
    assert len(serial) == 3 and all(fit.window == (5, 30) for fit in serial)
    for a, b in zip(_thetas(serial), _thetas(threaded)):
        assert torch.equal(a, b)
    for a, b in zip(serial, threaded):
        assert torch.equal(a.y, b.y)
    # each locus is seeded from (seed, index): locus 1 alone, with its own seed, agrees
    alone = explain_locus(model, loci[1], n=300, window=(5, 30), epochs=4,
                          seed=seed_of_task(1, 1), progress=False)  # fmt: skip
    assert torch.equal(alone.library, serial[1].library)
    assert len({seed_of_task(1, k) for k in range(100)}) == 100


@pytest.mark.slow
def test_explain_loci_on_a_dask_cluster_equals_the_serial_run():
    distributed = pytest.importorskip("distributed")
    from genotutor.surrogate import explain_loci

    model, loci = _loci_model(), random_sequences(3, 40, seed=7)
    options = {"n": 300, "windows": (5, 30), "epochs": 4}
    serial = explain_loci(model, loci, seed=1, progress=False, **options)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = explain_loci(
            model, loci, seed=1, executor=client.get_executor(), progress=False, **options
        )
    for a, b in zip(_thetas(serial), _thetas(remote)):
        assert torch.equal(a, b)


def test_explain_loci_rejects_bad_input():
    from genotutor.surrogate import explain_loci

    model, loci = _loci_model(), random_sequences(2, 40, seed=7)
    with pytest.raises(ValueError, match="windows has 3 entries for 2 loci"):
        explain_loci(model, loci, windows=[(0, 10)] * 3, n=50)
    with pytest.raises(TypeError, match="explain_loci sets 'window' per locus"):
        explain_loci(model, loci, n=50, window=(0, 10))
    with pytest.raises(TypeError, match="executor must be a concurrent.futures.Executor"):
        explain_loci(model, loci, n=50, executor="dask")
