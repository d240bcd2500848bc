"""What SpliceAI costs on CPU, and how exact the cheaper ways of running it are.

    python benchmarks/spliceai_speed.py [--threads 2] [--n 4] [--batch-size 4]

The use case is chapter 10's: an exon in a fixed context, scored at its acceptor and donor
only. Each sequence is 10,000 nt of context plus a 120-nt region (a 70-nt exon with 25 nt
of flank each side); the two needed outputs are the exon's first and last base. Three ways:

- ``full``: zero-padded ("same") convolutions on all 10,120 positions, then a crop to the
  120 outputs: the Keras model's own computation.
- ``valid``: unpadded convolutions; each layer computes only positions that reach one of
  the 120 outputs (``SpliceAI(padding="valid")``, the default).
- ``sites``: :func:`genotutor.spliceai.predict_sites` at the 2 needed positions: the input
  is cut to the 10,072-nt window they need, then run as ``valid``.
- ``context``: :class:`genotutor.spliceai.context.ContextSpliceAI`: the context's
  activations are computed once (the "setup" row, paid once per context), then each unit
  runs only where the insert changes something that reaches the 2 outputs.

All sequences share one random context and differ in the 120-nt region (random inserts).

Prints seconds per sequence for one model and for the five-model ensemble, and the largest
absolute difference of each shortcut's probabilities from ``full`` at the two sites.
Needs the ``spliceai`` package (``pip install --no-deps spliceai h5py``).
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
import torch

from genotutor.sequences import random_sequences
from genotutor.spliceai import load_spliceai, predict_sites
from genotutor.spliceai.context import ContextSpliceAI

REGION, EXON, FLANK_NT = 120, 70, 25


def timed(function, *args, **kwargs) -> tuple[torch.Tensor, tuple[float, float]]:
    """Run ``function`` once; return its result and (wall, CPU) seconds it took.

    CPU seconds (all threads of this process) are less sensitive than wall time to other
    programs sharing the machine; on an idle machine wall ~ CPU / threads.
    """
    start, cpu = time.perf_counter(), time.process_time()
    with torch.inference_mode():
        result = function(*args, **kwargs)
    return result, (time.perf_counter() - start, time.process_time() - cpu)


def total(batches: list[tuple]) -> tuple[float, float]:
    """Sum the (wall, CPU) seconds of several ``timed`` calls."""
    return tuple(sum(b[1][k] for b in batches) for k in range(2))


def measure(model, x: torch.Tensor, sites: list[int], batch_size: int) -> dict[str, tuple]:
    """Probabilities at ``sites`` and seconds per sequence for the three ways."""
    offset = model.context // 2
    results = {}
    for padding in ("same", "valid"):
        model.padding = padding
        batches = [timed(model, x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
        probs = torch.cat([b[0] for b in batches])[..., [s - offset for s in sites]]
        results["full" if padding == "same" else "valid"] = (probs, total(batches))
    model.padding = "valid"
    probs, seconds = timed(predict_sites, model, x, sites, batch_size=batch_size, progress=False)
    results["sites"] = (probs, seconds)
    region = (offset, offset + REGION)
    scorer, setup = timed(ContextSpliceAI, model, x[0], region, sites)
    results["context setup (s, once)"] = (None, (setup[0] * len(x), setup[1] * len(x)))
    inserts = x[..., region[0] : region[1]]
    batches = [timed(scorer, inserts[i : i + batch_size]) for i in range(0, len(x), batch_size)]
    results["context"] = (torch.cat([b[0] for b in batches]), total(batches))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n", type=int, default=4, help="sequences")
    parser.add_argument("--batch-size", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    ensemble = load_spliceai()
    x = random_sequences(1, ensemble.context + REGION, seed=0).repeat(args.n, 1, 1)
    offset = ensemble.context // 2
    x[..., offset : offset + REGION] = random_sequences(args.n, REGION, seed=1)
    first = ensemble.context // 2 + FLANK_NT  # the exon's first base: the acceptor
    sites = [first, first + EXON - 1]  # ... and its last: the donor

    rows = []
    for name, model in (("one model", ensemble.members[0]), ("ensemble of 5", ensemble)):
        results = measure(model, x, sites, args.batch_size)
        reference = results["full"][0]
        for way, (probs, seconds) in results.items():
            rows.append(
                {
                    "model": name,
                    "way": way,
                    "wall s per sequence": seconds[0] / args.n,
                    "CPU s per sequence": seconds[1] / args.n,
                    "max |diff| vs full": (
                        float("nan") if probs is None else float((probs - reference).abs().max())
                    ),
                }
            )
    table = pd.DataFrame(rows)
    print(
        f"torch {torch.__version__}, {args.threads} threads, {args.n} sequences of "
        f"{x.shape[-1]} nt, batch size {args.batch_size}"
    )
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()
