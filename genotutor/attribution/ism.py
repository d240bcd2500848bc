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
in full (:mod:`genotutor.attribution._ism_plan` says how windows grow and where they stop).

``fast="auto"`` takes the fast path only where it is faster than plain forward passes of
the mutants. It runs two small batches (``PROBE_BATCH`` mutants) in full and times the
second (the first pays for one-time set-up); a job that would then end
within ``SMALL_JOB_SECONDS`` stays in full (planning would cost more than it saves).
Otherwise it plans the fast path, and unless the estimated work per mutant already says
the fast path is slower, runs two fast batches, times the second, and gives the rest to
the faster path. Every batch run to decide is part of the result, and both paths are
exact, so the choice changes the time only.

Taught in chapter 2.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from genotutor.attribution._common import check_fast
from genotutor.attribution._ism_cost import FAST_BATCH, fast_batch_size, group_size
from genotutor.attribution._ism_plan import Plan, make_plan
from genotutor.attribution._ism_run import FastRunner
from genotutor.attribution._ism_trace import EXAMPLE_BATCH, TraceFailed, trace
from genotutor.progress import progress_bar
from genotutor.validation import check_bool, check_positive_int, check_tensor

SMALL_JOB_SECONDS = 0.5  # "auto" runs a job this short in full, without planning
CLEARLY_FULL = 1.25  # "auto" times no fast batch when the estimated cost is this much higher
FULL_BATCH = 256  # default batch size of plain forward passes
PROBE_BATCH = 32  # mutants per batch that "auto" times in full: a full batch is expensive


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
    cost_fast, cost_full : float or None
        Estimated work per mutant of each path (multiply-adds and values moved).
    seconds : dict or None
        Seconds per mutant of each path on one batch, when the estimate was too close.
    batch_size : int
        Mutants per batch.
    window_macs : float or None
        Multiply-adds per mutant of the convolutions over their changed windows alone:
        what no exact method can avoid (a lower bound on the work).
    """

    path: str
    reason: str
    stops: tuple[str, ...] = ()
    windowed: int = 0
    cost_fast: float | None = None
    cost_full: float | None = None
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


def _default_select(target: int) -> Callable:
    def select(raw):
        if not isinstance(raw, torch.Tensor) or raw.ndim != 2:
            found = tuple(raw.shape) if isinstance(raw, torch.Tensor) else type(raw).__name__
            raise ValueError(
                f"the model returns {found}, not an (N, T) tensor: pass select= to say what "
                "to explain (a callable from the model's output to an (N,) tensor)"
            )
        return raw[:, target]

    return select


def _checked(select: Callable, raw, n: int) -> torch.Tensor:
    value = select(raw)
    if not isinstance(value, torch.Tensor) or tuple(value.shape) != (n,):
        found = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise ValueError(f"select must return a tensor of shape ({n},) for {n} sequences; "
                         f"found {found}")  # fmt: skip
    return value


def _edits(x: torch.Tensor, start: int, end: int) -> torch.Tensor:
    """``(E, 3)`` rows ``(position index, sequence, base)``, sorted by position."""
    changes = x[:, :, start:end] != 1.0
    return torch.nonzero(changes.permute(2, 0, 1))


def _mutants(x, seq, base, pos) -> torch.Tensor:
    mutants = x[seq].clone()
    rows = torch.arange(len(seq), device=x.device)
    mutants[rows, :, pos] = 0.0
    mutants[rows, base, pos] = 1.0
    return mutants


@dataclass
class _Batch:
    """Mutants run together: all of one group of sequences, sorted by position (the fast
    path: by the layout of their reads, then by position)."""

    group: slice
    rows: np.ndarray  # indices into the job's edits
    edits: torch.Tensor  # (B, 3): position index, sequence within the group, base
    index: np.ndarray  # (B,) position indices, on the CPU


def _batches(
    edits: np.ndarray, device, groups, batch: int, done: np.ndarray, limit: int | None = None,
    order: np.ndarray | None = None,
) -> list[_Batch]:  # fmt: skip
    """The edits not ``done``, in batches of ``batch`` within a group (the first ``limit``),
    taken in the ``order`` given (a permutation of the edits; default: as they are)."""
    found = []
    order = np.arange(len(edits)) if order is None else order
    for group in groups:
        inside = (edits[:, 1] >= group.start) & (edits[:, 1] < group.stop) & ~done
        rows = order[inside[order]]
        for i in range(0, len(rows), batch):
            chosen = rows[i : i + batch]
            local = edits[chosen] - np.array([0, group.start, 0])
            found.append(_Batch(group, chosen, torch.as_tensor(local, device=device),
                                local[:, 0]))  # fmt: skip
            if limit is not None and len(found) == limit:
                return found
    return found


class _Job:
    """One ISM job: the sequences, the mutants, and how to run a batch of them."""

    def __init__(self, model, x, select, start, end, reference, bar) -> None:
        self.model, self.x, self.select, self.bar = model, x, select, bar
        self.start, self.end, self.reference = start, end, reference
        self.plan: Plan | None = None
        self.fast_order: np.ndarray | None = None
        self.runner: FastRunner | None = None
        self.group: slice | None = None

    def make_plan(self, batch_full: int, edits: np.ndarray) -> Plan:
        """Plan the fast path, and the order of its mutants: by the layout of their reads,
        then by position (:meth:`Plan.layout_keys`)."""
        example = self.x[:1].expand(EXAMPLE_BATCH, -1, -1).clone()
        self.plan = make_plan(trace(self.model, example), self.start, self.end,
                              FAST_BATCH[1], batch_full)  # fmt: skip
        index = edits[:, 0]
        self.fast_order = np.lexsort((index, self.plan.layout_keys()[index]))
        return self.plan

    def batches(self, path: str, edits: np.ndarray, batch: int, done: np.ndarray,
                limit: int | None = None) -> list[_Batch]:  # fmt: skip
        """The batches of ``path`` still to run (the fast path's in its own order)."""
        order = self.fast_order if path == "fast" else None
        return _batches(edits, self.x.device, self.groups(path), batch, done, limit, order)

    def groups(self, path: str) -> list[slice]:
        n = len(self.x)
        size = n if path == "full" else group_size(self.plan, self.x)
        return [slice(i, min(i + size, n)) for i in range(0, n, size)]

    def enter(self, group: slice) -> None:
        """Cache the fast path's references for the sequences of ``group``."""
        if self.group == group:
            return
        self.runner, self.group = None, None
        runner = FastRunner(self.plan, self.x[group])
        got = _checked(self.select, runner.reference_output, group.stop - group.start)
        expected = self.reference[group]
        scale = float(expected.abs().max())
        if not torch.allclose(got, expected, rtol=1e-4, atol=1e-5 + 1e-4 * scale):
            raise TraceFailed(
                "the traced graph does not reproduce the model's output "
                f"(largest difference {float((got - expected).abs().max()):.3g})"
            )
        self.runner, self.group = runner, group

    def run(self, path: str, batch: _Batch) -> torch.Tensor:
        """The selected outputs for the mutants of ``batch`` (and a step of the bar)."""
        self.bar.update(len(batch.rows))
        index, seq, base = batch.edits.unbind(1)
        if path == "full":
            x = self.x[batch.group]
            return _checked(self.select, self.model(_mutants(x, seq, base, index + self.start)),
                            len(seq))  # fmt: skip
        self.enter(batch.group)
        return self.runner.outputs(seq, base, index, batch.index,
                                   lambda raw: _checked(self.select, raw, len(seq)))  # fmt: skip


def _timed_run(job: _Job, path: str, batch: _Batch, outputs, done) -> float:
    """Run ``batch`` along ``path`` into ``outputs``; the seconds per mutant it took."""
    sync = torch.cuda.synchronize if job.x.is_cuda else (lambda: None)
    sync()
    begin = time.perf_counter()
    outputs[torch.as_tensor(batch.rows, device=outputs.device)] = job.run(path, batch)
    sync()
    done[batch.rows] = True
    return (time.perf_counter() - begin) / len(batch.rows)


def _choose(job: _Job, fast, table: np.ndarray, outputs, done, batch_size) -> ISMPlan:
    """The path to take. With ``fast="auto"`` two batches of each path are run (and kept):
    the second of each is timed, and the faster path takes the rest. The full path is
    timed on ``PROBE_BATCH`` mutants: per mutant, a plain forward pass costs about the same
    at any batch size that fills the machine, and full batches are the expensive ones."""
    batch_full = batch_size or FULL_BATCH
    if fast is False:
        return ISMPlan("full", "fast=False", batch_size=batch_full)
    if fast == "auto":
        probe = min(batch_full, PROBE_BATCH)
        first = job.batches("full", table, probe, done, limit=2)
        seconds_full = [_timed_run(job, "full", batch, outputs, done) for batch in first][-1]
        left = seconds_full * int((~done).sum())
        if left < SMALL_JOB_SECONDS:
            return ISMPlan(
                "full", f"a small job ({left:.2g} s left in full)", batch_size=batch_full
            )
    try:
        plan = job.make_plan(batch_full, table)
    except TraceFailed as error:
        if fast is True:
            raise _refused(error) from error
        return ISMPlan("full", f"no fast path: {error}", batch_size=batch_full)
    batch_fast = batch_size or fast_batch_size(plan, job.x)
    info = ISMPlan("fast", "fast=True", plan.stops, len(plan.order), plan.cost_fast,
                   plan.cost_full, batch_size=batch_fast, window_macs=plan.window_macs)  # fmt: skip
    if fast is True:
        return info
    estimate = f"estimated cost per mutant, fast / full: {plan.cost_fast / plan.cost_full:.2f}"
    if plan.cost_fast > CLEARLY_FULL * plan.cost_full:
        return replace(info, path="full", reason=estimate, batch_size=batch_full)
    first = job.batches("fast", table, batch_fast, done, limit=2)
    seconds = [_timed_run(job, "fast", batch, outputs, done) for batch in first]
    seconds_fast = seconds[-1] if seconds else 0.0  # the first also builds the references
    path = "fast" if seconds_fast <= seconds_full else "full"
    return replace(info, path=path, seconds={"fast": seconds_fast, "full": seconds_full},
                   reason=f"{estimate}; timed: fast {seconds_fast:.3g} s, full "
                   f"{seconds_full:.3g} s per mutant",
                   batch_size=batch_fast if path == "fast" else batch_full)  # fmt: skip


def _refused(error: Exception) -> ValueError:
    return ValueError(f"fast=True, but the model cannot take the fast path: {error}. "
                      "Use fast='auto' or fast=False.")  # fmt: skip


def _run_rest(job: _Job, info: ISMPlan, table, outputs, done) -> None:
    """Run the edits not yet done along ``info.path``."""
    where = f"fast to {', '.join(info.stops)}" if info.path == "fast" else "full"
    job.bar.set_description(f"ISM ({where})")
    for batch in job.batches(info.path, table, info.batch_size, done):
        outputs[torch.as_tensor(batch.rows, device=outputs.device)] = job.run(info.path, batch)
        done[batch.rows] = True


def _reference(model: nn.Module, x: torch.Tensor, select: Callable) -> torch.Tensor:
    """``select`` of the model's output for the sequences themselves, in batches."""
    parts = [x[i : i + FULL_BATCH] for i in range(0, len(x), FULL_BATCH)]
    return torch.cat([_checked(select, model(part), len(part)) for part in parts])


def ism(
    model: nn.Module,
    x: torch.Tensor,
    target: int = 0,
    *,
    select: Callable | None = None,
    start: int | None = None,
    end: int | None = None,
    fast: bool | str = "auto",
    batch_size: int | None = None,
    progress: bool = True,
    return_plan: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, ISMPlan]:
    """In-silico saturation mutagenesis: ``f(x with base b at i) - f(x)`` for every b, i.

    Parameters
    ----------
    model : torch.nn.Module
        In eval mode (``attribute`` takes care of it), on ``x``'s device.
    x : torch.Tensor, shape (N, 4, L)
        One-hot sequences.
    target : int
        The output column to explain, ``raw[:, target]`` (ignored when ``select`` is given).
    select : callable, optional
        Maps the model's raw output for ``B`` sequences (a tensor, tuple or dict) to the
        ``(B,)`` tensor to explain, e.g. ``lambda raw: raw[1].sum(dim=(1, 2))`` for the sum
        of a profile head returned second.
    start, end : int, optional
        Mutate only positions ``start .. end - 1`` (defaults 0 and L); the work is
        proportional to ``end - start``.
    fast : {"auto", True, False}
        ``"auto"``: take the fast path (windows through the whole graph) where it is
        cheaper; True: always (a ValueError if the model cannot take it); False: plain
        forward passes of every mutant.
    batch_size : int, optional
        Mutants per batch (>= 1; None: a default for the path, within bounded memory).
    progress : bool
        Show a tqdm bar over the batches (its label names the path).
    return_plan : bool
        Also return an :class:`ISMPlan` saying which path was taken and why.

    Returns
    -------
    torch.Tensor, shape (N, 4, end - start)
        Scores of positions ``start .. end - 1`` (column ``i - start`` is position ``i``);
        zero at the observed bases. A column that is not one-hot (an N) gets a score for
        every base.
    ISMPlan
        With ``return_plan=True``.

    Raises
    ------
    TypeError
        For an option of the wrong kind (``fast="yes"``, ``start=1.5``).
    ValueError
        For a bad ``x``, ``start``/``end`` outside ``0 <= start < end <= L``, a model
        output that ``select`` (or ``target``) cannot explain, or ``fast=True`` on a model
        that cannot take the fast path (the message says why).

    Examples
    --------
    >>> from genotutor.models import Basset
    >>> from genotutor.sequences import random_sequences
    >>> model = Basset(1000).eval()
    >>> scores, plan = ism(model, random_sequences(2, 1000, seed=0), fast=True,
    ...                    progress=False, return_plan=True)
    >>> scores.shape, plan.path, plan.stops
    (torch.Size([2, 4, 1000]), 'fast', ('head_0',))

    Taught in chapter 2.
    """
    x = check_tensor(x, "x", ndim=3)
    fast = check_fast(fast)
    start, end = check_window(start, end, x.shape[-1])
    batch_size = None if batch_size is None else check_positive_int(batch_size, "batch_size")
    check_bool(progress, "progress")
    check_bool(return_plan, "return_plan")
    if select is None:
        select = _default_select(check_positive_int(target, "target", minimum=0))
    with torch.no_grad():
        reference = _reference(model, x, select)
        edits = _edits(x, start, end)
        bar = progress_bar(None, desc="ISM", progress=progress, total=len(edits))
        job = _Job(model, x, select, start, end, reference, bar)
        table = edits.cpu().numpy()
        outputs = torch.empty(len(edits), dtype=x.dtype, device=x.device)
        done = np.zeros(len(edits), dtype=bool)
        try:
            info = _choose(job, fast, table, outputs, done, batch_size)
            _run_rest(job, info, table, outputs, done)
        except TraceFailed as error:  # the traced graph does not reproduce the model
            if fast is True:
                raise _refused(error) from error
            info = ISMPlan("full", f"no fast path: {error}", batch_size=batch_size or FULL_BATCH)
            _run_rest(job, info, table, outputs, done)
        finally:
            job.bar.close()
        scores = torch.zeros(x.shape[0], x.shape[1], end - start, dtype=x.dtype, device=x.device)
        index, seq, base = edits.unbind(1)
        scores[seq, base, index] = outputs - reference[seq]
    return (scores, info) if return_plan else scores
