"""Figures: sequence logos of scores, attribution tracks, planted-truth shading.

This is the one place where ``(4, L)`` tensors become logomaker's ``(L, 4)`` DataFrames.
Taught in chapter 1 and used by every later chapter.
"""

from __future__ import annotations

import logomaker
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from genotutor.sequences import ALPHABET


def to_logo_frame(scores: torch.Tensor | np.ndarray, *, start: int = 0) -> pd.DataFrame:
    """Turn ``(4, L)`` scores (or a ``(1, 4, L)`` batch of one) into an ``(L, 4)`` DataFrame.

    Parameters
    ----------
    scores : torch.Tensor or np.ndarray, shape (4, L) or (1, 4, L)
    start : int
        Index of the first position (for plotting a window of a longer sequence).

    Returns
    -------
    pandas.DataFrame, shape (L, 4)
        Columns A, C, G, T; index the positions.

    Taught in chapter 1.
    """
    if isinstance(scores, torch.Tensor):
        scores = scores.detach().cpu().numpy()
    array = np.asarray(scores, dtype=np.float64)
    if array.ndim == 3 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 2 or array.shape[0] != 4:
        raise ValueError(
            f"scores must have shape (4, L) or (1, 4, L); found {array.shape}. "
            "Select one sequence of an (N, 4, L) batch first, e.g. scores[i]."
        )
    return pd.DataFrame(
        array.T, columns=list(ALPHABET), index=np.arange(start, start + array.shape[1])
    )


def logo(
    scores: torch.Tensor | np.ndarray | pd.DataFrame,
    *,
    ax: plt.Axes | None = None,
    start: int = 0,
    truth: torch.Tensor | np.ndarray | None = None,
    title: str | None = None,
    information: bool = False,
) -> logomaker.Logo:
    """Draw a sequence logo of per-base scores.

    Parameters
    ----------
    scores : torch.Tensor, shape (4, L), or an (L, 4) DataFrame
        Attribution scores (drawn as they are) or probabilities (with ``information``).
    ax : matplotlib Axes, optional
        Where to draw; a new wide figure by default.
    start : int
        Position of the first column.
    truth : array of bool, shape (L,), optional
        Positions to shade (e.g. the planted motifs).
    title : str, optional
    information : bool
        Treat ``scores`` as a probability matrix and draw it in bits.

    Returns
    -------
    logomaker.Logo

    Taught in chapter 1.
    """
    frame = scores if isinstance(scores, pd.DataFrame) else to_logo_frame(scores, start=start)
    if information:
        frame = logomaker.transform_matrix(frame, from_type="probability", to_type="information")
    if ax is None:
        _, ax = plt.subplots(figsize=(min(2 + 0.12 * len(frame), 14), 2.2))
    drawn = logomaker.Logo(frame, ax=ax, color_scheme="classic")
    if truth is not None:
        shade_truth(ax, truth, start=start)
    ax.axhline(0, color="black", linewidth=0.5)
    drawn.style_spines(visible=False)
    drawn.style_spines(spines=["left", "bottom"], visible=True)
    if title:
        ax.set_title(title, fontsize=10, loc="left")
    return drawn


def shade_truth(ax: plt.Axes, truth: torch.Tensor | np.ndarray, *, start: int = 0) -> None:
    """Shade the runs of True in a ``(L,)`` mask on ``ax`` (planted motif positions)."""
    mask = np.asarray(truth.cpu() if isinstance(truth, torch.Tensor) else truth, dtype=bool)
    edges = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    for begin, end in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
        ax.axvspan(start + begin - 0.5, start + end - 0.5, color="gold", alpha=0.3, zorder=0)


def track(
    values: torch.Tensor | np.ndarray,
    *,
    ax: plt.Axes | None = None,
    truth: torch.Tensor | np.ndarray | None = None,
    label: str | None = None,
) -> plt.Axes:
    """Plot a per-position ``(L,)`` track (e.g. attributions summed over bases).

    Taught in chapter 1.
    """
    array = (
        values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
    )
    if array.ndim != 1:
        raise ValueError(f"values must have shape (L,); found {array.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 2))
    ax.plot(np.arange(len(array)), array, linewidth=0.9, label=label)
    if truth is not None:
        shade_truth(ax, truth)
    ax.set_xlabel("position")
    return ax


def pipeline(
    stages: list[str],
    *,
    links: list[str] | None = None,
    ax: plt.Axes | None = None,
    title: str | None = None,
) -> plt.Axes:
    """A left-to-right diagram: one box per stage, an arrow (with an optional label) between
    consecutive stages. Used for the book's diagrams (the DeepLIFT multiplier chain, the
    surrogate pipeline, the distillation student), drawn in the build, not shipped as images.

    Parameters
    ----------
    stages : list of str
        The boxes' texts (``\\n`` for line breaks), at least one.
    links : list of str, optional
        ``len(stages) - 1`` labels, written above the arrows.
    ax : matplotlib Axes, optional
    title : str, optional

    Taught in chapter 2.
    """
    if not stages or not all(isinstance(s, str) for s in stages):
        raise ValueError(f"stages must be a non-empty list of strings; found {stages!r}")
    if links is not None and (
        len(links) != len(stages) - 1 or not all(isinstance(s, str) for s in links)
    ):
        raise ValueError(f"links must be {len(stages) - 1} strings, one per arrow; found {links!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4.0, 1.9 * len(stages)), 1.5))
    box = {"boxstyle": "round,pad=0.4", "facecolor": "#eef3fb", "edgecolor": "#4a6fa5"}
    for i, stage in enumerate(stages):
        ax.text(i, 0, stage, ha="center", va="center", fontsize=8, bbox=box)
        if i:
            ax.annotate("", xy=(i - 0.36, 0), xytext=(i - 0.64, 0),
                        arrowprops={"arrowstyle": "->", "color": "#333"})  # fmt: skip
            if links is not None:
                ax.text(i - 0.5, 0.28, links[i - 1], ha="center", va="bottom", fontsize=7)
    ax.set_xlim(-0.6, len(stages) - 0.4)
    ax.set_ylim(-0.6, 0.7)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9, loc="left")
    return ax
