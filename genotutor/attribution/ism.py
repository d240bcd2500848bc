"""Batched in-silico saturation mutagenesis (ISM), with a fast local path for CNNs.

The ISM score of base ``b`` at position ``i`` is ``f(x with b at i) - f(x)``: one forward
pass per mutant, ``3 L`` of them per sequence. A single-base change alters only a window of
each convolution's output (its receptive field), so for the convolution / activation /
pooling layers at the start of a CNN this module recomputes only those windows, spliced
into the activations of the unmutated sequence (the idea of fastISM, Nair et al. 2022).
The rest of the model (e.g. the dense head) runs in full on the spliced activations. Any
model whose start this does not recognise runs through plain batched forward passes.

Taught in chapter 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import fx, nn

from genotutor.attribution._common import check_option_values
from genotutor.models import Exponential
from genotutor.progress import progress_bar
from genotutor.validation import check_region

ELEMENTWISE = (
    nn.ReLU, nn.ELU, nn.LeakyReLU, nn.Sigmoid, nn.Tanh, nn.Softplus, nn.GELU, nn.SiLU,
    nn.Identity, nn.Dropout, nn.BatchNorm1d, Exponential,
)  # fmt: skip


@dataclass
class _Step:
    """One local layer: how a window of changed inputs maps to a window of outputs."""

    module: nn.Module
    kind: str  # "elementwise", "conv" or "pool"
    length_in: int
    length_out: int
    pad: int = 0
    span: int = 0  # dilation * (kernel - 1) for convolutions, the kernel for pools


def _conv_step(module: nn.Conv1d, length: int) -> _Step | None:
    if module.stride[0] != 1 or module.padding_mode != "zeros":
        return None
    span = module.dilation[0] * (module.kernel_size[0] - 1)
    if module.padding == "same":
        if span % 2:
            return None
        pad = span // 2
    elif module.padding == "valid":
        pad = 0
    else:
        pad = int(module.padding[0])
    out = length + 2 * pad - span
    return _Step(module, "conv", length, out, pad, span) if out >= 1 else None


def _pool_step(module: nn.Module, length: int) -> _Step | None:
    def one(value):
        return value[0] if isinstance(value, (tuple, list)) else value

    kernel, stride = one(module.kernel_size), one(module.stride or module.kernel_size)
    padding = one(module.padding)
    dilation = one(getattr(module, "dilation", 1))
    if stride != kernel or padding != 0 or dilation != 1 or module.ceil_mode:
        return None
    out = length // kernel
    return _Step(module, "pool", length, out, 0, kernel) if out >= 1 else None


def _step_for(module: nn.Module, length: int) -> _Step | None:
    if isinstance(module, ELEMENTWISE):
        if isinstance(module, nn.BatchNorm1d) and module.training:
            return None
        return _Step(module, "elementwise", length, length)
    if isinstance(module, nn.Conv1d):
        return _conv_step(module, length)
    if isinstance(module, (nn.MaxPool1d, nn.AvgPool1d)):
        return _pool_step(module, length)
    return None


@dataclass
class _Plan:
    steps: list[_Step]
    rest: nn.Module


def local_plan(model: nn.Module, length: int) -> _Plan | None:
    """Split ``model`` into a chain of local layers and the rest, or None if it cannot.

    The model is traced with ``torch.fx``; the chain is the longest run of convolutions
    (stride 1), elementwise modules and non-overlapping pools that starts at the input and
    feeds only the next layer. Models that do not trace, or do not start with such a
    chain, get None (and plain forward passes).
    """
    try:
        graph_module = fx.symbolic_trace(model)
    except Exception:  # noqa: BLE001 - any tracing failure means "no fast path"
        return None
    nodes = list(graph_module.graph.nodes)
    if sum(node.op == "placeholder" for node in nodes) != 1 or nodes[0].op != "placeholder":
        return None
    steps: list[_Step] = []
    previous, current_length = nodes[0], length
    for node in nodes[1:]:
        if node.op != "call_module" or node.args != (previous,) or node.kwargs:
            break
        if len(previous.users) != 1:
            break
        step = _step_for(graph_module.get_submodule(node.target), current_length)
        if step is None:
            break
        steps.append(step)
        previous, current_length = node, step.length_out
    if not any(step.kind == "conv" for step in steps):
        return None
    graph = fx.Graph()
    env = {previous: graph.placeholder("h")}
    try:
        for node in nodes[nodes.index(previous) + 1 :]:
            if node.op == "placeholder":
                return None
            env[node] = graph.node_copy(node, lambda n: env[n])
    except KeyError:  # the rest reads an earlier activation (e.g. a skip connection)
        return None
    return _Plan(steps, fx.GraphModule(graph_module, graph))


def _splice(
    reference: torch.Tensor,
    seq: torch.Tensor,
    start: torch.Tensor,
    width: int,
    values: torch.Tensor,
    values_start: torch.Tensor,
) -> torch.Tensor:
    """Windows of the reference activations with the changed values written in.

    ``reference`` is channels-last ``(N, L, C)``; returns ``(B, C, width)``: for each edit,
    positions ``start .. start + width`` of its sequence's reference, with ``values``
    ``(B, C, W)`` written at ``values_start``. Values that fall outside the window (only
    ones a pooling layer drops) go to a scratch area that is cut off.
    """
    n_edits, channels, w = values.shape
    window = start[:, None] + torch.arange(width)
    gathered = reference[seq[:, None], window]  # (B, width, C)
    gathered = torch.cat([gathered, gathered.new_zeros(n_edits, w, channels)], dim=1)
    offsets = torch.arange(w)
    where = (values_start - start)[:, None] + offsets
    where = torch.where((where >= 0) & (where < width), where, width + offsets)
    gathered.scatter_(1, where[:, :, None].expand(n_edits, w, channels), values.transpose(1, 2))
    return gathered[:, :width].transpose(1, 2)


def _advance(step: _Step, reference_t, seq, start, width, values):
    """Propagate the changed window through one local layer."""
    if step.kind == "elementwise":
        return start, width, step.module(values)
    if step.kind == "conv":
        new_width = min(width + step.span, step.length_out)
        new_start = (start + step.pad - step.span).clamp(0, step.length_out - new_width)
        window = _splice(reference_t, seq, new_start, new_width + step.span, values,
                         start + step.pad)  # fmt: skip
        conv = step.module
        out = F.conv1d(window, conv.weight, conv.bias, dilation=conv.dilation, groups=conv.groups)
        return new_start, new_width, out
    kernel = step.span
    new_width = min((width - 1) // kernel + 2, step.length_out)
    new_start = torch.clamp(
        torch.div(start, kernel, rounding_mode="floor"), max=step.length_out - new_width
    )
    new_start = new_start.clamp(min=0)
    window = _splice(reference_t, seq, new_start * kernel, new_width * kernel, values, start)
    return new_start, new_width, step.module(window)


def _fast_outputs(plan: _Plan, x: torch.Tensor, edits: torch.Tensor, target: int,
                  chunk: int, progress: bool) -> torch.Tensor:  # fmt: skip
    """Model outputs for each edit ``(seq, base, pos)`` through the local plan."""
    references, current = [], x
    for step in plan.steps:
        references.append(current)
        current = step.module(current)
    last = current
    # channels-last, zero-padded copies of each layer's input, for the window gathers
    inputs_t = [F.pad(ref, (s.pad, s.pad)).transpose(1, 2).contiguous()
                for ref, s in zip(references, plan.steps, strict=True)]  # fmt: skip
    per_edit = last.shape[1] * last.shape[2]
    chunk = max(1, min(chunk, (1 << 25) // max(per_edit, 1)))
    outputs = []
    eye = torch.eye(x.shape[1], dtype=x.dtype)
    for begin in progress_bar(range(0, len(edits), chunk), desc="ISM", progress=progress):
        seq, base, pos = edits[begin : begin + chunk].unbind(1)
        start, width, values = pos, 1, eye[base][:, :, None]
        for step, ref_t in zip(plan.steps, inputs_t, strict=True):
            start, width, values = _advance(step, ref_t, seq, start, width, values)
        full = last[seq].clone()
        where = start[:, None] + torch.arange(width)
        full.scatter_(2, where[:, None, :].expand(-1, full.shape[1], -1), values)
        outputs.append(plan.rest(full)[:, target])
    return torch.cat(outputs)


def _full_outputs(model: nn.Module, x: torch.Tensor, edits: torch.Tensor, target: int,
                  chunk: int, progress: bool) -> torch.Tensor:  # fmt: skip
    """Model outputs for each edit ``(seq, base, pos)`` by plain forward passes."""
    outputs = []
    for begin in progress_bar(range(0, len(edits), chunk), desc="ISM", progress=progress):
        seq, base, pos = edits[begin : begin + chunk].unbind(1)
        mutants = x[seq].clone()
        rows = torch.arange(len(seq))
        mutants[rows, :, pos] = 0.0
        mutants[rows, base, pos] = 1.0
        outputs.append(model(mutants)[:, target])
    return torch.cat(outputs)


def ism(
    model: nn.Module,
    x: torch.Tensor,
    target: int,
    *,
    start: int | None = None,
    end: int | None = None,
    fast: bool = True,
    batch_size: int | None = None,
    progress: bool = True,
) -> torch.Tensor:
    """In-silico saturation mutagenesis: ``f(x with base b at i) - f(x)`` for every b, i.

    Parameters
    ----------
    model : torch.nn.Module
        In eval mode (``attribute`` takes care of it).
    x : torch.Tensor, shape (N, 4, L)
    target : int
        The output to explain.
    start, end : int, optional
        Mutate only the positions in ``[start, end)`` (default: all): the cost is that
        window's ``3 (end - start)`` mutants per sequence.
    fast : bool
        Recompute only the windows a mutation changes in the model's leading convolution
        layers (exact up to float rounding); False runs every mutant in full.
    batch_size : int, optional
        Mutants per batch (>= 1; None: 8192 on the fast path, 256 otherwise).
    progress : bool
        Show a tqdm bar over the batches.

    Returns
    -------
    torch.Tensor, shape (N, 4, end - start)
        The window's scores (all of ``L`` by default), zero at the observed bases.

    Taught in chapter 2 (windows in chapter 9).
    """
    check_option_values(
        {"fast": fast, "batch_size": batch_size, "progress": progress}, optional=("batch_size",)
    )
    start, end = check_region(
        (0 if start is None else start, x.shape[-1] if end is None else end),
        x.shape[-1],
        "(start, end)",
        allow_none=False,
    )
    with torch.no_grad():
        reference = model(x)[:, target]
        seq, base, pos = torch.nonzero(x[..., start:end] != 1.0, as_tuple=True)
        edits = torch.stack([seq, base, pos + start], dim=1)
        plan = local_plan(model, x.shape[-1]) if fast else None
        if plan is not None:
            chunk = 8192 if batch_size is None else batch_size
            outputs = _fast_outputs(plan, x, edits, target, chunk, progress)
        else:
            chunk = 256 if batch_size is None else batch_size
            outputs = _full_outputs(model, x, edits, target, chunk, progress)
        scores = torch.zeros_like(x[..., start:end])
        scores[seq, base, pos] = outputs - reference[seq]
    return scores
