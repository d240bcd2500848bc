"""Fast ISM: running a plan on batches of mutants of a group of sequences.

For each batch the input window is the new base's one-hot column; each windowed node then
reads its inputs over the positions its output window needs (the reference activations,
padded with the read's fill, with the input's changed window written over them) and runs
its operation on that read alone. The frontier windows are written into copies of their
full reference activations and the rest of the graph runs on those.

Taught in chapter 2 (the fast ISM path).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch.fx.node import map_arg

from genotutor.attribution._ism_delta import delta_value, reference_sums
from genotutor.attribution._ism_plan import Plan, Read
from genotutor.attribution._ism_trace import call, run_graph


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
        sources = {d.source for d in plan.deltas.values()}
        keep = {source for source, _ in pads} | set(plan.frontier) | set(plan.deltas) | sources
        self.reference_output, kept = run_graph(plan.traced, x, keep)
        self.delta_refs = {node: kept[node] for node in plan.deltas}
        self.delta_sums = {n: reference_sums(d, kept[d.source]) for n, d in plan.deltas.items()}
        kept[plan.traced.input] = x
        self.tables = {}  # (source, fill) -> padded reference, channels last: (n * L', C)
        self.padded_length = {}
        for (source, fill), (left, right) in pads.items():
            table = F.pad(kept[source], (left, right), value=fill).transpose(1, 2)
            self.padded_length[source, fill] = table.shape[1]
            self.tables[source, fill] = table.contiguous().view(-1, table.shape[2])
        self.frontier = {node: kept[node] for node in plan.frontier}
        self.starts = {n: torch.as_tensor(s, device=self.device) for n, s in plan.starts.items()}
        self.firsts = {}  # (node, source) -> (P,) first position read, in the padded table
        self.offsets = {}
        for node, reads in plan.reads.items():
            for source, read in reads.items():
                if not read.direct:
                    left = pads[source, read.fill][0]
                    self.firsts[node, source] = torch.as_tensor(read.starts + left,
                                                                device=self.device)  # fmt: skip
                    self.offsets[node, source] = torch.as_tensor(read.offsets, device=self.device)
        self.eye = torch.eye(x.shape[1], dtype=x.dtype, device=self.device)
        self._aranges: dict = {}
        last = {s: n for n in plan.rest for s in n.all_input_nodes}
        last.update((s, None) for s in plan.traced.output.all_input_nodes)
        self.rest_release: dict = {}  # rest node -> full activations last read there
        for source, node in last.items():
            if node is not None:
                self.rest_release.setdefault(node, []).append(source)

    def _arange(self, n: int) -> torch.Tensor:
        if n not in self._aranges:
            self._aranges[n] = torch.arange(n, device=self.device)
        return self._aranges[n]

    def outputs(self, seq, base, index, index_cpu: np.ndarray, select) -> torch.Tensor:
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
                if read.direct:
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
            del reads
            for key in plan.release.get(node, ()):  # free what no later node reads
                (done if isinstance(key, tuple) else windows).pop(key, None)
        full = {n: self._materialize(n, windows[n], seq, index) for n in plan.frontier}
        env = {n: self._delta(d, windows[d.source], seq, index, index_cpu)
               for n, d in plan.deltas.items()}  # fmt: skip

        def lookup(node):
            if node in plan.consts:
                return plan.consts[node]
            if node in env:
                return env[node]
            return full[node] if node in full else windows[node]

        for node in plan.rest:
            args, kwargs = map_arg((node.args, node.kwargs), lookup)
            env[node] = call(node.op, node.target, args, kwargs, plan.traced.root)
            del args, kwargs
            for source in self.rest_release.get(node, ()):
                env.pop(source, None)
                full.pop(source, None)
        return select(map_arg(plan.traced.output.args[0], lookup))

    def _gather(self, key, begin: torch.Tensor, width: int, spare: int = 0) -> torch.Tensor:
        """Rows ``begin .. begin + width`` of a reference table: ``(B * width + spare, C)``.

        Each mutant's rows are consecutive in the table, so they are one block of an
        overlapping view of it: one contiguous copy per mutant.
        """
        table = self.tables[key]
        channels = table.shape[1]
        blocks = table.as_strided((table.shape[0] - width + 1, width, channels),
                                  (channels, channels, 1))  # fmt: skip
        rows = torch.empty(len(begin) * width + spare, channels, dtype=table.dtype,
                           device=self.device)  # fmt: skip
        out = rows[: len(begin) * width].view(len(begin), width, channels)
        torch.index_select(blocks, 0, begin, out=out)
        return rows

    def _read(self, node, read: Read, window, seq, index, index_cpu):
        """The values of ``read.source`` (mutated) at the positions ``node`` reads.

        Rows of the channels-last reference table are gathered (one row per position) and
        the source's window is written over them. Where the window sits at one offset in
        every read of the batch it is one slice, and where it covers most of the read only
        the reference rows on either side are gathered (gathers are the costly copies);
        else the window is written row by row (rows that fall outside the read go to a
        spare row).
        """
        key, width, n = (read.source, read.fill), read.width, len(seq)
        begin = seq * self.padded_length[key] + self.firsts[node, read.source][index]
        size = window.shape[2]
        offsets = read.offsets[index_cpu]
        if np.all(offsets == offsets[0]):  # one offset for the whole batch: a slice
            offset = int(offsets[0])
            lo, hi = max(offset, 0), min(offset + size, width)
            middle = window[:, :, lo - offset : hi - offset].transpose(1, 2)
            if 2 * (hi - lo) > width:
                parts = [self._gather(key, begin, lo).view(n, lo, -1)] if lo else []
                parts.append(middle)
                if hi < width:
                    parts.append(self._gather(key, begin + hi, width - hi).view(n, width - hi, -1))
                return torch.cat(parts, dim=1).transpose(1, 2)
            out = self._gather(key, begin, width).view(n, width, -1)
            if lo < hi:
                out[:, lo:hi, :] = middle
            return out.transpose(1, 2)
        rows = self._gather(key, begin, width, spare=1)
        where = self.offsets[node, read.source][index][:, None] + self._arange(size)
        inside = (where >= 0) & (where < width)
        where = torch.where(inside, where + self._arange(n)[:, None] * width, n * width)
        rows.index_copy_(0, where.view(-1), window.transpose(1, 2).reshape(-1, rows.shape[1]))
        return rows[:-1].view(n, width, -1).transpose(1, 2)

    def _delta(self, delta, window, seq, index, index_cpu) -> torch.Tensor:
        """A linear node's output: its reference plus the change of its windowed input."""
        starts = self.starts[delta.source][index]
        change = delta_value(delta, window, self.delta_sums[delta.node], seq, starts,
                             self.plan.starts[delta.source][index_cpu])  # fmt: skip
        return self.delta_refs[delta.node].index_select(0, seq) + change

    def _materialize(self, node, window, seq, index) -> torch.Tensor:
        """The full activation of ``node`` for each mutant: its reference, window written in."""
        full = self.frontier[node].index_select(0, seq)
        where = self.starts[node][index][:, None] + self._arange(window.shape[2])
        full.scatter_(2, where[:, None, :].expand(-1, window.shape[1], -1), window)
        return full


def _shared(read: Read, done: dict, index_cpu: np.ndarray):
    """The read as a slice of an earlier read of the same input, or None."""
    if read.provider is None:
        return None
    shift = read.shift[index_cpu]
    if not read.reusable[index_cpu].all() or not np.all(shift == shift[0]):
        return None
    begin = int(shift[0])
    return done[read.provider, read.source][:, :, begin : begin + read.width]
