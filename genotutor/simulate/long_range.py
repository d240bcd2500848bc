"""A planted task whose label needs two motifs far apart: a long-range dependency known by
construction.

Taught in chapter 6 ("Attention and transparent models").
"""

from __future__ import annotations

import numpy as np

from genotutor.motifs import get_motif
from genotutor.simulate.tasks import (
    PlantedTask,
    _background_and_labels,
    _planted_task,
    insert_motif,
)
from genotutor.validation import check_number, check_positive_int


def long_range_task(
    n: int = 3000,
    length: int = 300,
    *,
    pair: tuple[str, str] = ("CTCF", "CEBPB"),
    min_distance: int = 100,
    max_distance: int | None = None,
    positive_fraction: float = 0.5,
    gc: float = 0.45,
    seed: int = 0,
) -> PlantedTask:
    """A binary task: positive exactly when *both* motifs of ``pair`` are present.

    Every positive carries one instance of each motif of ``pair`` (random order, either
    strand), their starts at least ``min_distance`` and at most ``max_distance`` bases
    apart. Every negative carries exactly one of the two (chosen at random, anywhere): a
    decoy that looks like half of a positive. So no window shorter than ``min_distance``
    can tell the classes apart; a model has to combine two distant positions.

    Parameters
    ----------
    n, length : int
        Number and length of sequences.
    pair : pair of str
        Names of two shipped JASPAR motifs (the first is called A, the second B).
    min_distance, max_distance : int
        Smallest and largest distance between the two starts in a positive
        (``max_distance`` defaults to the largest that fits).
    positive_fraction, gc, seed
        As for :func:`genotutor.simulate.planted_motif_task`.

    Returns
    -------
    PlantedTask
        ``x`` of shape ``(N, 4, L)``, ``y`` of shape ``(N, 1)``; ``mask`` marks both motifs
        of each positive (role ``"driver"``) and nothing in negatives, whose lone motif has
        role ``"decoy"`` in ``sites``.

    Raises
    ------
    ValueError
        If the distances do not fit in ``length`` or ``pair`` does not name two motifs.

    Taught in chapter 6.
    """
    n = check_positive_int(n, "n")
    length = check_positive_int(length, "length")
    min_distance = check_positive_int(min_distance, "min_distance")
    positive_fraction = check_number(positive_fraction, "positive_fraction", minimum=0, maximum=1)
    gc = check_number(gc, "gc", minimum=0, maximum=1)
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise ValueError(f"pair must name two motifs; found {pair!r}")
    first, second = get_motif(pair[0]), get_motif(pair[1])
    widest = max(first.width, second.width)
    largest = length - widest
    if max_distance is None:
        max_distance = largest
    max_distance = check_positive_int(max_distance, "max_distance")
    if not min_distance <= max_distance <= largest or min_distance < widest:
        raise ValueError(
            f"distances must satisfy {widest} (widest motif) <= min_distance <= max_distance "
            f"<= {largest} (length - widest motif); found min_distance {min_distance}, "
            f"max_distance {max_distance}"
        )

    rng = np.random.default_rng(seed)
    codes, labels = _background_and_labels(rng, n, length, gc, positive_fraction)
    mask = np.zeros((n, length), dtype=bool)
    rows = []

    def plant(i: int, motif, start: int, role: str) -> None:
        strand = "+" if rng.random() < 0.5 else "-"
        insert_motif(codes[i], motif, start, rng=rng, strand=strand)
        if role == "driver":
            mask[i, start : start + motif.width] = True
        rows.append((i, motif.name, start, start + motif.width, strand, role))

    for i in range(n):
        if labels[i] == 1:
            distance = int(rng.integers(min_distance, max_distance + 1))
            left = int(rng.integers(0, length - widest - distance + 1))
            a_first = rng.random() < 0.5
            plant(i, first, left if a_first else left + distance, "driver")
            plant(i, second, left + distance if a_first else left, "driver")
        else:
            motif = first if rng.random() < 0.5 else second
            plant(i, motif, int(rng.integers(0, length - motif.width + 1)), "decoy")

    return _planted_task(codes, labels, mask, rows)
