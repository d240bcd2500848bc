"""Benchmark genotutor's ISM and DeepLIFT-SHAP against tangermeme (and captum).

    python benchmarks/attribution.py [--n 64] [--length 1000] [--repeats 3] [--skip-captum]

Same Basset-style CNN (``genotutor.models.Basset``, random weights, seed 0), the same
random sequences and, for DeepLIFT-SHAP, the same 20 dinucleotide-shuffled references per
sequence for every library. tangermeme runs at its fastest settings: ``fast=True`` with
``batch_size=256`` for ``saturation_mutagenesis`` (its fast path switches itself off for
jobs it guesses are short, so the guess is pinned off here), and large batches for
``deep_lift_shap``. The libraries alternate, ``--repeats`` times each, and the script
prints for each method the median seconds of each, the ratio, the largest difference
between the results, and peak memory (largest rise of the process's resident memory
during a run, sampled every 5 ms). Timings depend on the machine and on what else runs
on it.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import warnings
from collections.abc import Callable

import torch

from genotutor.attribution import attribute
from genotutor.models import Basset
from genotutor.sequences import dinucleotide_shuffle, random_sequences


def _rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * 4096


def measure(run: Callable[[], torch.Tensor]) -> tuple[float, float, torch.Tensor]:
    """Seconds, peak rise of resident memory (MiB) and result of one call."""
    start_rss, peak, done = _rss(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss() - start_rss)
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    return seconds, peak[0] / 2**20, result


def tangermeme_ism(model, x):
    import tangermeme.saturation_mutagenesis as tsm

    tsm._FAST_MIN_SECONDS = 0.0  # always take the fast path (fastest setting)
    y0, y_hat = tsm.saturation_mutagenesis(
        model, x, batch_size=256, fast=True, raw_outputs=True, device="cpu"
    )
    return y_hat[..., 0] - y0[:, None, None, 0]


def tangermeme_deeplift_shap(model, x, references, batch_size):
    from tangermeme.deep_lift_shap import deep_lift_shap

    return deep_lift_shap(
        model, x, references=references, batch_size=batch_size, device="cpu", warning_threshold=1e9
    )


def captum_deeplift_shap(model, x, references):
    from captum.attr import DeepLiftShap

    explainer = DeepLiftShap(model)
    parts = []
    for i in range(len(x)):  # captum shares one set of baselines across a batch
        scores = explainer.attribute(x[i : i + 1], baselines=references[i], target=0).detach()
        # (x - r) * m sits on two bases where x and r differ: sum it onto the observed base
        parts.append(x[i : i + 1] * scores.sum(dim=1, keepdim=True))
    return torch.cat(parts)


def compare(name: str, runs: dict[str, Callable[[], torch.Tensor]], repeats: int) -> None:
    """Alternate the runs ``repeats`` times and print medians, ratios and differences."""
    names = list(runs)
    times = {key: [] for key in names}
    memory = {key: [] for key in names}
    results = {}
    for repeat in range(repeats):
        order = names if repeat % 2 == 0 else names[::-1]
        for key in order:
            seconds, peak, result = measure(runs[key])
            times[key].append(seconds)
            memory[key].append(peak)
            results[key] = result
            print(f"  {name} run {repeat + 1}: {key:<11} {seconds:8.2f} s", flush=True)
    ours = results["genotutor"]
    print(f"\n{name}")
    print(f"{'library':<12}{'median s':>10}{'ratio':>10}{'max |diff|':>13}{'peak MiB':>10}")
    base = statistics.median(times["genotutor"])
    for key in names:
        median = statistics.median(times[key])
        diff = (results[key] - ours).abs().max().item()
        print(
            f"{key:<12}{median:>10.2f}{median / base:>10.2f}{diff:>13.3g}{max(memory[key]):>10.0f}"
        )
    print(f"largest |score| (genotutor): {ours.abs().max().item():.3g}")
    print(f"all times (s): { {k: [round(t, 2) for t in v] for k, v in times.items()} }\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--references", type=int, default=20)
    parser.add_argument("--tangermeme-batch", type=int, default=640)
    parser.add_argument("--skip-captum", action="store_true")
    parser.add_argument("--only", choices=("ism", "deeplift_shap"), default=None)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    torch.manual_seed(0)
    model = Basset(args.length).eval()
    x = random_sequences(args.n, args.length, seed=0)
    print(f"Basset({args.length}), {args.n} random sequences, torch threads: "
          f"{torch.get_num_threads()}")  # fmt: skip
    if args.only in (None, "ism"):
        runs = {
            "genotutor": lambda: attribute(model, x, "ism"),
            "tangermeme": lambda: tangermeme_ism(model, x),
        }
        compare("ISM", runs, args.repeats)
    if args.only in (None, "deeplift_shap"):
        references = dinucleotide_shuffle(x, n=args.references, seed=0)
        runs = {
            "genotutor": lambda: attribute(model, x, "deeplift_shap", references=references),
            "tangermeme": lambda: tangermeme_deeplift_shap(
                model, x, references, args.tangermeme_batch
            ),
        }
        if not args.skip_captum:
            runs["captum"] = lambda: captum_deeplift_shap(model, x, references)
        compare("DeepLIFT-SHAP", runs, args.repeats)


if __name__ == "__main__":
    main()
