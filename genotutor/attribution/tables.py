"""Tables of attributions over a discrete set of choices: every method for every sequence,
every single-base mutant, every model's attribution track.

Each table is what an explorer of :mod:`genotutor.widgets` draws, computed here once (and
usable without a widget): :func:`attribution_table` (chapter 2), :func:`mutation_table`
(chapter 1) and :func:`attribution_tracks` (chapter 7).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from genotutor.attribution.dispatch import GRADIENT_METHODS, METHODS, SEEDED_METHODS, attribute
from genotutor.evaluation import attribution_auprc, attribution_auroc
from genotutor.priors import attribution_track
from genotutor.progress import progress_bar
from genotutor.training import evaluating, predict
from genotutor.validation import (
    check_bool,
    check_device,
    check_mask,
    check_model,
    check_models,
    check_positive_int,
    check_target,
    check_tensor,
)

Entry = tuple[str, bool]  # (method, gradient correction applied)


def check_methods(methods: object) -> tuple[str, ...]:
    """``methods`` as a tuple of distinct names from :data:`METHODS`, else an error naming
    it. Taught in chapter 2."""
    if isinstance(methods, str) or not isinstance(methods, (tuple, list)) or not methods:
        raise TypeError(
            f"methods must be a non-empty tuple of names from {METHODS}; found {methods!r}"
        )
    unknown = [name for name in methods if name not in METHODS]
    if unknown:
        raise ValueError(f"methods must be names from {METHODS}; found {unknown}")
    if len(set(methods)) != len(methods):
        raise ValueError(f"methods must not repeat a name; found {list(methods)}")
    return tuple(methods)


def entries(methods: tuple[str, ...]) -> list[Entry]:
    """Every (method, correction) of ``methods``: the gradient methods with and without
    :func:`~genotutor.attribution.correct_gradients`. Taught in chapter 2."""
    return [(m, c) for m in methods for c in ((False, True) if m in GRADIENT_METHODS else (False,))]


def _outputs(
    model: nn.Module, x: torch.Tensor, target: object, device: object
) -> tuple[torch.Tensor, int]:
    """The model's output column ``target`` for every sequence, shape (N,), and ``target``
    checked against the model's number of outputs."""
    outputs = predict(model, x, device=device, progress=False)
    if not isinstance(outputs, torch.Tensor) or outputs.ndim != 2:
        raise ValueError(
            "model must map (N, 4, L) to an (N, T) tensor of outputs; found "
            f"{type(outputs).__name__} of shape {tuple(getattr(outputs, 'shape', ()))}"
        )
    target = check_target(target, outputs.shape[1])
    return outputs[:, target], target


def _per_sequence_scores(
    scores: torch.Tensor, truth: torch.Tensor
) -> tuple[np.ndarray, np.ndarray]:
    """Each sequence's AUROC and AUPRC of its own map against its own truth row (the
    pooled score of that one sequence), NaN where the row lacks true or false positions."""
    if not 0 < int(truth.sum()) < truth.numel():
        nan = np.full(len(scores), np.nan)
        return nan, nan.copy()
    auroc = attribution_auroc(scores, truth).per_sequence
    return auroc, attribution_auprc(scores, truth).per_sequence


@dataclass(frozen=True)
class AttributionTable:
    """Every method's scores for every sequence (what chapter 2's explorer draws).

    Attributes
    ----------
    methods : tuple of str
        The methods, in the order offered.
    target : int
        The output column explained.
    outputs : torch.Tensor, shape (N,)
        The model's output ``target`` for each sequence.
    scores : dict of (str, bool) to torch.Tensor, shape (N, 4, L)
        The scores of each (method, gradient correction); see :func:`entries`.
    auroc, auprc : dict of (str, bool) to numpy.ndarray, shape (N,)
        With ``truth``: each map's score per sequence (NaN for a sequence without both
        kinds of position); empty without.

    Taught in chapter 2.
    """

    methods: tuple[str, ...]
    target: int
    outputs: torch.Tensor
    scores: dict[Entry, torch.Tensor]
    auroc: dict[Entry, np.ndarray] = field(default_factory=dict)
    auprc: dict[Entry, np.ndarray] = field(default_factory=dict)


