"""Scores against known answers: AUROC of predictions and of attributions, stability.

Taught in chapter 1 (held-out AUROC), chapter 2 (attributions vs planted truth; the
model-randomisation check is :mod:`genotutor.attribution.sanity`) and chapter 7 (stability
across seeds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from genotutor.validation import as_array


def _binary_pair(labels: object, scores: object) -> tuple[np.ndarray, np.ndarray]:
    """Validated ``(labels, scores)`` as flat float arrays of one size, labels in {0, 1}."""
    y, s = as_array(labels, "labels").ravel(), as_array(scores, "scores").ravel()
    if y.shape != s.shape:
        raise ValueError(f"labels and scores must have the same size; found {y.size} and {s.size}")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("labels must be 0 or 1")
    return y, s


def auroc(labels: object, scores: object) -> float:
    """Area under the ROC curve, the probability that a positive outranks a negative.

    Computed from ranks (Mann-Whitney U), ties counted as one half.

    Parameters
    ----------
    labels : array-like of {0, 1}, shape (N,)
    scores : array-like, shape (N,)

    Taught in chapter 1.
    """
    y, s = _binary_pair(labels, scores)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"labels need both classes; found {n_pos} positives and {n_neg} negatives")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(s.size, dtype=np.float64)
    sorted_scores = s[order]
    # Average ranks over ties.
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


# --------------------------------------------------------------------------- attributions
@dataclass(frozen=True)
class AttributionScore:
    """A ranking metric of attributions against planted truth.

    Attributes
    ----------
    pooled : float
        The metric over all positions of all sequences at once.
    per_sequence : numpy.ndarray, shape (N,)
        The metric within each sequence; NaN where a sequence has no true position (or
        only true positions), since the metric is undefined there.
    """

    pooled: float
    per_sequence: np.ndarray

    @property
    def mean(self) -> float:
        """Mean of the per-sequence values, ignoring undefined (NaN) ones."""
        defined = self.per_sequence[~np.isnan(self.per_sequence)]
        return float(defined.mean()) if defined.size else float("nan")


def position_importance(scores: object, name: str = "scores") -> np.ndarray:
    """Reduce ``(N, 4, L)`` attributions to one importance per position.

    The importance of a position is the absolute value of its scores summed over the
    four bases (for observed-base attributions that is the absolute score of the base
    that is there). An ``(N, L)`` input is taken as already reduced.

    Parameters
    ----------
    scores : torch.Tensor or numpy.ndarray, shape (N, 4, L) or (N, L)
    name : str
        The argument's name, for error messages.

    Returns
    -------
    numpy.ndarray, shape (N, L)

    Taught in chapter 2.
    """
    array = _as_array(scores, name)
    if array.ndim == 3:
        if array.shape[1] != 4:
            raise ValueError(
                f"{name} must have shape (N, 4, L) or (N, L); found shape {array.shape}"
            )
        return np.abs(array).sum(axis=1)
    if array.ndim == 2:
        return np.abs(array)
    raise ValueError(f"{name} must have shape (N, 4, L) or (N, L); found shape {array.shape}")


def _as_array(values: object, name: str) -> np.ndarray:
    if not isinstance(values, (torch.Tensor, np.ndarray)):
        found = type(values).__name__
        raise TypeError(f"{name} must be a torch.Tensor or numpy array; found {found}")
    return as_array(values, name)


def _importance_and_truth(scores: object, truth_mask: object) -> tuple[np.ndarray, np.ndarray]:
    importance = position_importance(scores)
    truth = _as_array(truth_mask, "truth_mask")
    if truth.shape != importance.shape:
        raise ValueError(
            f"truth_mask must have shape (N, L) = {importance.shape} to match scores; "
            f"found shape {truth.shape}"
        )
    if not np.isin(truth, (0.0, 1.0)).all():
        raise ValueError("truth_mask must be boolean (or 0/1)")
    return importance, truth.astype(bool)


def average_precision(labels: object, scores: object) -> float:
    """Area under the precision-recall curve, as average precision.

    ``sum_k (R_k - R_{k-1}) P_k`` over the distinct score thresholds, from the highest
    down (ties enter together), the usual step-wise estimate (scikit-learn's
    ``average_precision_score``). A random ranking scores about the fraction of positives.
    Takes what :func:`auroc` takes.

    Taught in chapter 2.
    """
    y, s = _binary_pair(labels, scores)
    n_pos = y.sum()
    if n_pos == 0:
        raise ValueError("labels have no positives; average precision is undefined")
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1]
    true_pos = np.cumsum(y)[last_of_tie]
    precision = true_pos / (last_of_tie + 1)
    recall = true_pos / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def _ranking_metric(metric, scores: object, truth_mask: object) -> AttributionScore:
    importance, truth = _importance_and_truth(scores, truth_mask)
    per_sequence = np.full(len(importance), np.nan)
    for i, (row, labels) in enumerate(zip(importance, truth, strict=True)):
        if 0 < labels.sum() < labels.size:
            per_sequence[i] = metric(labels, row)
    if not 0 < truth.sum() < truth.size:
        raise ValueError(
            f"truth_mask has {int(truth.sum())} true positions out of {truth.size}; "
            "expected both true and false positions"
        )
    return AttributionScore(metric(truth.ravel(), importance.ravel()), per_sequence)


def attribution_auroc(scores: object, truth_mask: object) -> AttributionScore:
    """How well attributions rank the planted (true) positions above the others: AUROC.

    Parameters
    ----------
    scores : torch.Tensor, shape (N, 4, L) or (N, L)
        Attributions; reduced by :func:`position_importance` (absolute value summed over
        bases) to one importance per position.
    truth_mask : torch.Tensor of bool, shape (N, L)
        True at the positions that should matter (``PlantedTask.mask``).

    Returns
    -------
    AttributionScore
        ``pooled`` over all positions, ``per_sequence`` within each sequence (NaN for a
        sequence without planted positions), and their ``mean``. 0.5 is chance.

    Taught in chapter 2.
    """
    return _ranking_metric(auroc, scores, truth_mask)


def attribution_auprc(scores: object, truth_mask: object) -> AttributionScore:
    """How well attributions rank the planted positions first: area under the PR curve.

    Same arguments and result as :func:`attribution_auroc`, with
    :func:`average_precision` as the metric. Chance is the fraction of true positions,
    so AUPRC is the stricter score when motifs cover a small part of each sequence.

    Taught in chapter 2.
    """
    return _ranking_metric(average_precision, scores, truth_mask)


# --------------------------------------------------------------------------- stability
def _flat_pairs(scores_a: object, scores_b: object) -> tuple[np.ndarray, np.ndarray]:
    a = _as_array(scores_a, "scores_a")
    b = _as_array(scores_b, "scores_b")
    if a.shape != b.shape:
        raise ValueError(
            f"scores_a and scores_b must have the same shape; found {a.shape} and {b.shape}"
        )
    if a.ndim < 2:
        raise ValueError(f"scores must have shape (N, 4, L) or (N, L); found shape {a.shape}")
    return a.reshape(len(a), -1), b.reshape(len(b), -1)


def cosine_similarity(scores_a: object, scores_b: object) -> np.ndarray:
    """Cosine similarity of two attribution maps, one value per sequence.

    Parameters
    ----------
    scores_a, scores_b : torch.Tensor, shape (N, 4, L) or (N, L)

    Returns
    -------
    numpy.ndarray, shape (N,)
        In [-1, 1]; NaN where either map is all zero.

    Taught in chapter 7.
    """
    a, b = _flat_pairs(scores_a, scores_b)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norms > 0, (a * b).sum(axis=1) / norms, np.nan)


def continuous_jaccard(scores_a: object, scores_b: object) -> np.ndarray:
    """Continuous (signed) Jaccard similarity of two attribution maps, one per sequence.

    ``sum_i min(|a_i|, |b_i|) sign(a_i) sign(b_i) / sum_i max(|a_i|, |b_i|)``, the
    similarity Tseng et al. (2020) and TF-MoDISco use: 1 for identical maps, 0 for maps
    with disjoint support, negative where the signs disagree. Unlike the cosine it is not
    invariant to rescaling one map, so compare maps on the same scale (or normalise each,
    e.g. to unit L1 norm, first).

    Takes and returns what :func:`cosine_similarity` does (maps of shape ``(N, 4, L)`` or
    ``(N, L)`` in, ``(N,)`` values in [-1, 1] out), NaN where both maps are all zero.

    Taught in chapter 7.
    """
    a, b = _flat_pairs(scores_a, scores_b)
    abs_a, abs_b = np.abs(a), np.abs(b)
    inter = (np.minimum(abs_a, abs_b) * np.sign(a) * np.sign(b)).sum(axis=1)
    union = np.maximum(abs_a, abs_b).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / union, np.nan)


def positional_jaccard(scores_a: object, scores_b: object) -> np.ndarray:
    """The continuous Jaccard of Tseng et al.'s notebooks: per position, summed over positions.

    Each position's scores are divided by their L1 norm over the bases, the signed
    :func:`continuous_jaccard` of each pair of positions (0 if both are zero) is **summed**
    over positions (values in ``[-L, L]``), as the authors' ``cont_jaccard`` does (notebook on
    consistency over initialisations), applied there to DeepSHAP hypothetical scores.

    Parameters
    ----------
    scores_a, scores_b : torch.Tensor, shape (N, 4, L)

    Returns
    -------
    numpy.ndarray, shape (N,)

    Taught in chapter 7.
    """
    a, b = _as_array(scores_a, "scores_a"), _as_array(scores_b, "scores_b")
    if a.shape != b.shape or a.ndim != 3:
        raise ValueError("scores_a and scores_b must be (N, 4, L) maps of one shape; found "
                         f"{a.shape} and {b.shape}")  # fmt: skip
    norms = [np.abs(m).sum(axis=1, keepdims=True) for m in (a, b)]
    rows = [np.moveaxis(m / np.where(n == 0, 1.0, n), 1, 2).reshape(-1, m.shape[1])
            for m, n in zip((a, b), norms, strict=True)]  # fmt: skip
    per_position = np.nan_to_num(continuous_jaccard(*rows), nan=0.0)
    return per_position.reshape(len(a), -1).sum(axis=1)


def stability(scores_a: object, scores_b: object, *, normalize: bool = False) -> pd.DataFrame:
    """Agreement of two attribution maps of the same sequences (e.g. two training seeds).

    Parameters
    ----------
    scores_a, scores_b : torch.Tensor, shape (N, 4, L) or (N, L)
        Two maps of the same N sequences.
    normalize : bool
        Divide each sequence's map by its L1 norm first (matters for the Jaccard only).

    Returns
    -------
    pandas.DataFrame
        One row per sequence, columns ``cosine`` and ``jaccard`` (continuous Jaccard).

    Taught in chapter 7.
    """
    a, b = _flat_pairs(scores_a, scores_b)
    if normalize:
        a = a / np.maximum(np.abs(a).sum(axis=1, keepdims=True), 1e-300)
        b = b / np.maximum(np.abs(b).sum(axis=1, keepdims=True), 1e-300)
    frame = pd.DataFrame({"cosine": cosine_similarity(a, b), "jaccard": continuous_jaccard(a, b)})
    frame.index.name = "sequence"
    return frame


# --------------------------------------------------------------------------- sanity check
