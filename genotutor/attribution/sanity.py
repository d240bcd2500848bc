"""The model-randomisation sanity check of attributions (Adebayo et al. 2018): the same
method on the trained model and on a copy with re-drawn weights.

Taught in chapter 2.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import torch

from genotutor.attribution.dispatch import attribute
from genotutor.evaluation import attribution_auroc, cosine_similarity, position_importance
from genotutor.seeding import seeded
from genotutor.targets import Output, Target
from genotutor.validation import check_model


def randomize_model(model: torch.nn.Module, *, seed: int = 0) -> torch.nn.Module:
    """A copy of ``model`` with every parameter re-drawn (the trained one is untouched).

    Modules with a ``reset_parameters`` method (convolutions, linear layers, batch norm)
    draw fresh weights their own way; every other parameter (a raw ``nn.Parameter`` of a
    custom module, such as a student's basis weights or a surrogate's theta) is re-drawn
    too, as PyTorch initialises a linear layer: Kaiming-uniform for a matrix or a kernel,
    uniform in ``+-1/sqrt(n)`` for a vector of ``n`` values. Seeded by ``seed``. The copy
    keeps the architecture, so attributions from it show what the architecture alone,
    without anything learned, puts into a map.

    Taught in chapter 2.
    """
    randomized = copy.deepcopy(check_model(model))
    reset: set[int] = set()
    device = next(iter(randomized.parameters()), torch.empty(0)).device
    with seeded(seed, device), torch.no_grad():  # the caller's random state is left as it was
        for module in randomized.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
                reset.update(id(p) for p in module.parameters(recurse=False))
        for parameter in randomized.parameters():
            if id(parameter) in reset:
                continue
            if parameter.ndim >= 2:
                torch.nn.init.kaiming_uniform_(parameter, a=math.sqrt(5))
            else:
                bound = 1 / math.sqrt(max(parameter.numel(), 1))
                parameter.uniform_(-bound, bound)
    return randomized


def _spearman_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ranks_a = pd.DataFrame(a).rank(axis=1).to_numpy()
    ranks_b = pd.DataFrame(b).rank(axis=1).to_numpy()
    ranks_a = ranks_a - ranks_a.mean(axis=1, keepdims=True)
    ranks_b = ranks_b - ranks_b.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(ranks_a, axis=1) * np.linalg.norm(ranks_b, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norms > 0, (ranks_a * ranks_b).sum(axis=1) / norms, np.nan)


def randomization_check(
    model: torch.nn.Module,
    x: torch.Tensor,
    method: str = "grad_x_input",
    *,
    output: Output = None,
    target: Target = 0,
    seed: int = 0,
    truth_mask: torch.Tensor | None = None,
    device: object = None,
    progress: bool = True,
    **options: object,
) -> pd.DataFrame:
    """Model-randomisation sanity check (Adebayo et al. 2018): trained vs random weights.

    An attribution method that explains the model should give a very different map once
    the model's weights are replaced by random ones. A method whose map barely changes is
    showing the input or the architecture, not what was learned.

    Parameters
    ----------
    model : torch.nn.Module
    x : torch.Tensor, shape (N, 4, L)
    method : str
        Any method of :func:`genotutor.attribution.attribute`.
    output, target, device, progress, **options
        As for :func:`genotutor.attribution.attribute`.
    seed : int
        The seed of the random weights.
    truth_mask : torch.Tensor of bool, shape (N, L), optional
        Planted positions: adds the AUROC of each map against them.

    Returns
    -------
    pandas.DataFrame
        One row per sequence: ``spearman`` (rank correlation of the per-position
        importance of the two maps) and ``cosine`` (of the raw maps), and with a truth
        mask ``auroc_trained`` and ``auroc_random`` (NaN for sequences without planted
        positions).

    Taught in chapter 2.
    """
    options |= {"output": output, "target": target, "device": device, "progress": progress}
    trained = attribute(model, x, method, **options)
    randomized = attribute(randomize_model(model, seed=seed), x, method, **options)
    frame = pd.DataFrame(
        {
            "spearman": _spearman_rows(
                position_importance(trained), position_importance(randomized)
            ),
            "cosine": cosine_similarity(trained, randomized),
        }
    )
    if truth_mask is not None:
        frame["auroc_trained"] = attribution_auroc(trained, truth_mask).per_sequence
        frame["auroc_random"] = attribution_auroc(randomized, truth_mask).per_sequence
    frame.index.name = "sequence"
    return frame
