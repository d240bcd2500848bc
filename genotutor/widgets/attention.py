"""The chapter-5 explorer: pick a sequence and a head, see its attention map with the
planted motif tokens marked."""

from __future__ import annotations

import ipywidgets as widgets
import torch
import traitlets

from genotutor.interpret import AttentionTable
from genotutor.validation import check_mask, describe
from genotutor.widgets._view import ExplorerView, esm, linked_layout, pack


class AttentionView(ExplorerView):
    """The browser side of :class:`AttentionExplorer` (``js/attention.js``)."""

    _esm = esm("attention")
    sequence = traitlets.Int(0).tag(sync=True)
    head = traitlets.Int(0).tag(sync=True)  # index into the head options: 0 is the mean


class AttentionExplorer(widgets.VBox):
    """Show one head's (or the heads' mean) attention map for one sequence.

    A view over :func:`genotutor.interpret.attention_table` (every head's map of every
    sequence, the heads' mean and the model's outputs, ``N (H + 1) T^2`` numbers): it
    computes nothing, so the explorer works the same in a live notebook and on the book's
    static page.

    Parameters
    ----------
    table : genotutor.interpret.AttentionTable
        From ``attention_table(model, x, layer=...)``.
    tokens : torch.Tensor, shape (N, T), bool, optional
        Tokens to mark (e.g. those that see a planted motif); the summary then gives the
        share of attention that marked tokens send to other marked tokens.

    Attributes
    ----------
    sequence, head : ipywidgets controls
    view : AttentionView
        Draws the summary and the figure.
    maps, mean, outputs : torch.Tensor
        The table's, as :class:`genotutor.interpret.AttentionTable` describes them.

    Taught in chapter 6.
    """

    def __init__(self, table: AttentionTable, *, tokens: torch.Tensor | None = None) -> None:
        if not isinstance(table, AttentionTable):
            raise TypeError(
                f"table must be an AttentionTable (from attention_table); found {describe(table)}"
            )
        self.table = table
        self.maps, self.mean, self.outputs = table.maps, table.mean, table.outputs
        n, _, _, t = self.maps.shape
        self.tokens = check_mask(tokens, (n, t), "tokens")
        self.sequence = widgets.BoundedIntText(value=0, min=0, max=n - 1, description="sequence")
        heads = ["mean"] + [str(h) for h in range(self.maps.shape[1])]
        self.head = widgets.Dropdown(options=heads, value="mean", description="head")
        data = {"maps": pack(self.maps), "mean": pack(self.mean), "outputs": pack(self.outputs)}
        if self.tokens is not None:
            data["tokens"] = pack(self.tokens, "uint8")
        self.view = AttentionView(data=data)
        super().__init__(linked_layout(self, self.view, [("sequence", "head")]))

    def weights(self) -> torch.Tensor:
        """The shown ``(T, T)`` map: rows are queries, columns the tokens they attend to."""
        index = self.sequence.value
        if not 0 <= index < len(self.maps):
            raise ValueError(f"sequence must be in [0, {len(self.maps) - 1}]; found {index}")
        if self.head.value == "mean":
            return self.mean[index]
        return self.maps[index, int(self.head.value)]

    def marked_share(self) -> float | None:
        """The share of their attention that the chosen sequence's marked tokens send to
        other marked tokens (the diagonal left out), as the summary shows it; None without
        ``tokens`` or with fewer than two marked tokens."""
        weights = self.weights()
        if self.tokens is None:
            return None
        marked = torch.nonzero(self.tokens[self.sequence.value]).flatten()
        if len(marked) < 2:
            return None
        block = weights[marked][:, marked]
        return float((block.sum() - block.diagonal().sum()) / len(marked))
