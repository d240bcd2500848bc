"""The chapter-6 explorer: the Fourier prior's cutoff and softness, and what they weigh."""

from __future__ import annotations

from collections.abc import Mapping

import ipywidgets as widgets
import torch
import traitlets
from torch import nn

from genotutor.priors import attribution_track, fourier_penalty, high_frequency_mass
from genotutor.sequences import check_model, check_positive_int, check_tensor
from genotutor.training import evaluating
from genotutor.validation import describe
from genotutor.widgets._view import ExplorerView, esm, link, pack

_BATCH = 256  # sequences per gradient pass when the tracks are computed


def _check_models(models: object) -> dict[str, nn.Module]:
    if isinstance(models, nn.Module):
        return {"model": check_model(models)}
    if not isinstance(models, Mapping) or not models:
        raise TypeError(
            "models must be a torch.nn.Module or a non-empty dict of name -> module; found "
            f"{type(models).__name__}"
        )
    return {str(name): check_model(model, f"models[{name!r}]") for name, model in models.items()}


def _check_truth(truth: object, shape: tuple[int, int]) -> torch.Tensor | None:
    if truth is None:
        return None
    if not isinstance(truth, torch.Tensor) or truth.dtype != torch.bool:
        raise TypeError(f"truth must be a bool tensor (N, L) or None; found {describe(truth)}")
    if tuple(truth.shape) != shape:
        raise ValueError(f"truth must have shape (N, L) = {shape}; found {tuple(truth.shape)}")
    return truth


def _tracks(model: nn.Module, x: torch.Tensor, target: int | None) -> torch.Tensor:
    """Every sequence's ``(L,)`` attribution track under ``model``: shape (N, L), float32."""
    with evaluating(model) as device:
        parts = [
            attribution_track(model, x[i : i + _BATCH].to(device), target=target).cpu()
            for i in range(0, len(x), _BATCH)
        ]
    return torch.cat(parts).float()


class PriorView(ExplorerView):
    """The browser side of :class:`PriorExplorer` (``js/priors.js``)."""

    _esm = esm("priors")
    sequence = traitlets.Int(0).tag(sync=True)
    cutoff = traitlets.Int(1).tag(sync=True)
    softness = traitlets.Float(0.2).tag(sync=True)
    sigma = traitlets.Int(0).tag(sync=True)


class PriorExplorer(widgets.VBox):
    """Choose the prior's cutoff, softness and smoothing; see its weights, the spectrum and
    the smoothed attribution track of one sequence, for one or several models.

    The track is the prior's own attribution, ``|gradient x input|`` of the logits summed
    over the bases (:func:`genotutor.priors.attribution_track`). Only the tracks are
    computed in Python, once, when the explorer is built (``N L`` numbers per model); the
    view computes what the sliders change from them, as :mod:`genotutor.priors` does (the
    weights, the Gaussian smoothing, the normalised spectrum, the penalty and the
    high-frequency mass), so the explorer works the same in a live notebook and on the
    book's static page, for any value of the sliders.

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
    view : PriorView
        Draws the summary (each model's penalty and high-frequency mass for the chosen
        sequence) and the figure.
    tracks : dict of str to torch.Tensor, shape (N, L)
        Each model's attribution tracks, float32, as the view holds them.

    Taught in chapter 7.
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
        self.truth = _check_truth(truth, (len(self.x), self.x.shape[-1]))
        self.target = target
        self.tracks = {name: _tracks(m, self.x, target) for name, m in self.models.items()}
        half = self.x.shape[-1] // 2
        self.sequence = widgets.BoundedIntText(
            value=0, min=0, max=len(self.x) - 1, description="sequence"
        )
        self.cutoff = widgets.IntSlider(
            value=min(check_positive_int(freq_limit, "freq_limit"), half),
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
            style={"description_width": "initial"},  # the whole label, not "smooth si..."
            continuous_update=False,
        )
        data = {
            "names": list(self.tracks),
            "tracks": pack(torch.stack(list(self.tracks.values()))),  # (models, N, L)
        }
        if self.truth is not None:
            data["truth"] = pack(self.truth, "uint8")
        self.view = PriorView(data=data)
        for name in ("sequence", "cutoff", "softness", "sigma"):
            link(getattr(self, name), self.view, name)
        super().__init__(
            [
                widgets.HBox([self.sequence, self.cutoff]),
                widgets.HBox([self.softness, self.sigma]),
                self.view,
            ]
        )

    def track(self, name: str) -> torch.Tensor:
        """The chosen sequence's ``(L,)`` attribution track under model ``name``."""
        index = self.sequence.value
        tracks = self.tracks[name]
        if not 0 <= index < len(tracks):
            raise ValueError(f"sequence must be in [0, {len(tracks) - 1}]; found {index}")
        return tracks[index]

    def numbers(self) -> dict[str, tuple[float, float]]:
        """What the summary shows for the chosen sequence: each model's Fourier penalty
        (:func:`genotutor.priors.fourier_penalty` with the controls' cutoff, softness and
        sigma) and the share of its unsmoothed spectrum above the cutoff
        (:func:`genotutor.priors.high_frequency_mass`)."""
        shown = {}
        for name in self.models:
            track = self.track(name)[None].double()
            penalty = fourier_penalty(
                track,
                freq_limit=self.cutoff.value,
                limit_softness=self.softness.value,
                smooth_sigma=float(self.sigma.value),
            )
            mass = high_frequency_mass(track, freq_limit=self.cutoff.value)
            shown[name] = (float(penalty), float(mass))
        return shown


def prior_explorer(
    models: nn.Module | Mapping[str, nn.Module],
    x: torch.Tensor,
    *,
    truth: torch.Tensor | None = None,
    freq_limit: int = 30,
) -> PriorExplorer:
    """Build a :class:`PriorExplorer` (chapter 7) for any models and sequences."""
    return PriorExplorer(models, x, truth=truth, freq_limit=freq_limit)
