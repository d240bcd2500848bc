"""The chapter-8 and chapter-9 explorer: edit an exon or toggle a confounder, watch
teacher, student and truth move."""

from __future__ import annotations

import ipywidgets as widgets
import torch
import traitlets

from genotutor.sequences import ALPHABET, mutate
from genotutor.splicing.edits import EDITS, N_SITES, EditTable
from genotutor.splicing.features import edit_feature, to_codes
from genotutor.validation import check_positive_int, describe
from genotutor.widgets._base import sequence_and_position_controls
from genotutor.widgets._view import ExplorerView, esm, linked_layout, pack


class SplicingView(ExplorerView):
    """The browser side of :class:`SplicingExplorer` (``js/splicing.js``)."""

    _esm = esm("splicing")
    sequence = traitlets.Int(0).tag(sync=True)
    position = traitlets.Int(0).tag(sync=True)
    base = traitlets.Int(0).tag(sync=True)  # index into keep, A, C, G, T
    edit = traitlets.Int(0).tag(sync=True)  # index into EDITS


class SplicingExplorer(widgets.VBox):
    """Mutate a base of an exon, or add / remove CpG or in-frame stop codons, and compare
    several models' predictions before and after.

    A view over :func:`genotutor.splicing.edit_table` (every combination the controls
    can reach, sequence, position in ``positions``, base and confounder edit, ``N x P x 4
    x 5`` edited sequences, run through every model once): it draws each model's output
    and the bases the edits changed, and computes nothing, so the explorer works the same
    in a live notebook and on the book's static page.

    Parameters
    ----------
    table : genotutor.splicing.EditTable
        From ``edit_table(models, x, ...)``.
    x : torch.Tensor, shape (N, 4, L)
        The sequences of the table, one-hot (A, C, G, T only).
    window : int
        Positions shown around the mutated base.

    Attributes
    ----------
    sequence, position, base, edit : ipywidgets controls
    view : SplicingView
        Draws the summary (each model's change at the site) and the tracks around it.
    table : genotutor.splicing.EditTable
    names : tuple of str
        The models' names.
    positions, region, frame, seed
        The table's.
    before : torch.Tensor, shape (M, N)
        Each model's output for each sequence as it is.
    n_distinct : int
        How many distinct edited sequences each model was run on to fill the table.
    after : torch.Tensor, shape (M, N, 5, 4, P)
        Each model's output after edit ``e`` (in the order of ``EDITS``) of the sequence
        with base ``b`` at position ``positions[0] + i``.

    Taught in chapter 9.
    """

    def __init__(self, table: EditTable, x: torch.Tensor, *, window: int = 40) -> None:
        if not isinstance(table, EditTable):
            raise TypeError(
                f"table must be an EditTable (from edit_table); found {describe(table)}"
            )
        codes = to_codes(x, "x")
        self.x = x
        n, length = codes.shape
        if table.after.shape[1] != n or table.positions[1] > length:
            raise ValueError(
                f"x must be the table's {table.after.shape[1]} sequences (positions "
                f"{table.positions}); found {n} of length {length}"
            )
        self.table = table
        self.names, self.positions, self.region = table.names, table.positions, table.region
        self.frame, self.seed, self.n_distinct = table.frame, table.seed, table.n_distinct
        self.before, self.after = table.before, table.after
        self.window = check_positive_int(window, "window")
        self.sequence, self.position = sequence_and_position_controls(n, length)
        start, stop = self.positions
        self.position.min, self.position.max = start, stop - 1
        self.position.value = (start + stop - 1) // 2
        self.base = widgets.ToggleButtons(options=["keep", *ALPHABET], description="base")
        self.edit = widgets.Dropdown(options=list(EDITS), description="confounder")
        data = {
            "names": list(self.names),
            "bases": pack(codes, "uint8"),
            "before": pack(self.before),
            "after": pack(self.after),
            "offsets": pack(table.offsets, "int32"),
            "changed_at": pack(table.changed_at, "uint8" if length <= 256 else "int32"),
            "changed_to": pack(table.changed_to, "uint8"),
            "positions": list(self.positions),
            "window": self.window,
        }
        self.view = SplicingView(data=data)
        rows = [("sequence", "position"), ("base", "edit")]
        super().__init__(linked_layout(self, self.view, rows))

    def _check_index(self) -> int:
        index = self.sequence.value
        if not 0 <= index < len(self.x):
            raise ValueError(f"sequence must be in [0, {len(self.x) - 1}]; found {index}")
        return index

    def edited(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The chosen sequence before and after the edits, each of shape (1, 4, L),
        computed afresh with :func:`~genotutor.sequences.mutate` and
        :func:`~genotutor.splicing.features.edit_feature` (the table's oracle)."""
        index = self._check_index()
        before = self.x[index : index + 1]
        after = before
        if self.base.value != "keep":
            after = mutate(after, self.position.value, self.base.value)
        change = EDITS[self.edit.value]
        if change is not None:
            feature, action = change
            after = edit_feature(
                after,
                feature,
                action,
                n_sites=N_SITES,
                region=self.region,
                frame=self.frame,
                seed=self.seed,
            )
        return before, after

    def predictions(self) -> dict[str, tuple[float, float]]:
        """Each model's output before and after the edits: what the view shows, read from
        the table."""
        index = self._check_index()
        position = self.position.value
        base = self.base.value
        b = int(self.x[index, :, position].argmax()) if base == "keep" else ALPHABET.index(base)
        e = list(EDITS).index(self.edit.value)
        i = position - self.positions[0]
        return {
            name: (float(self.before[m, index]), float(self.after[m, index, e, b, i]))
            for m, name in enumerate(self.names)
        }
