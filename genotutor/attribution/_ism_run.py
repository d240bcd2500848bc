"""Fast ISM, running: batches of mutants of a group of sequences through a plan.

For each batch the input window is the new base's one-hot column; each windowed node then
reads its inputs over the positions its output window needs (the reference activations,
padded with the read's fill, with the input's changed window written over them) and runs
its operation on that read alone. The frontier windows are written into copies of their
full reference activations and the rest of the graph runs on those; a delta node is its
reference output plus the change of its input's window: the window's sum minus the
reference's over the same positions, a difference of two prefix sums computed once per
group of sequences.

Batches are sized so that their largest tensor stays within ``TENSOR_BYTES`` (a few MiB
on the CPU, which stay in cache and in the allocator's pool) and all of them within
``MEMORY``; groups of sequences so that their reference activations fit ``MEMORY``.

Kept because it pays (:mod:`genotutor.attribution.ism` says how it was measured): each
mutant's rows of a reference table are gathered as one block of an overlapping view of the
table (row by row, and with mutants batched by position alone instead of by the layout of
their reads: 1.31x slower on Basset, 1.15x on the CNN).

Taught in chapter 2 (the fast ISM path).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, fx
from torch.fx.node import map_aggregate, map_arg

from genotutor.attribution._ism_graph import EXAMPLE_BATCH, Traced, call, fetch_attr, is_inplace
from genotutor.attribution._ism_plan import Delta, Plan, Read

MEMORY = 1 << 29  # bytes of activations per batch (and of references per group), at most
TENSOR_BYTES = {"cpu": 1 << 23, "cuda": 1 << 28}  # the largest tensor of a fast batch
FAST_BATCH = (64, 16384)  # bounds of the fast path's default batch size


def fast_batch_size(plan: Plan, x: torch.Tensor) -> int:
    """Mutants per fast batch: the largest tensor of a batch within ``TENSOR_BYTES`` (CPU: a
    few MiB, which stay in cache and in the allocator's pool), all of them in ``MEMORY``."""
    sizes = [plan.rules[n].channels * plan.widths[n] for n in plan.rules]
    reads = [read for reads in plan.reads.values() for read in reads.values()]
    sizes += [plan.rules[r.source].channels * r.width for r in reads]
    sizes += [plan.rules[n].channels * plan.rules[n].length for n in plan.frontier]
    values = [plan.traced.values[n] for n in plan.rest]
    sizes += [v.numel() // EXAMPLE_BATCH for v in values if isinstance(v, torch.Tensor)]
    largest = x.element_size() * max(sizes, default=1)
    total = x.element_size() * max(sum(sizes), 1)
    limit = TENSOR_BYTES["cuda" if x.is_cuda else "cpu"]
    return max(FAST_BATCH[0], min(FAST_BATCH[1], limit // largest, MEMORY // total))


def group_size(plan: Plan, x: torch.Tensor) -> int:
    """Sequences whose reference activations (padded for the reads) fit ``MEMORY``."""
    values = sum(
        plan.rules[s].channels * (plan.rules[s].length + left + right)
        for (s, _), (left, right) in plan.padding().items()
    )
    values += sum(plan.rules[f].channels * plan.rules[f].length for f in plan.frontier)
    return max(1, min(len(x), MEMORY // (x.element_size() * max(values, 1))))


def run_graph(traced: Traced, x: torch.Tensor, keep: set) -> tuple[object, dict]:
    """Run the traced graph on ``x``; the output and the values of the nodes in ``keep``."""
    env: dict = {traced.input: x}
    remaining = {node: len(node.users) for node in traced.graph.nodes}
    for node in traced.graph.nodes:
        if node.op == "output":
            break
        if node.op == "get_attr":
            env[node] = fetch_attr(traced.root, node.target)
        elif node.op != "placeholder":
            args, kwargs = map_arg((node.args, node.kwargs), env.__getitem__)
            if is_inplace(node, traced.root):  # keep the kept values as they were computed
                args, kwargs = map_aggregate((args, kwargs), _clone)
            env[node] = call(node.op, node.target, args, kwargs, traced.root)
        for source in node.all_input_nodes:  # free what no later node reads
            remaining[source] -= 1
            if remaining[source] == 0 and source not in keep:
                del env[source]
    return map_arg(traced.output.args[0], env.__getitem__), {n: env[n] for n in keep}


def _clone(value: object) -> object:
    return value.clone() if isinstance(value, torch.Tensor) else value


class FastRunner:
    """The fast path for one group of sequences ``x`` ``(n, 4, L)``: its references, cached.

    Parameters
    ----------
    plan : Plan
    x : torch.Tensor, shape (n, 4, L)
        The group's sequences, on the device everything runs on.
    """

    def __init__(self, plan: Plan, x: torch.Tensor) -> None:
        self.plan, self.device = plan, x.device
        pads = plan.padding()
        keep = {s for s, _ in pads} | set(plan.frontier) | set(plan.deltas)
        keep |= {d.source for d in plan.deltas.values()}
        self.reference_output, kept = run_graph(plan.traced, x, keep)
        self.delta_refs = {node: kept[node] for node in plan.deltas}
        self.delta_sums = {n: reference_sums(d, kept[d.source]) for n, d in plan.deltas.items()}
        self.tables = {}  # (source, fill) -> padded reference, channels last: (n * L', C)
        self.padded_length = {}
        for (source, fill), (left, right) in pads.items():
            table = F.pad(kept[source], (left, right), value=fill).transpose(1, 2)
            self.padded_length[source, fill] = table.shape[1]
            self.tables[source, fill] = table.contiguous().view(-1, table.shape[2])
        self.frontier = {node: kept[node] for node in plan.frontier}
        self.starts = {n: torch.as_tensor(s, device=self.device) for n, s in plan.starts.items()}
        self.firsts = {}  # (node, source) -> (P,) first position read, in the padded table
        self.offsets = {}  # (node, source) -> (P,) where the source's window lies in the read
        for node, reads in plan.reads.items():
            for source, read in reads.items():
                left = pads.get((source, read.fill), (0, 0))[0]
                self.firsts[node, source] = torch.as_tensor(read.starts + left, device=x.device)
                self.offsets[node, source] = torch.as_tensor(read.offsets, device=x.device)
        self.eye = torch.eye(x.shape[1], dtype=x.dtype, device=self.device)

    def outputs(
        self, seq: Tensor, base: Tensor, index: Tensor, index_cpu: np.ndarray, select: Callable
    ) -> Tensor:
        """``select`` of the model's output for each mutant of a batch.

        Parameters
        ----------
        seq, base, index : torch.Tensor, shape (B,)
            Sequence (within the group), new base, and index of the position among the
            plan's positions, of each mutant.
        index_cpu : numpy.ndarray, shape (B,)
            ``index`` on the CPU.
        select : callable
            Maps the model's raw output for ``B`` mutants to a ``(B,)`` tensor.
        """
        plan = self.plan
        windows = {plan.traced.input: self.eye[base][:, :, None]}
        done = {}  # (node, source) -> what node read of source, for later slices of it
        for node in plan.order:
            reads = {}
            for source, read in plan.reads[node].items():
                if read.equals_window:
                    reads[source] = windows[source]
                    continue
                shared = _shared(read, done, index_cpu)
                if shared is None:
                    shared = self._read(node, read, windows[source], seq, index, index_cpu)
                reads[source] = done[node, source] = shared
            if node in plan.inplace:
                windows[node] = plan.rules[node].inplace(reads, plan.inplace[node])
            else:
                windows[node] = plan.rules[node].apply(reads)
        env = {n: self._materialize(n, windows[n], seq, index) for n in plan.frontier}
        for node, delta in plan.deltas.items():
            env[node] = self._delta(delta, windows[delta.source], seq, index, index_cpu)

        def lookup(node: fx.Node) -> object:
            for values in (plan.consts, env, windows):
                if node in values:
                    return values[node]
            raise KeyError(node)

        for node in plan.rest:
            args, kwargs = map_arg((node.args, node.kwargs), lookup)
            env[node] = call(node.op, node.target, args, kwargs, plan.traced.root)
        return select(map_arg(plan.traced.output.args[0], lookup))

    def _gather(self, key: tuple, begin: Tensor, width: int, spare: int = 0) -> Tensor:
        """Rows ``begin .. begin + width`` of a reference table: ``(B * width + spare, C)``.

        Each mutant's rows are consecutive in the table, so they are one block of an
        overlapping view of it: one contiguous copy per mutant.
        """
        table = self.tables[key]
        channels = table.shape[1]
        blocks = table.as_strided(
            (table.shape[0] - width + 1, width, channels), (channels, channels, 1)
        )
        rows = table.new_empty(len(begin) * width + spare, channels)
        torch.index_select(
            blocks, 0, begin, out=rows[: len(begin) * width].view(-1, width, channels)
        )
        return rows

    def _read(
        self,
        node: fx.Node,
        read: Read,
        window: Tensor,
        seq: Tensor,
        index: Tensor,
        index_cpu: np.ndarray,
    ) -> Tensor:
        """The values of ``read.source`` (mutated) at the positions ``node`` reads.

        Rows of the channels-last reference table are gathered (one row per position) and
        the source's window is written over them: as one slice where it lies at one offset
        in every read of the batch, else row by row (rows that fall outside the read go to
        a spare row).
        """
        key, width, n, size = (read.source, read.fill), read.width, len(seq), window.shape[2]
        begin = seq * self.padded_length[key] + self.firsts[node, read.source][index]
        offsets = read.offsets[index_cpu]
        if np.all(offsets == offsets[0]):  # one offset for the whole batch: a slice
            offset = int(offsets[0])
            lo, hi = max(offset, 0), min(offset + size, width)
            out = self._gather(key, begin, width).view(n, width, -1)
            if lo < hi:
                out[:, lo:hi, :] = window[:, :, lo - offset : hi - offset].transpose(1, 2)
            return out.transpose(1, 2)
        rows = self._gather(key, begin, width, spare=1)
        where = self.offsets[node, read.source][index][:, None] + self._arange(size)
        inside = (where >= 0) & (where < width)
        where = torch.where(inside, where + self._arange(n)[:, None] * width, n * width)
        rows.index_copy_(0, where.view(-1), window.transpose(1, 2).reshape(-1, rows.shape[1]))
        return rows[:-1].view(n, width, -1).transpose(1, 2)

    def _arange(self, n: int) -> torch.Tensor:
        return torch.arange(n, device=self.device)

    def _delta(
        self, delta: Delta, window: Tensor, seq: Tensor, index: Tensor, index_cpu: np.ndarray
    ) -> Tensor:
        """A linear node's output: its reference plus the change of its windowed input."""
        starts = self.starts[delta.source][index]
        starts_cpu = self.plan.starts[delta.source][index_cpu]
        change = delta_value(delta, window, self.delta_sums[delta.node], seq, starts, starts_cpu)
        return self.delta_refs[delta.node].index_select(0, seq) + change

    def _materialize(self, node: fx.Node, window: Tensor, seq: Tensor, index: Tensor) -> Tensor:
        """The full activation of ``node`` for each mutant: its reference, window written in."""
        full = self.frontier[node].index_select(0, seq)
        where = self.starts[node][index][:, None] + self._arange(window.shape[2])
        full.scatter_(2, where[:, None, :].expand(-1, window.shape[1], -1), window)
        return full


def _shared(read: Read, done: dict, index_cpu: np.ndarray) -> Tensor | None:
    """The read as a slice of an earlier read of the same input, or None."""
    if read.provider is None:
        return None
    shift = read.shift[index_cpu]
    if not read.reusable[index_cpu].all() or not np.all(shift == shift[0]):
        return None
    begin = int(shift[0])
    return done[read.provider, read.source][:, :, begin : begin + read.width]


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
        values = torch.einsum("pch,ncp->nhp", delta.columns.double(), values)
    return F.pad(values.cumsum(dim=2), (1, 0))


def delta_value(
    delta: Delta,
    window: Tensor,
    sums: Tensor,
    seq: Tensor,
    starts: Tensor,
    starts_cpu: np.ndarray,
) -> Tensor:
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
        change = (window.sum(dim=2) + before.to(window.dtype))[:, :, None]  # (B, C, 1)
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
