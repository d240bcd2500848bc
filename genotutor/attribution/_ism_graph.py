"""Fast ISM, the graph: a model traced with example values, and the rule of each operation.

Tracing. ``torch.fx.symbolic_trace`` cannot follow Python code that reads a tensor's length
(``x[..., cut : x.shape[-1] - cut]``), which sequence models do to crop their outputs.
:func:`trace` runs the model on an example while it records the graph, so every size but
the batch size is a plain ``int`` (the batch size stays a ``batch_size`` node, so that
``h.view(h.shape[0], -1)`` works for any number of mutants). genotutor's own argument
checks are recorded as opaque calls and dropped. A model that does not trace raises
:class:`TraceFailed`, which sends ``fast="auto"`` to plain forward passes: control flow on
the input's values (the graph would hold one branch only), a module made in ``forward``,
anything ``torch.fx`` refuses with its ``TraceError``. Any other error is a bug, of the
model or of this module, and surfaces as it is.

Rules. A *local* node is a tensor ``(B, C, L_k)`` whose output position ``j`` depends on a
bounded range of its inputs' positions; :func:`classify` gives each one a :class:`Rule`:

- ``pointwise``: position ``j`` of one varying input (activations, batch norm and dropout
  in eval, channel softmax and slices, constants multiplied in, and the module types the
  caller declares with ``pointwise=``, which are then not traced into);
- ``window``: input positions ``j * stride - offset + i`` for ``i`` in ``0 .. span``
  (convolutions of any dilation and stride, max and average pooling, constant padding,
  slices along the length), run without their own padding on a read of the input that
  holds those positions (padded with ``fill``), each returning a new tensor (a read may
  be shared with another node);
- ``combine``: several varying inputs of one length, position by position (residual
  additions, products, ``torch.cat`` along the channels).

Anything else that depends on the input is *global* and runs in full. Kept because they
pay (:mod:`genotutor.attribution.ism` says how it was measured): convolutions run as 2-D
convolutions of ``(B, C, 1, W)``, which keep a channels-last read channels-last, as the
reference tables are (``conv1d``: 1.24x slower on Basset, 1.28x on the CNN, 1.63x on the
tower); pooling of whole blocks reduces a channels-last read where it lies (1.46x on
Basset, 1.36x on the CNN).

This module is longer than the package's 420 lines (``tests/test_layout.py``,
``test_no_module_is_over_the_size_limit``): tracing (about 250 lines) and the rules (about
330) are one concept, the graph that the plan reads, and the engine is held to four
modules with no import cycle, which leaves no other module room for either half.

Taught in chapter 2 (the fast ISM path).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import fx, nn
from torch.fx.node import map_aggregate, map_arg

from genotutor import validation

EXAMPLE_BATCH = 2  # the traced example's batch size (2, so that no squeeze of it is baked in)
# genotutor's argument checks return their first argument (or raise): opaque in the trace
_CHECKS = tuple(v for k, v in vars(validation).items() if k.startswith("check_") and callable(v))


def _named(owner: object, names: str) -> tuple:
    return tuple(getattr(owner, name) for name in names.split())


POINTWISE_MODULES = _named(
    nn,
    "ReLU ReLU6 ELU SELU CELU GELU SiLU Mish Sigmoid Tanh Softplus Softsign LeakyReLU PReLU "
    "Hardtanh Hardswish Hardsigmoid Tanhshrink LogSigmoid Identity",
)
POINTWISE_FUNCTIONS = {
    *_named(torch, "relu sigmoid tanh exp expm1 log log1p sqrt rsqrt abs neg square erf clamp"),
    *_named(torch, "clip sin cos"),
    *_named(F, "relu relu6 elu selu celu gelu silu mish sigmoid tanh softplus softsign"),
    *_named(F, "leaky_relu hardtanh hardswish hardsigmoid logsigmoid"),
    *_named(operator, "neg pos"),
}
POINTWISE_METHODS = set(
    "relu sigmoid tanh exp expm1 log log1p sqrt rsqrt abs neg square clamp clip erf "
    "contiguous detach clone float double to".split()
)
BINARY_FUNCTIONS = {*_named(operator, "add sub mul truediv"), *_named(torch, "add sub mul div")}
BINARY_FUNCTIONS |= {torch.maximum, torch.minimum}
BINARY_METHODS = {"add", "sub", "mul", "div", "maximum", "minimum"}
SOFTMAX = (*_named(torch, "softmax log_softmax"), *_named(F, "softmax log_softmax"))
CAT_FUNCTIONS = _named(torch, "cat concat concatenate")
MAX_POOLS, AVG_POOLS = (F.max_pool1d, torch.max_pool1d), (F.avg_pool1d, torch.avg_pool1d)
INPLACE = {"relu": torch.relu_, "sigmoid": torch.sigmoid_, "tanh": torch.tanh_, "exp": torch.exp_}
_INPLACE_KIND = {nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", torch.relu: "relu"}
_INPLACE_KIND |= {F.relu: "relu", torch.sigmoid: "sigmoid", torch.tanh: "tanh", torch.exp: "exp"}
# positional parameters of the functional forms, and the defaults of those not given
_SIGNATURES = {
    "conv": "input weight bias stride padding dilation groups",
    "max_pool": "input kernel_size stride padding dilation ceil_mode return_indices",
    "avg_pool": "input kernel_size stride padding ceil_mode count_include_pad",
    "pad": "input pad mode value",
    "dropout": "input p training inplace",
    "batch_norm": "input running_mean running_var weight bias training",
}
_DEFAULTS = {"padding": 0, "dilation": 1, "groups": 1, "count_include_pad": True}
_DEFAULTS |= {"mode": "constant", "training": True, "return_indices": False}


def batch_size(x: torch.Tensor) -> int:
    """The size of ``x``'s first dimension (a node of the traced graph)."""
    return x.shape[0]


