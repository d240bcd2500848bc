"""Fast ISM: the cost and memory model of a plan, per mutant.

The work of a node on windows is counted as multiply-adds (convolutions) plus values
written (``MOVE`` each) and values gathered by index (``GATHER`` each), and each operation
on a batch as a fixed ``OP_OVERHEAD``; the same count over full activations gives the cost
of a plain forward pass. The ratio only guides the plan (which nodes run on windows) and
spares ``fast="auto"`` timing a fast path that is clearly slower: the timing decides.

Batches are sized so that their largest tensor stays within ``TENSOR_BYTES`` (a few MiB
on the CPU, which stay in cache and in the allocator's pool) and all of them within
``MEMORY``; groups of sequences so that their reference activations fit ``MEMORY``.

Taught in chapter 2 (the fast ISM path).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import fx, nn

from genotutor.attribution._ism_trace import EXAMPLE_BATCH, Traced
from genotutor.attribution._ism_windows import Rule

if TYPE_CHECKING:  # the plan module imports this one
    from genotutor.attribution._ism_plan import Plan

MOVE = 8.0  # cost of writing one value, in multiply-adds (a rough CPU / GPU ratio)
GATHER = 16.0  # cost of gathering one value by index
OP_OVERHEAD = 2e5  # fixed cost of launching one operation on a batch, in multiply-adds
MEMORY = 1 << 29  # bytes of activations per batch (and of references per group), at most
TENSOR_BYTES = {"cpu": 1 << 23, "cuda": 1 << 28}  # the largest tensor of a fast batch
FAST_BATCH = (64, 16384)  # bounds of the fast path's default batch size


def _op_cost(rule: Rule, width: int) -> float:
    values = rule.channels * width
    if rule.kind == "window" and rule.macs:
        return rule.macs * width + MOVE * values
    if rule.kind == "window":
        return MOVE * values * max(1, rule.reads_per_output) / 2
    return MOVE * values


def _global_cost(node: fx.Node, traced: Traced) -> float:
    value = traced.values[node]
    if node.op == "call_module":
        module = traced.root.get_submodule(node.target)
        if isinstance(module, nn.Linear):
            return module.in_features * module.out_features
        if isinstance(module, nn.Conv1d) and isinstance(value, torch.Tensor):
            return module.weight.numel() * value.shape[-1]
    sizes = [traced.values[n].numel() for n in [node, *node.all_input_nodes]
             if isinstance(traced.values.get(n), torch.Tensor)]  # fmt: skip
    return MOVE * max(sizes, default=0) / EXAMPLE_BATCH


def _node_cost(node: fx.Node, rules: dict, traced: Traced) -> float:
    """Estimated cost per mutant of computing a node in full."""
    rule = rules.get(node)
    return _op_cost(rule, rule.length) if rule is not None else _global_cost(node, traced)


def costs(plan: Plan, rules: dict, batch_fast: int, batch_full: int) -> tuple[float, float]:
    """Estimated cost per mutant of the fast path and of full forward passes."""
    traced = plan.traced
    varying = [n for n in traced.graph.nodes if n in traced.varying and n.op != "placeholder"]
    x_rule = rules[traced.input]
    full = MOVE * x_rule.channels * x_rule.length + sum(_node_cost(n, rules, traced)
                                                        for n in varying)  # fmt: skip
    full += len(varying) * OP_OVERHEAD / batch_full
    fast, ops = 0.0, len(plan.order) + len(plan.rest) + 2 * len(plan.frontier)
    for node in plan.order:
        fast += _op_cost(plan.rules[node], plan.widths[node])
        for read in plan.reads[node].values():
            if not read.direct and (read.reusable is None or not read.reusable.all()):
                channels = plan.rules[read.source].channels
                fast += channels * (GATHER * read.width + MOVE * plan.widths[read.source])
                ops += 2
    for node in plan.frontier:
        fast += 2 * MOVE * plan.rules[node].channels * plan.rules[node].length
    fast += sum(_node_cost(n, rules, traced) for n in plan.rest)
    for delta in plan.deltas.values():
        values = plan.rules[delta.source].channels * plan.widths[delta.source]
        fast += MOVE * values  # the window's sum; the reference's is two prefix sums
        if delta.weight is not None:
            fast += values * delta.weight.shape[0] + OP_OVERHEAD * 4 / batch_fast
        ops += 3
    fast += ops * OP_OVERHEAD / batch_fast
    return fast, full


def fast_batch_size(plan: Plan, x: torch.Tensor) -> int:
    """Mutants per batch: the largest tensor of a batch within ``TENSOR_BYTES`` (CPU: a
    few MiB, which stay in cache and in the allocator's pool), all of them in ``MEMORY``."""
    sizes = [plan.rules[n].channels * plan.widths[n] for n in plan.rules]
    for reads in plan.reads.values():
        sizes += [plan.rules[r.source].channels * r.width for r in reads.values()]
    sizes += [plan.rules[n].channels * plan.rules[n].length for n in plan.frontier]
    for node in plan.rest:
        value = plan.traced.values[node]
        if isinstance(value, torch.Tensor):
            sizes.append(value.numel() // EXAMPLE_BATCH)
    largest = x.element_size() * max(sizes, default=1)
    total = x.element_size() * max(sum(sizes), 1)
    limit = TENSOR_BYTES["cuda" if x.is_cuda else "cpu"]
    return max(FAST_BATCH[0], min(FAST_BATCH[1], limit // largest, MEMORY // total))


def group_size(plan: Plan, x: torch.Tensor) -> int:
    """Sequences whose reference activations fit ``MEMORY``."""
    padding = plan.padding()
    values = sum(plan.rules[s].channels * (plan.rules[s].length + lr[0] + lr[1])
                 for (s, _), lr in padding.items())  # fmt: skip
    values += sum(plan.rules[f].channels * plan.rules[f].length for f in plan.frontier)
    return max(1, min(len(x), MEMORY // (x.element_size() * max(values, 1))))
