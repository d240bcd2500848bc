"""What to explain: one scalar per sequence, chosen from whatever a model returns.

A model may return a tensor ``(N, T)``, or a tuple, list or dict of outputs (a BPNet-style
model returns a profile ``(N, C, L)`` and counts ``(N, 1)``). Every function that explains
or probes a model takes the same two arguments to say which number to follow:

- ``output`` picks one element of a tuple or list (an index) or of a dict (a key); ``None``
  for a model that returns one tensor;
- ``target`` maps that output to ``(N,)``: an int (a column of ``(N, T)``), a slice or a
  sequence of ints (the sum of those columns), or a callable ``f(selected) -> (N,)``, for
  instance a profile score with softmax weights held constant.

:func:`select` applies the two to a model's raw return value, :class:`TargetModel` wraps a
model so that it returns that scalar as ``(N, 1)`` (what captum and the attribution
methods take); :func:`genotutor.training.predict` takes the same two arguments to run a
model over many sequences in batches.

Taught in chapter 12, "Explaining a real model" (a profile head; chapter 2 uses an int).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from genotutor.validation import check_model, check_target, describe

Output = int | str | None
Target = int | slice | Sequence[int] | Callable[[torch.Tensor], torch.Tensor]


def select_output(raw: object, output: Output) -> torch.Tensor:
    """The element ``output`` of a model's return value (or the value itself, a tensor).

    Taught in chapter 12.
    """
    if isinstance(raw, torch.Tensor):
        if output is not None:
            raise ValueError(
                f"output={output!r} picks one element of a tuple, list or dict, but the model "
                f"returned a single tensor of shape {tuple(raw.shape)}; leave output=None"
            )
        return raw
    if isinstance(raw, Mapping):
        if output not in raw:
            raise ValueError(
                f"the model returned a dict with keys {list(raw)}; pass output= one of them "
                f"(found output={output!r})"
            )
        value = raw[output]
    elif isinstance(raw, (tuple, list)):
        if isinstance(output, bool) or not isinstance(output, (int, np.integer)):
            raise ValueError(
                f"the model returned a {type(raw).__name__} of {len(raw)} outputs; pass output= "
                f"an index in [0, {len(raw) - 1}] (found output={output!r})"
            )
        if not -len(raw) <= output < len(raw):
            raise ValueError(
                f"output must be in [0, {len(raw) - 1}] (the model returned {len(raw)} "
                f"outputs); found {output}"
            )
        value = raw[int(output)]
    else:
        raise TypeError(
            f"the model must return a tensor, tuple, list or dict; found {describe(raw)}"
        )
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"output {output!r} of the model is not a tensor; found {describe(value)}")
    return value


def _columns(selected: torch.Tensor, target: Target) -> torch.Tensor:
    """``(N,)``: the column(s) ``target`` of an ``(N, T)`` output, summed."""
    if selected.ndim == 1:
        selected = selected[:, None]
    if selected.ndim != 2:
        raise ValueError(
            f"target={target!r} takes columns of an (N, T) output, but the selected output has "
            f"shape {tuple(selected.shape)}; pass output= to pick another output, or a "
            "callable target that maps it to (N,)"
        )
    n_columns = selected.shape[1]
    if isinstance(target, slice):
        index = list(range(n_columns))[target]
        if not index:
            raise ValueError(f"target={target!r} selects no column of {n_columns}")
    elif isinstance(target, (int, np.integer)) and not isinstance(target, (bool, np.bool_)):
        index = [int(target)]
    else:
        index = list(target)
        if not index:
            raise ValueError("target must name at least one column; found an empty sequence")
    for column in index:
        if isinstance(column, (bool, np.bool_)) or not isinstance(column, (int, np.integer)):
            raise TypeError(f"target must hold ints (column indices); found {describe(column)}")
        if not 0 <= column < n_columns:
            raise ValueError(
                f"target must be in [0, {n_columns - 1}] (the output has {n_columns} "
                f"column{'s' if n_columns != 1 else ''}); found {column}"
            )
    if len(index) == 1:
        return selected[:, index[0]]
    return selected[:, index].sum(dim=1)


def select(raw: object, *, output: Output = None, target: Target = 0) -> torch.Tensor:
    """One value per sequence, ``(N,)``, from a model's raw return value.

    Parameters
    ----------
    raw : torch.Tensor, tuple, list or dict
        What the model returned for ``N`` sequences.
    output : int, str or None
        Which element of a tuple/list (index) or dict (key); None for a single tensor.
    target : int, slice, sequence of int or callable
        See the module docstring.

    Returns
    -------
    torch.Tensor, shape (N,)

    Taught in chapter 12.
    """
    target = check_target(target, spec=True)
    selected = select_output(raw, output)
    if not callable(target):
        return _columns(selected, target)
    value = target(selected)
    n = selected.shape[0]
    if isinstance(value, torch.Tensor) and value.ndim == 2 and value.shape[1] == 1:
        value = value[:, 0]
    if not isinstance(value, torch.Tensor) or tuple(value.shape) != (n,):
        found = tuple(value.shape) if isinstance(value, torch.Tensor) else describe(value)
        raise ValueError(
            f"a callable target must map the selected output (shape {tuple(selected.shape)}) "
            f"to shape ({n},), one value per sequence; it returned {found}"
        )
    return value


class TargetModel(nn.Module):
    """``model`` followed by :func:`select`: ``(N, 4, L)`` -> ``(N, 1)``, the value to explain.

    Attribution methods that expect an ``(N, T)`` output explain column 0 of this wrapper.
    The wrapped model is a submodule, so hooks on its layers (DeepLIFT's) still apply.

    Taught in chapter 12.
    """

    def __init__(self, model: nn.Module, *, output: Output = None, target: Target = 0) -> None:
        super().__init__()
        self.model = check_model(model)
        self.output = output
        self.target = check_target(target, spec=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return select(self.model(x), output=self.output, target=self.target)[:, None]


def model_and_column(
    model: nn.Module, *, output: Output = None, target: Target = 0
) -> tuple[nn.Module, int]:
    """``(model, column)`` to explain: the model itself with its int target when it returns
    one ``(N, T)`` tensor and ``target`` is an int, else a :class:`TargetModel` and 0.

    Taught in chapter 12.
    """
    target = check_target(target, spec=True)
    if output is None and isinstance(target, int):
        return model, target
    return TargetModel(model, output=output, target=target), 0