class TraceFailed(Exception):
    """The model cannot take the fast path (it does not trace); the message says why."""


class _Proxy(fx.Proxy):
    """A proxy that knows its example value: sizes, dtype and device are concrete."""

    def _value(self):
        return self.tracer.values[self.node]

    def size(self, dim: int | None = None):
        value = self._value()
        if not isinstance(value, torch.Tensor):
            return self.tracer.create_proxy("call_method", "size", (self,), {})
        sizes = list(value.shape)
        if self.node in self.tracer.varying and sizes and sizes[0] == EXAMPLE_BATCH:
            sizes[0] = self.tracer.create_proxy("call_function", batch_size, (self,), {})
        return tuple(sizes) if dim is None else sizes[dim]

    @property
    def shape(self):
        return self.size()

    def dim(self) -> int:
        return self._value().dim()

    @property
    def ndim(self) -> int:
        return self._value().dim()

    @property
    def dtype(self) -> torch.dtype:
        return self._value().dtype

    @property
    def device(self) -> torch.device:
        return self._value().device

    def __len__(self) -> int:
        value = self._value()
        if self.node in self.tracer.varying and isinstance(value, torch.Tensor):
            raise TraceFailed("the model calls len() on a tensor (its batch size)")
        return len(value)


@dataclass
class Traced:
    """A traced model: its graph, the module that owns the graph's targets, example values.

    ``values`` maps every node to its value on the example input (batch size
    ``EXAMPLE_BATCH``); ``varying`` holds the nodes that depend on the input.
    """

    graph: fx.Graph
    root: nn.Module
    values: dict = field(repr=False)
    varying: set = field(repr=False)

    @property
    def input(self) -> fx.Node:
        return next(node for node in self.graph.nodes if node.op == "placeholder")

    @property
    def output(self) -> fx.Node:
        return next(node for node in self.graph.nodes if node.op == "output")


