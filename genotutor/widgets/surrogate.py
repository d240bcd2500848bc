"""The chapter-6 explorer: fit a SQUID-style surrogate around a locus and look at it."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from genotutor.plotting import logo, shade_truth
from genotutor.surrogate import explain_locus
from genotutor.widgets._base import check_view_inputs, render_into

FAMILIES = {
    "additive, GE": ("additive", "ge"),
    "additive, linear": ("additive", "linear"),
    "pairwise, GE": ("pairwise", "ge"),
}


class SurrogateExplorer(widgets.VBox):
    """Choose a locus, a mutation rate, a library size and a model family; see the
    surrogate's logo, its held-out fit and its global-epistasis nonlinearity.

    Parameters
    ----------
    model : torch.nn.Module
        Any model mapping ``(N, 4, L)`` one-hot DNA to ``(N, T)`` outputs (yours too).
    x : torch.Tensor, shape (N, 4, L)
        The candidate loci.
    truth : torch.Tensor, shape (N, L), bool, optional
        Positions to shade (e.g. planted motifs).
    window : int
        Width of the mutated and modelled window, centred on ``centre`` (or the middle).
    centres : sequence of int, optional
        The window's centre for each locus.
    target : int
        Which output to explain.

    Attributes
    ----------
    locus, rate, size, family : ipywidgets controls
    summary : ipywidgets.HTML
        Held-out R^2 of the surrogate and the library's mean number of mutations.

    Taught in chapter 7.
    """

    def __init__(
        self,
        model: nn.Module,
        x: torch.Tensor,
        *,
        truth: torch.Tensor | None = None,
        window: int = 50,
        centres: list[int] | None = None,
        target: int = 0,
    ) -> None:
        self.model, self.x, self.truth, self.target = check_view_inputs(model, x, truth, target)
        length = self.x.shape[-1]
        self.width = min(int(window), length)
        self.centres = list(centres) if centres is not None else [length // 2] * len(self.x)
        self.locus = widgets.BoundedIntText(
            value=0, min=0, max=len(self.x) - 1, description="locus"
        )
        self.rate = widgets.FloatSlider(
            value=0.1,
            min=0.02,
            max=0.5,
            step=0.02,
            description="mutation rate",
            continuous_update=False,
        )
        self.size = widgets.Dropdown(
            options=[1000, 2000, 5000, 10000], value=2000, description="library"
        )
        self.family = widgets.Dropdown(
            options=list(FAMILIES), value="additive, GE", description="model"
        )
        self.summary = widgets.HTML()
        self.output = widgets.Output()
        for control in (self.locus, self.rate, self.size, self.family):
            control.observe(self._update, names="value")
        super().__init__(
            [
                widgets.HBox([self.locus, self.rate]),
                widgets.HBox([self.size, self.family]),
                self.summary,
                self.output,
            ]
        )
        self._update()

    def window(self) -> tuple[int, int]:
        """The ``(start, stop)`` window of the chosen locus."""
        index = self.locus.value
        if not 0 <= index < len(self.x):
            raise ValueError(f"locus must be in [0, {len(self.x) - 1}]; found {index}")
        length = self.x.shape[-1]
        start = min(max(0, int(self.centres[index]) - self.width // 2), length - self.width)
        return start, start + self.width

    def fit(self):
        """Fit the surrogate for the current controls (a :class:`LocusSurrogate`)."""
        gpmap, nonlinearity = FAMILIES[self.family.value]
        window = self.window()  # checks the locus index first
        return explain_locus(
            self.model,
            self.x[self.locus.value],
            n=int(self.size.value),
            mutation_rate=float(self.rate.value),
            window=window,
            target=self.target,
            gpmap=gpmap,
            nonlinearity=nonlinearity,
            seed=0,
            progress=False,
        )

    def _draw(self) -> None:
        result = self.fit()
        surrogate, (start, stop) = result.surrogate, result.window
        held = surrogate.valid_index
        y_hat = surrogate.predict(result.library[held][..., start:stop]).numpy()
        mutations = (result.library.argmax(1) != result.library[0].argmax(0)).sum(1).float()
        self.summary.value = (
            f"held-out R<sup>2</sup> <b>{surrogate.valid_r2:.3f}</b>; "
            f"{float(mutations[1:].mean()):.1f} mutations per sequence on average"
        )
        fig = plt.figure(figsize=(10, 4.2))
        grid = fig.add_gridspec(2, 2, height_ratios=[1, 1.3])
        ax_logo = fig.add_subplot(grid[0, :])
        logo(surrogate.additive_params(gauge="hierarchical"), ax=ax_logo)
        if self.truth is not None:
            shade_truth(ax_logo, self.truth[self.locus.value, start:stop], start=start)
        ax_logo.set_title(
            f"locus {self.locus.value}: additive parameters ({self.family.value})",
            fontsize=9,
            loc="left",
        )
        ax_fit = fig.add_subplot(grid[1, 0])
        ax_fit.scatter(y_hat, result.y[held].numpy(), s=3, alpha=0.4)
        ax_fit.set_xlabel("surrogate prediction")
        ax_fit.set_ylabel("model output")
        ax_ge = fig.add_subplot(grid[1, 1])
        phi = surrogate.predict(result.library[held][..., start:stop], output="phi").numpy()
        ax_ge.scatter(phi, result.y[held].numpy(), s=3, alpha=0.3, color="grey")
        curve = surrogate.nonlinearity_curve(span=float(np.abs(phi).max()) + 0.5)
        ax_ge.plot(curve["phi"], curve["y_hat"], color="crimson")
        ax_ge.fill_between(
            curve["phi"], curve["lower"], curve["upper"], color="crimson", alpha=0.15
        )
        ax_ge.set_xlabel("latent phenotype phi")
        fig.tight_layout()

    def _update(self, change: dict | None = None) -> None:
        if not render_into(self.output, self._draw):
            self.summary.value = ""


def surrogate_explorer(model: nn.Module, x: torch.Tensor, **options: object) -> SurrogateExplorer:
    """Build a :class:`SurrogateExplorer` (chapter 7) for any model and loci; ``options``
    are its keyword arguments (``truth``, ``window``, ``centres``, ``target``)."""
    return SurrogateExplorer(model, x, **options)
