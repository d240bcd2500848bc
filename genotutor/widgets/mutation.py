"""The chapter-1 explorer: mutate one base, see the prediction change."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from torch import nn

from genotutor.plotting import logo
from genotutor.sequences import ALPHABET, mutate
from genotutor.training import predict
from genotutor.widgets._base import check_view_inputs, render_into, sequence_and_position_controls


class MutationExplorer(widgets.VBox):
    """Mutate one base of a sequence and see the model's prediction change.

    Parameters
    ----------
    model, x, truth, target
        As for :class:`genotutor.widgets.AttributionExplorer` (``target`` is the output
        shown).
    window : int
        How many positions around the mutated base the logo shows.

    Attributes
    ----------
    sequence, position, base : ipywidgets controls
    summary : ipywidgets.HTML
        The predictions before and after the mutation.

    Taught in chapter 1.
    """

    def __init__(
        self,
        model: nn.Module,
        x: torch.Tensor,
        *,
        truth: torch.Tensor | None = None,
        target: int = 0,
        window: int = 40,
    ) -> None:
        self.model, self.x, self.truth, self.target = check_view_inputs(model, x, truth, target)
        self.window = int(window)
        self.reference = predict(self.model, self.x)[:, self.target]
        length = self.x.shape[-1]
        self.sequence, self.position = sequence_and_position_controls(len(self.x), length)
        self.base = widgets.ToggleButtons(options=list(ALPHABET), description="base")
        self.summary = widgets.HTML()
        self.output = widgets.Output()
        for control in (self.sequence, self.position, self.base):
            control.observe(self._update, names="value")
        super().__init__(
            [widgets.HBox([self.sequence, self.position]), self.base, self.summary, self.output]
        )
        self._update()

    def mutated_prediction(self) -> tuple[float, float]:
        """The model's output for the chosen sequence before and after the mutation."""
        index = self.sequence.value
        if not 0 <= index < len(self.x):
            raise ValueError(f"sequence must be in [0, {len(self.x) - 1}]; found {index}")
        mutant = mutate(self.x[index : index + 1], self.position.value, self.base.value)
        after = float(predict(self.model, mutant)[0, self.target])
        return float(self.reference[index]), after

    def _draw(self) -> plt.Figure:
        before, after = self.mutated_prediction()
        index, pos = self.sequence.value, self.position.value
        self.summary.value = (
            f"output before <b>{before:.3f}</b>, after <b>{after:.3f}</b>, "
            f"change <b>{after - before:+.3f}</b>"
        )
        length = self.x.shape[-1]
        start = max(0, min(pos - self.window // 2, length - self.window))
        stop = min(length, start + self.window)
        mutant = mutate(self.x[index], pos, self.base.value)
        fig, ax = plt.subplots(figsize=(9, 1.8))
        truth = None if self.truth is None else self.truth[index, start:stop]
        logo(mutant[:, start:stop], ax=ax, start=start, truth=truth)
        ax.axvline(pos, color="crimson", linewidth=1)
        ax.set_title(
            f"sequence {index}, {self.base.value} at position {pos}", fontsize=9, loc="left"
        )
        return fig

    def _update(self, change: dict | None = None) -> None:
        if not render_into(self.output, self._draw):
            self.summary.value = ""


def mutation_explorer(
    model: nn.Module, x: torch.Tensor, *, truth: torch.Tensor | None = None, target: int = 0
) -> MutationExplorer:
    """Build a :class:`MutationExplorer` (chapter 1) for any model and sequences."""
    return MutationExplorer(model, x, truth=truth, target=target)
