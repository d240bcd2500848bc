"""Tests of genotutor.priors: the Fourier attribution prior against a direct numpy oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from genotutor import priors
from genotutor.models import DeepBind


# --------------------------------------------------------------------------- oracle
def numpy_penalty(track: np.ndarray, freq_limit: int, softness, sigma: float) -> np.ndarray:
    """Steps 2 to 5 written out in numpy, one row at a time, from the paper and the authors'
    code (Gaussian truncated at one sigma; normalise including DC, then drop DC; weights
    indexed from the first non-DC frequency)."""
    radius = int(sigma + 0.5)
    if sigma > 0 and radius > 0:
        t = np.arange(-radius, radius + 1)
        kernel = np.exp(-(t**2) / (2 * sigma**2))
        kernel /= kernel.sum()
    else:
        kernel = np.ones(1)
    out = []
    for row in track.astype(np.float64):
        smoothed = np.convolve(row, kernel, mode="same")
        mags = np.abs(np.fft.rfft(smoothed))
        mags = mags / mags.sum() if mags.sum() > 0 else mags
        mags = mags[1:]
        weights = np.ones_like(mags)
        past = len(mags) - freq_limit
        if past > 0:
            j = np.arange(1, past + 1, dtype=np.float64)
            weights[freq_limit:] = 0.0 if softness is None else 1.0 / (1.0 + j**softness)
        out.append(1.0 - np.sum(weights * mags))
    return np.array(out)


@pytest.mark.parametrize("length", [64, 63, 200])
@pytest.mark.parametrize(
    ("freq_limit", "softness", "sigma"),
    [(10, 0.2, 3.0), (5, None, 3.0), (20, 0.5, 0.0), (3, 0.2, 1.0), (31, 0.2, 2.0)],
)
def test_penalty_matches_numpy_oracle(length, freq_limit, softness, sigma):
    rng = np.random.default_rng(length + freq_limit)
    track = np.abs(rng.normal(size=(6, length))) * rng.random((6, 1))
    track[2] = 0.0  # an all-zero row: magnitudes stay zero, penalty 1
    got = priors.fourier_penalty(
        torch.tensor(track, dtype=torch.float64),
        freq_limit=freq_limit,
        limit_softness=softness,
        smooth_sigma=sigma,
    )
    np.testing.assert_allclose(
        got.numpy(), numpy_penalty(track, freq_limit, softness, sigma), atol=1e-10
    )
    assert got[2].item() == pytest.approx(1.0)


def test_kernel_matches_scipy_gaussian_truncated_at_one_sigma():
    ndimage = pytest.importorskip("scipy.ndimage")
    for sigma in (1, 2, 3, 5):
        delta = np.zeros(2 * sigma + 1)
        delta[sigma] = 1.0
        expected = ndimage.gaussian_filter(delta, sigma=sigma, truncate=1.0)
        np.testing.assert_allclose(priors.gaussian_kernel(sigma).numpy(), expected, atol=1e-6)
    assert priors.gaussian_kernel(0).tolist() == [1.0]


def test_weights_follow_authors_indexing():
    weights = priors.frequency_weights(100, freq_limit=30, limit_softness=0.2)
    assert torch.all(weights[:30] == 1.0)  # frequencies 1..30 (index k-1) keep weight 1
    assert weights[30].item() == pytest.approx(0.5)  # frequency 31 is j = 1: 1 / (1 + 1)
    assert weights[31].item() == pytest.approx(1 / (1 + 2**0.2))
    assert torch.all(weights[30:].diff() < 0)
    hard = priors.frequency_weights(100, freq_limit=30, limit_softness=None)
    assert hard[:30].sum() == 30 and hard[30:].sum() == 0


# --------------------------------------------------------------------------- properties
def test_smooth_track_is_near_its_minimum_and_noise_is_penalised():
    length, freq_limit = 200, 30
    positions = torch.arange(length, dtype=torch.float64)
    bump = torch.exp(-0.5 * ((positions - 100) / 4.0) ** 2)[None]
    noise = torch.randn(8, length, generator=torch.Generator().manual_seed(0)).abs().double()
    penalty_bump = priors.fourier_penalty(bump, freq_limit=freq_limit).item()
    penalty_noise = priors.fourier_penalty(noise, freq_limit=freq_limit)
    # For a nonnegative track the loss is at least the DC share of the magnitudes; a smooth
    # bump puts essentially nothing past the cutoff, so it sits at that bound.
    mags = torch.fft.rfft(priors.smooth_track(bump), dim=-1).abs()
    dc_share = (mags[:, 0] / mags.sum(dim=-1)).item()
    assert dc_share <= penalty_bump <= dc_share + 0.01
    assert penalty_bump < 0.25
    assert torch.all(penalty_noise > penalty_bump + 0.3)
    assert priors.high_frequency_mass(bump, freq_limit=freq_limit).item() < 0.01
    assert torch.all(priors.high_frequency_mass(noise, freq_limit=freq_limit) > 0.5)
    constant = torch.full((2, length), 3.0, dtype=torch.float64)
    constant[1] = 0.0
    assert priors.high_frequency_mass(constant, freq_limit=freq_limit).tolist() == [0.0, 0.0]


class Linear(nn.Module):
    """logits_t = sum(W_t * x) + b_t: the input gradient of task t is W_t exactly."""

    def __init__(self, weight: torch.Tensor) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(torch.zeros(len(weight)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("ncl,tcl->nt", x, self.weight) + self.bias


def _one_hot(n: int, length: int, seed: int) -> torch.Tensor:
    codes = torch.randint(0, 4, (n, length), generator=torch.Generator().manual_seed(seed))
    return nn.functional.one_hot(codes, 4).permute(0, 2, 1).double()


def test_loss_equals_the_five_steps_for_a_linear_model():
    weight = torch.randn(2, 4, 80, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    model = Linear(weight.clone()).double()
    x = _one_hot(7, 80, seed=2)
    positives = torch.tensor([True, False, True, True, False, True, False])
    options = {"freq_limit": 12, "limit_softness": 0.2, "smooth_sigma": 3.0}
    for target, grad in ((None, weight.sum(0)), (1, weight[1])):
        loss = priors.fourier_prior_loss(model, x, target=target, positives=positives, **options)
        track = (grad[None] * x).abs().sum(1)[positives].numpy()
        expected = numpy_penalty(track, 12, 0.2, 3.0).mean()
        assert loss.ndim == 0
        assert loss.item() == pytest.approx(expected, abs=1e-10)


def test_gradients_flow_to_every_parameter():
    torch.manual_seed(0)
    model = DeepBind(n_filters=8, hidden=8, dropout=0.0)
    x = _one_hot(16, 100, seed=3).float()
    loss = priors.fourier_prior_loss(model, x, freq_limit=15)
    loss.backward()
    conv_grad = model.conv.weight.grad
    assert conv_grad is not None and torch.isfinite(conv_grad).all() and conv_grad.abs().sum() > 0
    assert model.dense.weight.grad.abs().sum() > 0


def test_extra_loss_uses_positive_examples_only():
    weight = torch.randn(1, 4, 50, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    model = Linear(weight).double()
    x = _one_hot(6, 50, seed=5)
    y = torch.tensor([[1.0], [0.0], [1.0], [0.0], [0.0], [1.0]], dtype=torch.float64)
    extra = priors.fourier_extra_loss(freq_limit=8)
    direct = priors.fourier_prior_loss(model, x, freq_limit=8, positives=y[:, 0] == 1)
    assert extra(model, x, y).item() == pytest.approx(direct.item())
    none = extra(model, x, torch.zeros_like(y))
    assert none.item() == 0.0
    none.backward()  # still attached to the weights, so fit can backpropagate it


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"freq_limit": 0}, ValueError, "freq_limit must be >= 1"),
        ({"freq_limit": 33}, ValueError, "at most L // 2 = 32"),
        ({"freq_limit": 2.5}, TypeError, "freq_limit must be an integer"),
        ({"freq_limit": 5, "smooth_sigma": -1}, ValueError, "smooth_sigma"),
        ({"freq_limit": 5, "limit_softness": "soft"}, TypeError, "limit_softness"),
    ],
)
def test_penalty_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        priors.fourier_penalty(torch.rand(3, 64), **kwargs)


def test_penalty_rejects_bad_tracks():
    with pytest.raises(ValueError, match=r"track must have shape"):
        priors.fourier_penalty(torch.rand(2, 4, 64), freq_limit=5)
    with pytest.raises(TypeError, match="track must be a torch.Tensor"):
        priors.fourier_penalty(np.ones((2, 64)), freq_limit=5)


def test_loss_rejects_bad_positives_and_target():
    model = DeepBind(n_filters=4, hidden=4)
    x = _one_hot(4, 60, seed=6).float()
    with pytest.raises(TypeError, match=r"positives must be a bool tensor of shape \(4,\)"):
        priors.fourier_prior_loss(model, x, freq_limit=5, positives=torch.ones(4))
    with pytest.raises(ValueError, match=r"positives must have shape \(4,\)"):
        priors.fourier_prior_loss(model, x, freq_limit=5, positives=torch.ones(3, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"target must be in \[0, 0\]"):
        priors.fourier_prior_loss(model, x, freq_limit=5, target=3)


# The explorer's tests are in tests/test_widgets_priors.py.


# --------------------------------------------------------------------------- training
@pytest.mark.slow
def test_training_with_the_prior_lowers_high_frequency_mass():
    from genotutor.studies.fourier_prior import prior_experiment

    torch.set_num_threads(1)
    options = dict(train_sizes=(600,), seeds=(0, 1), n=1000, epochs=10, progress=False)
    experiment = prior_experiment(weight=0.1, **options)
    runs = experiment.runs.set_index(["prior", "seed"])
    for seed in (0, 1):  # same data, same seed, same initial weights: only the prior differs
        assert runs.loc[(True, seed), "high_freq_mass"] < runs.loc[(False, seed), "high_freq_mass"]
    assert set(experiment.models) == {
        (600, flag, seed) for flag in (False, True) for seed in (0, 1)
    }
    # one pair of seeds per condition, similarities in [-1, 1]
    assert len(experiment.stability) == 2
    assert experiment.stability[["cosine", "jaccard"]].abs().le(1).all().all()
    summary = experiment.summary()
    assert list(summary.columns) == [
        "test_auroc",
        "attribution_auroc",
        "high_freq_mass",
        "cosine",
        "jaccard",
    ]
    text = experiment.verdict(600)
    assert text.startswith("600 training sequences: cosine")
    assert ("holds." in text) != ("does not hold" in text)
    with pytest.raises(ValueError, match=r"train_size must be one of \[600\]"):
        experiment.verdict(123)
    # a second call reads everything back from the cache and gives the same numbers
    again = prior_experiment(weight=0.1, **options)
    pd.testing.assert_frame_equal(again.runs, experiment.runs)


def test_experiment_rejects_bad_sizes():
    from genotutor.studies.fourier_prior import prior_experiment

    with pytest.raises(ValueError, match="train_sizes must be at most 80"):
        prior_experiment(train_sizes=(500,), n=100, progress=False)
    with pytest.raises(ValueError, match="freq_limit must be at most L // 2 = 100"):
        prior_experiment(freq_limit=150, progress=False)