def attribution_table(
    model: nn.Module,
    x: torch.Tensor,
    *,
    truth: torch.Tensor | None = None,
    target: int = 0,
    methods: tuple[str, ...] = METHODS,
    seed: int = 0,
    device: object = None,
    progress: bool = True,
) -> AttributionTable:
    """Every attribution method's scores for every sequence, with and without gradient
    correction, and (with ``truth``) each map's AUROC and AUPRC per sequence.

    One :func:`~genotutor.attribution.attribute` call per (method, correction) over all of
    ``x``: eleven maps with every method.

    Parameters
    ----------
    model : torch.nn.Module
        Any model mapping ``(N, 4, L)`` one-hot DNA to ``(N, T)`` outputs.
    x : torch.Tensor, shape (N, 4, L)
    truth : torch.Tensor, shape (N, L), bool, optional
        Planted positions: adds each map's per-sequence AUROC and AUPRC.
    target : int
        Which output to explain.
    methods : tuple of str
        Names from :data:`~genotutor.attribution.METHODS` (ISM and DeepLIFT-SHAP cost most).
    seed : int
        Seeds the methods that draw random numbers (:data:`SEEDED_METHODS`).
    device, progress
        Where to run, and a progress bar: as for :func:`genotutor.training.predict`.

    Returns
    -------
    AttributionTable

    Taught in chapter 2.
    """
    check_model(model)
    x = check_tensor(x, "x")
    truth = check_mask(truth, (x.shape[0], x.shape[-1]), "truth")
    methods = check_methods(methods)
    seed = check_positive_int(seed, "seed", minimum=0)
    check_device(device)
    check_bool(progress, "progress")
    outputs, target = _outputs(model, x, target, device)
    scores = {}
    for method, correct in progress_bar(entries(methods), desc="attribution", progress=progress):
        options = {"correct": True} if correct else {}
        if method in SEEDED_METHODS:
            options["seed"] = seed
        scores[method, correct] = attribute(
            model, x, method, target=target, device=device, progress=False, **options
        )
    table = AttributionTable(methods, target, outputs, scores)
    if truth is not None:
        for entry, values in scores.items():
            table.auroc[entry], table.auprc[entry] = _per_sequence_scores(values, truth)
    return table


@dataclass(frozen=True)
class MutationTable:
    """The model's output for every single-base mutant of every sequence.

    Attributes
    ----------
    target : int
        The output column.
    reference : torch.Tensor, shape (N,)
        The output for each sequence as it is.
    outputs : torch.Tensor, shape (N, 4, L)
        The output with base ``b`` at position ``i`` (the reference's at its own base).

    Taught in chapter 1.
    """

    target: int
    reference: torch.Tensor
    outputs: torch.Tensor


def mutation_table(
    model: nn.Module,
    x: torch.Tensor,
    *,
    target: int = 0,
    device: object = None,
    progress: bool = True,
) -> MutationTable:
    """The model's output for every single-base mutant of every sequence (``3 L`` mutants
    each, by in-silico mutagenesis, ``attribute(..., "ism")``) and for the sequences.

    Parameters
    ----------
    model : torch.nn.Module
        Any model mapping ``(N, 4, L)`` to ``(N, T)`` outputs.
    x : torch.Tensor, shape (N, 4, L)
    target : int
        Which output.
    device, progress
        Where to run, and a progress bar: as for :func:`genotutor.training.predict`.

    Returns
    -------
    MutationTable

    Taught in chapter 1.
    """
    check_model(model)
    x = check_tensor(x, "x")
    check_device(device)
    check_bool(progress, "progress")
    reference, target = _outputs(model, x, target, device)
    deltas = attribute(model, x, "ism", target=target, device=device, progress=progress)
    return MutationTable(target, reference, deltas + reference[:, None, None])


def attribution_tracks(
    models: Mapping[str, nn.Module],
    x: torch.Tensor,
    *,
    target: int | None = None,
    batch_size: int = 256,
    device: object = None,
    progress: bool = True,
) -> dict[str, torch.Tensor]:
    """Every sequence's attribution track under each model, as the Fourier prior sees it:
    ``|gradient x input|`` of the logits summed over the bases
    (:func:`genotutor.priors.attribution_track`).

    Parameters
    ----------
    models : dict of str to torch.nn.Module
        E.g. ``{"without prior": m0, "with prior": m1}``.
    x : torch.Tensor, shape (N, 4, L)
    target : int, optional
        Which logit; by default the sum over tasks, as in the prior.
    batch_size : int
        Sequences per gradient pass.
    device, progress
        Where to run, and a progress bar: as for :func:`genotutor.training.predict`.

    Returns
    -------
    dict of str to torch.Tensor, shape (N, L)
        Float32, on the CPU, in the order of ``models``.

    Taught in chapter 7.
    """
    models = check_models(models)
    x = check_tensor(x, "x")
    batch_size = check_positive_int(batch_size, "batch_size")
    check_device(device)
    tracks = {}
    for name in progress_bar(models, desc="attribution tracks", progress=progress):
        model = models[name]
        with evaluating(model, device) as here:
            parts = [
                attribution_track(model, x[i : i + batch_size].to(here), target=target).cpu()
                for i in range(0, len(x), batch_size)
            ]
        tracks[name] = torch.cat(parts).float()
    return tracks
