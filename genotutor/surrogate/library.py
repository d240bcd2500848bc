"""Random mutagenesis libraries around one sequence, as SQUID builds them.

Taught in chapter 6, "Surrogate models".
"""

from __future__ import annotations

import numpy as np
import torch

from genotutor.sequences import check_one_hot, check_positive_int


def check_rate(value: object, name: str = "mutation_rate") -> float:
    """Return ``value`` as a float if it lies strictly between 0 and 1, else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(
            f"{name} must be a number in (0, 1); found {type(value).__name__} {value!r}"
        )
    if not 0 < float(value) < 1:
        raise ValueError(f"{name} must be in (0, 1), exclusive; found {value}")
    return float(value)


def check_window(window: object, length: int) -> tuple[int, int]:
    """Return ``window`` as ``(start, stop)`` within ``[0, length]``; ``None`` means all."""
    if window is None:
        return 0, length
    if not isinstance(window, (tuple, list)) or len(window) != 2:
        raise TypeError(f"window must be a pair (start, stop) or None; found {window!r}")
    start, stop = (int(v) for v in window)
    if not 0 <= start < stop <= length:
        raise ValueError(
            f"window must satisfy 0 <= start < stop <= {length} (the sequence length); "
            f"found {tuple(window)}"
        )
    return start, stop


def mutagenesis_library(
    x: torch.Tensor,
    n: int,
    *,
    mutation_rate: float = 0.1,
    window: tuple[int, int] | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """Random mutants of one sequence: the in-silico MAVE library of SQUID.

    Each mutant gets a Poisson number of substitutions with mean ``mutation_rate`` times
    the window's width (capped at the width), at distinct positions drawn uniformly from
    the window, each to one of the three other bases with equal probability. Row 0 is the
    wild type itself, unmutated.

    Parameters
    ----------
    x : torch.Tensor, shape (4, L) or (1, 4, L)
        The wild-type sequence, one-hot, without N.
    n : int
        Number of sequences in the library, the wild type included.
    mutation_rate : float
        Expected fraction of mutated positions, in (0, 1); SQUID uses 0.1.
    window : tuple of int, optional
        ``(start, stop)``: mutate only positions ``start <= i < stop``; the rest of every
        sequence stays wild type. Default: the whole sequence.
    seed : int
        Seed of the random generator; the same seed gives the same library.

    Returns
    -------
    torch.Tensor, shape (n, 4, L)
        The library; ``library[0]`` is ``x``.

    Taught in chapter 6.
    """
    if isinstance(x, torch.Tensor) and x.ndim == 2:
        x = x[None]
    x = check_one_hot(x, "x")
    if len(x) != 1:
        raise ValueError(
            f"x must be one sequence, shape (4, L) or (1, 4, L); found {tuple(x.shape)}"
        )
    if bool((x.sum(dim=1) == 0).any()):
        raise ValueError("x has all-zero (N) columns; expected a sequence of A, C, G, T only")
    n = check_positive_int(n, "n")
    rate = check_rate(mutation_rate)
    length = x.shape[-1]
    start, stop = check_window(window, length)
    width = stop - start
    rng = np.random.default_rng(seed)
    wild = x[0].argmax(dim=0).numpy()
    counts = np.minimum(rng.poisson(rate * width, size=n), width)
    counts[0] = 0
    # Rank random keys per row: the positions with the `count` smallest keys mutate.
    ranks = rng.random((n, width)).argsort(axis=1).argsort(axis=1)
    mutated = ranks < counts[:, None]
    shift = rng.integers(1, 4, size=(n, width)) * mutated
    codes = np.broadcast_to(wild, (n, length)).copy()
    codes[:, start:stop] = (codes[:, start:stop] + shift) % 4
    out = np.zeros((n, 4, length), dtype=np.float32)
    rows, cols = np.indices(codes.shape)
    out[rows, codes, cols] = 1.0
    return torch.from_numpy(out)
