"""Motif discovery from contribution scores with TF-MoDISco (modisco-lite).

TF-MoDISco (Shrikumar et al. 2018; modisco-lite, Schreiber and Kundaje) cuts high-scoring
windows (seqlets) out of contribution-score tracks, clusters them by the similarity of their
hypothetical contributions, and returns one pattern per cluster: its contribution weight
matrix (CWM, the mean contribution of each base at each position), its position probability
matrix and its seqlets. genotutor calls the real package (``pip install modisco-lite``);
this module only converts genotutor's ``(N, 4, L)`` layout once, validates, caches and
returns tidy results. Taught in chapter 4 ("Motifs from a real experiment").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from genotutor.cache import array_digest, memoize
from genotutor.validation import check_bool, check_number, check_positive_int, describe

SEQLET_COLUMNS = ("sequence", "start", "end", "strand")


@dataclass(frozen=True)
class Pattern:
    """One TF-MoDISco pattern.

    Attributes
    ----------
    name : str
        ``"pos_0"``, ``"pos_1"``, ... for patterns of positive contributions, ``"neg_0"``
        ... for negative ones, in modisco-lite's order (most seqlets first).
    cwm : np.ndarray, shape (4, w)
        Contribution weight matrix: each base's mean contribution over the seqlets.
    hypothetical_cwm : np.ndarray, shape (4, w)
        The mean hypothetical contributions (what every base would contribute).
    pwm : np.ndarray, shape (4, w)
        Position probability matrix of the seqlets' bases (columns sum to 1).
    seqlets : pandas.DataFrame
        One row per seqlet: ``sequence`` (row of ``x``), ``start``, ``end`` (exclusive),
        ``strand`` (``"+"`` or ``"-"``: the seqlet is the reverse complement of the window).
    """

    name: str
    cwm: np.ndarray
    hypothetical_cwm: np.ndarray
    pwm: np.ndarray
    seqlets: pd.DataFrame

    @property
    def width(self) -> int:
        """Number of positions."""
        return int(self.cwm.shape[1])

    @property
    def n_seqlets(self) -> int:
        """Number of seqlets in the pattern."""
        return len(self.seqlets)


def _check_scores(array: object, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A float32 ``(N, 4, L)`` array from a tensor or array, or a clear error."""
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().numpy()
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"{name} must be a tensor or array of shape (N, 4, L); found {describe(array)}"
        )
    if array.ndim != 3 or array.shape[1] != 4:
        hint = (
            " (it looks like (N, L, 4): genotutor's layout is (N, 4, L); use .transpose(0, 2, 1))"
            if array.ndim == 3 and array.shape[2] == 4
            else ""
        )
        raise ValueError(f"{name} must have shape (N, 4, L); found {array.shape}{hint}")
    if shape is not None and array.shape != shape:
        raise ValueError(f"{name} must have the shape of x, {shape}; found {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds NaN or infinite values; expected finite scores")
    return np.ascontiguousarray(array, dtype=np.float32)


def _seqlet_table(seqlets: list) -> pd.DataFrame:
    rows = [
        (int(s.example_idx), int(s.start), int(s.end), "-" if s.is_revcomp else "+")
        for s in seqlets
    ]
    return pd.DataFrame(rows, columns=list(SEQLET_COLUMNS))


def _as_dict(name: str, pattern: object) -> dict:
    """A modisco-lite pattern as plain arrays (``(4, w)``) for the cache."""
    seqlets = _seqlet_table(pattern.seqlets)
    return {
        "name": name,
        "cwm": torch.as_tensor(np.asarray(pattern.contrib_scores, dtype=np.float64).T),
        "hypothetical_cwm": torch.as_tensor(
            np.asarray(pattern.hypothetical_contribs, dtype=np.float64).T
        ),
        "pwm": torch.as_tensor(np.asarray(pattern.sequence, dtype=np.float64).T),
        "seqlets": torch.as_tensor(
            np.column_stack(
                [seqlets[c].to_numpy() for c in ("sequence", "start", "end")]
                + [(seqlets["strand"] == "-").to_numpy()]
            ).astype(np.int64)
        ).reshape(-1, 4),
    }


def _from_dict(entry: dict) -> Pattern:
    rows = entry["seqlets"].numpy()
    seqlets = pd.DataFrame(
        {
            "sequence": rows[:, 0],
            "start": rows[:, 1],
            "end": rows[:, 2],
            "strand": np.where(rows[:, 3] == 1, "-", "+"),
        }
    )
    arrays = {k: entry[k].numpy() for k in ("cwm", "hypothetical_cwm", "pwm")}
    return Pattern(name=entry["name"], seqlets=seqlets, **arrays)


