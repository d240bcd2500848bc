"""How often random matrices get a 'significant' TOMTOM match in JASPAR 2024 vertebrates.

    python benchmarks/tomtom_null.py [--queries 40] [--seed 1]

Random (4, w) probability matrices (w from 8 to 19) are drawn column by column from a
Dirichlet distribution: concentration 0.3 gives informative random motifs (a random
consensus), 1 intermediate ones, 2 near-uniform columns. For each, the share of queries
whose best match has q < 0.05 is printed with memelite's p values as they come (the best
alignment, uncorrected) and with genotutor's correction for the alignments tried
(``match_motifs``). A calibrated test would give about 5 % or less for every row.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from memelite import tomtom

from genotutor.motif_search import _benjamini_hochberg, _jaspar_vertebrates, _offset_corrected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    targets = _jaspar_vertebrates()
    widths = np.array([t[2].shape[1] for t in targets])
    rng = np.random.default_rng(args.seed)
    rows = []
    for concentration in (0.3, 1.0, 2.0):
        queries = [rng.dirichlet(np.full(4, concentration), size=w).T
                   for w in rng.integers(8, 20, args.queries)]  # fmt: skip
        p = tomtom(queries, [t[2] for t in targets], n_jobs=1)[0]
        raw = [_benjamini_hochberg(row).min() < 0.05 for row in p]
        corrected = [
            _benjamini_hochberg(_offset_corrected(row, q.shape[1], widths)).min() < 0.05
            for row, q in zip(p, queries)
        ]
        rows.append({"Dirichlet concentration": concentration, "queries": args.queries,
                     "significant, uncorrected": np.mean(raw),
                     "significant, corrected": np.mean(corrected)})  # fmt: skip
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
