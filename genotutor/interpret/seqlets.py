"""Motif discovery from attributions: cut high-scoring windows (seqlets), cluster them,
and summarise each cluster as a logo.

A short, readable stand-in for TF-MoDISco (Shrikumar et al.; modisco-lite): seqlets are
the top windows of the attribution track, and clustering is a greedy pass that aligns each
seqlet (best shift and strand, by cosine similarity of its scores) to the clusters found so
far, or starts a new one.

Taught in chapter 3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from genotutor.motifs import best_matches, counts_to_probs, trim_motif
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


@dataclass
class SeqletClusters:
    """What :func:`cluster_seqlets` returns.

    Attributes
    ----------
    members : pandas.DataFrame
        One row per clustered seqlet: ``sequence``, ``start`` (after alignment), ``strand``,
        ``similarity`` (to its cluster when it joined) and ``cluster``.
    cwms : list of np.ndarray, shape (4, W)
        Contribution-weight matrices: the mean aligned scores of each cluster.
    ppms : list of np.ndarray, shape (4, W)
        Base probabilities of the aligned seqlets of each cluster.
    """

    members: pd.DataFrame
    cwms: list[np.ndarray]
    ppms: list[np.ndarray]

    def sizes(self) -> pd.Series:
        """Number of seqlets per cluster."""
        return self.members.groupby("cluster").size().rename("seqlets")

    def match(self, *, database: dict | None = None, min_information: float = 0.3) -> pd.DataFrame:
        """Best JASPAR match of each cluster's PPM (trimmed), with the cluster's size."""
        trimmed = {
            c: trim_motif(p, min_information=min_information) for c, p in enumerate(self.ppms)
        }
        table = best_matches(trimmed, database=database)
        return self.sizes().to_frame().join(table).rename_axis("cluster")


def _windows(padded: torch.Tensor, seqlets: pd.DataFrame, shift: int, span: int) -> torch.Tensor:
    """Windows ``[start + s, start + s + span)`` for every seqlet and shift s, (K, S, 4, span)."""
    offsets = torch.arange(-shift, shift + 1)
    starts = torch.as_tensor(seqlets["start"].to_numpy().copy()) + shift  # into the padded tensor
    index = starts[:, None, None] + offsets[None, :, None] + torch.arange(span)[None, None, :]
    rows = torch.as_tensor(seqlets["sequence"].to_numpy().copy())
    picked = padded[rows[:, None, None], :, index]  # (K, S, span, 4)
    return picked.permute(0, 1, 3, 2)


def cluster_seqlets(
    scores: torch.Tensor,
    x: torch.Tensor,
    seqlets: pd.DataFrame,
    *,
    max_shift: int = 4,
    min_similarity: float = 0.7,
    min_size: int = 10,
) -> SeqletClusters:
    """Greedy clustering of seqlets by the cosine similarity of their aligned scores.

    Seqlets are visited from the highest score down. Each is compared, at every shift in
    ``[-max_shift, max_shift]`` and on both strands, with the running sum of every cluster
    so far; it joins the most similar one if the cosine similarity reaches
    ``min_similarity``, else it starts a new cluster. Clusters smaller than ``min_size``
    are dropped at the end.

    Parameters
    ----------
    scores : torch.Tensor, shape (N, 4, L)
    x : torch.Tensor, shape (N, 4, L)
    seqlets : pandas.DataFrame
        From :func:`extract_seqlets` (all of one width).
    max_shift : int
    min_similarity : float
        In (-1, 1].
    min_size : int

    Returns
    -------
    SeqletClusters

    Taught in chapter 3.
    """
    x = check_one_hot(x, "x")
    scores = _check_scores(scores, x)
    max_shift = check_positive_int(max_shift, "max_shift", minimum=0)
    min_size = check_positive_int(min_size, "min_size")
    if not -1 < min_similarity <= 1:
        raise ValueError(f"min_similarity must be in (-1, 1]; found {min_similarity}")
    needed = {"sequence", "start", "end"}
    if not isinstance(seqlets, pd.DataFrame) or not needed <= set(seqlets.columns):
        raise ValueError(
            f"seqlets must be a DataFrame with columns {sorted(needed)} (extract_seqlets)"
        )
    spans = (seqlets["end"] - seqlets["start"]).unique()
    if len(seqlets) == 0 or len(spans) != 1:
        raise ValueError(
            f"seqlets must be non-empty and of one width; found widths {sorted(spans)}"
        )
    span = int(spans[0])
    observed = (scores * x).double()
    pad = (max_shift, max_shift)
    windows = _windows(torch.nn.functional.pad(observed, pad), seqlets, max_shift, span)
    bases = _windows(torch.nn.functional.pad(x.double(), pad), seqlets, max_shift, span)
    candidates = torch.stack([windows, windows.flip(-2, -1)], dim=2)  # (K, S, 2, 4, span)
    candidate_bases = torch.stack([bases, bases.flip(-2, -1)], dim=2)
    norms = candidates.flatten(3).norm(dim=-1).clamp_min(1e-12)  # (K, S, 2)
    centre = max_shift
    sums: list[torch.Tensor] = []
    counts: list[torch.Tensor] = []
    rows = []
    seqlet_rows, seqlet_starts = seqlets["sequence"].to_numpy(), seqlets["start"].to_numpy()
    for k in range(len(seqlets)):
        best_c, best_sim, best_s, best_strand = -1, -np.inf, centre, 0
        if sums:
            profiles = torch.stack(sums)  # (C, 4, span)
            unit = profiles / profiles.flatten(1).norm(dim=-1).clamp_min(1e-12)[:, None, None]
            flat_candidates = candidates[k].reshape(-1, unit[0].numel())  # (S * 2, 4 * span)
            sim = (unit.flatten(1) @ flat_candidates.T).reshape(len(sums), -1, 2) / norms[k][None]
            flat = int(sim.argmax())
            best_c, rest = divmod(flat, sim.shape[1] * 2)
            best_s, best_strand = divmod(rest, 2)
            best_sim = float(sim[best_c, best_s, best_strand])
        if best_sim >= min_similarity:
            sums[best_c] = sums[best_c] + candidates[k, best_s, best_strand]
            counts[best_c] = counts[best_c] + candidate_bases[k, best_s, best_strand]
            cluster, similarity = best_c, best_sim
        else:
            sums.append(candidates[k, centre, 0].clone())
            counts.append(candidate_bases[k, centre, 0].clone())
            cluster, similarity, best_s, best_strand = len(sums) - 1, 1.0, centre, 0
        start = int(seqlet_starts[k]) + best_s - max_shift
        rows.append((int(seqlet_rows[k]), start, "+-"[best_strand], similarity, cluster))
    members = pd.DataFrame(rows, columns=["sequence", "start", "strand", "similarity", "cluster"])
    size = members["cluster"].value_counts()
    keep = [c for c in size.index if size[c] >= min_size]  # largest first
    renumber = {old: new for new, old in enumerate(keep)}
    members = members[members["cluster"].isin(keep)].copy()
    members["cluster"] = members["cluster"].map(renumber)
    cwms = [(sums[c] / size[c]).numpy() for c in keep]
    ppms = [counts_to_probs(counts[c].numpy()) for c in keep]
    return SeqletClusters(members.reset_index(drop=True), cwms, ppms)
