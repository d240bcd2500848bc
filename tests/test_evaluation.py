"""Tests of genotutor.evaluation: ranking metrics against oracles, stability properties."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from genotutor import evaluation as ev


def _brute_auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    pos, neg = scores[labels == 1], scores[labels == 0]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return wins / (len(pos) * len(neg))


def _brute_average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    total, previous_recall = 0.0, 0.0
    for threshold in np.unique(scores)[::-1]:
        picked = scores >= threshold
        recall = labels[picked].sum() / labels.sum()
        precision = labels[picked].mean()
        total += (recall - previous_recall) * precision
        previous_recall = recall
    return total


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 1), st.integers(0, 5)), min_size=2, max_size=40).filter(
        lambda rows: len({r[0] for r in rows}) == 2
    )
)
def test_ranking_metrics_match_brute_force_with_ties(rows):
    labels = np.array([r[0] for r in rows], dtype=float)
    scores = np.array([r[1] for r in rows], dtype=float)
    assert ev.auroc(labels, scores) == pytest.approx(_brute_auroc(labels, scores))
    assert ev.average_precision(labels, scores) == pytest.approx(
        _brute_average_precision(labels, scores)
    )


def test_average_precision_matches_sklearn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    labels = rng.random(300) < 0.2
    scores = rng.normal(size=300) + labels
    scores = np.round(scores, 1)  # create ties
    assert ev.average_precision(labels, scores) == pytest.approx(
        metrics.average_precision_score(labels, scores)
    )


def _planted(n=6, length=50, seed=0):
    rng = np.random.default_rng(seed)
    mask = np.zeros((n, length), dtype=bool)
    for i in range(n - 1):  # the last sequence has no planted positions
        start = rng.integers(0, length - 8)
        mask[i, start : start + 8] = True
    return torch.from_numpy(mask)


def test_attribution_auroc_perfect_random_and_reduction():
    mask = _planted()
    perfect = torch.zeros(len(mask), 4, mask.shape[1])
    perfect[:, 2] = mask.float() * -3.0  # negative scores count by their size
    result = ev.attribution_auroc(perfect, mask)
    assert result.pooled == pytest.approx(1.0)
    assert np.isnan(result.per_sequence[-1])
    assert np.allclose(result.per_sequence[:-1], 1.0)
    assert result.mean == pytest.approx(1.0)
    auprc = ev.attribution_auprc(perfect, mask)
    assert auprc.pooled == pytest.approx(1.0)
    noise = torch.from_numpy(np.random.default_rng(1).random((200, 4, 50))).float()
    big_mask = torch.from_numpy(np.random.default_rng(2).random((200, 50)) < 0.1)
    assert abs(ev.attribution_auroc(noise, big_mask).pooled - 0.5) < 0.05
    chance = big_mask.float().mean().item()
    assert abs(ev.attribution_auprc(noise, big_mask).pooled - chance) < 0.05
    # (N, L) input is taken as already reduced
    reduced = ev.position_importance(perfect)
    assert reduced.shape == tuple(mask.shape)
    assert ev.attribution_auroc(torch.from_numpy(reduced), mask).pooled == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("scores", "mask", "message"),
    [
        (torch.zeros(2, 3, 10), torch.zeros(2, 10, dtype=torch.bool), "shape"),
        (torch.zeros(2, 4, 10), torch.zeros(2, 9, dtype=torch.bool), "truth_mask"),
        (torch.full((2, 4, 10), float("nan")), torch.zeros(2, 10, dtype=torch.bool), "NaN"),
        (torch.zeros(2, 4, 10), torch.zeros(2, 10, dtype=torch.bool), "true positions"),
        (torch.zeros(2, 4, 10), torch.full((2, 10), 2.0), "boolean"),
    ],
)
def test_attribution_auroc_rejects_bad_input(scores, mask, message):
    with pytest.raises(ValueError, match=message):
        ev.attribution_auroc(scores, mask)


def test_attribution_auroc_rejects_lists():
    with pytest.raises(TypeError, match="scores"):
        ev.attribution_auroc([[0.0, 1.0]], torch.tensor([[True, False]]))


def test_positional_jaccard_against_a_hand_computed_example():
    """Tseng et al.'s per-position Jaccard, by hand for one sequence of two positions.

    Position 0: a = (2, -2, 0, 0) -> (0.5, -0.5, 0, 0); b = (1, 1, 0, 0) -> (0.5, 0.5, 0, 0):
    inter = 0.5 - 0.5 = 0, union = 1 -> 0. Position 1: a = (0, 0, 3, 1) -> (0, 0, .75, .25);
    b = (0, 0, 1, 0) -> (0, 0, 1, 0): inter = 0.75, union = 1.25 -> 0.6. Sum: 0.6.
    """
    a = torch.tensor([[[2.0, 0.0], [-2.0, 0.0], [0.0, 3.0], [0.0, 1.0]]])
    b = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]])
    assert ev.positional_jaccard(a, b)[0] == pytest.approx(0.6)
    # per-position normalisation: rescaling one position of one map changes nothing
    scaled = b.clone()
    scaled[:, :, 1] *= 7.0
    assert ev.positional_jaccard(a, scaled)[0] == pytest.approx(0.6)
    x = torch.randn(3, 4, 10)
    assert np.allclose(ev.positional_jaccard(x, x), 10.0)  # identical maps: L
    zeros = torch.zeros(1, 4, 5)
    assert ev.positional_jaccard(zeros, zeros)[0] == 0.0
    with pytest.raises(ValueError, match="scores_a and scores_b"):
        ev.positional_jaccard(torch.zeros(2, 4, 5), torch.zeros(2, 4, 6))


def test_continuous_jaccard_formula_and_properties():
    a = torch.tensor([[1.0, -2.0, 0.0, 3.0]])
    b = torch.tensor([[2.0, 1.0, 0.0, 3.0]])
    # min|.|*sign agreement: 1 - 1 + 0 + 3 = 3; max|.|: 2 + 2 + 0 + 3 = 7
    assert ev.continuous_jaccard(a, b)[0] == pytest.approx(3 / 7)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(5, 4, 30)))
    y = torch.from_numpy(rng.normal(size=(5, 4, 30)))
    assert np.allclose(ev.continuous_jaccard(x, x), 1.0)
    assert np.allclose(ev.continuous_jaccard(x, -x), -1.0)
    assert np.allclose(ev.continuous_jaccard(x, y), ev.continuous_jaccard(y, x))
    assert np.all(np.abs(ev.continuous_jaccard(x, y)) <= 1.0)
    disjoint_a = torch.tensor([[1.0, 0.0]])
    disjoint_b = torch.tensor([[0.0, 1.0]])
    assert ev.continuous_jaccard(disjoint_a, disjoint_b)[0] == 0.0


def test_stability_table():
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(4, 4, 20)))
    table = ev.stability(x, 3.0 * x)
    assert list(table.columns) == ["cosine", "jaccard"]
    assert len(table) == 4
    assert np.allclose(table["cosine"], 1.0)
    assert np.all(table["jaccard"] < 1.0)  # Jaccard sees the scale ...
    assert np.allclose(ev.stability(x, 3.0 * x, normalize=True)["jaccard"], 1.0)  # ... unless
    expected = (x * -x).sum(dim=(1, 2)) / (x.norm(dim=(1, 2)) ** 2)
    assert np.allclose(ev.stability(x, -x)["cosine"], expected.numpy())
    with pytest.raises(ValueError, match="same shape"):
        ev.stability(x, x[:, :, :10])
    zero = torch.zeros(1, 4, 5)
    assert np.isnan(ev.stability(zero, zero)["cosine"][0])
