"""The chapter-7 explorer: edit an exon or toggle a confounder, watch teacher, student and
truth move."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from genotutor.plotting import logo
from genotutor.sequences import ALPHABET, check_model, check_tensor, mutate
from genotutor.splicing.features import edit_feature
from genotutor.training import predict
from genotutor.widgets._base import render_into, sequence_and_position_controls

EDITS = {
    "none": None,
    "add 2 CpG": ("cpg", "add"),
    "remove CpG": ("cpg", "remove"),
    "add 2 stops": ("stop", "add"),
    "remove stops": ("stop", "remove"),
}


class SplicingExplorer(widgets.VBox):
    """Mutate a base of an exon, or add / remove CpG or in-frame stop codons, and compare
    several models' predictions before and after.

    Parameters
    ----------
    models : dict of str to torch.nn.Module
        Any models mapping ``(N, 4, L)`` to ``(N, T)`` (output ``target`` is shown), e.g.
        ``{"teacher": ..., "student": ..., "truth": TruthModel()}``.
    x : torch.Tensor, shape (N, 4, L)
    region : (int, int), optional
        Where confounders are added or removed (the exon body); everywhere by default.
    frame : int
        A codon start (for stop codons).
    target : int
    window : int
        Positions shown around the mutated base.

    Attributes
    ----------
    sequence, position, base, edit : ipywidgets controls
    summary : ipywidgets.HTML

    Taught in chapter 8.
    """

    def __init__(
        self,
        models: dict[str, nn.Module],
        x: torch.Tensor,
        *,
        region: tuple[int, int] | None = None,
        frame: int = 0,
        target: int = 0,
        window: int = 40,
    ) -> None:
        if not isinstance(models, dict) or not models:
            raise TypeError("models must be a non-empty dict of name -> model")
        self.models = {name: check_model(m, name) for name, m in models.items()}
        self.x = check_tensor(x, "x")
        self.region, self.frame, self.target = region, int(frame), int(target)
        self.window = int(window)
        length = self.x.shape[-1]
        self.sequence, self.position = sequence_and_position_controls(len(self.x), length)
        self.base = widgets.ToggleButtons(options=["keep", *ALPHABET], description="base")
        self.edit = widgets.Dropdown(options=list(EDITS), description="confounder")
        self.summary = widgets.HTML()
        self.output = widgets.Output()
        for control in (self.sequence, self.position, self.base, self.edit):
            control.observe(self._update, names="value")
        super().__init__(
            [
                widgets.HBox([self.sequence, self.position]),
                widgets.HBox([self.base, self.edit]),
                self.summary,
                self.output,
            ]
        )
        self._update()

    def edited(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The chosen sequence before and after the edits, each of shape (1, 4, L)."""
        index = self.sequence.value
        if not 0 <= index < len(self.x):
            raise ValueError(f"sequence must be in [0, {len(self.x) - 1}]; found {index}")
        before = self.x[index : index + 1]
        after = before
        if self.base.value != "keep":
            after = mutate(after, self.position.value, self.base.value)
        change = EDITS[self.edit.value]
        if change is not None:
            feature, action = change
            after = edit_feature(
                after, feature, action, n_sites=2, region=self.region, frame=self.frame
            )
        return before, after

    def predictions(self) -> dict[str, tuple[float, float]]:
        """Each model's output before and after the edits."""
        before, after = self.edited()
        both = torch.cat([before, after])
        return {
            name: tuple(float(v) for v in predict(model, both)[:, self.target])
            for name, model in self.models.items()
        }

    def _draw(self) -> plt.Figure:
        values = self.predictions()
        before, after = self.edited()
        self.summary.value = ", ".join(
            f"{name} <b>{a:.2f}</b> &rarr; <b>{b:.2f}</b> ({b - a:+.2f})"
            for name, (a, b) in values.items()
        )
        fig, (ax_bar, ax_logo) = plt.subplots(
            1, 2, figsize=(11, 2.2), gridspec_kw={"width_ratios": [1, 3]}
        )
        names = list(values)
        spots = np.arange(len(names))
        ax_bar.bar(spots - 0.2, [values[n][0] for n in names], 0.4, label="before")
        ax_bar.bar(spots + 0.2, [values[n][1] for n in names], 0.4, label="after")
        ax_bar.set_xticks(spots, names, fontsize=8)
        ax_bar.axhline(0, color="black", linewidth=0.5)
        ax_bar.legend(fontsize=7)
        ax_bar.set_ylabel("prediction", fontsize=8)
        length = self.x.shape[-1]
        pos = self.position.value
        start = max(0, min(pos - self.window // 2, length - self.window))
        stop = min(length, start + self.window)
        logo(after[0, :, start:stop], ax=ax_logo, start=start)
        changed = np.flatnonzero((after != before)[0].any(dim=0).numpy())
        for spot in changed:
            if start <= spot < stop:
                ax_logo.axvspan(spot - 0.5, spot + 0.5, color="crimson", alpha=0.25)
        ax_logo.set_title(
            f"sequence {self.sequence.value} after the edits (changed bases shaded)",
            fontsize=9,
            loc="left",
        )
        fig.tight_layout()
        return fig

    def _update(self, change: dict | None = None) -> None:
        if not render_into(self.output, self._draw):
            self.summary.value = ""


def splicing_explorer(
    models: dict[str, nn.Module],
    x: torch.Tensor,
    *,
    region: tuple[int, int] | None = None,
    frame: int = 0,
    target: int = 0,
) -> SplicingExplorer:
    """Build a :class:`SplicingExplorer` (chapter 8) for any models and sequences."""
    return SplicingExplorer(models, x, region=region, frame=frame, target=target)
