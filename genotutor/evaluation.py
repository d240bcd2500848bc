"""Scores against known answers: AUROC of predictions and of attributions.

Taught in chapter 1 (held-out AUROC) and chapter 2 (attributions vs planted truth).
"""

from __future__ import annotations

import numpy as np
import torch


def _as_numpy(values: object, name: str) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size == 0:
        raise ValueError(f"{name} is empty; expected at least one value")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def auroc(labels: object, scores: object) -> float:
    """Area under the ROC curve, the probability that a positive outranks a negative.

    Computed from ranks (Mann-Whitney U), ties counted as one half.

    Parameters
    ----------
    labels : array-like of {0, 1}, shape (N,)
    scores : array-like, shape (N,)

    Taught in chapter 1.
    """
    y = _as_numpy(labels, "labels")
    s = _as_numpy(scores, "scores")
    if y.shape != s.shape:
        raise ValueError(f"labels and scores must have the same size; found {y.size} and {s.size}")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("labels must be 0 or 1")
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
