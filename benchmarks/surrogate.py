"""Fit time and held-out R^2 of genotutor's additive-GE surrogate, next to squid-nn's own.

    python benchmarks/surrogate.py [--n 20000] [--width 100] [--threads 2] [--no-squid]

The library: ``n`` random mutants (rate 0.1, SQUID's default) of a ``width``-nt window
around a planted motif in a test sequence of the chapter-1 CNN, labelled with the CNN's
logit. Every method is fitted on the same 80 % and scored on the same held-out 20 %
(R^2 = squared Pearson correlation, MAVE-NN's convention).

squid-nn (0.4.9) installs without TensorFlow, but then only its scikit-learn surrogates
run (``SurrogateRidgeCV``, ``SurrogateLasso``, ``SurrogateLIME``); its ``SurrogateLinear``
needs Keras and its ``SurrogateMAVENN`` (the GE model) needs MAVE-NN, whose wheel
requires TensorFlow. Those are reported as not run. Install squid-nn with
``pip install --no-deps squid-nn`` (its dependencies are genotutor's already).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch

from genotutor.studies.planted import planted_task_model
from genotutor.surrogate import fit_surrogate, mutagenesis_library
from genotutor.training import predict


def locus(width: int) -> tuple[torch.Tensor, tuple[int, int], str]:
    """A test sequence of the chapter-1 model and a window centred on its first driver."""
    planted = planted_task_model(progress=False)
    sites = planted.test.sites[planted.test.sites["role"] == "driver"]
    row = sites.iloc[0]
    length = planted.test.x.shape[-1]
    centre = (int(row.start) + int(row.end)) // 2
    start = min(max(0, centre - width // 2), length - width)
    return planted.test.x[int(row.sequence)], (start, start + width), row.motif


def r2(prediction: np.ndarray, truth: np.ndarray) -> float:
    return float(np.corrcoef(np.ravel(prediction), np.ravel(truth))[0, 1] ** 2)


def run_genotutor(library, y, window, train, held_out) -> dict:
    start = time.perf_counter()
    surrogate = fit_surrogate(
        library[..., window[0] : window[1]], y, gpmap="additive", nonlinearity="ge", progress=False
    )
    seconds = time.perf_counter() - start
    held = surrogate.valid_index
    return {
        "method": "genotutor additive GE (PyTorch)",
        "fit s": seconds,
        "held-out R^2": surrogate.valid_r2,
        "held-out I_pred (bits)": surrogate.predictive_information(
            library[held][..., window[0] : window[1]], y[held]
        )[0],
        "epochs": len(surrogate.history),
        "_held": held,
    }


def run_squid(library, y, window, held) -> list[dict]:
    rows = []
    try:
        import squid
        from squid import surrogate_zoo
    except ImportError:
        return [{"method": "squid-nn", "note": "not installed (pip install --no-deps squid-nn)"}]
    x = library[..., window[0] : window[1]].transpose(1, 2).numpy()  # squid wants (N, L, A)
    values = y.numpy()
    mask = np.ones(len(x), dtype=bool)
    mask[held] = False
    candidates = {
        "SurrogateRidgeCV": lambda: surrogate_zoo.SurrogateRidgeCV(x[mask].shape, 1),
        "SurrogateLasso (alpha 1e-3)": lambda: surrogate_zoo.SurrogateLasso(
            x[mask].shape, 1, alpha=1e-3
        ),
    }
    for name, build in candidates.items():
        start = time.perf_counter()
        model = build()
        model.train(x[mask], values[mask], verbose=0)
        seconds = time.perf_counter() - start
        prediction = model.model.predict(x[~mask].reshape(len(x[~mask]), -1))
        rows.append(
            {
                "method": f"squid-nn {squid.__version__} {name}",
                "fit s": seconds,
                "held-out R^2": r2(prediction, values[~mask]),
            }
        )
    for name, why in (
        ("SurrogateLinear", "needs TensorFlow/Keras"),
        ("SurrogateMAVENN (additive GE)", "needs MAVE-NN, whose wheel requires TensorFlow"),
    ):
        available = surrogate_zoo.TENSORFLOW_AVAILABLE if "Linear" in name else False
        if not available:
            rows.append({"method": f"squid-nn {name}", "note": f"not run: {why}"})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--width", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-squid", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x, window, motif = locus(args.width)
    library = mutagenesis_library(x, args.n, mutation_rate=0.1, window=window, seed=0)
    y = predict(planted_task_model(progress=False).model, library)[:, 0]
    print(f"library: {args.n} mutants of a {args.width}-nt window {window} around {motif}")
    ours = run_genotutor(library, y, window, None, None)
    held = ours.pop("_held")
    rows = [ours] + ([] if args.no_squid else run_squid(library, y, window, held))
    table = pd.DataFrame(rows).set_index("method")
    with pd.option_context("display.width", 160, "display.max_columns", 10):
        print(table.round(3).astype(object).where(table.notna(), ""))
    limit = 20.0
    print(
        f"additive-GE fit: {ours['fit s']:.1f} s for {args.n} x {args.width} nt "
        f"({'within' if ours['fit s'] <= limit else 'OVER'} the {limit:.0f} s budget)"
    )


if __name__ == "__main__":
    main()
