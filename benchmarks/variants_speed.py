"""What SpliceAI's delta scores cost on CPU: ``genotutor.variants.spliceai_delta`` for the
HBB variants of chapter 11, against the same scores computed as SpliceAI's own code does
(one reference and one alternative window of 10,101 nt per variant, no batching).

    python benchmarks/variants_speed.py [--threads 2] [--repeat 3] [--n 10]

Scores the first ``n`` of chapter 11's clinical variants and controls with all five models,
``repeat`` times alternating the two ways, and prints the median wall seconds of each and the
largest difference between their delta scores. Needs the ``spliceai`` package
(``pip install --no-deps spliceai h5py``). The issue's budget: 10 variants within 60 s on
2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd
import torch

from genotutor.sequences import one_hot
from genotutor.spliceai import load_spliceai
from genotutor.studies import hbb_variants
from genotutor.studies.spliceai_hbb import hbb_gene
from genotutor.variants import DELTA_COLUMNS, SpliceTracks, delta_scores, spliceai_delta


def per_variant(model, gene: str, table: pd.DataFrame, distance: int = 50) -> pd.DataFrame:
    """SpliceAI's way, for substitutions: a reference and an alternative window per variant."""
    half = model.context // 2 + distance
    padded = "N" * half + gene + "N" * half
    reference, alternative = [], []
    with torch.inference_mode():
        for position, alt in zip(table["position"], table["alt"]):
            window = padded[position : position + 2 * half + 1]
            edited = window[:half] + alt + window[half + 1 :]
            reference.append(model(one_hot(window, unknown="zeros"))[0].numpy())
            alternative.append(model(one_hot(edited, unknown="zeros"))[0].numpy())
    return delta_scores(SpliceTracks(table, np.stack(reference), np.stack(alternative), distance))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--n", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = load_spliceai()
    gene = hbb_gene()
    variants = pd.concat(
        [hbb_variants.clinical_variants(), hbb_variants.control_variants()], ignore_index=True
    )[["name", "position", "ref", "alt"]].head(args.n)
    times: dict[str, list[float]] = {"spliceai_delta": [], "one window pair per variant": []}
    results = {}
    for _ in range(args.repeat):
        for name in times:
            start = time.perf_counter()
            if name == "spliceai_delta":
                results[name] = spliceai_delta(model, gene, variants, progress=False)
            else:
                results[name] = per_variant(model, gene, variants)
            times[name].append(time.perf_counter() - start)
    columns = list(DELTA_COLUMNS)
    difference = np.abs(
        results["spliceai_delta"][columns].to_numpy()
        - results["one window pair per variant"][columns].to_numpy()
    ).max()
    print(f"{len(variants)} HBB variants, 5 models, {args.threads} threads, "
          f"median of {args.repeat} alternating runs:")  # fmt: skip
    for name, values in times.items():
        print(f"  {name:28s} {statistics.median(values):6.2f} s  (runs: "
              f"{', '.join(f'{v:.2f}' for v in values)})")  # fmt: skip
    print(f"  largest difference between the two ways' delta scores: {difference:.1e}")


if __name__ == "__main__":
    main()
