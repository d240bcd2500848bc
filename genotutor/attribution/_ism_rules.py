"""Fast ISM: how each operation of a traced graph maps a changed window to its output.

A *local* node is a tensor ``(B, C, L_k)`` whose output position ``j`` depends on a bounded
range of its inputs' positions. Three kinds of rule cover them:

- ``pointwise``: output position ``j`` reads position ``j`` of its one varying input and
  nothing else (activations, batch norm in eval, dropout in eval, channel softmax, channel
  slicing, multiplication by constants). The output window is the input window.
- ``window``: output position ``j`` reads input positions ``j * stride - offset + i`` for
  ``i`` in ``0 .. span`` (convolutions of any dilation and stride, max and average pooling,
  constant padding, slicing along the length). The input is read over the positions the
  output window needs, with ``fill`` (0, or -inf for max pooling) outside it, and the
  operation runs without its own padding.
- ``combine``: several varying inputs of the same length, position by position (residual
  additions, products, ``torch.cat`` along the channels). Each input is read over the
  output window, the hull of the inputs' windows.

Anything else that depends on the input is *global* and runs in full.

Taught in chapter 2 (the fast ISM path).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import fx, nn
from torch.fx.node import map_arg

from genotutor.attribution._ism_trace import EXAMPLE_BATCH, Traced, call
from genotutor.models import Exponential

POINTWISE_MODULES = (
    nn.ReLU, nn.ReLU6, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish, nn.Sigmoid,
    nn.Tanh, nn.Softplus, nn.Softsign, nn.LeakyReLU, nn.PReLU, nn.Hardtanh, nn.Hardswish,
    nn.Hardsigmoid, nn.Tanhshrink, nn.LogSigmoid, nn.Identity, Exponential,
)  # fmt: skip
DROPOUT_MODULES = (nn.Dropout, nn.Dropout1d, nn.AlphaDropout)
POINTWISE_FUNCTIONS = {
    torch.relu, F.relu, F.relu6, F.elu, F.selu, F.celu, F.gelu, F.silu, F.mish, torch.sigmoid,
    F.sigmoid, torch.tanh, F.tanh, F.softplus, F.softsign, F.leaky_relu, F.hardtanh,
    F.hardswish, F.hardsigmoid, F.logsigmoid, torch.exp, torch.expm1, torch.log, torch.log1p,
    torch.sqrt, torch.rsqrt, torch.abs, torch.neg, torch.square, torch.erf, torch.clamp,
    torch.clip, torch.sin, torch.cos, operator.neg, operator.pos,
}  # fmt: skip
POINTWISE_METHODS = {
    "relu", "sigmoid", "tanh", "exp", "expm1", "log", "log1p", "sqrt", "rsqrt", "abs", "neg",
    "square", "clamp", "clip", "erf", "contiguous", "detach", "clone",
}  # fmt: skip
BINARY_FUNCTIONS = {
    operator.add, operator.sub, operator.mul, operator.truediv, torch.add, torch.sub,
    torch.mul, torch.div, torch.maximum, torch.minimum,
}  # fmt: skip
BINARY_METHODS = {"add", "sub", "mul", "div", "maximum", "minimum"}
SOFTMAX_FUNCTIONS = {torch.softmax, F.softmax, torch.log_softmax, F.log_softmax}
SOFTMAX_MODULES = (nn.Softmax, nn.LogSoftmax)
CAT_FUNCTIONS = {torch.cat, torch.concat, torch.concatenate}
MAX_POOLS = {F.max_pool1d, torch.max_pool1d}
AVG_POOLS = {F.avg_pool1d, torch.avg_pool1d}
# positional parameters of the functional forms
_SIGNATURES = {
    "conv": ("input", "weight", "bias", "stride", "padding", "dilation", "groups"),
    "max_pool": ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode",
                 "return_indices"),
    "avg_pool": ("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
    "pad": ("input", "pad", "mode", "value"),
    "dropout": ("input", "p", "training", "inplace"),
    "batch_norm": ("input", "running_mean", "running_var", "weight", "bias", "training"),
}  # fmt: skip
_DEFAULTS = {
    "bias": None, "stride": None, "padding": 0, "dilation": 1, "groups": 1, "ceil_mode": False,
    "return_indices": False, "count_include_pad": True, "mode": "constant", "value": None,
    "p": 0.5, "training": True, "inplace": False, "weight": None,
}  # fmt: skip


@dataclass
class Rule:
    """How one local node's output window is computed from its inputs' windows.

    ``apply`` maps ``{source: values read}`` to the output window ``(B, C, W)``. Window
    rules also give ``stride``, ``span`` (the positions one output reads beyond the first),
    ``offset`` (left padding) and ``fill``; ``macs`` is the multiply-adds per output
    position (convolutions) and ``reads_per_output`` the input values read per output value.
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


