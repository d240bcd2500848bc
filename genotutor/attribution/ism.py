"""Batched in-silico saturation mutagenesis (ISM), with a fast path through whole networks.

The ISM score of base ``b`` at position ``i`` is ``f(x with b at i) - f(x)``: one forward
pass per mutant, ``3 L`` of them per sequence. A single-base change alters only a window of
each layer's output (fastISM, Nair et al. 2022), so the fast path follows that window
through the whole traced graph (``torch.fx``): convolutions of any dilation and stride,
pooling, activations, batch norm, residual additions, concatenation along the channels and
crops along the length are each recomputed on the window alone, from windows of the
reference activations with the changed values spliced in. At the first operation that
needs every position (a flatten, a global pooling, anything without a rule) the windows
are written into full copies of the reference activations and the rest of the model runs
in full; a sum or mean over the length, and a flatten into a linear layer, take the change
of the window alone. :mod:`genotutor.attribution._ism_graph` traces the model and gives
each operation its rule, :mod:`genotutor.attribution._ism_plan` says how windows grow and
where they stop, and :mod:`genotutor.attribution._ism_run` runs batches of mutants.

``fast="auto"`` takes the fast path only where it is faster, and timing decides: it runs
two batches of ``PROBE_BATCH`` mutants in full and times the second (the first pays for
one-time set-up); a job that would then end within ``SMALL_JOB_SECONDS`` stays in full
(tracing and planning would cost more than they save). Otherwise it plans the fast path,
runs two fast batches, times the second, and gives the rest to the faster path. Every
batch run to decide is part of the result, and both paths are exact, so the choice changes
the time only.

Each optimisation of the fast path is kept because leaving it out makes the fast path at
least 10 % slower on one of the three models of ``benchmarks/attribution.py``, measured by
``benchmarks/ism_ablation.py`` (CPU, two threads, ``fast=True``, each left out in turn,
median of 5 alternating runs on a quiet machine; how many times slower without it, on
Basset, the CNN and the tower):

- 2-D convolutions of channels-last reads (``_ism_graph``): 1.24, 1.28, 1.63;
- pooling by whole blocks (``_ism_graph``): 1.46, 1.36, 1.02;
- deltas of linear layers and sums (``_ism_plan``): 1.05, 1.50, 1.41;
- in-place activations and sums (``_ism_plan``): 1.10, 1.05, 1.12;
- reads shared with an earlier read (``_ism_plan``): 1.02, 0.99, 1.21;
- reads built as blocks (``_ism_plan``, ``_ism_run``): 1.31, 1.15, 1.03.

"Reads built as blocks" is two pieces that only pay together: mutants batched by the
layout of their reads, so that a batch writes each window with one slice, and each
mutant's reference rows gathered as one block (alone, each gained 2-6 % on the CNN).
Gone for gaining less: freeing each window after its last use, gathering only the
reference flanks of a mostly-changed read, the estimate of work per mutant that chose
among plans and let ``"auto"`` skip the timing (the plan now runs every local node
narrower than its length on windows, the plan the estimate chose on the benchmark's
models), and computing a stride-1 convolution's window as its reference plus the change
of its input (a transposed convolution of the input's change over ``W`` positions instead
of a convolution over ``W + span``: fewer multiply-adds, but 0.74-0.89x, since the
products of each input position with each tap are summed back by ``K`` strided
additions).

Taught in chapter 2.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from genotutor.attribution._common import check_fast, check_pointwise
from genotutor.attribution._ism_graph import EXAMPLE_BATCH, TraceFailed, trace
from genotutor.attribution._ism_plan import Plan, make_plan
from genotutor.attribution._ism_run import FastRunner, fast_batch_size, group_size
from genotutor.progress import progress_bar
from genotutor.targets import Output, Target, select
from genotutor.training import evaluating, predict
from genotutor.validation import check_bool, check_positive_int, check_target, check_tensor

SMALL_JOB_SECONDS = 0.5  # "auto" runs a job this short in full, without planning
FULL_BATCH = 256  # default batch size of plain forward passes
PROBE_BATCH = 32  # mutants per batch that "auto" times in full: a full batch is expensive


class ScoresAndPlan(NamedTuple):
    """What :func:`ism` returns with ``return_plan=True``: ``scores`` ``(N, 4, L')`` and
    the :class:`ISMPlan`. Taught in chapter 2."""

    scores: torch.Tensor
    plan: ISMPlan


@dataclass(frozen=True)
class ISMPlan:
    """Which path :func:`ism` took and why (``return_plan=True``).

    Attributes
    ----------
    path : {"fast", "full"}
    reason : str
        Why this path.
    stops : tuple of str
        Where the fast path hands over to full computation: the first nodes of the traced
        graph (``torch.fx`` names) that need every position, or ``"output"``.
    windowed : int
        Nodes of the graph computed on windows.
    seconds : dict or None
        Seconds per mutant of each path on one batch, where ``fast="auto"`` timed both.
    batch_size : int
        Mutants per batch.
    window_macs : float or None
        Multiply-adds per mutant of the convolutions over their changed output windows:
        the work of recomputing those windows (the benchmark's yardstick).
    """

    path: str
    reason: str
    stops: tuple[str, ...] = ()
    windowed: int = 0
    seconds: dict | None = None
    batch_size: int = 0
    window_macs: float | None = None


def check_window(start: object, end: object, length: int) -> tuple[int, int]:
    """``start`` and ``end`` (None: 0 and ``length``), ints with 0 <= start < end <= length."""
    start = 0 if start is None else check_positive_int(start, "start", minimum=0)
    end = length if end is None else check_positive_int(end, "end", minimum=1)
    if start >= length:
        raise ValueError(f"start must be < the sequence length {length}; found {start}")
    if end > length:
        raise ValueError(f"end must be <= the sequence length {length}; found {end}")
    if start >= end:
        raise ValueError(f"start must be < end; found start={start}, end={end}")
    return start, end


@dataclass
class _Batch:
    """Mutants run together, all of one group of sequences."""

    group: slice
    rows: np.ndarray  # indices into the job's edits
    edits: torch.Tensor  # (B, 3): position index, sequence within the group, base
    index: np.ndarray  # (B,) position indices, on the CPU


class _Job:
    """One ISM job: the sequences, their mutants (``edits``: rows ``(position index,
    sequence, base)``), the outputs found so far, and how to run a batch of mutants."""

    def __init__(
        self,
        model: nn.Module,
        x: torch.Tensor,
        window: tuple,
        chosen: dict,
        pointwise: tuple,
        progress: bool,
    ) -> None:
        self.model, self.x, self.window, self.chosen = model, x, window, chosen
        self.pointwise, (start, end) = pointwise, window
        self.reference = predict(model, x, **chosen, batch_size=FULL_BATCH, progress=False)
        self.edits = torch.nonzero((x[:, :, start:end] != 1.0).permute(2, 0, 1))
        self.table = self.edits.cpu().numpy()
        self.outputs = torch.empty(len(self.edits), dtype=x.dtype, device=x.device)
        self.done = np.zeros(len(self.edits), dtype=bool)
        self.bar = progress_bar(None, desc="ISM", progress=progress, total=len(self.edits))
        self.plan = self.runner = self.group = self.fast_order = None

    def select(self, raw) -> torch.Tensor:
        return select(raw, **self.chosen)

    def make_plan(self) -> Plan:
        """Plan the fast path, and the order of its mutants: by the layout of their reads,
        then by position (:meth:`Plan.layout_keys`)."""
        example = self.x[:1].expand(EXAMPLE_BATCH, -1, -1).clone()
        traced = trace(self.model, example, self.pointwise)
        self.plan = make_plan(traced, *self.window, self.pointwise)
        index = self.table[:, 0]
        self.fast_order = np.lexsort((index, self.plan.layout_keys()[index]))
        return self.plan

    def batches(self, path: str, size: int, limit: int | None = None) -> list[_Batch]:
        """The first ``limit`` batches of ``size`` mutants not yet done, within groups of
        sequences (the fast path's in its own order)."""
        found, n = [], len(self.x)
        group = n if path == "full" else group_size(self.plan, self.x)
        order = self.fast_order if path == "fast" else np.arange(len(self.table))
        seq = self.table[order, 1]
        for first in range(0, n, group):
            part = slice(first, min(first + group, n))
            rows = order[(seq >= part.start) & (seq < part.stop) & ~self.done[order]]
            for i in range(0, len(rows), size):
                local = self.table[rows[i : i + size]] - np.array([0, part.start, 0])
                edits = torch.as_tensor(local, device=self.x.device)
                found.append(_Batch(part, rows[i : i + size], edits, local[:, 0]))
                if len(found) == limit:
                    return found
        return found

    def run(self, path: str, batch: _Batch, timed: bool = False) -> float:
        """Run a batch along ``path`` into ``outputs``; the seconds per mutant if ``timed``."""
        sync = torch.cuda.synchronize if (timed and self.x.is_cuda) else (lambda: None)
        sync()
        begin = time.perf_counter()
        index, seq, base = batch.edits.unbind(1)
        if path == "full":
            x = self.x[batch.group][seq]  # a copy
            rows, position = torch.arange(len(seq), device=x.device), index + self.window[0]
            x[rows, :, position] = 0.0
            x[rows, base, position] = 1.0
            found = self.select(self.model(x))
        else:
            self._enter(batch.group)
            found = self.runner.outputs(seq, base, index, batch.index, self.select)
        self.outputs[torch.as_tensor(batch.rows, device=self.x.device)] = found
        sync()
        self.done[batch.rows] = True
        self.bar.update(len(batch.rows))
        return (time.perf_counter() - begin) / len(batch.rows)

    def _enter(self, group: slice) -> None:
        """Cache the fast path's references for the sequences of ``group``, checking that
        the traced graph reproduces the model's output."""
        if self.group == group:
            return
        self.runner, self.group = None, None
        runner = FastRunner(self.plan, self.x[group])
        got, expected = self.select(runner.reference_output), self.reference[group]
        scale = float(expected.abs().max())
        if not torch.allclose(got, expected, rtol=1e-4, atol=1e-5 + 1e-4 * scale):
            raise TraceFailed(
                "the traced graph does not reproduce the model's output "
                f"(largest difference {float((got - expected).abs().max()):.3g})"
            )
        self.runner, self.group = runner, group

    def run_rest(self, info: ISMPlan) -> None:
        """Run the mutants not yet done along ``info.path``."""
        where = f"fast to {', '.join(info.stops)}" if info.path == "fast" else "full"
        self.bar.set_description(f"ISM ({where})")
        for batch in self.batches(info.path, info.batch_size):
            self.run(info.path, batch)

    def scores(self, length: int) -> torch.Tensor:
        """``(N, 4, length)``: each mutant's output minus its sequence's reference."""
        x, (index, seq, base) = self.x, self.edits.unbind(1)
        scores = torch.zeros(x.shape[0], x.shape[1], length, dtype=x.dtype, device=x.device)
        scores[seq, base, index] = self.outputs - self.reference[seq]
        return scores


def _choose(job: _Job, fast: bool | str, batch_size: int | None) -> ISMPlan:
    """The path to take. With ``fast="auto"`` two batches of each path are run (and kept):
    the second of each is timed, and the faster path takes the rest. The full path is
    timed on ``PROBE_BATCH`` mutants: per mutant, a plain forward pass costs about the same
    at any batch size that fills the machine, and full batches are the expensive ones."""
    batch_full = batch_size or FULL_BATCH
    if fast is False:
        return ISMPlan("full", "fast=False", batch_size=batch_full)
    if fast == "auto":
        probes = job.batches("full", min(batch_full, PROBE_BATCH), limit=2)
        seconds_full = ([0.0] + [job.run("full", batch, timed=True) for batch in probes])[-1]
        left = seconds_full * int((~job.done).sum())
        if left < SMALL_JOB_SECONDS:
            reason = f"a small job ({left:.2g} s left in full)"
            return ISMPlan("full", reason, batch_size=batch_full)
    try:
        plan = job.make_plan()
    except TraceFailed as error:
        if fast is True:
            raise _refused(error) from error
        return ISMPlan("full", f"no fast path: {error}", batch_size=batch_full)
    batch_fast = batch_size or fast_batch_size(plan, job.x)
    info = ISMPlan("fast", "fast=True", plan.stops, len(plan.order), None, batch_fast)
    info = replace(info, window_macs=plan.window_macs)
    if fast is True:
        return info
    probes = job.batches("fast", batch_fast, limit=2)
    seconds_fast = ([0.0] + [job.run("fast", batch, timed=True) for batch in probes])[-1]
    path = "fast" if seconds_fast <= seconds_full else "full"
    reason = f"timed: fast {seconds_fast:.3g} s, full {seconds_full:.3g} s per mutant"
    seconds = {"fast": seconds_fast, "full": seconds_full}
    return replace(
        info,
        path=path,
        reason=reason,
        seconds=seconds,
        batch_size=batch_fast if path == "fast" else batch_full,
    )


def _refused(error: Exception) -> ValueError:
    return ValueError(
        f"fast=True, but the model cannot take the fast path: {error}. "
        "Use fast='auto' or fast=False."
    )


def ism(
    model: nn.Module,
    x: torch.Tensor,
    *,
    output: Output = None,
    target: Target = 0,
    start: int | None = None,
    end: int | None = None,
    fast: bool | str = "auto",
    pointwise: tuple[type[nn.Module], ...] | None = None,
    batch_size: int | None = None,
    progress: bool = True,
    return_plan: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, ISMPlan]:
    """In-silico saturation mutagenesis: ``f(x with base b at i) - f(x)`` for every b, i.

    Parameters
    ----------
    model : torch.nn.Module
        On ``x``'s device; put in eval mode for the call (its mode is restored after).
    x : torch.Tensor, shape (N, 4, L)
        One-hot sequences.
    output : int or str, optional
        Which element of a tuple/list (index) or dict (key) the model returns.
    target : int, slice, sequence of int or callable
        What to explain, as for every method (see :mod:`genotutor.targets`): a column of
        the (selected) output, the sum of several, or a callable mapping the selected
        output ``(B, ...)`` to ``(B,)``, e.g. ``lambda p: p[:, 1, 40:80].sum(1)``.
    start, end : int, optional
        Mutate only positions ``start .. end - 1`` (defaults 0 and L); the work is
        proportional to ``end - start``.
    fast : {"auto", True, False}
        ``"auto"``: take the fast path (windows through the whole graph) where it is
        faster; True: always (a ValueError if the model cannot take it); False: plain
        forward passes of every mutant.
    pointwise : tuple of type, optional
        Your own module types that act on each value alone (an activation): the fast
        path keeps its windows through them, as through ``nn.ReLU`` and the other
        activations of ``torch.nn``, without tracing into them.
    batch_size : int, optional
        Mutants per batch (>= 1; None: a default for the path, within bounded memory).
    progress : bool
        Show a tqdm bar over the mutants (its label names the path).
    return_plan : bool
        Also return an :class:`ISMPlan` saying which path was taken and why.

    Returns
    -------
    torch.Tensor, shape (N, 4, end - start)
        Scores of positions ``start .. end - 1`` (column ``i - start`` is position ``i``);
        zero at the observed bases. A column that is not one-hot (an N) gets a score for
        every base.
    ScoresAndPlan
        With ``return_plan=True``: ``(scores, plan)``, the :class:`ISMPlan` saying which
        path was taken and why.

    Raises
    ------
    TypeError
        For an option of the wrong kind (``fast="yes"``, ``start=1.5``, ``pointwise=3``).
    ValueError
        For a bad ``x``, ``start``/``end`` outside ``0 <= start < end <= L``, an
        ``output`` or ``target`` that does not fit the model's output, or ``fast=True``
        on a model that cannot take the fast path (the message says why).

    Examples
    --------
    >>> from genotutor.models import Basset
    >>> from genotutor.sequences import random_sequences
    >>> model = Basset(1000).eval()
    >>> scores, plan = ism(model, random_sequences(2, 1000, seed=0), fast=True,
    ...                    progress=False, return_plan=True)
    >>> scores.shape, plan.path, plan.stops
    (torch.Size([2, 4, 1000]), 'fast', ('head_0',))

    Taught in chapter 2 (``output=`` and callable targets in chapter 12).
    """
    x = check_tensor(x, "x", ndim=3)
    chosen = {"output": output, "target": check_target(target, spec=True)}
    fast = check_fast(fast)
    start, end = check_window(start, end, x.shape[-1])
    pointwise = check_pointwise(pointwise)
    batch_size = None if batch_size is None else check_positive_int(batch_size, "batch_size")
    check_bool(progress, "progress")
    check_bool(return_plan, "return_plan")
    with evaluating(model), torch.no_grad():
        job = _Job(model, x, (start, end), chosen, pointwise, progress)
        try:
            info = _choose(job, fast, batch_size)
            job.run_rest(info)
        except TraceFailed as error:  # the traced graph does not reproduce the model
            if fast is True:
                raise _refused(error) from error
            info = ISMPlan("full", f"no fast path: {error}", batch_size=batch_size or FULL_BATCH)
            job.run_rest(info)
        finally:
            job.bar.close()
        scores = job.scores(end - start)
    return ScoresAndPlan(scores, info) if return_plan else scores