class _Tracer(fx.Tracer):
    def __init__(self, root: nn.Module, example: torch.Tensor, pointwise: tuple) -> None:
        super().__init__(autowrap_functions=_CHECKS)
        self.model, self.example, self.pointwise = root, example, pointwise
        self.values: dict = {}
        self.varying: set = set()
        self._evaluating, self._forward = False, None

    def is_leaf_module(self, module: nn.Module, name: str) -> bool:
        return isinstance(module, self.pointwise) or super().is_leaf_module(module, name)

    def call_module(self, module, forward, args, kwargs):
        if self._evaluating:  # a module called inside a leaf module: just run it
            return forward(*args, **kwargs)
        self._forward = forward
        return super().call_module(module, forward, args, kwargs)

    def path_of_module(self, module: nn.Module) -> str:
        try:
            return super().path_of_module(module)
        except NameError as error:  # torch.fx's word for it
            raise TraceFailed(
                f"the model calls a module that is not one of its submodules ({module._get_name()}"
                ", e.g. a slice of an nn.Sequential made in forward)"
            ) from error

    def getattr(self, attr, attr_val, parameter_proxy_cache):
        if self._evaluating:
            return attr_val
        return super().getattr(attr, attr_val, parameter_proxy_cache)

    def proxy(self, node: fx.Node) -> fx.Proxy:
        return _Proxy(node, self)

    def to_bool(self, obj: fx.Proxy) -> bool:
        if obj.node in self.varying:
            raise TraceFailed(
                f"the model's control flow depends on the input's values (at {obj.node.name})"
            )
        return bool(self.values[obj.node])

    def iter(self, obj: fx.Proxy):
        value = self.values[obj.node]
        if isinstance(value, (tuple, list)):
            return iter([obj[i] for i in range(len(value))])
        raise TraceFailed(f"the model iterates over a tensor ({obj.node.name})")

    def create_proxy(self, kind, target, args, kwargs, *rest, **options):
        proxy = super().create_proxy(kind, target, args, kwargs, *rest, **options)
        inputs = []
        map_aggregate((args, kwargs), lambda a: inputs.append(a) if isinstance(a, fx.Proxy) else a)
        if kind == "placeholder" or any(a.node in self.varying for a in inputs):
            self.varying.add(proxy.node)
        self.values[proxy.node] = self._evaluate(kind, target, args, kwargs)
        return proxy

    def _evaluate(self, kind, target, args, kwargs):
        if kind == "placeholder":
            return self.example
        args, kwargs = map_aggregate(
            (args, kwargs), lambda a: self.values[a.node] if isinstance(a, fx.Proxy) else a
        )
        self._evaluating = True  # real values: no proxies for parameters or submodules
        try:
            if kind == "get_attr":
                value = fetch_attr(self.model, target)
                return value.detach().clone() if isinstance(value, torch.Tensor) else value
            if kind == "call_module":
                return self._forward(*args, **kwargs)
            return call(kind, target, args, kwargs, self.model)
        finally:
            self._evaluating = False


def fetch_attr(root: nn.Module, target: str) -> object:
    """The attribute of ``root`` named by a dotted path (a ``get_attr`` node's target)."""
    value = root
    for part in target.split("."):
        value = getattr(value, part)
    return value


def call(kind: str, target: object, args: tuple, kwargs: dict, root: nn.Module) -> object:
    """Run one node (``call_module``, ``call_function`` or ``call_method``) on values."""
    if kind == "call_module":
        return root.get_submodule(target)(*args, **kwargs)
    if kind == "call_function":
        return target(*args, **kwargs)
    return getattr(args[0], target)(*args[1:], **kwargs)


def is_inplace(node: fx.Node, root: nn.Module) -> bool:
    """Whether a node writes into its input (``ReLU(inplace=True)``, ``x.relu_()``)."""
    if node.op == "call_module":
        return bool(getattr(root.get_submodule(node.target), "inplace", False))
    if node.op == "call_method":
        return node.target.endswith("_") and not node.target.startswith("__")
    return node.op == "call_function" and bool(node.kwargs.get("inplace", False))


