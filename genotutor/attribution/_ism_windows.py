"""Fast ISM: the rules of the window operations (convolution, pooling, padding, slicing).

Output position ``j`` of a window operation reads input positions ``j * stride - offset``
to ``j * stride - offset + span``; each rule runs the operation without its own padding
on a read of the input that holds those positions (padded with ``fill``), and returns a
new tensor (a read may be shared with another node, so none is returned as it is).
Convolutions run as 2-D convolutions of ``(B, C, 1, W)``, which keep a channels-last read
channels-last (as the reference tables are) and are the fastest form on the CPU.

Taught in chapter 2 (the fast ISM path).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import fx


@dataclass
class Rule:
    """How one local node's output window is computed from its inputs' windows.

    ``apply`` maps ``{source: values read}`` to the output window ``(B, C, W)``. Window
    rules also give ``stride``, ``span`` (the positions one output reads beyond the first),
    ``offset`` (left padding) and ``fill``; ``macs`` is the multiply-adds per output
    position (convolutions) and ``reads_per_output`` the input values read per output value.
    ``inplace``, where the operation has an in-place form, computes the same output into
    the window read of the source it is given (for a window that nothing else reads).
    """

    kind: str  # "input", "pointwise", "window" or "combine"
    sources: tuple[fx.Node, ...]
    length: int
    channels: int
    apply: Callable[[dict], torch.Tensor] | None = None
    stride: int = 1
    span: int = 0
    offset: int = 0
    fill: float = 0.0
    macs: int = 0
    reads_per_output: int = 1
    inplace: Callable[[dict, fx.Node], torch.Tensor] | None = None  # writes into a read


def one(value) -> int:
    """An int, or the only entry of a one-element tuple or list."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"expected one value; found {value}")
        value = value[0]
    return int(value)


class FunctionalConv:
    """The attributes of ``nn.Conv1d`` that the conv rule reads, from ``F.conv1d``'s args."""

    def __init__(self, bound: dict) -> None:
        self.weight, self.bias = bound["weight"], bound["bias"]
        self.stride = (one(bound["stride"] or 1),)
        self.dilation = (one(bound["dilation"]),)
        padding = bound["padding"]
        self.padding = padding if isinstance(padding, str) else (one(padding),)
        self.groups, self.padding_mode = bound["groups"], "zeros"
        self.kernel_size = (int(self.weight.shape[-1]),) if self.weight is not None else (0,)


def conv_rule(conv, source, length, channels) -> Rule | None:
    if conv.padding_mode != "zeros" or not isinstance(conv.weight, torch.Tensor):
        return None
    if conv.bias is not None and not isinstance(conv.bias, torch.Tensor):
        return None
    stride, dilation, kernel = conv.stride[0], conv.dilation[0], conv.kernel_size[0]
    span = dilation * (kernel - 1)
    if conv.padding == "valid":
        offset = 0
    elif conv.padding == "same":
        offset = span // 2  # PyTorch puts the odd one out on the right
    else:
        offset = one(conv.padding)
    weight, bias, groups = conv.weight, conv.bias, conv.groups

    def apply(reads):  # as a 2-D convolution, which keeps a channels-last read so
        read = reads[source].unsqueeze(2)
        out = F.conv2d(read, weight.unsqueeze(2), bias, (1, stride), 0, (1, dilation), groups)
        return out.squeeze(2)

    macs = int(weight.shape[0] * weight.shape[1] * kernel)
    return Rule("window", (source,), length, channels, apply, stride=stride, span=span,
                offset=offset, macs=macs, reads_per_output=int(weight.shape[1]) * kernel
                )  # fmt: skip


def pool_function(is_max: bool, kernel: int, stride: int, dilation: int):
    """Pooling without padding; a channels-last read of whole blocks is reduced in place."""
    blocks = kernel == stride and dilation == 1

    def pool(read: torch.Tensor) -> torch.Tensor:
        n, channels, width = read.shape
        if blocks and read.stride(1) == 1 and width % kernel == 0:  # (B, W, C) in memory
            rows = read.transpose(1, 2).reshape(n, width // kernel, kernel, channels)
            out = rows.amax(dim=2) if is_max else rows.mean(dim=2)
            return out.transpose(1, 2)
        if is_max:
            return F.max_pool1d(read, kernel, stride, 0, dilation)
        return F.avg_pool1d(read, kernel, stride, 0)

    return pool


def pad_rule(padding, value, source, length, channels) -> Rule:
    left = padding[0] if isinstance(padding, (tuple, list)) else int(padding)

    def apply(reads):  # a copy: the read may be shared with another node
        return reads[source].clone(memory_format=torch.contiguous_format)

    return Rule("window", (source,), length, channels, apply,
                offset=int(left), fill=float(value))  # fmt: skip


def slice_rule(channel, begin, step, source, length, channels) -> Rule:
    def apply(reads):  # a copy: the read may be shared with another node
        return reads[source][:, channel, ::step].clone(memory_format=torch.contiguous_format)

    return Rule("window", (source,), length, channels, apply, stride=step, offset=-begin)


def pool_rule(is_max: bool, b: dict, source, length_in: int, length: int, channels: int):
    """Max or average pooling with the arguments ``b`` (by name), or None."""
    kernel, stride, padding = one(b["kernel_size"]), one(b["stride"]), one(b["padding"])
    dilation = one(b.get("dilation", 1))
    floor_length = (length_in + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    if is_max and b.get("return_indices"):
        return None
    # the divisor changes at a padded or partial edge unless padding is counted
    if not is_max and ((padding and not b["count_include_pad"]) or length != floor_length):
        return None
    pool = pool_function(is_max, kernel, stride, dilation)
    return Rule("window", (source,), length, channels, lambda reads: pool(reads[source]),
                stride=stride, span=dilation * (kernel - 1), offset=padding,
                fill=float("-inf") if is_max else 0.0, reads_per_output=kernel)  # fmt: skip


def parse_index(index) -> tuple[slice, slice] | None:
    """``(channel slice, length slice)`` of a 3-D index made of slices, or None."""
    if not isinstance(index, tuple):
        index = (index,)
    if any(item is Ellipsis for item in index):
        at = index.index(Ellipsis)
        index = index[:at] + (slice(None),) * (3 - len(index) + 1) + index[at + 1 :]
    if len(index) > 3 or not all(isinstance(item, slice) for item in index):
        return None
    index = index + (slice(None),) * (3 - len(index))
    if index[0] != slice(None):
        return None
    for item in index[1:]:
        if any(isinstance(v, fx.Node) for v in (item.start, item.stop, item.step)):
            return None
    return index[1], index[2]
