"""Fast ISM, the plan: which nodes run on windows, how wide, from where, and where they stop.

For each position ``p`` mutated, every local node (:mod:`genotutor.attribution._ism_graph`)
gets the interval ``[lo, hi)`` of its output positions that the mutation can change:
``[p, p + 1)`` at the input, unchanged by a pointwise node, the hull of the inputs'
intervals at a combining node, and at a window node (stride ``s``, left padding ``o``,
span ``r``) the outputs ``j`` with ``j * s - o + i`` in ``[lo, hi)`` for some ``i`` in
``0 .. r``, clipped to the node's length. All mutants share one *width* per node (the
widest interval) and each has a *start* (its interval's start, moved left where the
window would pass the end).

A node runs on windows when it is local, its local inputs run on windows and its window
is narrower than its length. At the first node where that fails (a flatten, a linear
layer over the length, a global pooling, an unsupported operation) the windows it reads
are written into full copies of their reference activations and the rest of the graph
runs in full; a sum or mean over the length, and a flatten into a linear layer, instead
take the change of the window alone (a :class:`Delta`).

Kept because they pay (:mod:`genotutor.attribution.ism` says how it was measured): the
deltas (1.41x slower without on the tower, for the mean, and 1.50x on the CNN, for the
linear layer); activations and residual sums written in place into a window that nothing
else reads (1.12x on the tower, 1.10x on Basset); a read that lies inside an earlier
node's read of the same input (the residual addition after a convolution) taken as a
slice of it (1.21x on the tower); mutants batched by the layout of their reads
(:meth:`Plan.layout_keys`), so that a batch writes each window with one slice (with the
block gathers of :mod:`genotutor.attribution._ism_run`: 1.31x on Basset, 1.15x on the CNN).

Taught in chapter 2 (the fast ISM path).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import fx, nn

from genotutor.attribution._ism_graph import (
    EXAMPLE_BATCH,
    Rule,
    Traced,
    TraceFailed,
    argument,
    classify,
)

_EMPTY = 1 << 40  # the interval of a position that changes nothing: [_EMPTY, -_EMPTY)


@dataclass
class Read:
    """How a windowed node reads one input: positions ``starts .. starts + width``.

    ``offsets`` is where the input's own window starts inside the read (per position);
    ``equals_window`` means the read is that window itself (no reference values needed).
    Where ``reusable`` (per position), the read is a slice, from ``shift``, of an earlier
    node's read of the same input (``provider``): a residual addition reads its input
    inside what the convolution before it read.
    """

    source: fx.Node
    starts: np.ndarray
    width: int
    fill: float
    offsets: np.ndarray
    equals_window: bool
    provider: fx.Node | None = None
    shift: np.ndarray | None = None
    reusable: np.ndarray | None = None


@dataclass
class Delta:
    """A node computed as its reference value plus the change of one windowed input.

    ``kind`` is ``"sum"`` (a sum over ``dims``, times ``scale``, keeping dimensions as
    ``keepdim``) or ``"linear"`` (a linear layer over the flattened ``source``, its weight
    as ``columns`` ``(L, C, H)``, so that a window's columns are one slice; ``skipped`` is
    the flatten between them).
    """

    node: fx.Node
    source: fx.Node
    kind: str
    dims: tuple[int, ...] = (2,)
    keepdim: bool = False
    scale: float = 1.0
    columns: torch.Tensor | None = None
    skipped: fx.Node | None = None


@dataclass
class Plan:
    """Everything the fast path needs to run, for mutations at ``positions``."""

    traced: Traced
    positions: np.ndarray  # (P,) the positions mutated
    rules: dict  # windowed node -> Rule (the input included)
    widths: dict  # windowed node -> int
    starts: dict  # windowed node -> (P,) int64
    reads: dict  # windowed node -> {source: Read}
    order: list  # windowed nodes in graph order, the input excluded
    frontier: list  # windowed nodes read by the rest (written into full activations)
    rest: list  # nodes computed in full per batch (batch-size and global nodes)
    deltas: dict  # node -> Delta: reference output plus the change of a windowed input
    consts: dict = field(repr=False)
    inplace: dict = field(default_factory=dict)  # node -> the source window it writes into

    @property
    def stops(self) -> tuple[str, ...]:
        """The nodes where the windows hand over to full computation."""
        names = [n.name for n in self.rest if any(s in self.rules for s in n.all_input_nodes)]
        names += [d.skipped.name if d.skipped else n.name for n, d in self.deltas.items()]
        if any(s in self.rules for s in self.traced.output.all_input_nodes):
            names.append(self.traced.output.name)
        return tuple(names)

    @property
    def window_macs(self) -> float:
        """Multiply-adds per mutant of the convolutions over their changed windows alone."""
        return float(sum(rule.macs * self.widths[node] for node, rule in self.rules.items()))

    def gathered(self) -> list[Read]:
        """The reads that gather reference values (not a window itself)."""
        return [r for reads in self.reads.values() for r in reads.values() if not r.equals_window]

    def layout_keys(self) -> np.ndarray:
        """``(P,)`` labels of the positions whose reads all lie alike: the same offset of
        the window in every read, the same reuse of earlier reads. A batch of such
        positions writes each window with one slice; after a stride the offsets cycle
        with the position, so batches are best made of one label at a time."""
        columns = [np.zeros(len(self.positions), dtype=np.int64)]
        for read in self.gathered():
            columns.append(read.offsets)
            if read.provider is not None:
                columns += [read.shift, read.reusable]
        rows = np.stack([np.asarray(c, dtype=np.int64) for c in columns], axis=1)
        return np.unique(rows, axis=0, return_inverse=True)[1].reshape(-1)

    def padding(self) -> dict:
        """``(source, fill) -> (left, right)``: how far each reference is padded for reads."""
        pads: dict = {}
        for read in self.gathered():
            left = max(0, -int(read.starts.min()))
            right = max(0, int((read.starts + read.width).max()) - self.rules[read.source].length)
            old = pads.get((read.source, read.fill), (0, 0))
            pads[read.source, read.fill] = (max(old[0], left), max(old[1], right))
        return pads


def intervals(rules: dict, positions: np.ndarray) -> dict:
    """``node -> (lo, hi)``: the output positions each mutated position can change."""
    found: dict = {}
    for node, rule in rules.items():
        spans = [found[s] for s in rule.sources]
        if rule.kind == "input":
            found[node] = (positions.copy(), positions + 1)
        elif rule.kind == "pointwise":
            found[node] = spans[0]
        elif rule.kind == "combine":  # the hull of the inputs' intervals
            found[node] = (
                np.minimum.reduce([s[0] for s in spans]),
                np.maximum.reduce([s[1] for s in spans]),
            )
        else:  # outputs j with j * stride - offset + i in [lo, hi) for some i in 0 .. span
            lo, hi = spans[0]
            out_lo = np.clip(-((-(lo + rule.offset - rule.span)) // rule.stride), 0, rule.length)
            out_hi = np.clip((hi - 1 + rule.offset) // rule.stride + 1, 0, rule.length)
            empty = (lo >= hi) | (out_lo >= out_hi)
            found[node] = (np.where(empty, _EMPTY, out_lo), np.where(empty, -_EMPTY, out_hi))
    return found


def _window(rule: Rule, lo: np.ndarray, hi: np.ndarray) -> tuple[int, np.ndarray]:
    """The shared width and the per-position starts of a node's window: the widest
    interval, each moved left where it would pass the end."""
    nonempty = lo < hi
    width = int((hi - lo)[nonempty].max()) if nonempty.any() else 1
    width = min(max(width, 1), rule.length)
    starts = np.clip(np.where(nonempty, lo, 0), 0, rule.length - width).astype(np.int64)
    return width, starts


def _reads(node, rule: Rule, widths: dict, starts: dict) -> dict:
    reads = {}
    for source in rule.sources:
        if rule.kind == "window":
            first = starts[node] * rule.stride - rule.offset
            width = (widths[node] - 1) * rule.stride + rule.span + 1
            fill = rule.fill
        else:
            first, width, fill = starts[node], widths[node], 0.0
        offsets = starts[source] - first
        equal = width == widths[source] and not offsets.any()
        reads[source] = Read(source, first, width, fill, offsets, bool(equal))
    return reads


def _share_reads(order: list, reads: dict, rules: dict) -> None:
    """Point each read at the widest earlier read of the same input that contains it."""
    done: dict = {}  # source -> [(node, read)]
    for node in order:
        for source, read in reads[node].items():
            if read.equals_window:
                continue
            inside = (read.starts >= 0) & (read.starts + read.width <= rules[source].length)
            best = None
            for other, earlier in done.get(source, []):
                shift = read.starts - earlier.starts
                ok = (shift >= 0) & (shift + read.width <= earlier.width)
                ok &= inside | (earlier.fill == read.fill)
                if ok.any() and (best is None or ok.sum() > best[2].sum()):
                    best = (other, shift, ok)
            if best is not None:
                read.provider, read.shift, read.reusable = best
            done.setdefault(source, []).append((node, read))


def _inplace(order: list, rules: dict, reads: dict, kept: set) -> dict:
    """``node -> source``: nodes that may write their output into a source's window.

    The source's window must be read by that node alone, as it is, kept for nothing else,
    and be a tensor of its own (the output of a convolution, pooling or combination, or of
    a node that itself wrote into one; never a view that a pointwise node may have made):
    ``h + relu(conv(h))`` then writes the ReLU into the convolution's output and the sum
    into the ReLU's.
    """
    readers: dict = {}
    for node in order:
        for source in reads[node]:
            readers.setdefault(source, []).append(node)
    found = {}
    for node in order:
        if rules[node].inplace is None:
            continue
        for source, read in reads[node].items():
            if (
                read.equals_window
                and readers[source] == [node]
                and source not in kept
                and (rules[source].kind in ("window", "combine") or source in found)
                and rules[source].channels == rules[node].channels
            ):
                found[node] = source
                break
    return found


def make_plan(traced: Traced, start: int, end: int, pointwise: tuple) -> Plan:
    """The fast plan for mutations at positions ``start .. end - 1``.

    A node runs on windows when its rule is local, its local inputs run on windows and its
    window is narrower than its length.

    Raises
    ------
    TraceFailed
        If no convolution or pooling of the model can run on windows.
    """
    kinds, rules, consts = classify(traced, pointwise)
    positions = np.arange(start, end, dtype=np.int64)
    spans = intervals(rules, positions)
    widths, starts, chosen = {}, {}, {}
    for node, rule in rules.items():
        widths[node], starts[node] = _window(rule, *spans[node])
        if rule.kind == "input" or (
            all(s in chosen for s in rule.sources) and widths[node] < rule.length
        ):
            chosen[node] = rule
    order = [n for n in chosen if chosen[n].kind != "input"]
    if not any(chosen[n].kind == "window" for n in order):
        first = ", ".join(u.name for u in traced.input.users)
        raise TraceFailed(
            "no convolution or pooling of the model can run on windows (the input goes to "
            f"{first}, which must see every position)"
        )
    reads = {n: _reads(n, chosen[n], widths, starts) for n in order}
    _share_reads(order, reads, chosen)
    rest = [
        n
        for n in traced.graph.nodes
        if n.op not in ("placeholder", "output") and kinds[n] != "const" and n not in chosen
    ]
    deltas = find_deltas(rest, chosen, traced, consts)
    skipped = {d.skipped for d in deltas.values()}
    rest = [n for n in rest if n not in deltas and n not in skipped]
    full_users = {n for n in rest if kinds[n] != "batch"}
    frontier = [n for n in chosen if any(u in full_users or u.op == "output" for u in n.users)]
    kept = set(frontier) | {d.source for d in deltas.values()}
    kept |= {s for n in rest for s in n.all_input_nodes if s in chosen}
    widths = {n: widths[n] for n in chosen}
    starts = {n: starts[n] for n in chosen}
    return Plan(
        traced,
        positions,
        chosen,
        widths,
        starts,
        reads,
        order,
        frontier,
        rest,
        deltas,
        consts,
        _inplace(order, chosen, reads, kept),
    )


def _reduction(node: fx.Node, source: fx.Node, traced: Traced) -> Delta | None:
    """A sum or mean over dimensions that include the length (never the batch)."""
    shape = traced.values[source].shape
    if node.op == "call_module":
        module = traced.root.get_submodule(node.target)
        size = module.output_size if isinstance(module, nn.AdaptiveAvgPool1d) else None
    else:
        size = argument(node, 1, "output_size") if node.target is F.adaptive_avg_pool1d else None
    if size in (1, (1,)):  # an average over the length
        return Delta(node, source, "sum", (2,), True, 1.0 / shape[2])
    name = node.target if node.op == "call_method" else getattr(node.target, "__name__", "")
    if node.op == "call_function" and node.target not in (torch.sum, torch.mean):
        return None
    if name not in ("sum", "mean") or "dtype" in node.kwargs or len(node.args) > 3:
        return None
    dims = argument(node, 1, "dim")
    if not isinstance(dims, (int, tuple, list)):
        return None
    dims = tuple(sorted({d % 3 for d in ((dims,) if isinstance(dims, int) else dims)}))
    if 0 in dims or 2 not in dims:
        return None
    scale = 1.0 / math.prod(shape[d] for d in dims) if name == "mean" else 1.0
    return Delta(node, source, "sum", dims, bool(argument(node, 2, "keepdim", False)), scale)


def _linear(node: fx.Node, source: fx.Node, traced: Traced, consts: dict) -> Delta | None:
    """A flatten of ``source`` read by a linear layer alone."""
    value, shape = traced.values[node], traced.values[source].shape
    if (
        len(node.users) != 1
        or not isinstance(value, torch.Tensor)
        or tuple(value.shape) != (EXAMPLE_BATCH, shape[1] * shape[2])
    ):
        return None
    if node.op == "call_module":
        flatten = isinstance(traced.root.get_submodule(node.target), nn.Flatten)
    else:
        flatten = node.target in ("flatten", "view", "reshape", torch.flatten, torch.reshape)
    user = next(iter(node.users))
    if user.op == "call_module":
        module = traced.root.get_submodule(user.target)
        weight = module.weight if isinstance(module, nn.Linear) else None
    else:
        weight = consts.get(argument(user, 1, "weight")) if user.target is F.linear else None
    if not flatten or weight is None or user.all_input_nodes[0] is not node:
        return None
    if not all(n is node or n in consts for n in user.all_input_nodes):
        return None
    columns = weight.detach().reshape(weight.shape[0], shape[1], shape[2]).permute(2, 1, 0)
    return Delta(user, source, "linear", columns=columns.contiguous(), skipped=node)


def find_deltas(rest: list, windowed: dict, traced: Traced, consts: dict) -> dict:
    """``node -> Delta`` for the nodes of ``rest`` that can be computed from a change."""
    found = {}
    for node in rest:
        if len(node.all_input_nodes) != 1 or node.all_input_nodes[0] not in windowed:
            continue
        source = node.all_input_nodes[0]
        delta = _reduction(node, source, traced) or _linear(node, source, traced, consts)
        if delta is not None:
            found[delta.node] = delta
    return found
