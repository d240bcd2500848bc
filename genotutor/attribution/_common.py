"""Shared plumbing of the attribution methods: validation, eval mode, batching."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from genotutor.sequences import dinucleotide_shuffle
from genotutor.training import evaluating  # noqa: F401  (re-exported for the methods)
from genotutor.validation import (
    check_bool,
    check_choice,
    check_number,
    check_positive_int,
    check_tensor,
    describe,
)

BASELINES = ("zeros", "uniform", "shuffle")
DEEPLIFT_RULES = ("rescale", "reveal_cancel", "genomics_default")  # reveal_cancel.RULES
FLAGS = (
    "correct",
    "hypothetical",
    "progress",
    "return_delta",
    "return_plan",
    "times_input",
    "warn",
)
COUNTS = ("batch_size", "n_samples", "n_steps", "n_references")
# checked against the input by check_reference / deeplift.check_shap_references, and
# DeepLIFT's rule table by deeplift.check_rules
REFERENCE_OPTIONS = ("baseline", "references", "rules")


class ScoresAndDelta(NamedTuple):
    """What an attribution returns with ``return_delta=True``: ``scores`` ``(N, 4, L)`` (or
    the layer's shape) and ``delta`` ``(N,)``, the sum of the scores minus the output change
    they explain (the completeness / summation-to-delta error).

    Taught in chapter 2.
    """

    scores: torch.Tensor
    delta: torch.Tensor


def n_outputs(model: nn.Module, x: torch.Tensor) -> int:
    """Number of outputs T of ``model`` on ``(N, 4, L)`` input, checking the shape is (N, T)."""
    with torch.no_grad():
        y = model(x[:1])
    if not isinstance(y, torch.Tensor) or y.ndim != 2 or y.shape[0] != 1:
        shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(
            f"model must map (N, 4, L) inputs to (N, T) outputs to explain an int target; "
            f"for one sequence it returned {shape}. Pass output= to pick one element of a "
            "tuple, list or dict, and a callable target= for an output of another shape"
        )
    return int(y.shape[1])


def check_pointwise(pointwise: object) -> tuple[type, ...]:
    """``pointwise``: None or a tuple (or list) of ``nn.Module`` subclasses, as a tuple."""
    if pointwise is None:
        return ()
    if isinstance(pointwise, (tuple, list)):
        wrong = [t for t in pointwise if not (isinstance(t, type) and issubclass(t, nn.Module))]
        if not wrong:
            return tuple(pointwise)
        pointwise = wrong[0]
    raise TypeError(
        "pointwise must be a tuple of module types (nn.Module subclasses that act on each "
        f"value alone, e.g. pointwise=(MyActivation,)); found {describe(pointwise)}"
    )


def check_option(name: str, value: object) -> object:
    """Check the value of one scalar attribution option, by its name, and return it.

    ``correct``, ``hypothetical``, ``progress``, ``return_delta``, ``return_plan``,
    ``times_input`` and ``warn`` must be bools; ``fast`` a bool or ``"auto"``;
    ``batch_size``, ``n_samples``, ``n_steps``, ``n_references`` and ``end`` ints >= 1;
    ``seed`` and ``start`` ints >= 0; ``noise`` a number > 0; ``rule`` one of
    ``DEEPLIFT_RULES``. (ISM's ``start < end <= L`` needs the input:
    :func:`genotutor.attribution.ism.check_window`.)

    Raises
    ------
    TypeError
        For a value of the wrong kind (``"no"`` for a flag, ``2.5`` for a count).
    ValueError
        For a value out of range (``0`` for a count, ``-1`` for the seed).
    """
    if name in FLAGS:
        return check_bool(value, name)
    if name == "fast":
        return check_fast(value)
    if name == "pointwise":
        return check_pointwise(value)
    if name in COUNTS or name == "end":
        return check_positive_int(value, name)
    if name in ("seed", "start"):
        return check_positive_int(value, name, minimum=0)
    if name == "noise":
        return check_number(value, name, minimum=0, inclusive=(False, True))
    if name == "rule":
        return check_choice(value, name, DEEPLIFT_RULES)
    raise KeyError(f"no check for option {name!r}")


def check_fast(value: object) -> bool | str:
    """ISM's ``fast``: True, False or ``"auto"``, else a TypeError naming ``fast``."""
    if isinstance(value, str) and value == "auto":
        return value
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"fast must be True or False (or 'auto'); found {describe(value)}")
    return bool(value)


