"""The chapter-6 explorer: the Fourier prior's cutoff and softness, and what they weigh."""

from __future__ import annotations

from collections.abc import Mapping

import ipywidgets as widgets
import torch
import traitlets

from genotutor.priors import fourier_penalty, high_frequency_mass
from genotutor.validation import check_mask, check_number, check_positive_int, describe
from genotutor.widgets._view import ExplorerView, esm, linked_layout, pack


def _check_tracks(tracks: object) -> dict[str, torch.Tensor]:
    """A non-empty dict of name -> float ``(N, L)`` tensor, all of one shape."""
    if not isinstance(tracks, Mapping) or not tracks:
        raise TypeError(
            "tracks must be a non-empty dict of name -> (N, L) tensor (from "
            f"attribution_tracks); found {describe(tracks)}"
        )
    shape = None
    for name, track in tracks.items():
        if not isinstance(name, str):
            raise TypeError(f"tracks must be keyed by strings (model names); found {name!r}")
        if not isinstance(track, torch.Tensor) or not torch.is_floating_point(track):
            raise TypeError(f"tracks[{name!r}] must be a float tensor; found {describe(track)}")
        shape = tuple(track.shape) if shape is None else shape
        if track.ndim != 2 or tuple(track.shape) != shape:
            raise ValueError(
                f"tracks[{name!r}] must have shape (N, L), that of every track {shape}; "
                f"found {describe(track)}"
            )
    return {name: track.float() for name, track in tracks.items()}


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

    A view over :func:`genotutor.attribution.attribution_tracks`, each model's tracks
    (the prior's own attribution, ``|gradient x input|`` of the logits summed over the
    bases, ``N L`` numbers per model): it computes no track. The view computes what the
    sliders change from them, as :mod:`genotutor.priors` does (the weights, the Gaussian
    smoothing, the normalised spectrum, the penalty and the high-frequency mass), so the
    explorer works the same in a live notebook and on the book's static page, for any
    value of the sliders.

    Parameters
    ----------
    tracks : dict of str to torch.Tensor, shape (N, L)
        From ``attribution_tracks(models, x)``, e.g. for
        ``{"without prior": m0, "with prior": m1}``.
    truth : torch.Tensor, shape (N, L), bool, optional
        Positions to shade (planted motifs).
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
        tracks: Mapping[str, torch.Tensor],
        *,
        truth: torch.Tensor | None = None,
        freq_limit: int = 30,
        limit_softness: float = 0.2,
        smooth_sigma: int = 3,
    ) -> None:
        self.tracks = _check_tracks(tracks)
        n, length = next(iter(self.tracks.values())).shape
        self.truth = check_mask(truth, (n, length), "truth")
        half = length // 2
        self.sequence = widgets.BoundedIntText(value=0, min=0, max=n - 1, description="sequence")
        self.cutoff = widgets.IntSlider(
            value=min(check_positive_int(freq_limit, "freq_limit"), half),
            min=1,
            max=half,
            description="cutoff K",
            continuous_update=False,
        )
        self.softness = widgets.FloatSlider(
            value=check_number(limit_softness, "limit_softness", minimum=0, maximum=2),
            min=0.0,
            max=2.0,
            step=0.05,
            description="softness",
            continuous_update=False,
        )
        self.sigma = widgets.IntSlider(
            value=check_positive_int(smooth_sigma, "smooth_sigma", minimum=0),
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
        rows = [("sequence", "cutoff"), ("softness", "sigma")]
        super().__init__(linked_layout(self, self.view, rows))

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
        for name in self.tracks:
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
