"""The chapter-8 explorer: SQUID-style surrogates around a locus, fitted over a grid of
settings, and what they show."""

from __future__ import annotations

import ipywidgets as widgets
import torch
import traitlets

from genotutor.surrogate import SurrogateGrid
from genotutor.surrogate.grid import FAMILIES
from genotutor.validation import check_mask, describe
from genotutor.widgets._view import ExplorerView, esm, linked_layout, pack


class SurrogateView(ExplorerView):
    """The browser side of :class:`SurrogateExplorer` (``js/surrogate.js``)."""

    _esm = esm("surrogate")
    locus = traitlets.Int(0).tag(sync=True)
    rate = traitlets.Int(0).tag(sync=True)  # index into the rates
    size = traitlets.Int(0).tag(sync=True)  # index into the library sizes
    family = traitlets.Int(0).tag(sync=True)  # index into FAMILIES


class SurrogateExplorer(widgets.VBox):
    """Choose a locus, a mutation rate, a library size and a model family; see the
    surrogate's logo, its held-out fit and its global-epistasis nonlinearity.

    A view over :func:`genotutor.surrogate.surrogate_grid` (every combination of the
    controls fitted once): per fit the additive logo (hierarchical gauge), the held-out
    R^2, the library's mean number of mutations, up to 300 held-out mutants (surrogate
    prediction, phi, model output) and the nonlinearity with its band. It computes
    nothing, so the explorer works the same in a live notebook and on the book's static
    page.

    Parameters
    ----------
    grid : genotutor.surrogate.SurrogateGrid
        From ``surrogate_grid(model, x, ...)``.
    truth : torch.Tensor, shape (N, L), bool, optional
        Positions to shade (e.g. planted motifs).

    Attributes
    ----------
    locus, rate, size, family : ipywidgets controls
    view : SurrogateView
        Draws the summary and the figure.
    table : genotutor.surrogate.SurrogateGrid
        The grid shown.
    windows, rates, sizes
        The grid's.

    Taught in chapter 8.
    """

    def __init__(self, grid: SurrogateGrid, *, truth: torch.Tensor | None = None) -> None:
        if not isinstance(grid, SurrogateGrid):
            raise TypeError(
                f"grid must be a SurrogateGrid (from surrogate_grid); found {describe(grid)}"
            )
        if tuple(grid.families) != tuple(FAMILIES):
            raise ValueError(f"grid must fit the families {list(FAMILIES)}; found {grid.families}")
        self.table = grid
        self.windows, self.rates, self.sizes = grid.windows, grid.rates, grid.sizes
        n = len(self.windows)
        self.truth = check_mask(truth, (n, grid.length), "truth")
        self.locus = widgets.BoundedIntText(value=0, min=0, max=n - 1, description="locus")
        self.rate = widgets.SelectionSlider(
            options=list(self.rates),
            value=_nearest(self.rates, 0.1),
            description="mutation rate",
            continuous_update=False,
            style={"description_width": "initial"},
        )
        self.size = widgets.ToggleButtons(
            options=list(self.sizes), value=_nearest(self.sizes, 2000), description="library"
        )
        self.family = widgets.Dropdown(
            options=list(FAMILIES), value="additive, GE", description="model"
        )
        self.view = SurrogateView(data=self._data())
        rows = [("locus", "rate"), ("size", "family")]
        super().__init__(linked_layout(self, self.view, rows))

    def window(self) -> tuple[int, int]:
        """The ``(start, stop)`` window of the chosen locus."""
        return self.windows[self._index()]

    def _index(self) -> int:
        index = self.locus.value
        if not 0 <= index < len(self.windows):
            raise ValueError(f"locus must be in [0, {len(self.windows) - 1}]; found {index}")
        return index

    def shown(self) -> dict[str, float]:
        """The summary's numbers for the current controls, read from the table: held-out
        ``r2`` and mean ``mutations`` per mutant."""
        at = (self._index(), self.rate.index, self.size.index)
        return {
            "r2": float(self.table.r2[(*at, self.family.index)]),
            "mutations": float(self.table.mutations[at]),
        }

    def _data(self) -> dict:
        grid = self.table
        data = {
            "logo": pack(grid.logo),
            "r2": pack(grid.r2),
            "mutations": pack(grid.mutations),
            "points": pack(grid.points),
            "curve": pack(grid.curve),
            "windows": [list(w) for w in self.windows],
            "rates": list(self.rates),
            "sizes": list(self.sizes),
            "families": list(FAMILIES),
        }
        if self.truth is not None:
            data["truth"] = pack(self.truth, "uint8")
        return data


def _nearest(values: tuple, goal: float) -> object:
    return min(values, key=lambda v: abs(v - goal))
