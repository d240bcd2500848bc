"""The chapter-3 explorer: pick a first-layer filter, see its PWM, its best JASPAR match
and where it fires along a sequence."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from torch import nn

from genotutor.interpret import filter_activations, filters_to_pwms
from genotutor.motifs import get_motif, jaspar_motifs, motif_similarity, trim_motif
from genotutor.plotting import logo, shade_truth
from genotutor.sequences import check_model, check_one_hot
from genotutor.widgets._base import render_into


class FilterExplorer(widgets.VBox):
    """Pick a filter: its PWM (from the sequences that activate it), its best JASPAR
    match, and its activation along one sequence.

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

    Attributes
    ----------
    filter, sequence : ipywidgets controls
    summary : ipywidgets.HTML
        The best match, its score, strand and offset.

    Taught in chapter 3.
    """

    def __init__(
        self,
        model: nn.Module,
        x: torch.Tensor,
        *,
        truth: torch.Tensor | None = None,
        threshold: float = 0.5,
    ) -> None:
        self.model = check_model(model)
        self.x = check_one_hot(x, "x")
        self.truth = truth
        self.pwms = filters_to_pwms(self.model, self.x, threshold=threshold, progress=False)
        self.activations = filter_activations(self.model, self.x)
        self.filter = widgets.BoundedIntText(
            value=0, min=0, max=len(self.pwms) - 1, description="filter"
        )
        self.sequence = widgets.BoundedIntText(
            value=0, min=0, max=len(self.x) - 1, description="sequence"
        )
        self.summary = widgets.HTML()
        self.output = widgets.Output()
        for control in (self.filter, self.sequence):
            control.observe(self._update, names="value")
        super().__init__([widgets.HBox([self.filter, self.sequence]), self.summary, self.output])
        self._update()

    def best_match(self) -> tuple[str, float, str, int]:
        """Name, score, strand and offset of the chosen filter's best shipped JASPAR match."""
        index = self.filter.value
        if not 0 <= index < len(self.pwms):
            raise ValueError(f"filter must be in [0, {len(self.pwms) - 1}]; found {index}")
        query = trim_motif(self.pwms.probs[index])
        scored = {name: motif_similarity(query, motif) for name, motif in jaspar_motifs().items()}
        name = max(scored, key=lambda key: scored[key].score)
        best = scored[name]
        return name, best.score, best.strand, best.offset

    def _draw(self) -> plt.Figure:
        name, score, strand, offset = self.best_match()
        index, row = self.filter.value, self.sequence.value
        if not 0 <= row < len(self.x):
            raise ValueError(f"sequence must be in [0, {len(self.x) - 1}]; found {row}")
        self.summary.value = (
            f"filter {index}: {int(self.pwms.n_sites[index])} sites, best match <b>{name}</b> "
            f"(score {score:.2f}, strand {strand}, offset {offset})"
        )
        fig = plt.figure(figsize=(10, 3.8))
        grid = fig.add_gridspec(2, 2, height_ratios=[1, 1])
        pwm_ax, match_ax, track_ax = (
            fig.add_subplot(grid[0, 0]),
            fig.add_subplot(grid[0, 1]),
            fig.add_subplot(grid[1, :]),
        )
        logo(self.pwms.probs[index], ax=pwm_ax, information=True, title=f"filter {index}")
        motif = get_motif(name)
        probs = motif.probs if strand == "+" else motif.probs[::-1, ::-1]
        logo(probs, ax=match_ax, information=True, title=f"{name} ({strand} strand)")
        track_ax.plot(self.activations[row, index].numpy(), linewidth=0.9)
        if self.truth is not None:
            shade_truth(track_ax, self.truth[row])
        track_ax.set_title(f"filter {index} along sequence {row}", fontsize=9, loc="left")
        track_ax.set_xlabel("position (window centre)")
        fig.tight_layout()
        return fig

    def _update(self, change: dict | None = None) -> None:
        if not render_into(self.output, self._draw):
            self.summary.value = ""


def filter_explorer(
    model: nn.Module, x: torch.Tensor, *, truth: torch.Tensor | None = None
) -> FilterExplorer:
    """Build a :class:`FilterExplorer` (chapter 3) for any model and sequences."""
    return FilterExplorer(model, x, truth=truth)
