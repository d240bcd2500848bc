"""The chapter-10 explorer: a variant's SpliceAI tracks, before and after it."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import traitlets

from genotutor.validation import describe
from genotutor.variants import DELTA_COLUMNS, SpliceTracks, delta_scores
from genotutor.widgets._view import ExplorerView, esm, link, pack


class VariantView(ExplorerView):
    """The browser side of :class:`VariantExplorer` (``js/variants.js``)."""

    _esm = esm("variants")
    variant = traitlets.Int(0).tag(sync=True)  # index of the chosen variant (list mode)
    position = traitlets.Int(0).tag(sync=True)  # index into the positions (grid mode)
    base = traitlets.Int(0).tag(sync=True)  # index into A, C, G, T (grid mode)


def _grid(tracks: SpliceTracks) -> tuple[np.ndarray, np.ndarray] | None:
    """``(positions, rows)`` when the tracks hold the three substitutions at each of a run
    of positions (``rows[i, b]``: the variant with base ``b`` at position ``i``, -1 for the
    reference base), else None."""
    table = tracks.variants
    if not (table["ref"].str.len().eq(1) & table["alt"].str.len().eq(1)).all():
        return None
    positions = np.unique(table["position"].to_numpy())
    if len(table) != 3 * len(positions) or np.any(np.diff(positions) != 1):
        return None
    rows = np.full((len(positions), 4), -1, dtype=np.int32)
    for i, (position, alt) in enumerate(zip(table["position"], table["alt"])):
        rows[np.searchsorted(positions, position), "ACGT".index(alt)] = i
    return positions, rows


class VariantExplorer(widgets.VBox):
    """SpliceAI's acceptor and donor probabilities around a variant, before and after it,
    with its four delta scores.

    A view over :func:`genotutor.variants.spliceai_tracks`: it computes nothing. With
    tracks of every substitution in a run of positions it offers a position and a base;
    with any other set of variants, a list of them (labelled by ``labels``).

    Parameters
    ----------
    tracks : genotutor.variants.SpliceTracks
    labels : sequence of str, optional
        One label per variant (list mode); ``position ref>alt`` by default.
    position_labels : sequence of str, optional
        One label per position (grid mode), e.g. in splice-site numbering; the position
        in the sequence by default.

    Attributes
    ----------
    view : VariantView
    deltas : pandas.DataFrame
        :func:`genotutor.variants.delta_scores` of the tracks (what the summary prints).

    Taught in chapter 11.
    """

    def __init__(
        self,
        tracks: SpliceTracks,
        *,
        labels: list[str] | None = None,
        position_labels: list[str] | None = None,
    ) -> None:
        if not isinstance(tracks, SpliceTracks):
            raise TypeError(f"tracks must come from spliceai_tracks; found {describe(tracks)}")
        table = tracks.variants
        if labels is None:
            labels = [
                f"{p} {r}>{a}" for p, r, a in zip(table["position"], table["ref"], table["alt"])
            ]
        if len(labels) != len(table) or not all(isinstance(s, str) for s in labels):
            raise ValueError(
                f"labels must be {len(table)} strings, one per variant; found {labels!r}"
            )
        self.deltas = delta_scores(tracks)
        data = {
            "reference": pack(tracks.reference[:, 1:]),
            "alternative": pack(tracks.alternative[:, 1:]),
            "deltas": pack(self.deltas[list(DELTA_COLUMNS)].to_numpy()),
            "at": pack(self.deltas[[c + "_at" for c in DELTA_COLUMNS]].to_numpy(), "int32"),
            "distance": tracks.distance,
            "labels": list(labels),
            "refs": list(table["ref"]),
        }
        grid = _grid(tracks)
        if grid is None:
            self.controls = [widgets.Dropdown(options=list(labels), description="variant")]
            names = ["variant"]
        else:
            positions, rows = grid
            if position_labels is None:
                position_labels = [str(p) for p in positions]
            if len(position_labels) != len(positions) or not all(
                isinstance(s, str) for s in position_labels
            ):
                raise ValueError(
                    f"position_labels must be {len(positions)} strings, one per position; "
                    f"found {position_labels!r}"
                )
            data.update({"positions": pack(positions, "int32"), "rows": pack(rows, "int32"),
                         "position_labels": list(position_labels)})  # fmt: skip
            slider = widgets.IntSlider(value=len(positions) // 2, min=0, max=len(positions) - 1,
                                       description="position", continuous_update=False,
                                       readout=False)  # fmt: skip
            base = widgets.ToggleButtons(options=list("ACGT"), description="base")
            self.controls, names = [slider, base], ["position", "base"]
        self.view = VariantView(data=data)
        for control, name in zip(self.controls, names):
            link(control, self.view, name)
        super().__init__([widgets.HBox(self.controls), self.view])
