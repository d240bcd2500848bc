"""Synthetic tasks with planted answers: backgrounds, motif insertion, labels, splits;
re-exported by :mod:`genotutor.simulate`.

Taught in chapter 1 (planted tasks), chapter 3 (cooperativity) and chapter 5 (confounders).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from genotutor.motifs import Motif, get_motif, sample_instances
from genotutor.rows import Rows
from genotutor.sequences import check_positive_int


def split_indices(
    n: int, *, valid: float, test: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random train / validation / test indices of ``range(n)`` with the given fractions.

    The one split rule of genotutor: every dataset's ``split`` method, the students of
    :func:`genotutor.distillation.distill` and the surrogates of
    :func:`genotutor.surrogate.fit_surrogate` use it (``test=0`` for a train / validation
    split). Taught in chapter 1.
    """
    if not (0 < valid < 1 and 0 <= test < 1 and valid + test < 1):
        raise ValueError(
            f"valid must be in (0, 1) and test in [0, 1), summing below 1; found {valid}, {test}"
        )
    order = np.random.default_rng(check_positive_int(seed, "seed", minimum=0)).permutation(n)
    n_valid, n_test = int(round(valid * n)), int(round(test * n))
    return order[n_valid + n_test :], order[:n_valid], order[n_valid : n_valid + n_test]


@dataclass
class PlantedTask(Rows):
    """Sequences with planted motifs, their labels and the ground truth.

    ``len`` and ``subset(index)`` (the sequences at integer rows or a boolean mask, each
    with its planted sites, renumbered) come from :class:`genotutor.rows.Rows`.

    Attributes
    ----------
    x : torch.Tensor, shape (N, 4, L)
        One-hot sequences.
    y : torch.Tensor, shape (N, 1)
        Labels (1.0 or 0.0).
    mask : torch.Tensor, shape (N, L), bool
        True at the positions of the motifs that determine the label (the ground truth).
    sites : pandas.DataFrame
        One row per planted motif: ``sequence``, ``motif``, ``start``, ``end`` (exclusive),
        ``strand`` (+ or -), ``role`` (``"driver"`` sets the label, ``"decoy"`` does not).
    """

    x: torch.Tensor
    y: torch.Tensor
    mask: torch.Tensor
    sites: pd.DataFrame

    ROW_FIELDS = ("x", "y", "mask")

    def _subset_others(self, rows: np.ndarray) -> dict[str, object]:
        """Each kept sequence's planted sites, renumbered (``subset`` keeps repeats)."""
        numbers = pd.DataFrame({"sequence": rows, "new": np.arange(len(rows))})
        sites = numbers.merge(self.sites, on="sequence").drop(columns="sequence")
        sites = sites.rename(columns={"new": "sequence"})[self.sites.columns]
        sites = sites.sort_values(["sequence", "start"], kind="stable").reset_index(drop=True)
        return {"sites": sites}

    def split(
        self, *, valid: float = 0.1, test: float = 0.1, seed: int = 0
    ) -> tuple[PlantedTask, PlantedTask, PlantedTask]:
        """Random train / validation / test split with the given fractions."""
        train, valid_index, test_index = split_indices(len(self), valid=valid, test=test, seed=seed)
        return self.subset(train), self.subset(valid_index), self.subset(test_index)


def _complement_reverse(codes: np.ndarray) -> np.ndarray:
    return 3 - codes[..., ::-1]


def insert_motif(
    codes: np.ndarray, motif: Motif, start: int, *, rng: np.random.Generator, strand: str = "+"
) -> np.ndarray:
    """Write a sampled instance of ``motif`` into ``(L,)`` integer codes at ``start``, in place.

    Returns the inserted ``(w,)`` codes. Taught in chapter 1 (and used by global
    importance analysis in chapter 3).
    """
    if strand not in ("+", "-"):
        raise ValueError(f"strand must be '+' or '-'; found {strand!r}")
    if not 0 <= start <= len(codes) - motif.width:
        raise ValueError(
            f"start must be in [0, {len(codes) - motif.width}] for {motif.name} "
            f"(width {motif.width}) in a sequence of length {len(codes)}; found {start}"
        )
    instance = sample_instances(motif, 1, rng=rng)[0]
    if strand == "-":
        instance = _complement_reverse(instance)
    codes[start : start + motif.width] = instance
    return instance


