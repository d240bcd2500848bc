"""Gauge fixing of additive and pairwise surrogate parameters.

An additive model ``phi = theta_0 + sum_lc theta_lc x_lc`` of one-hot sequences is not
identifiable: adding a constant to the four ``theta_lc`` of one position and subtracting
it from ``theta_0`` changes no prediction. A *gauge* picks one representative. Following
MAVE-NN (Tareen et al. 2022), each gauge here is defined by a probability matrix ``p_lc``
over the alphabet at each position; the fixed parameters are the ones whose
``p``-weighted mean over the characters of any position is zero, for the additive terms
and for each side of every pairwise term:

- ``"hierarchical"``: ``p`` uniform over the characters seen at each position (1/4
  where all four occur), MAVE-NN's ``"uniform"`` gauge; logos are centred at every
  position, and a position that never varies gets all-zero parameters.
- ``"empirical"``: ``p`` the character frequencies of the library (MAVE-NN's and SQUID's
  default ``"empirical"`` gauge).
- ``"wildtype"``: ``p`` the one-hot wild type (MAVE-NN's ``"consensus"`` / ``"user"``);
  ``theta_0`` is then the wild type's ``phi`` and ``theta_lc`` the effect of each single
  substitution away from it.

Taught in chapter 8.
"""

from __future__ import annotations

import numpy as np

from genotutor.sequences import check_choice

GAUGES = ("empirical", "hierarchical", "wildtype")


def gauge_distribution(
    gauge: str, *, length: int, wild_type: np.ndarray, frequencies: np.ndarray
) -> np.ndarray:
    """The ``(L, 4)`` probability matrix that defines ``gauge``.

    Parameters
    ----------
    gauge : {"empirical", "hierarchical", "wildtype"}
    length : int
    wild_type : np.ndarray, shape (L, 4)
        One-hot wild type.
    frequencies : np.ndarray, shape (L, 4)
        Character frequencies of the library.

    Taught in chapter 8.
    """
    check_choice(gauge, "gauge", GAUGES)
    if gauge == "hierarchical":
        seen = (np.asarray(frequencies) > 0).astype(np.float64)
        return seen / seen.sum(axis=1, keepdims=True)
    if gauge == "empirical":
        return np.asarray(frequencies, dtype=np.float64)
    return np.asarray(wild_type, dtype=np.float64)


def fix_gauge(
    theta_0: float,
    theta_lc: np.ndarray,
    theta_pairs: np.ndarray | None,
    p_lc: np.ndarray,
) -> tuple[float, np.ndarray, np.ndarray | None]:
    """Move surrogate parameters into the gauge defined by ``p_lc``; predictions unchanged.

    Parameters
    ----------
    theta_0 : float
    theta_lc : np.ndarray, shape (L, 4)
    theta_pairs : np.ndarray, shape (L, 4, L, 4), or None
        Pairwise terms, nonzero only for positions ``l < l'`` (upper block triangle).
    p_lc : np.ndarray, shape (L, 4)
        Rows summing to 1.

    Returns
    -------
    tuple
        ``(theta_0, theta_lc, theta_pairs)`` in the new gauge.

    Taught in chapter 8.
    """
    p = np.asarray(p_lc, dtype=np.float64)
    theta = np.asarray(theta_lc, dtype=np.float64)
    if p.shape != theta.shape:
        raise ValueError(f"p_lc must have shape {theta.shape} like theta_lc; found {p.shape}")
    if not np.allclose(p.sum(axis=1), 1.0):
        raise ValueError("p_lc rows must sum to 1 (a distribution over A, C, G, T per position)")
    mean_lc = (theta * p).sum(axis=1)
    new_0 = float(theta_0) + mean_lc.sum()
    new_lc = theta - mean_lc[:, None]
    if theta_pairs is None:
        return new_0, new_lc, None
    pairs = np.asarray(theta_pairs, dtype=np.float64)
    # Means of each pairwise block over its right character, its left one, and both.
    right = np.einsum("acbd,bd->acb", pairs, p)  # (L, 4, L)
    left = np.einsum("acbd,ac->abd", pairs, p)  # (L, L, 4)
    both = np.einsum("acb,ac->ab", right, p)  # (L, L)
    new_0 += both.sum()
    new_lc = new_lc + (right.sum(axis=2) - both.sum(axis=1)[:, None])
    new_lc = new_lc + (left.sum(axis=0) - both.sum(axis=0)[:, None])
    new_pairs = pairs - right[:, :, :, None] - left[:, None, :, :] + both[:, None, :, None]
    upper = np.triu(np.ones((len(p), len(p)), dtype=bool), k=1)
    new_pairs = new_pairs * upper[:, None, :, None]
    return new_0, new_lc, new_pairs
