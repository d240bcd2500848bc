"""Shared plumbing of the explorers: the controls and the input checks they share."""

from __future__ import annotations

import ipywidgets as widgets
import torch

from genotutor.training import evaluating
from genotutor.validation import check_model, check_target, check_tensor, describe


def sequence_and_position_controls(
    n_sequences: int, length: int
) -> tuple[widgets.BoundedIntText, widgets.IntSlider]:
    """The two controls of the explorers that edit one base: which sequence, which position
    (starting in the middle; updated on release, not while dragging)."""
    sequence = widgets.BoundedIntText(value=0, min=0, max=n_sequences - 1, description="sequence")
    position = widgets.IntSlider(
        value=length // 2,
        min=0,
        max=length - 1,
        description="position",
        continuous_update=False,
    )
    return sequence, position


def check_view_inputs(
    model: object, x: object, truth: object, target: object
) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor | None, int]:
    """The inputs every single-model explorer takes, validated: a model, ``(N, 4, L)``
    sequences, an optional ``(N, L)`` boolean truth mask and the output column shown."""
    model = check_model(model)
    x = check_tensor(x, "x")
    if truth is not None:
        if not isinstance(truth, torch.Tensor) or truth.dtype != torch.bool:
            raise TypeError(
                f"truth must be a bool tensor of shape (N, L) or None; found {describe(truth)}"
            )
        if tuple(truth.shape) != (x.shape[0], x.shape[-1]):
            raise ValueError(
                f"truth must have shape {(x.shape[0], x.shape[-1])} (one row per sequence); "
                f"found {tuple(truth.shape)}"
            )
    with torch.no_grad(), evaluating(model):
        n_outputs = model(x[:1]).shape[1]
    return model, x, truth, check_target(target, n_outputs)