def discover_motifs(
    x: object,
    hypothetical: object,
    *,
    max_seqlets: int = 2000,
    window: int = 21,
    flank: int = 10,
    target_fdr: float = 0.2,
    min_seqlets: int = 20,
    n_leiden_runs: int = 50,
    cache: bool = True,
    progress: bool = False,
) -> list[Pattern]:
    """TF-MoDISco patterns of the contribution scores of ``x`` (modisco-lite).

    Parameters
    ----------
    x : torch.Tensor or np.ndarray, shape (N, 4, L)
        One-hot sequences.
    hypothetical : torch.Tensor or np.ndarray, shape (N, 4, L)
        Hypothetical contributions of every base (e.g. ``attribute(..., "deeplift_shap",
        hypothetical=True)``). The contributions are ``x * hypothetical``, as modisco-lite
        computes them.
    max_seqlets : int
        At most this many seqlets per metacluster (modisco-lite subsamples above it;
        its default is 20,000).
    window, flank : int
        Width of the sliding window that scores seqlets and the flank added on each side
        (modisco-lite's ``sliding_window_size`` and ``flank_size``; defaults 21 and 10).
    target_fdr : float
        False discovery rate for calling seqlets against the null of shuffled scores
        (``target_seqlet_fdr``, default 0.2), in (0, 1).
    min_seqlets : int
        Smallest cluster kept as a pattern (``final_min_cluster_size``, default 20).
    n_leiden_runs : int
        Leiden clustering restarts (modisco-lite's default 50; fewer is faster).
    cache : bool
        Compute once per input and options, then read from genotutor's cache.
    progress : bool
        Let modisco-lite print its progress.

    Returns
    -------
    list of Pattern
        Positive patterns first, then negative, each in modisco-lite's order.

    Raises
    ------
    ModuleNotFoundError
        If modisco-lite is not installed.

    Taught in chapter 4.
    """
    x_np = _check_scores(x, "x")
    if not np.isin(x_np, (0.0, 1.0)).all() or not np.all(x_np.sum(axis=1) <= 1):
        raise ValueError("x must be one-hot: 0s and 1s with at most one 1 per position")
    hyp_np = _check_scores(hypothetical, "hypothetical", x_np.shape)
    options = {
        "max_seqlets_per_metacluster": check_positive_int(max_seqlets, "max_seqlets"),
        "sliding_window_size": check_positive_int(window, "window"),
        "flank_size": check_positive_int(flank, "flank", minimum=0),
        "target_seqlet_fdr": check_number(
            target_fdr, "target_fdr", minimum=0, maximum=1, inclusive=(False, False)
        ),
        "final_min_cluster_size": check_positive_int(min_seqlets, "min_seqlets"),
        "n_leiden_runs": check_positive_int(n_leiden_runs, "n_leiden_runs"),
    }
    check_bool(cache, "cache")
    verbose = check_bool(progress, "progress")
    try:
        from modiscolite.tfmodisco import TFMoDISco
    except ImportError:
        raise ModuleNotFoundError(
            "discover_motifs needs modisco-lite: pip install modisco-lite"
        ) from None

    def compute() -> dict:
        positive, negative = TFMoDISco(
            one_hot=x_np.transpose(0, 2, 1).copy(),
            hypothetical_contribs=hyp_np.transpose(0, 2, 1).copy(),
            verbose=verbose,
            **options,
        )
        found = [(f"pos_{i}", p) for i, p in enumerate(positive or [])]
        found += [(f"neg_{i}", p) for i, p in enumerate(negative or [])]
        return {"patterns": [_as_dict(name, pattern) for name, pattern in found]}

    if not cache:
        return [_from_dict(entry) for entry in compute()["patterns"]]
    key = {"name": "modisco", "data": array_digest(x_np, hyp_np), **options}
    return [_from_dict(entry) for entry in memoize(key, compute)["patterns"]]


def seqlet_recovery(patterns: list[Pattern], truth_mask: object) -> pd.DataFrame:
    """How well the patterns' seqlets cover planted positions: per pattern and in all.

    Parameters
    ----------
    patterns : list of Pattern
    truth_mask : torch.Tensor or np.ndarray, shape (N, L), bool
        True at planted positions.

    Returns
    -------
    pandas.DataFrame
        One row per pattern and a final ``"all"`` row: ``seqlets``, ``precision`` (the
        fraction of seqlet positions that are planted), ``recall`` (the fraction of planted
        positions inside some seqlet).

    Taught in chapter 4.
    """
    mask = np.asarray(truth_mask.cpu() if isinstance(truth_mask, torch.Tensor) else truth_mask)
    if mask.ndim != 2:
        raise ValueError(f"truth_mask must have shape (N, L); found {mask.shape}")
    mask = mask.astype(bool)
    rows, union = [], np.zeros_like(mask)
    for pattern in [*patterns, None]:
        covered = np.zeros_like(mask)
        for seq, start, end in (
            pattern.seqlets[["sequence", "start", "end"]].to_numpy() if pattern else []
        ):
            covered[seq, max(start, 0) : min(end, mask.shape[1])] = True
        union |= covered
        chosen = covered if pattern else union
        rows.append(
            {
                "pattern": pattern.name if pattern else "all",
                "seqlets": pattern.n_seqlets if pattern else sum(p.n_seqlets for p in patterns),
                "precision": float(mask[chosen].mean()) if chosen.any() else float("nan"),
                "recall": float(chosen[mask].mean()) if mask.any() else float("nan"),
            }
        )
    return pd.DataFrame(rows)
