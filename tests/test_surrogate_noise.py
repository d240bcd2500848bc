"""Surrogate noise models (Gaussian, skewed t), log-likelihood and information estimates."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from planted_libraries import planted_phi
from scipy import integrate, stats

from genotutor.sequences import random_sequences
from genotutor.surrogate import (
    NoiseModel,
    fit_surrogate,
    knn_entropy,
    ksg_mutual_information,
    skewed_t_log_density,
    skewed_t_mode,
    skewed_t_quantile,
)

SHAPES = [(0.5, 2.0), (1.0, 1.0), (3.0, 0.7), (40.0, 2.0), (2.0, 2.0)]


# --------------------------------------------------------------------------- the density
@pytest.mark.parametrize(("a", "b"), SHAPES)
def test_skewed_t_density_integrates_to_one(a, b):
    def density(t: float) -> float:
        return math.exp(float(skewed_t_log_density(np.array([t]), a, b)[0]))

    total, _ = integrate.quad(density, -np.inf, np.inf, limit=200)
    assert total == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(("a", "b"), SHAPES)
def test_skewed_t_mode_is_the_maximum_and_quantiles_invert_the_cdf(a, b):
    mode = float(skewed_t_mode(a, b))
    grid = mode + np.linspace(-0.05, 0.05, 101)
    values = skewed_t_log_density(grid, a, b).numpy()
    assert abs(grid[values.argmax()] - mode) <= 1e-3

    def density(t: float) -> float:
        return math.exp(float(skewed_t_log_density(np.array([t]), a, b)[0]))

    for q in (0.16, 0.5, 0.84):
        t_q = float(skewed_t_quantile(q, a, b))
        assert integrate.quad(density, -np.inf, t_q, limit=200)[0] == pytest.approx(q, abs=1e-6)


def test_skewed_t_is_student_t_when_symmetric_and_skews_with_a_minus_b():
    t = np.linspace(-8, 8, 41)
    for a in (0.5, 2.5, 30.0):
        expected = stats.t(df=2 * a).logpdf(t)
        assert np.allclose(skewed_t_log_density(t, a, a).numpy(), expected, atol=1e-10)
        assert float(skewed_t_mode(a, a)) == 0.0
    # a > b: heavier right tail; swapping a and b mirrors the density
    assert np.allclose(skewed_t_log_density(t, 3.0, 1.0), skewed_t_log_density(-t, 1.0, 3.0))
    right, left = skewed_t_quantile([0.99, 0.01], 3.0, 1.0) - float(skewed_t_mode(3.0, 1.0))
    assert right > -left


def test_noise_layer_reduces_to_the_gaussian_and_the_shifted_scaled_skewed_t():
    y_hat = torch.linspace(-1.5, 1.5, 7, dtype=torch.float64)
    y = y_hat + torch.linspace(-2, 2, 7, dtype=torch.float64)
    gaussian = NoiseModel("heteroscedastic")
    with torch.no_grad():
        gaussian.w_s.copy_(torch.tensor([-0.3, 0.2, 0.1]))
    sigma = torch.exp(-0.3 + 0.2 * y_hat + 0.1 * y_hat**2)
    expected = stats.norm(y_hat.numpy(), sigma.numpy()).logpdf(y.numpy())
    assert np.allclose(gaussian.log_likelihood(y, y_hat).detach().numpy(), expected, atol=1e-6)
    skewed = NoiseModel("skewed_t")
    with torch.no_grad():
        skewed.w_a.copy_(torch.tensor([1.0, 0.3, 0.0]))
        skewed.w_b.copy_(torch.tensor([0.2, 0.0, -0.1]))
        skewed.w_s.copy_(torch.tensor([-0.5, 0.0, 0.0]))
    params = skewed.parameters_at(y_hat)
    a, b, s = params["a"], params["b"], params["s"]
    t = skewed_t_mode(a, b) + (y - y_hat) / s
    assert torch.allclose(skewed.log_likelihood(y, y_hat), skewed_t_log_density(t, a, b) - s.log())
    # y_hat is the mode of p(y | y_hat); the 16 % and 84 % quantiles bracket it
    low, high = skewed.quantile(y_hat, 0.16), skewed.quantile(y_hat, 0.84)
    assert torch.all(low < y_hat) and torch.all(high > y_hat)


def test_noise_errors_name_the_argument():
    with pytest.raises(ValueError, match="a must be > 0"):
        skewed_t_log_density(0.0, -1.0, 2.0)
    with pytest.raises(ValueError, match="b must be > 0"):
        skewed_t_mode(1.0, 0.0)
    with pytest.raises(ValueError, match="q must be in \\(0, 1\\)"):
        skewed_t_quantile(1.0, 1.0, 1.0)
    with pytest.raises(TypeError, match="t must be a tensor or array of numbers"):
        skewed_t_log_density("zero", 1.0, 1.0)
    with pytest.raises(ValueError, match="noise must be one of 'gaussian', 'heteroscedastic', "):
        NoiseModel("cauchy")


# --------------------------------------------------------------------------- fitting
def _skewed_task(n: int, length: int, *, seed: int):
    """Planted additive effects through a sigmoid, plus right-skewed (gamma) noise."""
    library, phi, theta, rng = planted_phi(n, length, seed=seed)
    noise = torch.from_numpy(rng.gamma(1.5, 1.0, size=n) - 1.5).float()
    return library, 3.0 * torch.sigmoid(2.0 * phi) + 0.3 * noise, theta


def test_skewed_t_fits_skewed_noise_better_and_recovers_the_planted_effects():
    library, y, theta = _skewed_task(3000, 15, seed=0)
    truth = theta - theta.mean(axis=1, keepdims=True)  # the hierarchical gauge
    fits = {kind: fit_surrogate(library, y, noise=kind, progress=False) for kind in
            ("gaussian", "skewed_t")}  # fmt: skip
    for fit in fits.values():
        estimate = fit.additive_params(gauge="hierarchical").to_numpy()
        assert np.corrcoef(estimate.ravel(), truth.ravel())[0, 1] >= 0.98
    gaussian, skewed = fits["gaussian"], fits["skewed_t"]
    held = skewed.valid_index
    assert np.array_equal(held, gaussian.valid_index)  # the same split: comparable scores
    assert skewed.valid_log_likelihood > gaussian.valid_log_likelihood + 0.1
    assert skewed.valid_log_likelihood == pytest.approx(
        skewed.log_likelihood(library[held], y[held])
    )
    # I_var <= I_pred; the better noise model closes most of the gap
    x, labels = library[held], y[held]
    gaps = {}
    for kind, fit in fits.items():
        i_var, _ = fit.variational_information(x, labels)
        i_pred, _ = fit.predictive_information(x, labels)
        gaps[kind] = i_pred - i_var
    assert gaps["skewed_t"] < 0.5 * gaps["gaussian"]
    # the band of the fitted noise is lopsided the way the planted noise is
    curve = skewed.nonlinearity_curve()
    assert ((curve["upper"] - curve["y_hat"]) > (curve["y_hat"] - curve["lower"])).mean() > 0.9


def test_log_likelihood_is_in_the_units_of_y():
    library, y, _ = _skewed_task(600, 8, seed=1)
    fit = fit_surrogate(library, y, noise="gaussian", epochs=20, progress=False)
    y_hat = fit.predict(library).double()
    with torch.no_grad():
        sigma = float(fit.net.noise_model.parameters_at(torch.zeros(1))["s"][0] * fit.net.y_scale)
    expected = stats.norm(y_hat.numpy(), sigma).logpdf(y.double().numpy()).mean()
    assert fit.log_likelihood(library, y) == pytest.approx(expected, abs=1e-4)
    with pytest.raises(ValueError, match="one label per library sequence"):
        fit.log_likelihood(library, y[:-1])
    with pytest.raises(ValueError, match="band\\[1\\] must be in"):
        fit.nonlinearity_curve(band=(0.2, 1.5))


# --------------------------------------------------------------------------- information
def test_ksg_and_entropy_estimators_match_gaussian_closed_forms():
    rng = np.random.default_rng(0)
    rho, sd = 0.8, 3.0
    x = rng.standard_normal(4000)
    y = sd * (rho * x + math.sqrt(1 - rho**2) * rng.standard_normal(4000))
    mi, mi_se = ksg_mutual_information(x, y, fuzz=0.0)
    assert mi == pytest.approx(-0.5 * math.log2(1 - rho**2), abs=0.03)
    assert 0 < mi_se < 0.03
    entropy, entropy_se = knn_entropy(y, fuzz=0.0)
    assert entropy == pytest.approx(0.5 * math.log2(2 * math.pi * math.e * sd**2), abs=0.05)
    assert 0 < entropy_se < 0.05
    assert ksg_mutual_information(x, rng.standard_normal(4000))[0] == pytest.approx(0, abs=0.05)
    # seeded: the same numbers twice
    assert ksg_mutual_information(x, y) == ksg_mutual_information(x, y)


def test_information_estimators_reject_bad_input():
    with pytest.raises(ValueError, match="x and y must have the same length"):
        ksg_mutual_information(np.arange(50.0), np.arange(40.0))
    with pytest.raises(ValueError, match="x has 10 values"):
        ksg_mutual_information(np.arange(10.0), np.arange(10.0))
    with pytest.raises(ValueError, match="subsamples must be >= 2"):
        knn_entropy(np.arange(100.0), subsamples=1)
    with pytest.raises(ValueError, match="fuzz must be in"):
        knn_entropy(np.arange(100.0), fuzz=-1.0)
    with pytest.raises(TypeError, match="neighbours must be an integer"):
        knn_entropy(np.arange(100.0), neighbours=2.5)


def test_scores_and_held_out_of_a_locus():
    from genotutor.surrogate import explain_locus

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4 * 30, 1), torch.nn.Tanh())
    wild = random_sequences(1, 30, seed=6)[0]
    result = explain_locus(model, wild, n=800, window=(5, 25), noise="skewed_t", epochs=15,
                           seed=0, progress=False)  # fmt: skip
    x, y = result.held_out()
    assert x.shape == (len(result.surrogate.valid_index), 4, 20) and y.shape == (len(x),)
    scores = result.surrogate.scores(x, y)
    assert set(scores) == {"r2", "log_likelihood", "I_var", "dI_var", "I_pred", "dI_pred"}
    assert scores["log_likelihood"] == pytest.approx(result.surrogate.valid_log_likelihood)
    assert scores["r2"] == pytest.approx(result.surrogate.valid_r2)
    assert scores["dI_var"] > 0 and scores["dI_pred"] > 0
