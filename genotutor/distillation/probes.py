"""Confounder probes: move one feature, keep the true code, watch the prediction.

Taught in chapter 9, "Distilling a splicing model".
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from torch import nn

from genotutor.sequences import check_model, check_positive_int, check_tensor
from genotutor.splicing.features import ACTIONS, count_feature, edit_feature
from genotutor.targets import Output, Target
from genotutor.training import predict
from genotutor.validation import check_models

Truth = Callable[[torch.Tensor], torch.Tensor] | nn.Module


def _truth_values(truth: Truth, x: torch.Tensor) -> torch.Tensor:
    values = predict(truth, x) if isinstance(truth, nn.Module) else truth(x)
    values = torch.as_tensor(values).detach().float()
    return values[:, 0] if values.ndim == 2 else values


def confounder_effect(
    model: nn.Module,
    x: torch.Tensor,
    *,
    feature: str,
    n_sites: int = 2,
    region: tuple[int, int] | None = None,
    frame: int = 0,
    motif: str | None = None,
    truth: Truth | None = None,
    output: Output = None,
    target: Target = 0,
    seed: int = 0,
    device: object = None,
    progress: bool = False,
) -> pd.DataFrame:
    """How much a model's output moves when a feature is added or removed.

    Each sequence is edited twice with :func:`genotutor.splicing.edit_feature`: once
    adding ``n_sites`` occurrences of the feature, once removing every occurrence. Only
    edits that changed the sequence count, and, when ``truth`` is given, only those
    that left the truth unchanged (an edit can break an enhancer k-mer by accident; such
    sequences are dropped and counted), so the effect is the model's response to the
    feature alone.

    Parameters
    ----------
    model : torch.nn.Module
        Any model ``(N, 4, L)`` -> ``(N, T)``.
    x : torch.Tensor, shape (N, 4, L)
    feature : {"cpg", "stop", "motif"}
    n_sites : int
        Occurrences added per sequence.
    region, frame, motif
        Where to edit, the reading frame, the motif (see
        :func:`genotutor.splicing.count_feature`).
    truth : torch.nn.Module or callable, optional
        The true code (e.g. :class:`genotutor.splicing.TruthModel`), to keep only edits
        that leave it unchanged.
    output, target
        The model's value to read (see :mod:`genotutor.targets`).
    seed : int
        Seeds the positions of added occurrences.
    device, progress
        Where to run, and a progress bar: as for :func:`genotutor.training.predict`.

    Returns
    -------
    pandas.DataFrame
        Rows ``add`` and ``remove``; columns ``n`` (sequences used), ``dropped`` (edits
        that changed the truth), ``features_before`` / ``features_after`` (mean counts),
        ``effect`` (mean change of the output), ``sem`` and ``truth_effect`` (mean change
        of the truth, 0 by construction, NaN without ``truth``).

    Taught in chapter 9.
    """
    check_model(model)
    check_tensor(x, "x")
    n_sites = check_positive_int(n_sites, "n_sites")
    options = {"region": region, "frame": frame, "motif": motif}
    choice = {"output": output, "target": target, "device": device, "progress": progress}
    before = predict(model, x, **choice)
    truth_before = _truth_values(truth, x) if truth is not None else None
    count_before = count_feature(x, feature, **options)
    rows = []
    for action in ACTIONS:
        edited = edit_feature(x, feature, action, n_sites=n_sites, seed=seed, **options)
        keep = (edited != x).flatten(1).any(dim=1)
        changed_truth = torch.zeros(len(x), dtype=torch.bool)
        truth_effect = float("nan")
        if truth is not None:
            delta_truth = _truth_values(truth, edited) - truth_before
            changed_truth = keep & (delta_truth.abs() > 1e-5)
            keep = keep & ~changed_truth
        effect = (predict(model, edited, **choice) - before)[keep].numpy().astype(np.float64)
        if truth is not None and bool(keep.any()):
            truth_effect = float(delta_truth[keep].mean())
        n = int(keep.sum())
        rows.append(
            {
                "action": action,
                "n": n,
                "dropped": int(changed_truth.sum()),
                "features_before": float(count_before[keep].mean()) if n else float("nan"),
                "features_after": float(count_feature(edited[keep], feature, **options).mean())
                if n
                else float("nan"),
                "effect": float(effect.mean()) if n else float("nan"),
                "sem": float(effect.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
                "truth_effect": truth_effect,
            }
        )
    return pd.DataFrame(rows).set_index("action")


def confounder_table(
    models: dict[str, nn.Module],
    x: torch.Tensor,
    *,
    features: tuple[str, ...] = ("cpg", "stop"),
    **options: object,
) -> pd.DataFrame:
    """:func:`confounder_effect` for several models and features, as one table.

    ``**options`` are passed to it (``output``, ``target``, ``seed``, ``device``,
    ``progress``, ``n_sites``, ``region`` ...). Returns a DataFrame with one row per
    (feature, action) and one column per model (the mean effect). Taught in chapter 9.
    """
    models = check_models(models)
    columns = {}
    for name, model in models.items():
        parts = [
            confounder_effect(model, x, feature=feature, **options)["effect"].rename(feature)
            for feature in features
        ]
        columns[name] = pd.concat(parts, keys=features, names=["feature", "action"])
    return pd.DataFrame(columns)
