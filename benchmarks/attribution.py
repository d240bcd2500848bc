"""Benchmark genotutor's ISM and DeepLIFT-SHAP against tangermeme (and captum).

    python benchmarks/attribution.py [--only ism|deeplift_shap] [--repeats 3] [--skip-captum]

ISM runs on three model families, random weights (seed 0) and random sequences:
``genotutor.models.Basset(1000)`` on 64 x 1000 nt, a conv-ReLU-maxpool x2 CNN with a dense
head on 48 x 1000 nt, and a BPNet-shaped dilated residual tower (counts head only, so that
tangermeme gets one output) on 16 x 500 nt. genotutor runs with its defaults
(``fast="auto"``: the planner) and with ``fast=False`` (plain batched forward passes);
tangermeme with its fast path on (``fast=True``, ``batch_size=256``, its "too short to
bother" guess pinned off with ``_FAST_MIN_SECONDS = 0``; it still checks its fast path
against ``fast=False`` on one batch and falls back when that is faster, which is printed).
For each model the script prints the plan genotutor chose and the time its convolutions
alone would take: their multiply-adds over the changed output windows, per mutant
(``ISMPlan.window_macs``), times the mutants, divided by this machine's dense ``conv1d``
throughput (timed on one large convolution).

DeepLIFT-SHAP uses the Basset net and the same 20 dinucleotide-shuffled references per
sequence for every library, tangermeme and captum at large batches.

The runs alternate, ``--repeats`` times each (at least 3 for a median), and the script
prints for each method the median seconds of each, the ratio to genotutor's default, the
largest difference between the results, and peak memory (largest rise of the process's
resident memory during a run, sampled every 5 ms). Timings depend on the machine and on
what else runs on it: the script warns when the load average says the machine is busy.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
import warnings
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from genotutor.attribution import attribute
from genotutor.attribution.ism import ism
from genotutor.models import Basset
from genotutor.sequences import dinucleotide_shuffle, random_sequences

LOAD_AT_START = os.getloadavg()[0]  # before this script's own work raises it


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


def conv_pool_cnn(length: int = 1000) -> nn.Module:
    """Conv-ReLU-maxpool twice (64 filters of widths 19 and 9, pools of 4) and a dense head."""
    return nn.Sequential(
        nn.Conv1d(4, 64, 19, padding=9), nn.ReLU(), nn.MaxPool1d(4),
        nn.Conv1d(64, 64, 9, padding=4), nn.ReLU(), nn.MaxPool1d(4),
        nn.Flatten(), nn.Linear(64 * (length // 16), 64), nn.ReLU(), nn.Linear(64, 1),
    )  # fmt: skip


class ResidualTower(nn.Module):
    """BPNet-shaped: a width-21 stem, 6 residual blocks ``h + relu(conv(h))`` of width-3
    convolutions with dilations 1 ... 32, 64 channels, and the counts head (a linear layer
    on the mean over the length); one output, as tangermeme needs."""

    def __init__(self, channels: int = 64, blocks: int = 6) -> None:
        super().__init__()
        self.stem = nn.Conv1d(4, channels, 21, padding=10)
        self.stem_relu = nn.ReLU()
        self.convs = nn.ModuleList(
            nn.Conv1d(channels, channels, 3, padding=2**i, dilation=2**i) for i in range(blocks)
        )
        self.relus = nn.ModuleList(nn.ReLU() for _ in range(blocks))
        self.counts = nn.Linear(channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem_relu(self.stem(x))
        for conv, relu in zip(self.convs, self.relus, strict=True):
            h = h + relu(conv(h))
        return self.counts(h.mean(dim=2))


def ism_models() -> list[tuple[str, nn.Module, torch.Tensor]]:
    """``(name, model, sequences)`` of the three ISM benchmarks."""
    torch.manual_seed(0)
    return [
        ("Basset(1000), 64 x 1000 nt", Basset(1000).eval(), random_sequences(64, 1000, seed=0)),
        ("conv-ReLU-pool x2 CNN, 48 x 1000 nt", conv_pool_cnn().eval(),
         random_sequences(48, 1000, seed=0)),
        ("dilated residual tower (counts), 16 x 500 nt", ResidualTower().eval(),
         random_sequences(16, 500, seed=0)),
    ]  # fmt: skip


def tangermeme_ism(model, x, notes: list):
    import tangermeme.saturation_mutagenesis as tsm

    tsm._FAST_MIN_SECONDS = 0.0  # always try the fast path (its fastest setting)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y0, y_hat = tsm.saturation_mutagenesis(
            model, x, batch_size=256, fast=True, raw_outputs=True, device="cpu", verbose=False
        )
    notes[:] = [str(w.message).split(". ")[0] for w in caught if "fast=False" in str(w.message)]
    return y_hat[..., 0] - y0[:, None, None, 0]


def conv_throughput() -> float:
    """Multiply-adds per second of one large dense conv1d on this machine (best of 3)."""
    x, weight = torch.randn(64, 64, 1000), torch.randn(64, 64, 9)
    with torch.no_grad():
        F.conv1d(x, weight, padding=4)
        best = min(_seconds(lambda: F.conv1d(x, weight, padding=4)) for _ in range(3))
    return x.shape[0] * x.shape[2] * weight.numel() / best


def _seconds(run: Callable) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def benchmark_ism(repeats: int) -> None:
    """genotutor (default and fast=False) and tangermeme on the three model families."""
    throughput = conv_throughput()
    print(f"dense conv1d throughput: {throughput / 1e9:.1f} G multiply-adds/s\n")
    for name, model, x in ism_models():
        plans, notes = [], []

        def ours(model=model, x=x, plans=plans):
            scores, plan = ism(model, x, progress=False, return_plan=True)
            plans.append(plan)
            return scores

        runs = {
            "genotutor": ours,
            "genotutor fast=False": lambda model=model, x=x: ism(model, x, fast=False,
                                                                 progress=False),
            "tangermeme": lambda model=model, x=x, notes=notes: tangermeme_ism(model, x, notes),
        }  # fmt: skip
        times = compare(f"ISM: {name}", runs, repeats)
        plan = plans[-1]
        print(f"genotutor's plan: {plan.path} ({plan.reason}); windows stop at "
              f"{', '.join(plan.stops) or '-'}; batch size {plan.batch_size}")  # fmt: skip
        if notes:
            print(f"tangermeme: {notes[-1]}")
        _, info = ism(model, x[:1], fast=True, progress=False, return_plan=True)
        mutants = 3 * x.shape[0] * x.shape[2]
        bound = mutants * info.window_macs / throughput
        ours_median = statistics.median(times["genotutor"])
        print(f"convolutions alone: {info.window_macs / 1e6:.2f} M multiply-adds per mutant x "
              f"{mutants} mutants / conv1d throughput = {bound:.2f} s "
              f"(genotutor's default: {ours_median / bound:.1f} x that)\n")  # fmt: skip


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


def compare(name: str, runs: dict[str, Callable[[], torch.Tensor]], repeats: int) -> dict:
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
            print(f"  {name} run {repeat + 1}: {key:<21} {seconds:8.2f} s", flush=True)
    ours = results["genotutor"]
    print(f"\n{name}")
    if LOAD_AT_START > 0.5:
        print(f"WARNING: machine not quiet: timings unreliable (load average {LOAD_AT_START:.2f} "
              "when the script started)")  # fmt: skip
    print(f"{'library':<22}{'median s':>10}{'ratio':>10}{'max |diff|':>13}{'peak MiB':>10}")
    base = statistics.median(times["genotutor"])
    for key in names:
        median = statistics.median(times[key])
        diff = (results[key] - ours).abs().max().item()
        print(
            f"{key:<22}{median:>10.2f}{median / base:>10.2f}{diff:>13.3g}{max(memory[key]):>10.0f}"
        )
    print(f"largest |score| (genotutor): {ours.abs().max().item():.3g}")
    print(f"all times (s): { {k: [round(t, 2) for t in v] for k, v in times.items()} }")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64, help="sequences (DeepLIFT-SHAP)")
    parser.add_argument("--length", type=int, default=1000, help="length (DeepLIFT-SHAP)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--references", type=int, default=20)
    parser.add_argument("--tangermeme-batch", type=int, default=640)
    parser.add_argument("--skip-captum", action="store_true")
    parser.add_argument("--only", choices=("ism", "deeplift_shap"), default=None)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"torch threads: {torch.get_num_threads()}; load average {LOAD_AT_START:.2f}")
    if LOAD_AT_START > 0.5:
        print("WARNING: machine not quiet: timings unreliable")
    if args.only in (None, "ism"):
        benchmark_ism(args.repeats)
    if args.only in (None, "deeplift_shap"):
        torch.manual_seed(0)
        model = Basset(args.length).eval()
        x = random_sequences(args.n, args.length, seed=0)
        print(f"DeepLIFT-SHAP: Basset({args.length}), {args.n} random sequences")
        references = dinucleotide_shuffle(x, n=args.references, seed=0)
        runs = {
            "genotutor": lambda: attribute(
                model, x, "deeplift_shap", references=references, progress=False
            ),
            "tangermeme": lambda: tangermeme_deeplift_shap(
                model, x, references, args.tangermeme_batch
            ),
        }
        if not args.skip_captum:
            runs["captum"] = lambda: captum_deeplift_shap(model, x, references)
        compare("DeepLIFT-SHAP", runs, args.repeats)


if __name__ == "__main__":
    main()
