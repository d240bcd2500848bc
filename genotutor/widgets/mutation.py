"""The chapter-1 explorer: mutate one base, see the prediction change."""

from __future__ import annotations

import ipywidgets as widgets
import torch
import traitlets

from genotutor.attribution import MutationTable
from genotutor.sequences import ALPHABET
from genotutor.validation import check_mask, check_positive_int, check_tensor, describe
from genotutor.widgets._base import sequence_and_position_controls
from genotutor.widgets._view import ExplorerView, esm, linked_layout, pack


class MutationView(ExplorerView):
    """The browser side of :class:`MutationExplorer` (``js/mutation.js``)."""

    _esm = esm("mutation")
    sequence = traitlets.Int(0).tag(sync=True)
    position = traitlets.Int(0).tag(sync=True)
    base = traitlets.Int(0).tag(sync=True)  # index into A, C, G, T


class MutationExplorer(widgets.VBox):
    """Mutate one base of a sequence and see the model's prediction change.

    A view over :func:`genotutor.attribution.mutation_table` (every single-base mutant of
    every sequence, ``3 L`` per sequence, run through the model once): it computes
    nothing, so the explorer works the same in a live notebook and on the book's static
    page.

    Parameters
    ----------
    table : genotutor.attribution.MutationTable
        From ``mutation_table(model, x, target=...)``.
    x : torch.Tensor, shape (N, 4, L)
        The sequences of the table.
    truth : torch.Tensor, shape (N, L), bool, optional
        Positions to shade (e.g. planted motifs).
    window : int
        How many positions around the mutated base the figure shows.

    Attributes
    ----------
    sequence, position, base : ipywidgets controls
    view : MutationView
        Draws the summary and the figure.
    reference : torch.Tensor, shape (N,)
        The output for each sequence as it is.
    outputs : torch.Tensor, shape (N, 4, L)
        The output with base ``b`` at position ``i`` of each sequence (the reference's
        output at its own base).

    Taught in chapter 1.
    """

    def __init__(
        self,
        table: MutationTable,
        x: torch.Tensor,
        *,
        truth: torch.Tensor | None = None,
        window: int = 40,
    ) -> None:
        self.x = check_tensor(x, "x")
        self.truth = check_mask(truth, (self.x.shape[0], self.x.shape[-1]), "truth")
        if not isinstance(table, MutationTable):
            raise TypeError(
                f"table must be a MutationTable (from mutation_table); found {describe(table)}"
            )
        if tuple(table.outputs.shape) != tuple(self.x.shape):
            raise ValueError(
                f"table must have the shape of x, {tuple(self.x.shape)}; found outputs of "
                f"shape {tuple(table.outputs.shape)}"
            )
        self.table = table
        self.reference, self.outputs = table.reference, table.outputs
        self.window = check_positive_int(window, "window")
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
        super().__init__(linked_layout(self, self.view, [("sequence", "position"), "base"]))

    def mutated_prediction(self) -> tuple[float, float]:
        """The model's output for the chosen sequence before and after the mutation."""
        index, position = self.sequence.value, self.position.value
        after = self.outputs[index, ALPHABET.index(self.base.value), position]
        return float(self.reference[index]), float(after)