def trace(model: nn.Module, example: torch.Tensor, pointwise: tuple = ()) -> Traced:
    """Trace ``model`` on ``example`` (shape ``(EXAMPLE_BATCH, 4, L)``); modules of the
    types ``pointwise`` stay whole (leaves of the graph).

    Raises
    ------
    TraceFailed
        If the model does not trace (the message says why).
    """
    tracer = _Tracer(model, example, pointwise)
    try:
        with torch.no_grad():
            graph = tracer.trace(model)
    except fx.proxy.TraceError as error:  # torch.fx's own "cannot trace this"
        raise TraceFailed(f"torch.fx could not trace the model ({error})") from error
    for node in list(graph.nodes):  # a check returns its first argument
        if node.op == "call_function" and node.target in _CHECKS:
            node.replace_all_uses_with(node.args[0])
            graph.erase_node(node)
    for node in reversed(list(graph.nodes)):  # dead code: results that nothing reads
        if node.op not in ("placeholder", "output") and not node.users:
            graph.erase_node(node)
    placeholders = [node for node in graph.nodes if node.op == "placeholder"]
    if len(placeholders) != 1:
        raise TraceFailed(f"the model's forward takes {len(placeholders)} inputs; expected 1")
    return Traced(graph, model, tracer.values, tracer.varying)