def _free_start(occupied: np.ndarray, width: int, rng: np.random.Generator, gap: int) -> int | None:
    """A random start where ``width`` positions (plus ``gap`` either side) are free."""
    length = len(occupied)
    padded = np.convolve(occupied.astype(int), np.ones(2 * gap + 1, dtype=int), mode="same") > 0
    window_busy = np.convolve(padded.astype(int), np.ones(width, dtype=int), mode="valid") > 0
    free = np.flatnonzero(~window_busy[: length - width + 1])
    return None if len(free) == 0 else int(rng.choice(free))


def _background_and_labels(
    rng: np.random.Generator, n: int, length: int, gc: float, positive_fraction: float
) -> tuple[np.ndarray, np.ndarray]:
    """I.i.d. background bases with GC content ``gc``, ``(n, length)`` codes, and each
    sequence's class, ``(n,)`` float32 (1 with probability ``positive_fraction``)."""
    probs = np.array([1 - gc, gc, gc, 1 - gc]) / 2
    codes = rng.choice(4, size=(n, length), p=probs)
    labels = (rng.random(n) < positive_fraction).astype(np.float32)
    return codes, labels


def _codes_to_one_hot(codes: np.ndarray) -> torch.Tensor:
    out = np.zeros((codes.shape[0], 4, codes.shape[1]), dtype=np.float32)
    rows, cols = np.indices(codes.shape)
    out[rows, codes, cols] = 1.0
    return torch.from_numpy(out)


def _planted_task(
    codes: np.ndarray, labels: np.ndarray, mask: np.ndarray, rows: list
) -> PlantedTask:
    """A :class:`PlantedTask` from base codes ``(N, L)``, labels ``(N,)``, the truth mask and
    one row per planted site ``(sequence, motif, start, end, strand, role)``."""
    sites = pd.DataFrame(rows, columns=["sequence", "motif", "start", "end", "strand", "role"])
    sites = sites.sort_values(["sequence", "start"]).reset_index(drop=True)
    return PlantedTask(
        x=_codes_to_one_hot(codes),
        y=torch.from_numpy(labels)[:, None],
        mask=torch.from_numpy(mask),
        sites=sites,
    )


def planted_motif_task(
    n: int = 4000,
    length: int = 200,
    *,
    drivers: Sequence[str] = ("CTCF", "CEBPB", "SPI1"),
    decoys: Sequence[str] = ("SP1",),
    max_drivers: int = 2,
    decoy_rate: float = 0.5,
    positive_fraction: float = 0.5,
    gc: float = 0.45,
    seed: int = 0,
) -> PlantedTask:
    """A binary task: a sequence is positive exactly when it carries a driver motif.

    Positives get 1 to ``max_drivers`` instances of driver motifs (each motif chosen at
    random, either strand); negatives get none. Both classes get a decoy motif with
    probability ``decoy_rate``, so a model must learn which motifs matter, and an
    attribution method that lights up decoys is penalised by the ground truth.

    Parameters
    ----------
    n, length : int
        Number and length of sequences.
    drivers, decoys : sequence of str
        Names of shipped JASPAR motifs (see :func:`genotutor.motifs.jaspar_motifs`).
    max_drivers : int
        Most driver instances in one positive sequence.
    decoy_rate : float
        Probability that a sequence (of either class) gets one decoy.
    positive_fraction : float
        Fraction of positives.
    gc : float
        GC content of the background.
    seed : int
        Seed; the same seed gives the same task.

    Returns
    -------
    PlantedTask

    Taught in chapter 1.
    """
    n = check_positive_int(n, "n")
    length = check_positive_int(length, "length")
    max_drivers = check_positive_int(max_drivers, "max_drivers")
    for name, value in (("decoy_rate", decoy_rate), ("positive_fraction", positive_fraction)):
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must be in [0, 1]; found {value}")
    if not drivers:
        raise ValueError("drivers must name at least one motif")
    driver_motifs = [get_motif(name) for name in drivers]
    decoy_motifs = [get_motif(name) for name in decoys]
    widest = max(m.width for m in driver_motifs + decoy_motifs)
    if length < (max_drivers + 1) * (widest + 4):
        raise ValueError(
            f"length {length} is too short to plant {max_drivers + 1} motifs of width {widest}"
        )

    rng = np.random.default_rng(seed)
    codes, labels = _background_and_labels(rng, n, length, gc, positive_fraction)
    mask = np.zeros((n, length), dtype=bool)
    occupied = np.zeros((n, length), dtype=bool)
    rows = []

    def plant(i: int, motif: Motif, role: str) -> None:
        start = _free_start(occupied[i], motif.width, rng, gap=2)
        if start is None:  # the length check above makes this unreachable in practice
            raise RuntimeError(f"no room left for {motif.name} in sequence {i}")
        strand = "+" if rng.random() < 0.5 else "-"
        insert_motif(codes[i], motif, start, rng=rng, strand=strand)
        occupied[i, start : start + motif.width] = True
        if role == "driver":
            mask[i, start : start + motif.width] = True
        rows.append((i, motif.name, start, start + motif.width, strand, role))

    for i in range(n):
        if labels[i] == 1:
            for _ in range(rng.integers(1, max_drivers + 1)):
                plant(i, driver_motifs[rng.integers(len(driver_motifs))], "driver")
        if decoy_motifs and rng.random() < decoy_rate:
            plant(i, decoy_motifs[rng.integers(len(decoy_motifs))], "decoy")

    return _planted_task(codes, labels, mask, rows)


