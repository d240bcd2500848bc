"""Tables of model-based interpretation over a discrete set of choices: every first-layer
filter's PWM, match and activation track; every attention head's map.

Each table is what an explorer of :mod:`genotutor.widgets` draws, computed here once (and
usable without a widget): :func:`filter_table` (chapter 3), :func:`attention_table`
(chapter 6).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from genotutor.interpret.attention import attention_maps
from genotutor.interpret.filters import (
    FilterPWMs,
    _first_conv,
    filter_activations,
    filters_to_pwms,
    match_filters,
)
from genotutor.training import predict
from genotutor.validation import (
    check_model,
    check_one_hot,
    check_positive_int,
)


@dataclass(frozen=True)
class FilterTable:
    """Every first-layer filter's PWM, its best shipped JASPAR match, and its activation
    along the first sequences: what chapter 3's explorer draws.

    Attributes
    ----------
    pwms : genotutor.interpret.FilterPWMs
        From :func:`~genotutor.interpret.filters_to_pwms` over all of ``x``.
    matches : pandas.DataFrame
        Each filter's best match (:func:`~genotutor.interpret.match_filters`, every
        filter kept, ``min_sites=0``).
    tracks : torch.Tensor, shape (n_tracks, F, L')
        The quantity the PWMs' site rule thresholds, along each of the first sequences:
        the activation map (``scores="activation"``) or the convolution's output.
    cutoffs : torch.Tensor, shape (F,)
        Each filter's site threshold on ``tracks``' scale: ``threshold`` times its largest
        value over all of ``x`` (a window is a site where the track reaches it).
    centre : float
        Score ``i`` is of the window ``x[i - padding : i - padding + w]``: its centre is
        at position ``i + centre``.
    scores : str
        ``"activation"`` or ``"convolution"``, as passed.

    Taught in chapter 3.
    """

    pwms: FilterPWMs
    matches: pd.DataFrame
    tracks: torch.Tensor
    cutoffs: torch.Tensor
    centre: float
    scores: str


def filter_table(
    model: nn.Module,
    x: torch.Tensor,
    *,
    n_tracks: int = 100,
    device: object = None,
    progress: bool = True,
    **pwm_options: object,
) -> FilterTable:
    """Every first-layer filter's PWM, best JASPAR match and track along the first
    ``n_tracks`` sequences, the track being the quantity the PWM's site rule thresholds.

    A window is a site of filter ``f`` where its **activation** (by default; the
    convolution's output with ``scores="convolution"``) reaches ``threshold`` times its
    maximum over all of ``x`` (:func:`~genotutor.interpret.filters_to_pwms`); ``tracks``
    are that same quantity, so where a track crosses its filter's cutoff is where the PWM
    took a site.

    Parameters
    ----------
    model : torch.nn.Module
        A model with a ``first_conv`` attribute (an ``nn.Conv1d`` over the 4 bases).
    x : torch.Tensor, shape (N, 4, L)
        One-hot sequences used to build the PWMs; the first ``n_tracks`` get tracks.
    n_tracks : int
        How many of the sequences (the first ones) get a track.
    device, progress
        Where to run, and a progress bar: as for :func:`genotutor.training.predict`.
    **pwm_options
        Every option of :func:`~genotutor.interpret.filters_to_pwms`: ``threshold``
        (fraction of each filter's maximum, in (0, 1]), ``scores`` (which quantity the site
        rule thresholds and the tracks show), ``batch_size``, ``pseudocount``.

    Returns
    -------
    FilterTable
        The PWMs over all of ``x``, their matches, the tracks and the cutoffs.

    Taught in chapter 3.
    """
    shown = check_positive_int(n_tracks, "n_tracks")
    pwms = filters_to_pwms(model, x, device=device, progress=progress, **pwm_options)
    tracks = filter_activations(
        model, x[:shown], activated=pwms.scores == "activation", device=device, progress=False
    )
    cutoffs = torch.as_tensor(pwms.cutoffs)
    conv = _first_conv(model)
    centre = (conv.kernel_size[0] - 1) / 2 - conv.padding[0]
    matches = match_filters(pwms, min_sites=0)
    return FilterTable(pwms, matches, tracks, cutoffs, centre, pwms.scores)


@dataclass(frozen=True)
class AttentionTable:
    """Every head's attention map of every sequence: what chapter 6's explorer draws.

    Attributes
    ----------
    maps : torch.Tensor, shape (N, H, T, T)
        Rows are queries, columns the tokens they attend to.
    mean : torch.Tensor, shape (N, T, T)
        The heads' mean of ``maps``.
    outputs : torch.Tensor, shape (N,)
        The model's first output for each sequence.

    Taught in chapter 6.
    """

    maps: torch.Tensor
    mean: torch.Tensor
    outputs: torch.Tensor


def attention_table(
    model: nn.Module,
    x: torch.Tensor,
    *,
    layer: str | None = None,
    device: object = None,
    progress: bool = True,
) -> AttentionTable:
    """Every head's map of one attention layer for every sequence (one forward pass,
    :func:`~genotutor.interpret.attention_maps`), the heads' mean and the model's first
    output.

    Parameters
    ----------
    model : torch.nn.Module
        Any model with an attention layer that ``attention_maps`` reads, mapping
        ``(N, 4, L)`` to ``(N, T)`` outputs.
    x : torch.Tensor, shape (N, 4, L)
        One-hot sequences.
    layer : str, optional
        Which attention layer (needed when the model has several).
    device, progress
        Where to run, and a progress bar: as for :func:`genotutor.training.predict`.

    Returns
    -------
    AttentionTable

    Taught in chapter 6.
    """
    check_model(model)
    x = check_one_hot(x, "x")
    maps = attention_maps(model, x, layer=layer, device=device, progress=progress)
    if isinstance(maps, dict):
        if len(maps) != 1:
            raise ValueError(f"model has attention layers {sorted(maps)}; pass layer=")
        maps = next(iter(maps.values()))
    outputs = predict(model, x, device=device, progress=False)[:, 0]
    return AttentionTable(maps, maps.mean(1), outputs)
