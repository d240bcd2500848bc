"""Shared plumbing of the attribution methods: validation, eval mode, batching."""

from __future__ import annotations

import torch
from torch import nn

from genotutor.training import evaluating  # noqa: F401  (re-exported for the methods)
from genotutor.validation import check_model, check_positive_int, check_target, check_tensor


def n_outputs(model: nn.Module, x: torch.Tensor) -> int:
    """Number of outputs T of ``model`` on ``(N, 4, L)`` input, checking the shape is (N, T)."""
    with torch.no_grad():
        y = model(x[:1])
    if not isinstance(y, torch.Tensor) or y.ndim != 2 or y.shape[0] != 1:
        shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(
            f"model must map (N, 4, L) inputs to (N, T) outputs; for one sequence it "
            f"returned {shape}"
        )
    return int(y.shape[1])


def check_inputs(model: object, x: object, target: object) -> tuple[nn.Module, torch.Tensor, int]:
    """Validate the model, the ``(N, 4, L)`` input and the target output index.

    Call inside :func:`evaluating` (the output-size probe runs the model once).
    """
    model = check_model(model)
    x = check_tensor(x, "x", ndim=3)
    return model, x, check_target(target, n_outputs(model, x))


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