# --------------------------------------------------------------------------- chapter 3 and 5
COOPERATIVE_LAYOUTS = ("none", "first", "second", "pair", "misspaced")


def cooperative_task(
    n: int = 6000,
    length: int = 150,
    *,
    pair: tuple[str, str] = ("TAL1::TCF3", "GATA1"),
    spacing: int = 8,
    max_spacing: int = 20,
    effects: tuple[float, float, float] = (1.0, 1.0, 2.0),
    noise: float = 0.3,
    gc: float = 0.45,
    seed: int = 0,
) -> PlantedTask:
    """A quantitative task with a known cooperative pair and a preferred spacing.

    Each sequence gets one of five layouts, chosen uniformly: nothing, the first motif of
    ``pair`` alone, the second alone, the pair at the preferred gap ``spacing`` (bases
    between the end of the first motif and the start of the second, both on the + strand,
    first upstream), or the pair at another gap (at least 3 bases away from ``spacing``,
    at most ``max_spacing``). Single motifs go on either strand. The label is

    ``y = e1 [first present] + e2 [second present] + e12 [pair at the preferred gap] + noise``

    with ``(e1, e2, e12) = effects`` and Gaussian noise of standard deviation ``noise``, so
    the cooperativity (the effect of the pair beyond the sum of its parts) is ``e12`` at the
    preferred gap and 0 at any other.

    Parameters
    ----------
    n, length : int
        Number and length of sequences.
    pair : pair of str
        Names of shipped JASPAR motifs.
    spacing, max_spacing : int
        Preferred gap and the largest gap planted.
    effects : tuple of three floats
        ``(e1, e2, e12)``.
    noise : float
        Standard deviation of the label noise.
    gc : float
        GC content of the background.
    seed : int

    Returns
    -------
    PlantedTask
        ``y`` holds real values, ``mask`` marks every planted motif (all of them change
        the label), ``sites`` has a ``layout`` column and ``role`` ``"driver"``.

    Taught in chapter 3 (global importance analysis).
    """
    n = check_positive_int(n, "n")
    length = check_positive_int(length, "length")
    spacing = check_positive_int(spacing, "spacing", minimum=0)
    max_spacing = check_positive_int(max_spacing, "max_spacing", minimum=0)
    if len(pair) != 2:
        raise ValueError(f"pair must name two motifs; found {pair!r}")
    if len(effects) != 3:
        raise ValueError(f"effects must be (e1, e2, e12); found {effects!r}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0; found {noise}")
    others = [g for g in range(max_spacing + 1) if abs(g - spacing) >= 3]
    if spacing > max_spacing or not others:
        raise ValueError(
            f"spacing must be <= max_spacing with other gaps at least 3 away; found spacing "
            f"{spacing}, max_spacing {max_spacing}"
        )
    first, second = get_motif(pair[0]), get_motif(pair[1])
    span = first.width + max_spacing + second.width
    if length < span + 2:
        raise ValueError(f"length {length} is too short for the pair at gap {max_spacing} ({span})")

    rng = np.random.default_rng(seed)
    probs = np.array([1 - gc, gc, gc, 1 - gc]) / 2
    codes = rng.choice(4, size=(n, length), p=probs)
    mask = np.zeros((n, length), dtype=bool)
    layouts = rng.integers(len(COOPERATIVE_LAYOUTS), size=n)
    y = np.zeros(n, dtype=np.float32)
    rows = []

    def plant(i: int, motif: Motif, start: int, strand: str, layout: str) -> None:
        insert_motif(codes[i], motif, start, rng=rng, strand=strand)
        mask[i, start : start + motif.width] = True
        rows.append((i, motif.name, start, start + motif.width, strand, "driver", layout))

    for i, kind in enumerate(layouts):
        layout = COOPERATIVE_LAYOUTS[kind]
        if layout in ("first", "second"):
            motif = first if layout == "first" else second
            start = int(rng.integers(0, length - motif.width + 1))
            plant(i, motif, start, "+" if rng.random() < 0.5 else "-", layout)
            y[i] = effects[0] if layout == "first" else effects[1]
        elif layout in ("pair", "misspaced"):
            gap = spacing if layout == "pair" else int(rng.choice(others))
            start = int(rng.integers(0, length - (first.width + gap + second.width) + 1))
            plant(i, first, start, "+", layout)
            plant(i, second, start + first.width + gap, "+", layout)
            y[i] = effects[0] + effects[1] + (effects[2] if layout == "pair" else 0.0)
    y += rng.normal(0.0, noise, size=n).astype(np.float32)
    sites = pd.DataFrame(
        rows, columns=["sequence", "motif", "start", "end", "strand", "role", "layout"]
    )
    sites = sites.sort_values(["sequence", "start"]).reset_index(drop=True)
    return PlantedTask(
        x=_codes_to_one_hot(codes),
        y=torch.from_numpy(y)[:, None],
        mask=torch.from_numpy(mask),
        sites=sites,
    )


