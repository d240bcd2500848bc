"""Fast ISM: the plan, which nodes run on windows, how wide, where the windows start, cost.

For each position ``p`` mutated, every local node gets the interval ``[lo, hi)`` of its
output positions that the mutation can change: ``[p, p + 1)`` at the input, unchanged by a
pointwise node, the hull of the inputs' intervals at a combining node, and at a window
node (stride ``s``, left padding ``o``, span ``r``) the outputs ``j`` with
``j * s - o + i`` in ``[lo, hi)`` for some ``i`` in ``0 .. r``, clipped to the node's
length. All mutants then share one *width* per node (the widest interval) and each has a
*start* (its interval's start, moved left where the window would pass the end).

A node runs on windows when its rule is local, its local inputs run on windows and its
window is narrower than ``threshold`` times its length; at the first node where that fails
(a flatten, a linear layer over the length, a global pooling, an unsupported operation,
or a window that covers nearly everything) the windowed nodes it reads are written into
full copies of their reference activations and the rest of the graph runs in full; a sum
or mean over the length and a flatten followed by a linear layer instead take the change
of the window alone (:mod:`genotutor.attribution._ism_delta`). The plan tries a few
thresholds and keeps the cheapest, by an estimate of multiply-adds and values moved per
mutant. A read that lies inside an earlier node's read of the same input (the residual
addition after a convolution) is a slice of it.

Taught in chapter 2 (the fast ISM path).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from torch import fx
from torch.fx.node import map_arg

from genotutor.attribution._ism_cost import costs
from genotutor.attribution._ism_delta import find_deltas
from genotutor.attribution._ism_rules import Classifier, Rule
from genotutor.attribution._ism_trace import (
    Traced,
    TraceFailed,
    batch_size,
    call,
    fetch_attr,
    is_inplace,
)

THRESHOLDS = (1.0, 0.75, 0.5, 0.3)
_EMPTY = 1 << 40


@dataclass
class Read:
    """How a windowed node reads one input: positions ``starts .. starts + width``.

    ``offsets`` is where the input's own window starts inside the read (per position);
    ``direct`` means the read is exactly that window. Where ``reusable`` (per position),
    the read is a slice, from ``shift``, of an earlier node's read of the same input
    (``provider``): a residual addition reads its input inside what the convolution
    before it read.
    """

    source: fx.Node
    starts: np.ndarray
    width: int
    fill: float
    offsets: np.ndarray
    direct: bool
    provider: fx.Node | None = None
    shift: np.ndarray | None = None
    reusable: np.ndarray | None = None


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
    release: dict = field(default_factory=dict)  # node -> windows and reads last used there
    inplace: dict = field(default_factory=dict)  # node -> the source window it writes into
    threshold: float = 1.0
    cost_fast: float = 0.0  # estimated cost per mutant (multiply-adds and values moved)
    cost_full: float = 0.0
    window_macs: float = 0.0  # multiply-adds of the convolutions' changed windows alone

    @property
    def stops(self) -> tuple[str, ...]:
        """The nodes where the windows hand over to full computation."""
        windowed = set(self.rules)
        names = [n.name for n in self.rest if any(s in windowed for s in n.all_input_nodes)]
        names += [d.skipped.name if d.skipped else n.name for n, d in self.deltas.items()]
        output = self.traced.output
        if any(s in windowed for s in output.all_input_nodes):
            names.append(output.name)
        return tuple(names)

    def layout_keys(self) -> np.ndarray:
        """``(P,)`` labels of the positions whose reads all lie alike: the same offset of
        the window in every read, the same reuse of earlier reads. A batch of such
        positions writes each window with one slice; after a stride the offsets cycle
        with the position, so batches are best made of one label at a time."""
        columns = [np.zeros(len(self.positions), dtype=np.int64)]
        for reads in self.reads.values():
            for read in reads.values():
                if read.direct:
                    continue
                columns.append(read.offsets)
                if read.provider is not None:
                    columns += [read.shift, read.reusable]
        rows = np.stack([np.asarray(c, dtype=np.int64) for c in columns], axis=1)
        return np.unique(rows, axis=0, return_inverse=True)[1].reshape(-1)

    def padding(self) -> dict:
        """``(source, fill) -> (left, right)``: how far each reference is padded for reads."""
        pads: dict = {}
        for reads in self.reads.values():
            for read in reads.values():
                if read.direct:
                    continue
                length = self.rules[read.source].length
                left = max(0, -int(read.starts.min()))
                right = max(0, int((read.starts + read.width).max()) - length)
                old = pads.get((read.source, read.fill), (0, 0))
                pads[read.source, read.fill] = (max(old[0], left), max(old[1], right))
        return pads


def _evaluate_const(node: fx.Node, traced: Traced, consts: dict):
    if node.op == "get_attr":
        return fetch_attr(traced.root, node.target)
    args, kwargs = map_arg((node.args, node.kwargs), consts.__getitem__)
    return call(node.op, node.target, args, kwargs, traced.root)


def classify(traced: Traced) -> tuple[dict, dict, dict]:
    """Kinds (``const``, ``batch``, ``local``, ``global``), rules and constant values."""
    kinds: dict = {}
    rules: dict = {}
    consts: dict = {}
    classifier = Classifier(traced, kinds, consts)
    for node in traced.graph.nodes:
        if node.op == "output":
            continue
        if node.op == "placeholder":
            value = traced.values[node]
            kinds[node] = "local"
            rules[node] = Rule("input", (), int(value.shape[-1]), int(value.shape[1]))
            continue
        if node not in traced.varying:
            kinds[node] = "const"
            consts[node] = _evaluate_const(node, traced, consts)
            continue
        _check_inplace(node, traced)
        inputs = [kinds[n] for n in node.all_input_nodes]
        if node.target is batch_size or all(k in ("const", "batch") for k in inputs):
            kinds[node] = "batch"
            continue
        try:
            rule = classifier.rule(node)
        except (TypeError, ValueError, IndexError, KeyError, AttributeError):
            rule = None  # arguments this module does not understand: computed in full
        kinds[node] = "local" if rule is not None else "global"
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


def intervals(rules: dict, positions: np.ndarray) -> dict:
    """``node -> (lo, hi)``: the output positions each mutated position can change."""
    found: dict = {}
    for node, rule in rules.items():
        if rule.kind == "input":
            found[node] = (positions.copy(), positions + 1)
            continue
        spans = [found[s] for s in rule.sources]
        if rule.kind == "pointwise":
            found[node] = spans[0]
        elif rule.kind == "combine":
            found[node] = _hull(spans)
        else:
            found[node] = _window_interval(rule, *spans[0])
    return found


def _hull(spans):
    lo = np.minimum.reduce([s[0] for s in spans])
    hi = np.maximum.reduce([s[1] for s in spans])
    return lo, hi


def _window_interval(rule: Rule, lo: np.ndarray, hi: np.ndarray):
    out_lo = -((-(lo + rule.offset - rule.span)) // rule.stride)
    out_hi = (hi - 1 + rule.offset) // rule.stride + 1
    out_lo, out_hi = np.clip(out_lo, 0, rule.length), np.clip(out_hi, 0, rule.length)
    empty = (lo >= hi) | (out_lo >= out_hi)
    return np.where(empty, _EMPTY, out_lo), np.where(empty, -_EMPTY, out_hi)


def _window(rule: Rule, lo: np.ndarray, hi: np.ndarray) -> tuple[int, np.ndarray]:
    """The shared width and the per-position starts of a node's window."""
    nonempty = lo < hi
    width = int((hi - lo)[nonempty].max()) if nonempty.any() else 1
    width = min(max(width, 1), rule.length)
    starts = np.clip(np.where(nonempty, lo, 0), 0, rule.length - width).astype(np.int64)
    return width, starts


