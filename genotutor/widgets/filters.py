"""The chapter-3 explorer: pick a first-layer filter, see its PWM, its best JASPAR match
and where it fires along a sequence."""

from __future__ import annotations

import ipywidgets as widgets
import logomaker
import numpy as np
import torch
import traitlets

from genotutor.interpret import FilterTable
from genotutor.motifs import get_motif
from genotutor.plotting import to_logo_frame
from genotutor.validation import check_mask, check_one_hot, describe
from genotutor.widgets._view import ExplorerView, esm, linked_layout, pack


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


class FilterExplorer(widgets.VBox):
    """Pick a filter: its PWM (from the sequences that activate it), its best JASPAR
    match, and its activation along one sequence.

    A view over :func:`genotutor.interpret.filter_table`: every filter's PWM as an
    information logo, its best shipped JASPAR match with that motif's logo on the matching
    strand, and the filters' tracks along the first sequences (``n_tracks x F x L'``
    floats, 3.4 MB in the page for chapter 3's 32 filters along 100 sequences of length
    200). The track is the quantity the PWMs' site rule thresholds (the activation, by
    default), so a peak of the track above its filter's cutoff is a site of the PWM. It
    computes nothing, so it works the same in a live notebook and on the static page.

    Parameters
    ----------
    table : genotutor.interpret.FilterTable
        From ``filter_table(model, x, ...)``.
    x : torch.Tensor, shape (N, 4, L)
        The sequences of the table (the first ``len(table.tracks)`` are offered).
    truth : torch.Tensor, shape (N, L), bool, optional
        Positions to shade (e.g. planted motifs).

    Attributes
    ----------
    filter, sequence : ipywidgets controls
    view : FilterView
        Draws the summary and the figure.
    pwms : genotutor.interpret.FilterPWMs
    matches : pandas.DataFrame
        Each filter's best match (:func:`genotutor.interpret.match_filters`).
    activations : torch.Tensor, shape (min(N, n_tracks), F, L')
        The tracks of the table.

    Taught in chapter 3.
    """

    def __init__(
        self, table: FilterTable, x: torch.Tensor, *, truth: torch.Tensor | None = None
    ) -> None:
        if not isinstance(table, FilterTable):
            raise TypeError(
                f"table must be a FilterTable (from filter_table); found {describe(table)}"
            )
        self.x = check_one_hot(x, "x")
        self.truth = check_mask(truth, (self.x.shape[0], self.x.shape[-1]), "truth")
        if len(table.tracks) > len(self.x):
            raise ValueError(
                f"x must hold the table's sequences: the table has {len(table.tracks)} "
                f"tracks; found {len(self.x)} sequences"
            )
        self.table = table
        self.pwms, self.matches, self.activations = table.pwms, table.matches, table.tracks
        shown = len(self.activations)
        self.filter = widgets.BoundedIntText(
            value=0, min=0, max=len(self.pwms) - 1, description="filter"
        )
        self.sequence = widgets.BoundedIntText(
            value=0, min=0, max=shown - 1, description="sequence"
        )
        self.view = FilterView(data=self._data())
        super().__init__(linked_layout(self, self.view, [("filter", "sequence")]))

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
        data = {
            "pwms": pack(np.stack([_information_heights(p) for p in self.pwms.probs])),
            "n_sites": pack(self.pwms.n_sites, "int32"),
            "matches": [self._match(index) for index in range(len(self.pwms))],
            "tracks": pack(self.activations),
            # score i is of the window x[i - padding : i - padding + w]: its centre
            "centre": self.table.centre,
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