@dataclass
class Rule:
    """How one local node's output window ``(B, C, W)`` is computed from its inputs' reads.

    ``apply`` maps ``{source: values read}`` to the window. Window rules also give
    ``stride``, ``span`` (the positions one output reads beyond the first), ``offset``
    (left padding) and ``fill``; ``macs`` is the multiply-adds per output position of a
    convolution. ``inplace``, where the operation has an in-place form, computes the same
    output into the read of the source it is given (a window that nothing else reads).
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
    inplace: Callable[[dict, fx.Node], torch.Tensor] | None = None


def _unwrap_1d(value) -> int:
    """A 1-D size given as an int or as a one-element tuple (``kernel_size=(3,)``)."""
    if isinstance(value, (tuple, list)):
        (value,) = value
    return int(value)


def conv_window(b: dict) -> dict | None:
    """A convolution with the arguments ``b`` (by name, as ``F.conv1d``'s), as a window
    operation (:class:`Rule` fields), or None."""
    weight, bias, padding = b["weight"], b["bias"], b["padding"]
    if not isinstance(weight, torch.Tensor) or not isinstance(bias, (torch.Tensor, type(None))):
        return None  # a weight that depends on the input
    stride, dilation = _unwrap_1d(b["stride"] or 1), _unwrap_1d(b["dilation"])
    span = dilation * (weight.shape[-1] - 1)
    # "same" puts the odd one out on the right
    offset = {"valid": 0, "same": span // 2}[padding] if isinstance(padding, str) else padding
    kernel, groups = weight.unsqueeze(2), b["groups"]

    def apply(read: torch.Tensor) -> torch.Tensor:
        out = F.conv2d(read.unsqueeze(2), kernel, bias, (1, stride), 0, (1, dilation), groups)
        return out.squeeze(2)

    macs = weight.shape[0] * weight.shape[1] * weight.shape[2]
    return dict(apply=apply, stride=stride, span=span, offset=_unwrap_1d(offset), macs=macs)


def pool_window(is_max: bool, b: dict, length_in: int, length: int) -> dict | None:
    """Max or average pooling with the arguments ``b`` (by name), as a window operation."""
    kernel, padding = _unwrap_1d(b["kernel_size"]), _unwrap_1d(b["padding"])
    stride, dilation = _unwrap_1d(b["stride"] or kernel), _unwrap_1d(b.get("dilation") or 1)
    floor_length = (length_in + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    if is_max and b.get("return_indices"):
        return None
    # the divisor changes at a padded or partial edge unless padding is counted
    if not is_max and ((padding and not b["count_include_pad"]) or length != floor_length):
        return None
    blocks = kernel == stride and dilation == 1

    def apply(read: torch.Tensor) -> torch.Tensor:
        n, channels, width = read.shape
        if blocks and read.stride(1) == 1 and width % kernel == 0:  # (B, W, C) in memory
            rows = read.transpose(1, 2).reshape(n, width // kernel, kernel, channels)
            return (rows.amax(dim=2) if is_max else rows.mean(dim=2)).transpose(1, 2)
        if is_max:
            return F.max_pool1d(read, kernel, stride, 0, dilation)
        return F.avg_pool1d(read, kernel, stride, 0)

    fill, span = float("-inf") if is_max else 0.0, dilation * (kernel - 1)
    return dict(apply=apply, stride=stride, span=span, offset=padding, fill=fill)


def crop_window(channel: slice, begin: int, step: int, left: int = 0, fill: float = 0.0) -> dict:
    """Padding (``left`` positions of ``fill``) or a slice along the length (from ``begin``,
    every ``step``-th), with a slice of the channels, as a window operation."""

    def apply(read: torch.Tensor) -> torch.Tensor:  # a copy: the read may be shared
        return read[:, channel, ::step].clone(memory_format=torch.contiguous_format)

    return dict(apply=apply, stride=step, offset=left - begin, fill=float(fill))


def parse_index(index) -> tuple[slice, slice] | None:
    """``(channel slice, length slice)`` of a 3-D index made of constant slices, or None."""
    index = index if isinstance(index, tuple) else (index,)
    if any(item is Ellipsis for item in index):
        at = index.index(Ellipsis)
        index = index[:at] + (slice(None),) * (4 - len(index)) + index[at + 1 :]
    if len(index) > 3 or not all(isinstance(item, slice) for item in index):
        return None
    index = index + (slice(None),) * (3 - len(index))
    bounds = [v for item in index[1:] for v in (item.start, item.stop, item.step)]
    if index[0] != slice(None) or any(isinstance(v, fx.Node) for v in bounds):
        return None
    return index[1], index[2]


class _Classifier:
    """Gives each varying node of a traced graph its rule, or None (a global node).

    ``kinds`` holds the kind of every earlier node: ``"const"`` (no dependence on the
    sequence), ``"batch"`` (on the batch size alone), ``"local"`` or ``"global"``; ``consts``
    the values of the const nodes; ``pointwise`` the module types taken as pointwise.
    """

    def __init__(self, traced: Traced, kinds: dict, consts: dict, pointwise: tuple) -> None:
        self.traced, self.kinds, self.consts = traced, kinds, consts
        self.pointwise = POINTWISE_MODULES + pointwise

    def rule(self, node: fx.Node) -> Rule | None:
        """The node's rule, or None if it is not local."""
        value, inputs = self.traced.values[node], node.all_input_nodes
        if not _is_sequences(value):
            return None
        sources = [n for n in inputs if self.kinds[n] == "local"]
        if not sources or any(self.kinds[n] in ("batch", "global") for n in inputs):
            return None
        length, channels = int(value.shape[-1]), int(value.shape[1])
        if len(sources) == 1:  # its other inputs may be weights
            window = self._window(node, sources[0], length)
            if window is not None:
                apply, source = window.pop("apply"), sources[0]
                window["apply"] = lambda reads: apply(reads[source])
                return Rule("window", (source,), length, channels, **window)
        if any(self.traced.values[s].shape[-1] != length for s in sources) or not all(
            self._broadcast(n) for n in inputs if n not in sources
        ):
            return None  # position by position, with constants broadcast along the length
        if len(sources) > 1:
            return self._combine(node, sources, length, channels)
        if not self._is_pointwise(node):
            return None
        generic, inplace = self._generic(node), self._inplace(node)
        return Rule("pointwise", (sources[0],), length, channels, generic, inplace=inplace)

    def _broadcast(self, node: fx.Node) -> bool:
        value = self.consts.get(node)
        if self.kinds[node] != "const":
            return False
        return not isinstance(value, torch.Tensor) or value.ndim == 0 or value.shape[-1] == 1

    def _generic(self, node: fx.Node) -> Callable[[dict], torch.Tensor]:
        """Run the node itself, its varying inputs replaced by the values read."""
        root, consts = self.traced.root, self.consts

        def apply(reads: dict) -> torch.Tensor:
            args, kwargs = map_arg(
                (node.args, node.kwargs), lambda n: reads[n] if n in reads else consts[n]
            )
            return call(node.op, node.target, args, kwargs, root)

        return apply

    def _bound(self, node: fx.Node, signature: str) -> dict:
        """The node's arguments by name, constant nodes replaced by their values."""
        names = _SIGNATURES[signature].split()
        bound = {name: _DEFAULTS.get(name) for name in names}
        bound.update(zip(names, node.args))
        bound.update(node.kwargs)
        return {k: self.consts.get(v, v) if isinstance(v, fx.Node) else v for k, v in bound.items()}

    def _is_pointwise(self, node: fx.Node) -> bool:
        if node.op == "call_module":
            module = self.traced.root.get_submodule(node.target)
            if isinstance(module, (nn.Dropout, nn.Dropout1d, nn.AlphaDropout)):
                return not module.training
            if isinstance(module, nn.BatchNorm1d):
                return not module.training and module.running_mean is not None
            if isinstance(module, (nn.Softmax, nn.LogSoftmax)):
                return module.dim in (1, -2)
            return isinstance(module, self.pointwise)
        target = node.target
        if target in SOFTMAX or target in ("softmax", "log_softmax"):
            return argument(node, 1, "dim") in (1, -2)
        if target is F.dropout or target is F.batch_norm:
            return self._bound(node, target.__name__)["training"] is False
        if target is operator.getitem:
            parsed = parse_index(node.args[1])
            return parsed is not None and parsed[1] == slice(None)
        if node.op == "call_method":
            return target in POINTWISE_METHODS or target in BINARY_METHODS
        return target in POINTWISE_FUNCTIONS or target in BINARY_FUNCTIONS

    def _inplace(self, node: fx.Node) -> Callable | None:
        """The in-place form of a common activation, as ``(reads, into) -> tensor``."""
        if node.op == "call_module":
            kind = _INPLACE_KIND.get(type(self.traced.root.get_submodule(node.target)))
        elif len(node.args) != 1 or node.kwargs:
            kind = None
        else:
            kind = node.target if node.op == "call_method" else _INPLACE_KIND.get(node.target)
        function = INPLACE.get(kind)
        return None if function is None else (lambda reads, into: function(reads[into]))

    def _combine(self, node: fx.Node, sources: list, length: int, channels: int) -> Rule | None:
        if node.target in CAT_FUNCTIONS:
            dim, members = argument(node, 1, "dim", 0), node.args[0]
            if dim not in (1, -2) or any(self.kinds.get(m) != "local" for m in members):
                return None
        elif node.target not in (BINARY_METHODS if node.op == "call_method" else BINARY_FUNCTIONS):
            return None
        inplace = None
        if node.target in ("add", operator.add, torch.add) and not node.kwargs:
            if list(node.args) in (sources, sources[::-1]):  # a + b of two windows alone
                a, b = sources

                def inplace(reads, into):  # float addition commutes: the same sum, bit for bit
                    return reads[into].add_(reads[b if into is a else a])

        return Rule(
            "combine", tuple(sources), length, channels, self._generic(node), inplace=inplace
        )

    def _window(self, node: fx.Node, source: fx.Node, length: int) -> dict | None:
        """Convolution, pooling, padding and slicing (None for other operations)."""
        length_in = int(self.traced.values[source].shape[-1])
        if node.op == "call_module":
            module = self.traced.root.get_submodule(node.target)
            if isinstance(module, nn.Conv1d) and module.padding_mode == "zeros":
                names = _SIGNATURES["conv"].split()[1:]
                return conv_window({k: getattr(module, k) for k in names})
            if isinstance(module, (nn.MaxPool1d, nn.AvgPool1d)):
                names = _SIGNATURES["max_pool"].split() + ["count_include_pad"]
                b = {k: getattr(module, k, _DEFAULTS.get(k)) for k in names}
                return pool_window(isinstance(module, nn.MaxPool1d), b, length_in, length)
            if isinstance(module, nn.ConstantPad1d):
                return crop_window(slice(None), 0, 1, module.padding[0], module.value)
            return None
        target = node.target
        if target is F.conv1d:
            return conv_window(self._bound(node, "conv"))
        if target in MAX_POOLS or target in AVG_POOLS:
            b = self._bound(node, "max_pool" if target in MAX_POOLS else "avg_pool")
            return pool_window(target in MAX_POOLS, b, length_in, length)
        if target is F.pad:
            b = self._bound(node, "pad")
            if b["mode"] != "constant" or len(b["pad"]) != 2:
                return None
            return crop_window(slice(None), 0, 1, b["pad"][0], b["value"] or 0.0)
        if target in ("narrow", torch.narrow):
            dim, begin = argument(node, 1, "dim"), argument(node, 2, "start")
            if dim not in (2, -1) or not isinstance(begin, int):
                return None
            return crop_window(slice(None), begin, 1)
        if target is operator.getitem:
            parsed = parse_index(node.args[1])
            if parsed is None or parsed[1] == slice(None):
                return None
            begin, _, step = parsed[1].indices(length_in)
            return crop_window(parsed[0], begin, step) if step >= 1 else None
        return None


def _is_sequences(value: object) -> bool:
    """A float tensor ``(EXAMPLE_BATCH, C, L)``: what a local node holds."""
    return (
        isinstance(value, torch.Tensor)
        and value.ndim == 3
        and value.shape[0] == EXAMPLE_BATCH
        and value.is_floating_point()
    )


def argument(node: fx.Node, position: int, name: str, default: object = None) -> object:
    """An argument of a node given by position or by name."""
    if name in node.kwargs:
        return node.kwargs[name]
    return node.args[position] if len(node.args) > position else default


def classify(traced: Traced, pointwise: tuple) -> tuple[dict, dict, dict]:
    """Kinds (``const``, ``batch``, ``local``, ``global``), rules and constant values."""
    kinds, rules, consts = {}, {}, {}
    classifier = _Classifier(traced, kinds, consts, pointwise)
    for node in traced.graph.nodes:
        if node.op == "placeholder":
            value = traced.values[node]
            kinds[node] = "local"
            rules[node] = Rule("input", (), int(value.shape[-1]), int(value.shape[1]))
        elif node.op == "output":
            continue
        elif node not in traced.varying:
            kinds[node] = "const"
            if node.op == "get_attr":
                consts[node] = fetch_attr(traced.root, node.target)
            else:
                args, kwargs = map_arg((node.args, node.kwargs), consts.__getitem__)
                consts[node] = call(node.op, node.target, args, kwargs, traced.root)
        else:
            _check_inplace(node, traced)
            inputs = [kinds[n] for n in node.all_input_nodes]
            if node.target is batch_size or all(k in ("const", "batch") for k in inputs):
                kinds[node] = "batch"
                continue
            rule = classifier.rule(node)
            kinds[node] = "global" if rule is None else "local"
            if rule is not None:
                rules[node] = rule
    return kinds, rules, consts


def _check_inplace(node: fx.Node, traced: Traced) -> None:
    if is_inplace(node, traced.root):
        for source in node.all_input_nodes:
            if source in traced.varying and len(source.users) > 1:
                raise TraceFailed(
                    f"{node.name} writes in place into {source.name}, which other nodes read"
                )
