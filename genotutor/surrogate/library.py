"""Random mutagenesis libraries around one sequence, as SQUID builds them.

Taught in chapter 8, "Surrogate models".
"""

from __future__ import annotations

import numpy as np
import torch

from genotutor.validation import check_number, check_one_hot, check_positive_int, check_region


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

    Taught in chapter 8.
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
    seed = check_positive_int(seed, "seed", minimum=0)
    rate = check_number(
        mutation_rate, "mutation_rate", minimum=0, maximum=1, inclusive=(False, False)
    )
    length = x.shape[-1]
    start, stop = check_region(window, length, "window")
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
