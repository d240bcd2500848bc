"""The chapter-3 explorer: pick a first-layer filter, see its PWM, its best JASPAR match
and where it fires along a sequence."""

from __future__ import annotations

import ipywidgets as widgets
import logomaker
import numpy as np
import torch
import traitlets
from torch import nn

from genotutor.interpret import filter_activations, filters_to_pwms, match_filters
from genotutor.motifs import get_motif
from genotutor.plotting import to_logo_frame
from genotutor.sequences import check_model, check_one_hot
from genotutor.validation import check_positive_int, describe
from genotutor.widgets._view import ExplorerView, esm, link, pack


class FilterView(ExplorerView):
    """The browser side of :class:`FilterExplorer` (``js/filters.js``)."""

    _esm = esm("filters")
    filter = traitlets.Int(0).tag(sync=True)
    sequence = traitlets.Int(0).tag(sync=True)


def _information_heights(probs: np.ndarray) -> np.ndarray:
    """The letter heights of a ``(4, w)`` probability matrix's logo in bits, shape (4, w):
    each probability times its column's information, as ``genotutor.plotting.logo(...,
    information=True)`` draws them (logomaker's transform, uniform background)."""
    frame = logomaker.transform_matrix(
        to_logo_frame(probs), from_type="probability", to_type="information"
    )
    return frame.to_numpy().T


def _check_truth(truth: object, shape: tuple[int, int]) -> torch.Tensor | None:
    """``truth`` as an ``(N, L)`` bool tensor (or None), else an error naming it."""
    if truth is None:
        return None
    if not isinstance(truth, torch.Tensor) or truth.dtype != torch.bool:
        raise TypeError(
            f"truth must be a bool tensor of shape (N, L) or None; found {describe(truth)}"
        )
    if tuple(truth.shape) != shape:
        raise ValueError(f"truth must have shape {shape}; found {tuple(truth.shape)}")
    return truth


class FilterExplorer(widgets.VBox):
    """Pick a filter: its PWM (from the sequences that activate it), its best JASPAR
    match, and its score along one sequence.

    Computed once, when the explorer is built: every filter's PWM
    (:func:`genotutor.interpret.filters_to_pwms` over all of ``x``) as an information logo,
    its best shipped JASPAR match (:func:`genotutor.interpret.match_filters`, every filter
    kept) with that motif's logo on the matching strand, and the filters' scores along the
    first ``n_tracks`` sequences (``n_tracks x F x L'`` floats, 3.4 MB in the page for
    chapter 3's 32 filters along 100 sequences of length 200). The view draws from that
    table, so the explorer works the same in a live notebook and on the static page.

    Parameters
    ----------
    model : torch.nn.Module
        Any model with a ``first_conv`` attribute (an ``nn.Conv1d`` over the 4 bases).
    x : torch.Tensor, shape (N, 4, L)
        Sequences used to build the PWMs and to show activations.
    truth : torch.Tensor, shape (N, L), bool, optional
        Positions to shade (e.g. planted motifs).
    threshold : float
        Passed to :func:`genotutor.interpret.filters_to_pwms`.
    n_tracks : int
        How many of the sequences (the first ones) the ``sequence`` control offers.

    Attributes
    ----------
    filter, sequence : ipywidgets controls
    view : FilterView
        Draws the summary and the figure.
    pwms : genotutor.interpret.FilterPWMs
    matches : pandas.DataFrame
        Each filter's best match (:func:`genotutor.interpret.match_filters`).
    activations : torch.Tensor, shape (min(N, n_tracks), F, L')
        The first convolution's scores (:func:`genotutor.interpret.filter_activations`).

    Taught in chapter 3.
    """

    def __init__(
        self,
        model: nn.Module,
        x: torch.Tensor,
        *,
        truth: torch.Tensor | None = None,
        threshold: float = 0.5,
        n_tracks: int = 100,
    ) -> None:
        self.model = check_model(model)
        self.x = check_one_hot(x, "x")
        self.truth = _check_truth(truth, (self.x.shape[0], self.x.shape[-1]))
        shown = min(check_positive_int(n_tracks, "n_tracks"), len(self.x))
        self.pwms = filters_to_pwms(self.model, self.x, threshold=threshold, progress=False)
        self.matches = match_filters(self.pwms, min_sites=0)
        self.activations = filter_activations(self.model, self.x[:shown])
        self.filter = widgets.BoundedIntText(
            value=0, min=0, max=len(self.pwms) - 1, description="filter"
        )
        self.sequence = widgets.BoundedIntText(
            value=0, min=0, max=shown - 1, description="sequence"
        )
        self.view = FilterView(data=self._data())
        for name in ("filter", "sequence"):
            link(getattr(self, name), self.view, name)
        super().__init__([widgets.HBox([self.filter, self.sequence]), self.view])

    def _match(self, index: int) -> dict:
        row = self.matches.loc[index]
        probs = get_motif(row["match"]).probs
        probs = probs if row["strand"] == "+" else probs[::-1, ::-1]  # as the filter reads it
        return {
            "name": str(row["match"]),
            "score": float(row["score"]),
            "strand": str(row["strand"]),
            "offset": int(row["offset"]),
            "logo": pack(_information_heights(probs)),
        }

    def _data(self) -> dict:
        shown = len(self.activations)
        conv = self.model.first_conv
        data = {
            "pwms": pack(np.stack([_information_heights(p) for p in self.pwms.probs])),
            "n_sites": pack(self.pwms.n_sites, "int32"),
            "matches": [self._match(index) for index in range(len(self.pwms))],
            "tracks": pack(self.activations),
            # score i is of the window x[i - padding : i - padding + w]: its centre
            "centre": (conv.kernel_size[0] - 1) / 2 - conv.padding[0],
        }
        if self.truth is not None:
            data["truth"] = pack(self.truth[:shown], "uint8")
        return data

    def best_match(self) -> tuple[str, float, str, int]:
        """Name, score, strand and offset of the chosen filter's best shipped JASPAR match."""
        index = self.filter.value
        if not 0 <= index < len(self.pwms):
            raise ValueError(f"filter must be in [0, {len(self.pwms) - 1}]; found {index}")
        row = self.matches.loc[index]
        return str(row["match"]), float(row["score"]), str(row["strand"]), int(row["offset"])


def filter_explorer(
    model: nn.Module, x: torch.Tensor, *, truth: torch.Tensor | None = None, n_tracks: int = 100
) -> FilterExplorer:
    """Build a :class:`FilterExplorer` (chapter 3) for any model and sequences."""
    return FilterExplorer(model, x, truth=truth, n_tracks=n_tracks)
