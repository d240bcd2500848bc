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

import torch
import torch.nn.functional as F
from torch import fx, nn
from torch.fx.node import map_arg

from genotutor.attribution._ism_trace import EXAMPLE_BATCH, Traced, call
from genotutor.attribution._ism_windows import (
    FunctionalConv,
    Rule,
    conv_rule,
    pad_rule,
    parse_index,
    pool_rule,
    slice_rule,
)
from genotutor.models import Exponential

POINTWISE_MODULES = (
    nn.ReLU, nn.ReLU6, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish, nn.Sigmoid,
    nn.Tanh, nn.Softplus, nn.Softsign, nn.LeakyReLU, nn.PReLU, nn.Hardtanh, nn.Hardswish,
    nn.Hardsigmoid, nn.Tanhshrink, nn.LogSigmoid, nn.Identity, Exponential,
)  # fmt: skip
DROPOUT_MODULES = (nn.Dropout, nn.Dropout1d, nn.AlphaDropout)
INPLACE = {"relu": torch.relu_, "sigmoid": torch.sigmoid_, "tanh": torch.tanh_, "exp": torch.exp_}
POINTWISE_FUNCTIONS = {
    torch.relu, F.relu, F.relu6, F.elu, F.selu, F.celu, F.gelu, F.silu, F.mish, torch.sigmoid,
    F.sigmoid, torch.tanh, F.tanh, F.softplus, F.softsign, F.leaky_relu, F.hardtanh,
    F.hardswish, F.hardsigmoid, F.logsigmoid, torch.exp, torch.expm1, torch.log, torch.log1p,
    torch.sqrt, torch.rsqrt, torch.abs, torch.neg, torch.square, torch.erf, torch.clamp,
    torch.clip, torch.sin, torch.cos, operator.neg, operator.pos,
}  # fmt: skip
POINTWISE_METHODS = {
    "relu", "sigmoid", "tanh", "exp", "expm1", "log", "log1p", "sqrt", "rsqrt", "abs", "neg",
    "square", "clamp", "clip", "erf", "contiguous", "detach", "clone", "float", "double", "to",
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
            return Rule("pointwise", (source,), length, channels, self._generic(node),
                        inplace=self._inplace(node))  # fmt: skip
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
        inplace = None
        if self._is_sum(node, sources):
            a, b = sources

            def inplace(reads, into):  # float addition commutes: the same sum, bit for bit
                return reads[into].add_(reads[b if into is a else a])

        return Rule("combine", tuple(sources), length, channels, self._generic(node),
                    inplace=inplace)  # fmt: skip

    def _is_sum(self, node, sources) -> bool:
        """``a + b`` of two windows, nothing else (no ``alpha``, no third argument)."""
        sum_call = (node.op == "call_function" and node.target in (operator.add, torch.add)) or (
            node.op == "call_method" and node.target == "add"
        )
        return (
            sum_call
            and len(sources) == 2
            and set(node.args) == set(sources)
            and (len(node.args) == 2 and not node.kwargs)
        )

    def _inplace(self, node):
        """The in-place form of a common activation, as ``(reads, into) -> tensor``."""
        if node.op == "call_module":
            module = self.traced.root.get_submodule(node.target)
            kind = {nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh",
                    Exponential: "exp"}.get(type(module))  # fmt: skip
        elif node.op == "call_method":
            kind = node.target if len(node.args) == 1 and not node.kwargs else None
        else:
            kind = {torch.relu: "relu", F.relu: "relu", torch.sigmoid: "sigmoid",
                    torch.tanh: "tanh", torch.exp: "exp"}.get(node.target)  # fmt: skip
            kind = kind if len(node.args) == 1 and not node.kwargs else None
        function = INPLACE.get(kind)
        if function is None:
            return None
        return lambda reads, into: function(reads[into])

    def _window(self, node, source, length, channels) -> Rule | None:
        """Convolution, pooling, padding and slicing rules (None for other operations)."""
        if node.op == "call_module":
            module = self.traced.root.get_submodule(node.target)
            if isinstance(module, nn.Conv1d):
                return conv_rule(module, source, length, channels)
            if isinstance(module, (nn.MaxPool1d, nn.AvgPool1d)):
                return self._pool_module(module, source, length, channels)
            if isinstance(module, (nn.ConstantPad1d, nn.ZeroPad1d)):
                return pad_rule(module.padding, module.value, source, length, channels)
            return None
        if node.op == "call_method":
            if node.target == "narrow":
                return self._narrow(node, source, length, channels)
            return None
        target = node.target
        if target is F.conv1d:
            b = self._bound(node, "conv")
            return conv_rule(FunctionalConv(b), source, length, channels)
        if target in MAX_POOLS or target in AVG_POOLS:
            b = self._bound(node, "max_pool" if target in MAX_POOLS else "avg_pool")
            b["stride"] = b["stride"] or b["kernel_size"]
            length_in = int(self._value(source).shape[-1])
            return pool_rule(target in MAX_POOLS, b, source, length_in, length, channels)
        if target is F.pad:
            b = self._bound(node, "pad")
            if b["mode"] != "constant" or len(b["pad"]) != 2:
                return None
            return pad_rule(b["pad"], b["value"] or 0.0, source, length, channels)
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
        length_in = int(self._value(source).shape[-1])
        return pool_rule(is_max, b, source, length_in, length, channels)

    def _narrow(self, node, source, length, channels) -> Rule | None:
        args = list(node.args[1:]) + [node.kwargs[k] for k in ("dim", "start", "length")
                                      if k in node.kwargs]  # fmt: skip
        dim, begin, _ = args[:3]
        if dim not in (2, -1) or not isinstance(begin, int):
            return None
        return slice_rule(slice(None), begin, 1, source, length, channels)

    def _slice(self, node, source, length, channels) -> Rule | None:
        parsed = parse_index(node.args[1])
        if parsed is None or parsed[1] == slice(None):
            return None
        channel, along = parsed
        length_in = int(self._value(source).shape[-1])
        begin, _, step = along.indices(length_in)
        if step < 1:
            return None
        return slice_rule(channel, begin, step, source, length, channels)


def _dim_arg(node: fx.Node, position: int):
    if "dim" in node.kwargs:
        return node.kwargs["dim"]
    return node.args[position] if len(node.args) > position else None


def _channel_slice_only(index) -> bool:
    parsed = parse_index(index)
    return parsed is not None and parsed[1] == slice(None)
