"""Global importance analysis: plant motifs into many background sequences and measure the
model's mean response (Koo et al. 2021), including spacing and cooperativity curves.

Taught in chapter 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from genotutor.motifs import Motif, get_motif
from genotutor.progress import progress_bar
from genotutor.sequences import ALPHABET, check_model, check_one_hot, check_positive_int, one_hot
from genotutor.targets import Output, Target
from genotutor.training import predict

Insert = str | Motif


@dataclass
class GlobalImportance:
    """What :func:`global_importance` returns.

    Attributes
    ----------
    effect : float
        Mean over background sequences of ``f(x with inserts) - f(x)``.
    sem : float
        Standard error of that mean.
    effects : torch.Tensor, shape (N,)
        The effect in each background sequence.
    """

    effect: float
    sem: float
    effects: torch.Tensor


def _as_pattern(item: Insert, strand: str) -> torch.Tensor:
    """A ``(4, w)`` one-hot pattern: a motif's consensus or a DNA string, on ``strand``."""
    if isinstance(item, Motif):
        text = item.consensus
    elif isinstance(item, str) and item and set(item.upper()) <= set(ALPHABET):
        text = item
    elif isinstance(item, str):
        text = get_motif(item).consensus  # a motif name; raises listing the names on offer
    else:
        raise TypeError(f"insert must hold motif names, Motifs or DNA strings; found {item!r}")
    pattern = one_hot(text)[0]
    if strand not in ("+", "-"):
        raise ValueError(f"strands must hold '+' or '-'; found {strand!r}")
    return pattern if strand == "+" else pattern.flip(0, 1)


def insert_motifs(
    background: torch.Tensor,
    insert: Insert | Sequence[Insert],
    positions: int | Sequence[int],
    *,
    strands: str | Sequence[str] = "+",
) -> torch.Tensor:
    """Copies of ``background`` with each insert written at its position.

    Parameters
    ----------
    background : torch.Tensor, shape (N, 4, L)
    insert : str, Motif, or a sequence of them
        A JASPAR motif name (its consensus is inserted), a Motif, or a DNA string.
    positions : int or sequence of int
        Start of each insert (one per insert).
    strands : str or sequence of str
        ``"+"`` or ``"-"`` (reverse complement) for each insert.

    Returns
    -------
    torch.Tensor, shape (N, 4, L)

    Taught in chapter 3.
    """
    background = check_one_hot(background, "background")
    inserts = [insert] if isinstance(insert, (str, Motif)) else list(insert)
    starts = [positions] if isinstance(positions, (int, np.integer)) else list(positions)
    strand_list = [strands] * len(inserts) if isinstance(strands, str) else list(strands)
    if not inserts or len(starts) != len(inserts) or len(strand_list) != len(inserts):
        raise ValueError(
            f"insert, positions and strands must have one entry per insert; found "
            f"{len(inserts)}, {len(starts)}, {len(strand_list)}"
        )
    out = background.clone()
    length = out.shape[-1]
    for item, start, strand in zip(inserts, starts, strand_list):
        pattern = _as_pattern(item, strand)
        width = pattern.shape[1]
        if not 0 <= int(start) <= length - width:
            raise ValueError(
                f"positions must be in [0, {length - width}] for an insert of width {width} in "
                f"sequences of length {length}; found {start}"
            )
        out[:, :, int(start) : int(start) + width] = pattern
    return out


