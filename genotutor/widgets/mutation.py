"""The chapter-1 explorer: mutate one base, see the prediction change."""

from __future__ import annotations

import ipywidgets as widgets
import torch
import traitlets
from torch import nn

from genotutor.attribution.ism import ism
from genotutor.sequences import ALPHABET
from genotutor.training import predict
from genotutor.validation import check_positive_int
from genotutor.widgets._base import check_view_inputs, sequence_and_position_controls
from genotutor.widgets._view import ExplorerView, esm, link, pack


class MutationView(ExplorerView):
    """The browser side of :class:`MutationExplorer` (``js/mutation.js``)."""

    _esm = esm("mutation")
    sequence = traitlets.Int(0).tag(sync=True)
    position = traitlets.Int(0).tag(sync=True)
    base = traitlets.Int(0).tag(sync=True)  # index into A, C, G, T


class MutationExplorer(widgets.VBox):
    """Mutate one base of a sequence and see the model's prediction change.

    Every single-base mutant of every sequence is predicted once, when the explorer is
    built (by :func:`genotutor.attribution.ism`, ``3 L`` mutants per sequence); the view
    draws from that table, so the explorer works the same in a live notebook and on the
    book's static page.

    Parameters
    ----------
    model, x, truth, target
        As for :class:`genotutor.widgets.AttributionExplorer` (``target`` is the output
        shown).
    window : int
        How many positions around the mutated base the figure shows.

    Attributes
    ----------
    sequence, position, base : ipywidgets controls
    view : MutationView
        Draws the summary and the figure.
    outputs : torch.Tensor, shape (N, 4, L)
        The output with base ``b`` at position ``i`` of each sequence (the reference's
        output at its own base).

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
        self.window = check_positive_int(window, "window")
        self.reference = predict(self.model, self.x)[:, self.target]
        deltas = ism(self.model, self.x, self.target, progress=False)
        self.outputs = deltas + self.reference[:, None, None]
        length = self.x.shape[-1]
        self.sequence, self.position = sequence_and_position_controls(len(self.x), length)
        self.base = widgets.ToggleButtons(options=list(ALPHABET), description="base")
        data = {
            "bases": pack(self.x.argmax(1), "uint8"),
            "outputs": pack(self.outputs),
            "reference": pack(self.reference),
            "window": self.window,
        }
        if self.truth is not None:
            data["truth"] = pack(self.truth, "uint8")
        self.view = MutationView(data=data)
        for name in ("sequence", "position", "base"):
            link(getattr(self, name), self.view, name)
        super().__init__([widgets.HBox([self.sequence, self.position]), self.base, self.view])

    def mutated_prediction(self) -> tuple[float, float]:
        """The model's output for the chosen sequence before and after the mutation."""
        index, position = self.sequence.value, self.position.value
        after = self.outputs[index, ALPHABET.index(self.base.value), position]
        return float(self.reference[index]), float(after)


def mutation_explorer(
    model: nn.Module, x: torch.Tensor, *, truth: torch.Tensor | None = None, target: int = 0
) -> MutationExplorer:
    """Build a :class:`MutationExplorer` (chapter 1) for any model and sequences."""
    return MutationExplorer(model, x, truth=truth, target=target)
