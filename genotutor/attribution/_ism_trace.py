"""Tracing for fast ISM: a ``torch.fx`` graph of a model, with the shapes of one example.

``torch.fx.symbolic_trace`` cannot follow Python code that reads a tensor's length
(``if x.shape[-1] < context``, ``x[..., cut : x.shape[-1] - cut]``), which sequence models
do to crop their outputs. :func:`trace` runs the model on an example while it records the
graph, so every size except the batch size is a plain ``int`` and such code is specialised
to the example's length. The batch size stays symbolic (a ``batch_size`` node), so
``h.view(h.shape[0], -1)`` works for any number of mutants. Control flow that depends on the
input's values is refused (the graph would hold only one branch), and genotutor's own
argument checks (``check_tensor`` and friends) are recorded as opaque calls and dropped.

Taught in chapter 2 (the fast ISM path).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import fx, nn
from torch.fx.node import map_aggregate, map_arg

from genotutor import validation

EXAMPLE_BATCH = 2  # the traced example's batch size (2, so that no squeeze of it is baked in)
# genotutor's argument checks return their first argument (or raise): opaque in the trace
_CHECKS = tuple(
    value
    for name, value in vars(validation).items()
    if name.startswith("check_") and callable(value)
)


def batch_size(x: torch.Tensor) -> int:
    """The size of ``x``'s first dimension (a node of the traced graph)."""
    return x.shape[0]


class TraceFailed(Exception):
    """The model could not be traced; the message says why."""


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
        if isinstance(value, (tuple, list, dict)):
            return len(value)
        if self.node in self.tracer.varying:
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
    def __init__(self, root: nn.Module, example: torch.Tensor) -> None:
        super().__init__(autowrap_functions=_CHECKS)
        self.model, self.example = root, example
        self.values: dict = {}
        self.varying: set = set()
        self._evaluating, self._forward = False, None

    def call_module(self, module, forward, args, kwargs):
        if self._evaluating:  # a module called inside a leaf module: just run it
            return forward(*args, **kwargs)
        self._forward = forward
        return super().call_module(module, forward, args, kwargs)

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

    def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None,
                     proxy_factory_fn=None):  # fmt: skip
        proxy = super().create_proxy(kind, target, args, kwargs, name, type_expr, proxy_factory_fn)
        node = proxy.node
        inputs = []
        map_aggregate((args, kwargs), lambda a: inputs.append(a) if isinstance(a, fx.Proxy) else a)
        if kind == "placeholder" or any(a.node in self.varying for a in inputs):
            self.varying.add(node)
        self.values[node] = self._evaluate(kind, target, args, kwargs)
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


def fetch_attr(root: nn.Module, target: str):
    """The attribute of ``root`` named by a dotted path (a ``get_attr`` node's target)."""
    value = root
    for part in target.split("."):
        value = getattr(value, part)
    return value


def call(kind: str, target, args: tuple, kwargs: dict, root: nn.Module):
    """Run one node (``call_module``, ``call_function`` or ``call_method``) on values."""
    if kind == "call_module":
        return root.get_submodule(target)(*args, **kwargs)
    if kind == "call_function":
        return target(*args, **kwargs)
    if kind == "call_method":
        return getattr(args[0], target)(*args[1:], **kwargs)
    raise ValueError(f"cannot call a node of kind {kind!r}")


def is_inplace(node: fx.Node, root: nn.Module) -> bool:
    """Whether a node writes into its input (``ReLU(inplace=True)``, ``x.relu_()``)."""
    if node.op == "call_module":
        return bool(getattr(root.get_submodule(node.target), "inplace", False))
    if node.op == "call_method":
        return node.target.endswith("_") and not node.target.startswith("__")
    return node.op == "call_function" and bool(node.kwargs.get("inplace", False))


def _drop_checks(graph: fx.Graph) -> None:
    """Replace each call of a genotutor check by its first argument (what it returns)."""
    for node in list(graph.nodes):
        if node.op == "call_function" and node.target in _CHECKS:
            node.replace_all_uses_with(node.args[0])
            graph.erase_node(node)


def trace(model: nn.Module, example: torch.Tensor) -> Traced:
    """Trace ``model`` on ``example`` (shape ``(EXAMPLE_BATCH, 4, L)``).

    Raises
    ------
    TraceFailed
        If the model does not trace (the message says why).
    """
    tracer = _Tracer(model, example)
    try:
        with torch.no_grad():
            graph = tracer.trace(model)
    except TraceFailed:
        raise
    except Exception as error:  # noqa: BLE001 - any failure means "no graph", with the reason
        raise TraceFailed(f"torch.fx could not trace the model ({type(error).__name__}: "
                          f"{str(error).strip().splitlines()[0] if str(error) else ''})"
                          ) from error  # fmt: skip
    _drop_checks(graph)
    for node in reversed(list(graph.nodes)):  # dead code: results that nothing reads
        if node.op not in ("placeholder", "output") and not node.users:
            graph.erase_node(node)
    placeholders = [node for node in graph.nodes if node.op == "placeholder"]
    if len(placeholders) != 1:
        raise TraceFailed(f"the model's forward takes {len(placeholders)} inputs; expected 1")
    return Traced(graph, model, tracer.values, tracer.varying)


def _clone(value):
    return value.clone() if isinstance(value, torch.Tensor) else value


def run_graph(traced: Traced, x: torch.Tensor, keep=None) -> tuple[object, dict]:
    """Run the traced graph on ``x``; the output and the values of the nodes in ``keep``."""
    env: dict = {}
    keep = set() if keep is None else set(keep)
    kept = {}
    remaining = {node: len(node.users) for node in traced.graph.nodes}
    for node in traced.graph.nodes:
        if node.op == "placeholder":
            env[node] = x
        elif node.op == "get_attr":
            env[node] = fetch_attr(traced.root, node.target)
        elif node.op == "output":
            return map_arg(node.args[0], env.__getitem__), kept
        else:
            args, kwargs = map_arg((node.args, node.kwargs), env.__getitem__)
            if is_inplace(node, traced.root):  # keep the kept values as they were computed
                args, kwargs = map_aggregate((args, kwargs), _clone)
            env[node] = call(node.op, node.target, args, kwargs, traced.root)
        if node in keep:
            kept[node] = env[node]
        for source in node.all_input_nodes:  # free what no later node reads
            remaining[source] -= 1
            if remaining[source] == 0 and source not in keep:
                env.pop(source, None)
    raise AssertionError("graph without output")
