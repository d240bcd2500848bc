"""Fast ISM: where the windows stop at a linear operation, only the change is computed.

A sum or mean over the length (``h.mean(dim=2)``, ``AdaptiveAvgPool1d(1)``) and a flatten
followed by a linear layer are linear in their input, so the mutant's output is the
reference output plus the operation applied to the change of the input, which is zero
outside the window: ``y = y_ref + sum(window - ref_window) / L``, and for a linear layer
``y = y_ref + W[:, columns of the window] @ (window - ref_window)``. The reference's part
of each is a difference of two prefix sums, computed once per group of sequences. The
columns depend on where the window starts; mutants of one position are consecutive, so
each run of equal starts is one small matrix product. Neither needs the full activation.

Taught in chapter 2 (the fast ISM path).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import fx, nn

from genotutor.attribution._ism_trace import EXAMPLE_BATCH, Traced


@dataclass
class Delta:
    """A node computed as its reference value plus the change of one windowed input.

    ``kind`` is ``"sum"`` (a sum over ``dims``, times ``scale``, keeping dimensions as
    ``keepdim``) or ``"linear"`` (``weight`` of shape ``(H, C, L)`` over the flattened
    ``source``; ``skipped`` is the flatten between them).
    """

    node: fx.Node
    source: fx.Node
    kind: str
    dims: tuple[int, ...] = (2,)
    keepdim: bool = False
    scale: float = 1.0
    weight: torch.Tensor | None = None
    skipped: fx.Node | None = None
    columns: torch.Tensor | None = None  # weight as (L, C, H): a window's rows are a slice


def _argument(node: fx.Node, position: int, name: str, default=None):
    if name in node.kwargs:
        return node.kwargs[name]
    return node.args[position] if len(node.args) > position else default


def _reduction(node: fx.Node, source: fx.Node, traced: Traced) -> Delta | None:
    """A sum or mean over dimensions that include the length (never the batch)."""
    shape = traced.values[source].shape
    if node.op == "call_module":
        module = traced.root.get_submodule(node.target)
        if isinstance(module, nn.AdaptiveAvgPool1d) and module.output_size in (1, (1,)):
            return Delta(node, source, "sum", (2,), True, 1.0 / shape[2])
        return None
    if node.op == "call_function" and node.target is F.adaptive_avg_pool1d:
        if _argument(node, 1, "output_size") in (1, (1,)):
            return Delta(node, source, "sum", (2,), True, 1.0 / shape[2])
        return None
    name = node.target if node.op == "call_method" else getattr(node.target, "__name__", "")
    if node.op == "call_function" and node.target not in (torch.sum, torch.mean):
        return None
    if name not in ("sum", "mean") or "dtype" in node.kwargs or len(node.args) > 3:
        return None
    dims = _argument(node, 1, "dim")
    if dims is None:
        return None
    dims = tuple(sorted({d % 3 for d in ((dims,) if isinstance(dims, int) else dims)}))
    if 0 in dims or 2 not in dims:
        return None
    keepdim = bool(_argument(node, 2, "keepdim", False))
    scale = 1.0 / math.prod(shape[d] for d in dims) if name == "mean" else 1.0
    return Delta(node, source, "sum", dims, keepdim, scale)


def _is_flatten(node: fx.Node, source: fx.Node, traced: Traced) -> bool:
    value, shape = traced.values[node], traced.values[source].shape
    if not isinstance(value, torch.Tensor) or tuple(value.shape) != (
        EXAMPLE_BATCH,
        shape[1] * shape[2],
    ):
        return False  # fmt: skip
    if node.op == "call_module":
        return isinstance(traced.root.get_submodule(node.target), nn.Flatten)
    if node.op == "call_method":
        return node.target in ("flatten", "view", "reshape")
    return node.target in (torch.flatten, torch.reshape)


def _linear_weight(node: fx.Node, traced: Traced, consts: dict):
    if node.op == "call_module":
        module = traced.root.get_submodule(node.target)
        return module.weight if isinstance(module, nn.Linear) else None
    if node.op == "call_function" and node.target is F.linear:
        weight = _argument(node, 1, "weight")
        return consts.get(weight) if isinstance(weight, fx.Node) else None
    return None


def find_deltas(rest: list, windowed: dict, traced: Traced, consts: dict) -> dict:
    """``node -> Delta`` for the nodes of ``rest`` that can be computed from a change."""
    found = {}
    for node in rest:
        sources = node.all_input_nodes
        if len(sources) != 1 or sources[0] not in windowed:
            continue
        source = sources[0]
        delta = _reduction(node, source, traced)
        if delta is None and _is_flatten(node, source, traced) and len(node.users) == 1:
            user = next(iter(node.users))
            weight = _linear_weight(user, traced, consts)
            if (
                weight is not None
                and user.all_input_nodes[0] is node
                and all(n is node or n in consts for n in user.all_input_nodes)
            ):
                shape = traced.values[source].shape
                weight = weight.detach().reshape(weight.shape[0], shape[1], shape[2])
                delta = Delta(user, source, "linear", weight=weight, skipped=node,
                              columns=weight.permute(2, 1, 0).contiguous())  # fmt: skip
        if delta is not None:
            found[delta.node] = delta
    return found


def reference_sums(delta: Delta, reference: torch.Tensor) -> torch.Tensor:
    """Prefix sums along the length of what the delta subtracts, ``(n, H, L + 1)``.

    The change of a sum over a window is the window's sum minus the reference's sum over
    the same positions, which is a difference of two prefix sums; for a linear layer the
    same holds for ``W[h, c, p] * reference[c, p]`` summed over the channels. Summed in
    float64, so that the difference of two large prefix sums keeps float32 precision.

    Parameters
    ----------
    reference : torch.Tensor, shape (n, C, L)
        The reference activations of ``delta.source``.
    """
    values = reference.double()
    if delta.kind == "linear":
        values = torch.einsum("hcp,ncp->nhp", delta.weight.double(), values)
    return F.pad(values.cumsum(dim=2), (1, 0))


def delta_value(
    delta: Delta, window: torch.Tensor, sums: torch.Tensor, seq: torch.Tensor,
    starts: torch.Tensor, starts_cpu: np.ndarray,
) -> torch.Tensor:  # fmt: skip
    """The change of ``delta.node``'s output when its source's window becomes ``window``.

    Parameters
    ----------
    window : torch.Tensor, shape (B, C, W)
        The mutants' windows of the source.
    sums : torch.Tensor, shape (n, H, L + 1)
        :func:`reference_sums` of the group's references.
    seq, starts : torch.Tensor, shape (B,)
        Each mutant's sequence within the group and where its window starts.
    starts_cpu : numpy.ndarray, shape (B,)
        ``starts`` on the CPU; mutants that share a start are best consecutive (one
        matrix product per run of equal starts).
    """
    width = window.shape[2]
    before = sums[seq, :, starts] - sums[seq, :, starts + width]  # minus the reference's part
    if delta.kind == "sum":
        change = window.sum(dim=2) + before.to(window.dtype)  # (B, C)
        change = change[:, :, None]
        if 1 in delta.dims:
            change = change.sum(dim=1, keepdim=True)
        if not delta.keepdim:
            change = change.squeeze(dim=2)
            change = change.squeeze(dim=1) if 1 in delta.dims else change
        return change * delta.scale
    hidden = delta.columns.shape[2]
    out = window.new_empty(window.shape[0], hidden)
    flat = window.transpose(1, 2).reshape(window.shape[0], -1)  # position-major, as columns
    bounds = [0, *(np.flatnonzero(np.diff(starts_cpu)) + 1), len(starts_cpu)]
    for begin, end in zip(bounds[:-1], bounds[1:], strict=True):
        start = int(starts_cpu[begin])
        columns = delta.columns[start : start + width].view(-1, hidden)
        torch.matmul(flat[begin:end], columns, out=out[begin:end])
    return out + before.to(window.dtype)
