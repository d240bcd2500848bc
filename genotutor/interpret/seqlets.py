"""Seqlets: the high-scoring windows of an attribution track, the first step of motif
discovery from attributions.

A simple thresholded rule, kept as a stepping stone: the top windows whose summed score is
above a quantile of all window sums. TF-MoDISco (:func:`genotutor.interpret.discover_motifs`,
chapter 4) calls seqlets against a null and clusters them into patterns; genotutor does
not re-implement that clustering.

Taught in chapter 3.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from genotutor.sequences import check_one_hot, check_positive_int, check_tensor


def _check_scores(scores: object, x: torch.Tensor) -> torch.Tensor:
    scores = check_tensor(scores, "scores")
    if scores.shape != x.shape:
        raise ValueError(
            f"scores must have the shape of x {tuple(x.shape)}; found {tuple(scores.shape)}"
        )
    return scores


def extract_seqlets(
    scores: torch.Tensor,
    x: torch.Tensor,
    *,
    width: int = 10,
    flank: int = 5,
    quantile: float = 0.99,
    max_per_sequence: int = 3,
) -> pd.DataFrame:
    """The highest-scoring windows of each sequence's attribution track.

    The track is the score of the observed base at each position (``(scores * x).sum(1)``);
    windows of ``width`` positions are summed, and the best window is taken greedily,
    its neighbourhood blanked, and again, while the window sum exceeds the ``quantile`` of
    all window sums in the batch and the sequence has fewer than ``max_per_sequence``
    seqlets. Each seqlet is the window plus ``flank`` bases either side; seqlets that would
    run off the sequence are dropped.

    Parameters
    ----------
    scores : torch.Tensor, shape (N, 4, L)
        Attributions (e.g. from :func:`genotutor.attribution.attribute`).
    x : torch.Tensor, shape (N, 4, L)
        The one-hot sequences they explain.
    width, flank : int
        Core width and flank of a seqlet.
    quantile : float
        In (0, 1): the threshold is this quantile of all window sums.
    max_per_sequence : int

    Returns
    -------
    pandas.DataFrame
        One row per seqlet: ``sequence``, ``start``, ``end`` (exclusive, flanks included),
        ``score`` (the core window sum). Sorted by decreasing score.

    Taught in chapter 3.
    """
    x = check_one_hot(x, "x")
    scores = _check_scores(scores, x)
    width = check_positive_int(width, "width")
    flank = check_positive_int(flank, "flank", minimum=0)
    max_per_sequence = check_positive_int(max_per_sequence, "max_per_sequence")
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must be in (0, 1); found {quantile}")
    length = x.shape[-1]
    if length < width + 2 * flank:
        raise ValueError(
            f"sequences of length {length} are shorter than a seqlet ({width + 2 * flank})"
        )
    track = (scores * x).sum(dim=1, keepdim=True).double()  # (N, 1, L)
    sums = torch.nn.functional.conv1d(track, torch.ones(1, 1, width, dtype=track.dtype))[:, 0]
    cutoff = float(torch.quantile(sums.flatten(), quantile))
    rows = []
    for i, row in enumerate(sums.numpy()):
        row = row.copy()
        row[:flank] = -np.inf  # a seqlet with its flanks must fit in the sequence
        row[length - width - flank + 1 :] = -np.inf
        for _ in range(max_per_sequence):
            best = int(np.argmax(row))
            if not row[best] > cutoff:
                break
            rows.append((i, best - flank, best + width + flank, float(row[best])))
            row[max(0, best - width) : best + width] = -np.inf
    table = pd.DataFrame(rows, columns=["sequence", "start", "end", "score"])
    return table.sort_values("score", ascending=False, ignore_index=True)
