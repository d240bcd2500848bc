"""What each optimisation of genotutor's fast ISM path gains: each left out in turn.

    python benchmarks/ism_ablation.py [--repeats 3]

On the three models of ``benchmarks/attribution.py`` (same sequences, ``fast=True``, so
that only the fast path is timed), the fast path runs as shipped and with one optimisation
left out, by replacing the piece that makes it with the plain version:

- ``deltas``: a linear layer or a mean over the length runs in full on the written-back
  activations instead of taking the change of its input's window;
- ``in-place``: activations and residual sums write new tensors;
- ``shared reads``: a read inside an earlier read of the same input is gathered again;
- ``2-D convolutions``: convolutions run as ``conv1d`` on their (channels-last) reads;
- ``block pooling``: pooling always runs ``max_pool1d`` / ``avg_pool1d``;
- ``block reads``: reference rows are gathered one position at a time, and mutants are
  batched by position alone, so that the windows of a batch lie at different offsets in
  their reads and are written row by row.

The configurations alternate, ``--repeats`` times each, and the script prints the median
seconds of each and its ratio to the shipped fast path (above 1: the optimisation gains),
after checking that every configuration gives the shipped scores (to 1e-6). Measure on a
quiet machine: the script warns when the load average says it is busy.

Taught in chapter 2 (the fast ISM path), as the source of the gains that
:mod:`genotutor.attribution.ism` quotes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from attribution import ism_models

from genotutor.attribution import _ism_graph, _ism_plan, _ism_run
from genotutor.attribution.ism import ism


def _conv1d_window(b: dict) -> dict | None:
    found = ORIGINAL["conv_window"](b)
    if found is None:
        return None
    weight, bias = b["weight"], b["bias"]
    stride, dilation = found["stride"], found["span"] // max(weight.shape[-1] - 1, 1) or 1

    def apply(read: torch.Tensor) -> torch.Tensor:
        return F.conv1d(read, weight, bias, stride, 0, dilation, b["groups"])

    return {**found, "apply": apply}


def _plain_pool_window(is_max: bool, b: dict, length_in: int, length: int) -> dict | None:
    found = ORIGINAL["pool_window"](is_max, b, length_in, length)
    if found is None:
        return None
    kernel = _ism_graph._unwrap_1d(b["kernel_size"])
    stride, dilation = found["stride"], found["span"] // max(kernel - 1, 1) or 1

    def apply(read: torch.Tensor) -> torch.Tensor:
        if is_max:
            return F.max_pool1d(read, kernel, stride, 0, dilation)
        return F.avg_pool1d(read, kernel, stride, 0)

    return {**found, "apply": apply}


def _row_gather(self, key: tuple, begin: torch.Tensor, width: int, spare: int = 0):
    table = self.tables[key]
    rows = (begin[:, None] + torch.arange(width, device=begin.device)).reshape(-1)
    gathered = table.index_select(0, rows)
    if spare:
        gathered = torch.cat([gathered, table.new_empty(spare, table.shape[1])])
    return gathered


def _no_layout(self) -> np.ndarray:
    return np.zeros(len(self.positions), dtype=np.int64)


ORIGINAL = {"conv_window": _ism_graph.conv_window, "pool_window": _ism_graph.pool_window}
LEFT_OUT = {
    "deltas": [(_ism_plan, "find_deltas", lambda *args: {})],
    "in-place": [(_ism_plan, "_inplace", lambda *args: {})],
    "shared reads": [(_ism_plan, "_share_reads", lambda *args: None)],
    "2-D convolutions": [(_ism_graph, "conv_window", _conv1d_window)],
    "block pooling": [(_ism_graph, "pool_window", _plain_pool_window)],
    "block reads": [
        (_ism_run.FastRunner, "_gather", _row_gather),
        (_ism_plan.Plan, "layout_keys", _no_layout),
    ],
}


@contextlib.contextmanager
def left_out(name: str | None):
    """The fast path with the optimisation ``name`` replaced by its plain version."""
    saved = [(owner, attr, getattr(owner, attr)) for owner, attr, _ in LEFT_OUT.get(name, [])]
    try:
        for owner, attr, value in LEFT_OUT.get(name, []):
            setattr(owner, attr, value)
        yield
    finally:
        for owner, attr, value in saved:
            setattr(owner, attr, value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=None, help="optimisations to leave out")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    load = os.getloadavg()[0]
    print(f"torch threads: {torch.get_num_threads()}; load average {load:.2f}")
    if load > 0.5:
        print("WARNING: machine not quiet: timings unreliable")
    configurations = [None, *(args.only or LEFT_OUT)]
    for name, model, x in ism_models():
        times = {c: [] for c in configurations}
        shipped = ism(model, x, fast=True, progress=False)
        for repeat in range(args.repeats):
            order = configurations if repeat % 2 == 0 else configurations[::-1]
            for configuration in order:
                with left_out(configuration):
                    start = time.perf_counter()
                    scores = ism(model, x, fast=True, progress=False)
                    times[configuration].append(time.perf_counter() - start)
                difference = float((scores - shipped).abs().max())
                if difference > 1e-6:
                    raise AssertionError(f"{configuration}: scores differ by {difference:.3g}")
        base = statistics.median(times[None])
        print(f"\n{name}: shipped fast path {base:.2f} s (median of {args.repeats})")
        for configuration in configurations[1:]:
            median = statistics.median(times[configuration])
            print(f"  without {configuration:<18} {median:6.2f} s  {median / base:5.2f} x")


if __name__ == "__main__":
    main()