def _windowed(rules: dict, widths: dict, threshold: float) -> dict:
    chosen = {}
    for node, rule in rules.items():
        if rule.kind == "input":
            chosen[node] = rule
        elif all(s in chosen for s in rule.sources) and widths[node] < threshold * rule.length:
            chosen[node] = rule
    return chosen


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
        direct = width == widths[source] and not offsets.any()
        reads[source] = Read(source, first, width, fill, offsets, bool(direct))
    return reads


def _share_reads(order: list, reads: dict, rules: dict) -> None:
    """Point each read at the widest earlier read of the same input that contains it."""
    done: dict = {}  # source -> [(node, read)]
    for node in order:
        for source, read in reads[node].items():
            if read.direct:
                continue
            length = rules[source].length
            inside = (read.starts >= 0) & (read.starts + read.width <= length)
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


def _releases(order: list, reads: dict, kept: set) -> dict:
    """``node -> keys``: the windows (nodes) and reads (``(node, source)``) last used there.

    Windows in ``kept`` (read after the windowed nodes) are never released.
    """
    last: dict = {}
    for node in order:
        for source, read in reads[node].items():
            last[source] = node
            if read.provider is not None:
                last[read.provider, source] = node
        last.setdefault(node, node)
        last.update({(node, source): node for source in reads[node]})
    release: dict = {}
    for key, node in last.items():
        if key not in kept:
            release.setdefault(node, []).append(key)
    return release


