"""Unit ablation: what a model loses when first-layer filters are switched off.

:func:`motif_response` asks which filters respond to a motif (how much each one's largest
activation rises when the motif is planted into background sequences);
:func:`ablation_effects` switches filters off, one at a time and in groups
(:func:`genotutor.interpret.ablate_filters`), and reports how much of a motif's effect on
the output each ablation removes. Comparing the two kinds of ablation is the test of
redundancy: if units stand in for each other, each alone seems to matter little while the
group matters a lot.

Taught in chapter 5 (redundancy from dropout).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import pandas as pd
import torch
from torch import nn

from genotutor.interpret.filters import _first_conv, filter_activations
from genotutor.interpret.gia import Insert, insert_motifs
from genotutor.progress import progress_bar
from genotutor.targets import Output, Target
from genotutor.training import predict
from genotutor.validation import (
    check_bool,
    check_device,
    check_model,
    check_one_hot,
    check_positive_int,
    describe,
)


def ablate_filters(model: nn.Module, indices: list[int]) -> nn.Module:
    """A copy of ``model`` with the given first-layer filters switched off (weights and bias 0).

    With a ReLU after the convolution a zeroed filter outputs 0 everywhere, as if it never
    fired. Taught in chapter 5 (a motif spread over several filters).
    """
    conv = _first_conv(check_model(model))
    indices = [int(i) for i in indices]
    bad = [i for i in indices if not 0 <= i < conv.out_channels]
    if bad:
        raise ValueError(f"indices must be in [0, {conv.out_channels - 1}]; found {bad}")
    clone = copy.deepcopy(model)
    with torch.no_grad():
        _first_conv(clone).weight[indices] = 0.0
        if _first_conv(clone).bias is not None:
            _first_conv(clone).bias[indices] = 0.0
    return clone


def motif_response(
    model: nn.Module,
    background: torch.Tensor,
    motif: Insert,
    position: int,
    *,
    strand: str = "+",
    device: object = None,
    progress: bool = False,
) -> pd.Series:
    """How much each first-layer filter's largest activation rises when ``motif`` is planted.

    Parameters
    ----------
    model : torch.nn.Module
        A model with a ``first_conv`` attribute (every genotutor CNN).
    background : torch.Tensor, shape (N, 4, L)
        One-hot sequences without the motif.
    motif : str, Motif or DNA string
        What to plant (a JASPAR name plants its consensus), as for
        :func:`genotutor.interpret.insert_motifs`.
    position : int
        Where to plant it.
    strand : {"+", "-"}
        Which strand.
    device, progress
        Where to run, and a progress bar: as for :func:`genotutor.training.predict`.

    Returns
    -------
    pandas.Series
        One value per filter (index ``filter``): the mean over sequences of the filter's
        largest activation (after its activation function) with the motif minus without.

    Taught in chapter 5.
    """
    background = check_one_hot(background, "background")
    planted = insert_motifs(background, motif, position, strands=strand)
    options = {"activated": True, "device": device, "progress": progress}
    with_motif = filter_activations(model, planted, **options).amax(-1)
    without = filter_activations(model, background, **options).amax(-1)
    rise = (with_motif - without).mean(0).numpy()
    return pd.Series(rise, index=pd.RangeIndex(len(rise), name="filter"), name="response")


def _check_filters(filters: object, n_filters: int, name: str) -> list[int]:
    if isinstance(filters, (str, bytes)) or not isinstance(filters, Sequence | range):
        raise TypeError(f"{name} must be a sequence of filter indices; found {describe(filters)}")
    checked = []
    for index in filters:
        index = check_positive_int(index, name, minimum=0)
        if index >= n_filters:
            raise ValueError(
                f"{name} must hold filter indices in [0, {n_filters - 1}]; found {index}"
            )
        checked.append(index)
    return checked


def ablation_effects(
    model: nn.Module,
    x: torch.Tensor,
    reference: torch.Tensor | None = None,
    *,
    filters: Sequence[int] | None = None,
    groups: Mapping[str, Sequence[int]] | None = None,
    target: Target = 0,
    output: Output = None,
    batch_size: int = 512,
    device: object = None,
    progress: bool = False,
) -> pd.DataFrame:
    """How much of an effect each ablation of first-layer filters removes.

    The effect is the mean target over ``x``, minus its mean over ``reference`` when one
    is given (e.g. ``x`` = backgrounds with a motif planted, ``reference`` = the same
    backgrounds: the effect is then the motif's). Each filter in ``filters`` is switched
    off alone, each group in ``groups`` all at once (:func:`ablate_filters`).

    Parameters
    ----------
    model : torch.nn.Module
        A model with a ``first_conv`` attribute; it is not changed (ablations are copies).
    x : torch.Tensor, shape (N, 4, L)
    reference : torch.Tensor, shape (M, 4, L), optional
    filters : sequence of int, optional
        Filters to ablate one at a time (all by default).
    groups : dict, optional
        ``{name: [filter, ...]}``: sets of filters to ablate together.
    target, output
        What to follow, as for :func:`genotutor.attribution.attribute`.
    batch_size : int
    device, progress
        Where to run, and a progress bar: as for :func:`genotutor.training.predict`.

    Returns
    -------
    pandas.DataFrame
        One row per ablation (``"filter k"``, then each group's name), with columns
        ``filters`` (the ablated indices), ``effect`` (the effect after ablation), ``removed``
        (the intact model's effect minus that) and ``share`` (``removed`` over the intact
        effect). The intact effect is in ``DataFrame.attrs["effect"]``.

    Raises
    ------
    TypeError, ValueError
        For a filter index that is not an int in range, ``groups`` that is not a dict of
        index lists, or inputs of the wrong shape.

    Taught in chapter 5.
    """
    model = check_model(model)
    x = check_one_hot(x, "x")
    if reference is not None:
        reference = check_one_hot(reference, "reference")
    batch_size = check_positive_int(batch_size, "batch_size")
    check_bool(progress, "progress")
    check_device(device)
    n_filters = _first_conv(model).out_channels
    singles = _check_filters(range(n_filters) if filters is None else filters, n_filters, "filters")
    if groups is not None and not isinstance(groups, Mapping):
        raise TypeError(f"groups must be a dict {{name: [filter, ...]}}; found {describe(groups)}")
    named = {str(name): _check_filters(members, n_filters, f"groups[{name!r}]")
             for name, members in (groups or {}).items()}  # fmt: skip

    def effect(m: nn.Module) -> float:
        options = {"output": output, "target": target, "batch_size": batch_size, "device": device}
        value = float(predict(m, x, **options, progress=False).mean())
        if reference is not None:
            value -= float(predict(m, reference, **options, progress=False).mean())
        return value

    intact = effect(model)
    ablations = {f"filter {f}": [f] for f in singles} | named
    rows = {
        label: {
            "filters": ablations[label],
            "effect": effect(ablate_filters(model, ablations[label])),
        }
        for label in progress_bar(ablations, desc="ablations", progress=progress)
    }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table["removed"] = intact - table["effect"]
    table["share"] = table["removed"] / intact if intact != 0 else float("nan")
    table.attrs["effect"] = intact
    return table