def global_importance(
    model: nn.Module,
    background: torch.Tensor,
    *,
    insert: Insert | Sequence[Insert],
    positions: int | Sequence[int],
    strands: str | Sequence[str] = "+",
    output: Output = None,
    target: Target = 0,
    device: object = None,
    progress: bool = False,
) -> GlobalImportance:
    """Mean effect on the model of planting motifs into many background sequences.

    Global importance analysis (Koo et al. 2021): the background sequences carry no
    signal on average, so the mean change ``f(x with inserts) - f(x)`` isolates what the
    model has learned about the inserted pattern, in the context of everything else
    held at random.

    Parameters
    ----------
    model : torch.nn.Module
    background : torch.Tensor, shape (N, 4, L)
        E.g. dinucleotide-shuffled or random sequences.
    insert, positions, strands
        See :func:`insert_motifs`.
    output, target
        Which value of the model to follow (see :mod:`genotutor.targets`): by default
        column 0 of a single ``(N, T)`` output.
    device, progress
        Where to run, and a progress bar: as for :func:`genotutor.training.predict`.

    Returns
    -------
    GlobalImportance

    Taught in chapter 3.
    """
    check_model(model)
    planted = insert_motifs(background, insert, positions, strands=strands)
    choice = {"output": output, "target": target, "device": device, "progress": progress}
    effects = predict(model, planted, **choice) - predict(model, background, **choice)
    sem = float(effects.std() / np.sqrt(len(effects))) if len(effects) > 1 else float("nan")
    return GlobalImportance(float(effects.mean()), sem, effects)


def spacing_curve(
    model: nn.Module,
    background: torch.Tensor,
    *,
    first: Insert,
    second: Insert,
    spacings: Sequence[int],
    position: int | None = None,
    strands: tuple[str, str] = ("+", "+"),
    output: Output = None,
    target: Target = 0,
    device: object = None,
    progress: bool = True,
) -> pd.DataFrame:
    """GIA of two motifs at a range of spacings: each alone, both, and their cooperativity.

    ``first`` starts at ``position`` (by default where the pair is centred at the widest
    spacing), ``second`` starts ``spacing`` bases after the end of ``first``.

    Parameters
    ----------
    model : torch.nn.Module
    background : torch.Tensor, shape (N, 4, L)
    first, second : str or Motif
        Motif names, Motifs or DNA strings.
    spacings : sequence of int
        Gaps (bases between the end of ``first`` and the start of ``second``), >= 0.
    position : int, optional
        Start of ``first``.
    strands : pair of str
    output, target, device
        As for :func:`global_importance`.
    progress : bool

    Returns
    -------
    pandas.DataFrame
        One row per spacing: ``spacing``, ``first`` and ``second`` (each alone, at the
        position it has in the pair), ``both``, ``cooperativity`` = ``both - first - second``
        and the standard errors over the backgrounds ``sem_both`` and ``sem_cooperativity``
        (of the per-background ``both - first - second``).

    Taught in chapter 3.
    """
    check_model(model)
    spacings = [check_positive_int(s, "spacings", minimum=0) for s in spacings]
    if not spacings:
        raise ValueError("spacings is empty; expected at least one gap")
    width_1 = _as_pattern(first, strands[0]).shape[1]
    width_2 = _as_pattern(second, strands[1]).shape[1]
    length = background.shape[-1]
    if position is None:
        position = max(0, (length - (width_1 + max(spacings) + width_2)) // 2)
    choice = {"output": output, "target": target, "device": device}
    before = predict(model, check_one_hot(background, "background"), **choice, progress=False)

    def effect(planted: torch.Tensor) -> torch.Tensor:
        return predict(model, planted, **choice, progress=False) - before

    alone_1 = effect(insert_motifs(background, first, position, strands=strands[0]))
    rows = []
    for gap in progress_bar(spacings, desc="spacings", progress=progress):
        start_2 = position + width_1 + gap
        alone_2 = effect(insert_motifs(background, second, start_2, strands=strands[1]))
        both = effect(
            insert_motifs(background, [first, second], [position, start_2], strands=list(strands))
        )
        rows.append(
            {
                "spacing": gap,
                "first": float(alone_1.mean()),
                "second": float(alone_2.mean()),
                "both": float(both.mean()),
                "cooperativity": float(both.mean() - alone_1.mean() - alone_2.mean()),
                "sem_both": float(both.std() / np.sqrt(len(both))),
                "sem_cooperativity": float((both - alone_1 - alone_2).std() / np.sqrt(len(both))),
            }
        )
    return pd.DataFrame(rows)
