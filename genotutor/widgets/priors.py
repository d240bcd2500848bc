"""The chapter-5 explorer: the Fourier prior's cutoff and softness, and what they weigh."""

from __future__ import annotations

from collections.abc import Mapping

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from genotutor.plotting import shade_truth
from genotutor.priors import (
    attribution_track,
    fourier_penalty,
    frequency_weights,
    high_frequency_mass,
    smooth_track,
    spectrum,
)
from genotutor.sequences import check_model, check_tensor
from genotutor.training import evaluating
from genotutor.widgets._base import render_into


def _check_models(models: object) -> dict[str, nn.Module]:
    if isinstance(models, nn.Module):
        return {"model": check_model(models)}
    if not isinstance(models, Mapping) or not models:
        raise TypeError(
            "models must be a torch.nn.Module or a non-empty dict of name -> module; found "
            f"{type(models).__name__}"
        )
    return {str(name): check_model(model, f"models[{name!r}]") for name, model in models.items()}


class PriorExplorer(widgets.VBox):
    """Choose the prior's cutoff, softness and smoothing; see its weights, the spectrum and
    the smoothed attribution track of one sequence, for one or several models.

    The track is the prior's own attribution, ``|gradient x input|`` of the logits summed
    over the bases (:func:`genotutor.priors.attribution_track`).

    Parameters
    ----------
    models : torch.nn.Module or dict of str to torch.nn.Module
        Any models mapping ``(N, 4, L)`` to ``(N, T)`` logits, e.g.
        ``{"without prior": m0, "with prior": m1}``.
    x : torch.Tensor, shape (N, 4, L)
        The sequences to explore.
    truth : torch.Tensor, shape (N, L), bool, optional
        Positions to shade (planted motifs).
    target : int, optional
        Which logit to explain; by default the sum over tasks, as in the prior.
    freq_limit, limit_softness, smooth_sigma : number
        Starting values of the controls.

    Attributes
    ----------
    sequence, cutoff, softness, sigma : ipywidgets controls
    summary : ipywidgets.HTML
        Each model's penalty and high-frequency mass for the chosen sequence.

    Taught in chapter 6.
    """

    def __init__(
        self,
        models: nn.Module | Mapping[str, nn.Module],
        x: torch.Tensor,
        *,
        truth: torch.Tensor | None = None,
        target: int | None = None,
        freq_limit: int = 30,
        limit_softness: float = 0.2,
        smooth_sigma: int = 3,
    ) -> None:
        self.models = _check_models(models)
        self.x = check_tensor(x, "x")
        if truth is not None and tuple(truth.shape) != (len(x), x.shape[-1]):
            raise ValueError(
                f"truth must have shape (N, L) = {(len(x), x.shape[-1])}; found "
                f"{tuple(truth.shape)}"
            )
        self.truth = truth
        self.target = target
        self._tracks: dict[tuple[str, int], torch.Tensor] = {}
        half = self.x.shape[-1] // 2
        self.sequence = widgets.BoundedIntText(
            value=0, min=0, max=len(self.x) - 1, description="sequence"
        )
        self.cutoff = widgets.IntSlider(
            value=min(freq_limit, half),
            min=1,
            max=half,
            description="cutoff K",
            continuous_update=False,
        )
        self.softness = widgets.FloatSlider(
            value=limit_softness,
            min=0.0,
            max=2.0,
            step=0.05,
            description="softness",
            continuous_update=False,
        )
        self.sigma = widgets.IntSlider(
            value=int(smooth_sigma),
            min=0,
            max=8,
            description="smooth sigma",
            continuous_update=False,
        )
        self.summary = widgets.HTML()
        self.output = widgets.Output()
        for control in (self.sequence, self.cutoff, self.softness, self.sigma):
            control.observe(self._update, names="value")
        super().__init__(
            [
                widgets.HBox([self.sequence, self.cutoff]),
                widgets.HBox([self.softness, self.sigma]),
                self.summary,
                self.output,
            ]
        )
        self._update()

    def track(self, name: str) -> torch.Tensor:
        """The chosen sequence's ``(L,)`` attribution track under model ``name``."""
        index = self.sequence.value
        if not 0 <= index < len(self.x):
            raise ValueError(f"sequence must be in [0, {len(self.x) - 1}]; found {index}")
        key = (name, index)
        if key not in self._tracks:
            model = self.models[name]
            with evaluating(model):
                track = attribution_track(model, self.x[index : index + 1], target=self.target)
            self._tracks[key] = track[0]
        return self._tracks[key]

    def _settings(self) -> dict:
        return {"freq_limit": self.cutoff.value, "smooth_sigma": float(self.sigma.value)}

    def _draw(self) -> None:
        settings = self._settings()
        tracks = {name: self.track(name)[None].double() for name in self.models}
        rows = []
        for name, track in tracks.items():
            penalty = float(fourier_penalty(track, limit_softness=self.softness.value, **settings))
            mass = float(high_frequency_mass(track, freq_limit=self.cutoff.value))
            rows.append(f"{name}: penalty <b>{penalty:.3f}</b>, mass above K <b>{mass:.2f}</b>")
        self.summary.value = "; ".join(rows)
        length = self.x.shape[-1]
        frequencies = np.arange(1, length // 2 + 1)
        fig, axes = plt.subplots(3, 1, figsize=(9, 6.2))
        weights = frequency_weights(
            length // 2, freq_limit=self.cutoff.value, limit_softness=self.softness.value
        )
        axes[0].plot(frequencies, weights.numpy(), color="black")
        axes[0].set_ylabel("weight")
        for name, track in tracks.items():
            mags = spectrum(track, smooth_sigma=settings["smooth_sigma"])[0]
            axes[1].plot(frequencies, mags.numpy(), label=name, linewidth=1)
            axes[2].plot(
                smooth_track(track, smooth_sigma=settings["smooth_sigma"])[0].numpy(),
                label=name,
                linewidth=1,
            )
        for ax in axes[:2]:
            ax.axvline(self.cutoff.value + 0.5, color="crimson", linestyle="--", linewidth=1)
        axes[1].set_ylabel("normalised |FFT|")
        axes[1].set_xlabel("frequency k (cycles per sequence)")
        axes[1].legend(fontsize=8)
        if self.truth is not None:
            shade_truth(axes[2], self.truth[self.sequence.value])
        axes[2].set_ylabel("smoothed track")
        axes[2].set_xlabel("position")
        axes[0].set_title(
            f"sequence {self.sequence.value}: cutoff K = {self.cutoff.value} "
            f"(period {length / self.cutoff.value:.1f} bases)",
            fontsize=9,
            loc="left",
        )
        fig.tight_layout()

    def _update(self, change: dict | None = None) -> None:
        if not render_into(self.output, self._draw):
            self.summary.value = ""


def prior_explorer(
    models: nn.Module | Mapping[str, nn.Module],
    x: torch.Tensor,
    *,
    truth: torch.Tensor | None = None,
    freq_limit: int = 30,
) -> PriorExplorer:
    """Build a :class:`PriorExplorer` (chapter 6) for any models and sequences."""
    return PriorExplorer(models, x, truth=truth, freq_limit=freq_limit)