def add_confounder(
    task: PlantedTask,
    confounder: str = "NRF1",
    *,
    rate_positive: float = 0.9,
    rate_negative: float = 0.1,
    seed: int = 0,
) -> PlantedTask:
    """A copy of a binary task with a confounding motif planted at label-dependent rates.

    The confounder does not cause the label (the drivers do, and ``mask`` still marks only
    them), but it is planted in a fraction ``rate_positive`` of positives and
    ``rate_negative`` of negatives, the way a batch effect or a sequencing bias can track
    the label in real data. A model trained on the copy can use it as a shortcut.

    Parameters
    ----------
    task : PlantedTask
        A binary task (labels 0 and 1), e.g. from :func:`planted_motif_task`.
    confounder : str
        Name of a shipped JASPAR motif.
    rate_positive, rate_negative : float
        Probability of planting it in a positive / a negative sequence.
    seed : int

    Returns
    -------
    PlantedTask
        ``sites`` gains rows with ``role`` ``"confounder"``.

    Taught in chapter 5.
    """
    if not isinstance(task, PlantedTask):
        raise TypeError(f"task must be a PlantedTask; found {type(task).__name__}")
    for name, value in (("rate_positive", rate_positive), ("rate_negative", rate_negative)):
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must be in [0, 1]; found {value}")
    labels = task.y[:, 0].numpy()
    if not np.isin(labels, (0.0, 1.0)).all():
        raise ValueError("task must be binary (labels 0 and 1) to plant a confounder")
    motif = get_motif(confounder)
    rng = np.random.default_rng(seed)
    codes = task.x.argmax(dim=1).numpy().copy()
    occupied = np.zeros(codes.shape, dtype=bool)
    for row in task.sites.itertuples():
        occupied[row.sequence, row.start : row.end] = True
    rows = []
    for i, label in enumerate(labels):
        if rng.random() >= (rate_positive if label == 1 else rate_negative):
            continue
        start = _free_start(occupied[i], motif.width, rng, gap=2)
        if start is None:
            continue
        strand = "+" if rng.random() < 0.5 else "-"
        insert_motif(codes[i], motif, start, rng=rng, strand=strand)
        occupied[i, start : start + motif.width] = True
        rows.append((i, motif.name, start, start + motif.width, strand, "confounder"))
    extra = pd.DataFrame(rows, columns=["sequence", "motif", "start", "end", "strand", "role"])
    sites = pd.concat([task.sites, extra], ignore_index=True)
    sites = sites.sort_values(["sequence", "start"]).reset_index(drop=True)
    return PlantedTask(_codes_to_one_hot(codes), task.y.clone(), task.mask.clone(), sites)