def one(value) -> int:
    """An int, or the only entry of a one-element tuple or list."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"expected one value; found {value}")
        value = value[0]
    return int(value)


class Classifier:
    """Gives each varying node of a traced graph its rule, or None (a global node).

    ``kinds`` must already hold the kind of every input of the node: ``"const"`` (no
    dependence on the sequence), ``"batch"`` (depends only on the batch size), ``"local"``
    or ``"global"``; ``consts`` the values of the const nodes.
    """

    def __init__(self, traced: Traced, kinds: dict, consts: dict) -> None:
        self.traced, self.kinds, self.consts = traced, kinds, consts

    # -- helpers -------------------------------------------------------------------------
    def _value(self, node):
        return self.traced.values[node]

    def _is_sequence_tensor(self, node) -> bool:
        value = self._value(node)
        return (
            isinstance(value, torch.Tensor)
            and value.ndim == 3
            and value.shape[0] == EXAMPLE_BATCH
            and value.is_floating_point()
        )

    def _locals(self, node) -> list[fx.Node]:
        found: list[fx.Node] = []
        map_arg((node.args, node.kwargs), lambda n: found.append(n) if n not in found else n)
        return [n for n in found if self.kinds[n] == "local"]

    def _only_consts_besides(self, node, sources) -> bool:
        """Every input other than ``sources`` is a constant broadcast along the length."""
        for n in node.all_input_nodes:
            if n in sources:
                continue
            if self.kinds[n] != "const":
                return False
            value = self.consts[n]
            if isinstance(value, torch.Tensor) and value.ndim > 0 and value.shape[-1] != 1:
                return False
        return True

    def _generic(self, node) -> Callable[[dict], torch.Tensor]:
        """Run the node itself, its varying inputs replaced by the values read."""
        root, consts = self.traced.root, self.consts

        def apply(reads: dict) -> torch.Tensor:
            def lookup(n):
                return reads[n] if n in reads else consts[n]

            args, kwargs = map_arg((node.args, node.kwargs), lookup)
            return call(node.op, node.target, args, kwargs, root)

        return apply

    def _bound(self, node, signature: str) -> dict:
        """The node's arguments by name, constant nodes replaced by their values."""
        names = _SIGNATURES[signature]
        bound = {name: _DEFAULTS.get(name) for name in names}
        bound.update(zip(names, node.args))
        bound.update(node.kwargs)
        return {
            k: self.consts[v] if isinstance(v, fx.Node) and v in self.consts else v
            for k, v in bound.items()
        }

    # -- the rules -----------------------------------------------------------------------
    def rule(self, node: fx.Node) -> Rule | None:
        """The node's rule, or None if it is not local."""
        if not self._is_sequence_tensor(node):
            return None
        sources = self._locals(node)
        if not sources or any(self.kinds[n] in ("batch", "global") for n in node.all_input_nodes):
            return None
        value = self._value(node)
        length, channels = int(value.shape[-1]), int(value.shape[1])
        if len(sources) > 1:
            return self._combine(node, sources, length, channels)
        source = sources[0]
        found = self._window(node, source, length, channels)  # other inputs: constants
        if found is not None:
            return found
        if (
            self._is_pointwise(node)
            and length == self._value(source).shape[-1]
            and self._only_consts_besides(node, {source})
        ):
            return Rule("pointwise", (source,), length, channels, self._generic(node))
        return None

    def _is_pointwise(self, node) -> bool:
        if node.op == "call_module":
            module = self.traced.root.get_submodule(node.target)
            if isinstance(module, POINTWISE_MODULES):
                return True
            if isinstance(module, DROPOUT_MODULES):
                return not module.training
            if isinstance(module, nn.BatchNorm1d):
                return not module.training and module.running_mean is not None
            if isinstance(module, SOFTMAX_MODULES):
                return module.dim in (1, -2)
            return False
        if node.op == "call_method":
            name = node.target
            if name in ("softmax", "log_softmax"):
                return _dim_arg(node, 1) in (1, -2)
            return name in POINTWISE_METHODS or name in BINARY_METHODS
        target = node.target
        if target in SOFTMAX_FUNCTIONS:
            return _dim_arg(node, 1) in (1, -2)
        if target is F.dropout:
            return self._bound(node, "dropout")["training"] is False
        if target is F.batch_norm:
            return self._bound(node, "batch_norm")["training"] is False
        if target is operator.getitem:
            return _channel_slice_only(node.args[1])
        return target in POINTWISE_FUNCTIONS or target in BINARY_FUNCTIONS

    def _combine(self, node, sources, length, channels) -> Rule | None:
        if any(self._value(s).shape[-1] != length for s in sources):
            return None
        if node.op == "call_function" and node.target in CAT_FUNCTIONS:
            dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", 0)
            members = node.args[0]
            if dim not in (1, -2) or any(self.kinds.get(m) != "local" for m in members):
                return None
        elif not (
            (node.op == "call_function" and node.target in BINARY_FUNCTIONS)
            or (node.op == "call_method" and node.target in BINARY_METHODS)
        ):
            return None
        if not self._only_consts_besides(node, set(sources)):
            return None
        return Rule("combine", tuple(sources), length, channels, self._generic(node))

    def _window(self, node, source, length, channels) -> Rule | None:
        """Convolution, pooling, padding and slicing rules (None for other operations)."""
        if node.op == "call_module":
            module = self.traced.root.get_submodule(node.target)
            if isinstance(module, nn.Conv1d):
                return _conv_rule(module, source, length, channels)
            if isinstance(module, (nn.MaxPool1d, nn.AvgPool1d)):
                return self._pool_module(module, source, length, channels)
            if isinstance(module, (nn.ConstantPad1d, nn.ZeroPad1d)):
                return _pad_rule(module.padding, module.value, source, length, channels)
            return None
        if node.op == "call_method":
            if node.target == "narrow":
                return self._narrow(node, source, length, channels)
            return None
        target = node.target
        if target is F.conv1d:
            b = self._bound(node, "conv")
            return _conv_rule(_FunctionalConv(b), source, length, channels)
        if target in MAX_POOLS or target in AVG_POOLS:
            b = self._bound(node, "max_pool" if target in MAX_POOLS else "avg_pool")
            b["stride"] = b["stride"] or b["kernel_size"]
            return self._pool(target in MAX_POOLS, b, source, length, channels)
        if target is F.pad:
            b = self._bound(node, "pad")
            if b["mode"] != "constant" or len(b["pad"]) != 2:
                return None
            return _pad_rule(b["pad"], b["value"] or 0.0, source, length, channels)
        if target is torch.narrow:
            return self._narrow(node, source, length, channels)
        if target is operator.getitem:
            return self._slice(node, source, length, channels)
        return None

    def _pool_module(self, module, source, length, channels):
        is_max = isinstance(module, nn.MaxPool1d)
        b = {
            "kernel_size": module.kernel_size, "stride": module.stride or module.kernel_size,
            "padding": module.padding, "ceil_mode": module.ceil_mode,
            "dilation": getattr(module, "dilation", 1),
            "return_indices": getattr(module, "return_indices", False),
            "count_include_pad": getattr(module, "count_include_pad", True),
        }  # fmt: skip
        return self._pool(is_max, b, source, length, channels)

    def _pool(self, is_max, b, source, length, channels) -> Rule | None:
        kernel, stride, padding = one(b["kernel_size"]), one(b["stride"]), one(b["padding"])
        dilation = one(b.get("dilation", 1))
        length_in = int(self._value(source).shape[-1])
        floor_length = (length_in + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
        if is_max and b.get("return_indices"):
            return None
        # the divisor changes at a padded or partial edge unless padding is counted
        if not is_max and ((padding and not b["count_include_pad"]) or length != floor_length):
            return None
        pool = _pool_function(is_max, kernel, stride, dilation)
        return Rule("window", (source,), length, channels, lambda reads: pool(reads[source]),
                    stride=stride, span=dilation * (kernel - 1), offset=padding,
                    fill=float("-inf") if is_max else 0.0, reads_per_output=kernel)  # fmt: skip

    def _narrow(self, node, source, length, channels) -> Rule | None:
        args = list(node.args[1:]) + [node.kwargs[k] for k in ("dim", "start", "length")
                                      if k in node.kwargs]  # fmt: skip
        dim, begin, _ = args[:3]
        if dim not in (2, -1) or not isinstance(begin, int):
            return None
        return _slice_rule(slice(None), begin, 1, source, length, channels)

    def _slice(self, node, source, length, channels) -> Rule | None:
        parsed = _parse_index(node.args[1])
        if parsed is None or parsed[1] == slice(None):
            return None
        channel, along = parsed
        length_in = int(self._value(source).shape[-1])
        begin, _, step = along.indices(length_in)
        if step < 1:
            return None
        return _slice_rule(channel, begin, step, source, length, channels)


class _FunctionalConv:
    """The attributes of ``nn.Conv1d`` that the conv rule reads, from ``F.conv1d``'s args."""

    def __init__(self, bound: dict) -> None:
        self.weight, self.bias = bound["weight"], bound["bias"]
        self.stride = (one(bound["stride"] or 1),)
        self.dilation = (one(bound["dilation"]),)
        padding = bound["padding"]
        self.padding = padding if isinstance(padding, str) else (one(padding),)
        self.groups, self.padding_mode = bound["groups"], "zeros"
        self.kernel_size = (int(self.weight.shape[-1]),) if self.weight is not None else (0,)


def _conv_rule(conv, source, length, channels) -> Rule | None:
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


def _pool_function(is_max: bool, kernel: int, stride: int, dilation: int):
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


def _pad_rule(padding, value, source, length, channels) -> Rule:
    left = padding[0] if isinstance(padding, (tuple, list)) else int(padding)

    def apply(reads):  # a copy: the read may be shared with another node
        return reads[source].clone(memory_format=torch.contiguous_format)

    return Rule("window", (source,), length, channels, apply,
                offset=int(left), fill=float(value))  # fmt: skip


def _slice_rule(channel, begin, step, source, length, channels) -> Rule:
    def apply(reads):  # a copy: the read may be shared with another node
        return reads[source][:, channel, ::step].clone(memory_format=torch.contiguous_format)

    return Rule("window", (source,), length, channels, apply, stride=step, offset=-begin)


def _dim_arg(node: fx.Node, position: int):
    if "dim" in node.kwargs:
        return node.kwargs["dim"]
    return node.args[position] if len(node.args) > position else None


def _parse_index(index) -> tuple[slice, slice] | None:
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


def _channel_slice_only(index) -> bool:
    parsed = _parse_index(index)
    return parsed is not None and parsed[1] == slice(None)
