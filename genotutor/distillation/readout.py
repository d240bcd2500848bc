"""Reading a neural-basis student: its filters as logos, its shape functions as curves.

Taught in chapter 9, "Distilling a splicing model".
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from genotutor.distillation.students import NeuralBasisStudent
from genotutor.plotting import logo
from genotutor.sequences import ALPHABET, check_tensor
from genotutor.training import evaluating


def _check_student(student: object) -> NeuralBasisStudent:
    if not isinstance(student, NeuralBasisStudent):
        raise TypeError(
            f"student must be a NeuralBasisStudent (distill(..., student='neural_basis')); "
            f"found {type(student).__name__}"
        )
    return student


def filter_consensus(student: NeuralBasisStudent) -> list[str]:
    """Each filter's best-matching word (the argmax base at each column). Taught in chapter 9."""
    weights = _check_student(student).conv.weight.detach()
    return ["".join(ALPHABET[i] for i in w.argmax(dim=0)) for w in weights]


@torch.no_grad()
def filter_report(
    student: NeuralBasisStudent,
    x: torch.Tensor,
    covariates: pd.DataFrame,
    *,
    device: object = None,
) -> pd.DataFrame:
    """What each filter of a student tracks.

    For every filter k, its summed contribution ``sum_p c_kp`` to the scalar that the
    student's readout maps to the output, on ``x``, is correlated with each column of
    ``covariates`` (e.g. the simulator's CpG count,
    in-frame stops, enhancer count, donor score).

    Parameters
    ----------
    student : NeuralBasisStudent
    x : torch.Tensor, shape (N, 4, L)
    covariates : pandas.DataFrame
        N rows of numbers.
    device : str or torch.device, optional
        Where to run the student (its own device by default); one pass over ``x``.

    Returns
    -------
    pandas.DataFrame
        One row per filter: ``consensus``, ``sd`` (spread of its contribution) and one
        correlation column per covariate.

    Taught in chapter 9.
    """
    student = _check_student(student)
    check_tensor(x, "x")
    if not isinstance(covariates, pd.DataFrame) or len(covariates) != len(x):
        raise ValueError(
            f"covariates must be a DataFrame with one row per sequence ({len(x)}); found "
            f"{type(covariates).__name__} of length {len(covariates)}"
        )
    with evaluating(student, device) as here:
        summed = student.contributions(x.to(here)).sum(dim=-1).cpu()
    values = summed.numpy().astype(np.float64)
    rows = []
    for k, consensus in enumerate(filter_consensus(student)):
        row = {"consensus": consensus, "sd": values[:, k].std()}
        for column in covariates.columns:
            c = covariates[column].to_numpy(dtype=np.float64)
            ok = values[:, k].std() > 0 and c.std() > 0
            row[column] = float(np.corrcoef(values[:, k], c)[0, 1]) if ok else float("nan")
        rows.append(row)
    return pd.DataFrame(rows).rename_axis("filter")


def plot_student(
    student: NeuralBasisStudent, *, position: int | None = None, filters: list[int] | None = None
) -> plt.Figure:
    """Draw each filter (mean-centred weights as a logo) beside its shape function.

    The shape function ``f_k(a, p)`` is drawn against the activation ``a`` at three
    consecutive positions ``p``, one per reading frame, starting at ``position`` (the
    middle by default): curves that differ show a frame-dependent filter.

    Returns
    -------
    matplotlib.figure.Figure

    Taught in chapter 9.
    """
    student = _check_student(student)
    weights = student.conv.weight.detach()
    n_positions = student.encoding.shape[1]
    start = n_positions // 2 if position is None else int(position)
    if not 0 <= start <= n_positions - 3:
        raise ValueError(f"position must be in [0, {n_positions - 3}]; found {position}")
    chosen = list(range(len(weights))) if filters is None else list(filters)
    fig, axes = plt.subplots(len(chosen), 2, figsize=(9, 1.5 * len(chosen)), squeeze=False)
    grid = np.linspace(-1.0, 4.0, 101)
    for row, k in enumerate(chosen):
        centred = weights[k] - weights[k].mean(dim=0, keepdim=True)
        logo(centred, ax=axes[row, 0])
        axes[row, 0].set_ylabel(f"filter {k}", fontsize=8)
        curves = student.shape_function(k, grid, np.arange(start, start + 3))
        for frame, curve in enumerate(curves):
            axes[row, 1].plot(grid, curve, label=f"position {start + frame}")
        axes[row, 1].axhline(0, color="grey", linewidth=0.5)
        if row == 0:
            axes[row, 1].legend(fontsize=7, loc="upper left")
            axes[row, 0].set_title("filter (mean-centred weights)", fontsize=9, loc="left")
            axes[row, 1].set_title("shape function: contribution vs activation", fontsize=9)
    axes[-1, 1].set_xlabel("filter activation")
    fig.tight_layout()
    return fig