def check_option_values(options: dict, optional: Iterable[str] = ()) -> dict:
    """Check the value of every scalar option in ``options`` (see :func:`check_option`).

    Options named in ``optional`` may also be None (their documented default). The
    reference options (``baseline``, ``references``) need the input, so they are left to
    :func:`check_reference` and :func:`genotutor.attribution.deeplift.check_shap_references`.
    Returns a new dict with the checked values.
    """
    optional = tuple(optional)
    checked = {}
    for name, value in options.items():
        if name in REFERENCE_OPTIONS or (value is None and name in optional):
            checked[name] = value
        else:
            checked[name] = check_option(name, value)
    return checked


def check_baseline(baseline: object, x: torch.Tensor, name: str) -> torch.Tensor:
    """A ``(4, L)`` or ``(N, 4, L)`` baseline, returned broadcast to ``x``'s shape."""
    check_tensor(baseline, name, ndim=(2, 3))
    expected = x.shape[1:] if baseline.ndim == 2 else x.shape
    if tuple(baseline.shape) != tuple(expected):
        raise ValueError(
            f"{name} must have shape {tuple(x.shape[1:])} (shared) or {tuple(x.shape)} (one per "
            f"sequence); found {tuple(baseline.shape)}"
        )
    return baseline.to(x.dtype).expand_as(x)


def check_reference(value: object, x: torch.Tensor, name: str) -> str | torch.Tensor:
    """One reference input, named ``name`` in errors: one of ``BASELINES`` or a tensor.

    Parameters
    ----------
    value : str or torch.Tensor, shape (4, L) or (N, 4, L)
        The option's value.
    x : torch.Tensor, shape (N, 4, L)
        The (already checked) input.
    name : str
        The option's name (``"baseline"``, ``"references"``).

    Returns
    -------
    str or torch.Tensor, shape (N, 4, L)
        The name, or the tensor broadcast to ``x``'s shape.

    Raises
    ------
    TypeError
        If ``value`` is neither a string nor a floating-point tensor.
    ValueError
        For an unknown name, a shape that does not match ``x``, or non-finite values.
    """
    if isinstance(value, str):
        return check_choice(value, name, BASELINES)
    return check_baseline(value, x, name)


def reference_input(x: torch.Tensor, checked: str | torch.Tensor, seed: int) -> torch.Tensor:
    """The ``(N, 4, L)`` reference for an already checked baseline name or tensor
    (see :func:`check_reference`): all zeros, 0.25 everywhere, or one dinucleotide shuffle
    of each sequence, each with its own generator seeded by ``seed``."""
    if isinstance(checked, torch.Tensor):
        return checked
    if checked == "zeros":
        return torch.zeros_like(x)
    if checked == "uniform":
        return torch.full_like(x, 0.25)
    return torch.stack([dinucleotide_shuffle(row, n=1, seed=seed)[0] for row in x])


def batches(n: int, batch_size: int) -> list[slice]:
    """Slices that cover ``range(n)`` in steps of ``batch_size``."""
    batch_size = check_positive_int(batch_size, "batch_size")
    return [slice(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]


def check_options(method: str, options: dict, allowed: tuple[str, ...]) -> None:
    """Reject keyword options that ``method`` does not take, naming the ones it does."""
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TypeError(
            f"method {method!r} got unexpected option(s) {', '.join(map(repr, unknown))}; "
            f"it takes {', '.join(map(repr, allowed)) or 'no options'}"
        )