def _inplace(order: list, rules: dict, reads: dict, kept: set) -> dict:
    """``node -> source``: nodes that may write their output into a source's window.

    The source's window must be read by that node alone, directly, kept for nothing else,
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
        rule = rules[node]
        if rule.inplace is None:
            continue
        for source, read in reads[node].items():
            if (
                read.direct
                and readers[source] == [node]
                and source not in kept
                and (rules[source].kind in ("window", "combine") or source in found)
                and rules[source].channels == rule.channels
            ):
                found[node] = source
                break
    return found


def _build(traced, kinds, rules, consts, positions, widths, starts, threshold) -> Plan:
    chosen = _windowed(rules, widths, threshold)
    order = [n for n in chosen if chosen[n].kind != "input"]
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
    users_full = set(rest) - {n for n in rest if kinds[n] == "batch"}
    frontier = [n for n in chosen
                if any(u in users_full or u.op == "output" for u in n.users)]  # fmt: skip
    kept = set(frontier) | {d.source for d in deltas.values()}
    kept |= {s for n in rest for s in n.all_input_nodes if s in chosen}
    return Plan(traced, positions, chosen, {n: widths[n] for n in chosen},
                {n: starts[n] for n in chosen}, reads, order, frontier, rest, deltas, consts,
                _releases(order, reads, kept), _inplace(order, chosen, reads, kept),
                threshold)  # fmt: skip


def make_plan(traced: Traced, start: int, end: int, batch_fast: int, batch_full: int) -> Plan:
    """The cheapest fast plan for mutations at positions ``start .. end``.

    Raises
    ------
    TraceFailed
        If no convolution or pooling of the model can run on windows.
    """
    kinds, rules, consts = classify(traced)
    positions = np.arange(start, end, dtype=np.int64)
    spans = intervals(rules, positions)
    widths, starts = {}, {}
    for node, rule in rules.items():
        widths[node], starts[node] = _window(rule, *spans[node])
    window_macs = sum(rule.macs * widths[node] for node, rule in rules.items())
    best = None
    for threshold in THRESHOLDS:
        plan = _build(traced, kinds, rules, consts, positions, widths, starts, threshold)
        if not any(plan.rules[n].kind == "window" for n in plan.order):
            continue
        plan.cost_fast, plan.cost_full = costs(plan, rules, batch_fast, batch_full)
        if best is None or plan.cost_fast < best.cost_fast:
            best = plan
    if best is None:
        first = [u.name for u in traced.input.users]
        raise TraceFailed(
            f"no convolution or pooling of the model can run on windows (the input goes to "
            f"{', '.join(first)}, which must see every position)"
        )
    best.window_macs = float(window_macs)
    return best
