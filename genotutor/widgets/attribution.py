"""The chapter-2 explorer: pick a sequence and an attribution method, see the logo."""

from __future__ import annotations

import ipywidgets as widgets
import torch
import traitlets

from genotutor.attribution import GRADIENT_METHODS, AttributionTable
from genotutor.validation import check_mask, check_positive_int, check_tensor, describe
from genotutor.widgets._view import ExplorerView, esm, linked_layout, pack

Entry = tuple[str, bool]  # (method, gradient correction applied)


class AttributionView(ExplorerView):
    """The browser side of :class:`AttributionExplorer` (``js/attribution.js``)."""

    _esm = esm("attribution")
    sequence = traitlets.Int(0).tag(sync=True)
    method = traitlets.Int(0).tag(sync=True)  # index into the methods offered
    correct = traitlets.Bool(False).tag(sync=True)
    start = traitlets.Int(0).tag(sync=True)


def _key(entry: Entry) -> str:
    """The name of an entry in the view's table: ``"saliency"``, ``"saliency+correct"``."""
    method, correct = entry
    return f"{method}+correct" if correct else method


def _pack_scores(scores: torch.Tensor, x: torch.Tensor) -> dict:
    """One entry's ``(N, 4, L)`` scores for the view; a map that is zero off the observed
    bases (gradient x input, integrated gradients, DeepLIFT) is sent as its ``(N, L)``
    values at the observed bases, a quarter of the size and exactly the same map."""
    observed = torch.nn.functional.one_hot(x.argmax(1), 4).transpose(1, 2).to(scores.dtype)
    values = (scores * observed).sum(1)
    if torch.equal(values[:, None] * observed, scores):
        return {"observed": True, **pack(values)}
    return {"observed": False, **pack(scores)}


def _check_table(table: object, x: torch.Tensor, truth: torch.Tensor | None) -> AttributionTable:
    """``table`` an :class:`AttributionTable` of ``x``'s shape, with per-sequence scores
    when ``truth`` is given."""
    if not isinstance(table, AttributionTable):
        raise TypeError(
            f"table must be an AttributionTable (from attribution_table); found {describe(table)}"
        )
    for entry, scores in table.scores.items():
        if tuple(scores.shape) != tuple(x.shape):
            raise ValueError(
                f"table's scores of {entry} must have the shape of x, {tuple(x.shape)}; "
                f"found {tuple(scores.shape)}"
            )
    if truth is not None and not table.auroc:
        raise ValueError(
            "truth is given but table has no AUROC or AUPRC: compute it with "
            "attribution_table(..., truth=truth)"
        )
    return table


class AttributionExplorer(widgets.VBox):
    """Show any attribution method's scores for one sequence, planted motifs shaded.

    A view over :func:`genotutor.attribution.attribution_table` (every method's scores
    for every sequence, the gradient methods with and without correction, and with
    ``truth`` each map's AUROC and AUPRC per sequence): it computes nothing. Maps that
    live on the observed bases only are sent as ``(N, L)``, about 1.4 MB in the page for
    chapter 2's 50 sequences of length 200, so the explorer works the same in a live
    notebook and on the book's static page.

    Parameters
    ----------
    table : genotutor.attribution.AttributionTable
        From ``attribution_table(model, x, truth=truth, ...)``.
    x : torch.Tensor, shape (N, 4, L)
        The sequences of the table.
    truth : torch.Tensor, shape (N, L), bool, optional
        Positions to shade (e.g. planted motifs); shows the sequence's AUROC and AUPRC
        (the table must have been computed with ``truth``).
    window : int
        How many positions the logo shows at a time (the ``start`` slider moves it).

    Attributes
    ----------
    sequence, method, correct, start : ipywidgets controls
    view : AttributionView
        Draws the summary (output, AUROC, AUPRC) and the logo of the shown window.
    table : genotutor.attribution.AttributionTable
    methods : tuple of str
        The methods offered.
    outputs : torch.Tensor, shape (N,)
        The model's output ``target`` for each sequence.

    Taught in chapter 2.
    """

    def __init__(
        self,
        table: AttributionTable,
        x: torch.Tensor,
        *,
        truth: torch.Tensor | None = None,
        window: int = 100,
    ) -> None:
        self.x = check_tensor(x, "x")
        self.truth = check_mask(truth, (self.x.shape[0], self.x.shape[-1]), "truth")
        self.table = _check_table(table, self.x, self.truth)
        self.methods, self.outputs = self.table.methods, self.table.outputs
        length = self.x.shape[-1]
        self.window = min(check_positive_int(window, "window"), length)
        self.sequence = widgets.BoundedIntText(
            value=0, min=0, max=len(self.x) - 1, description="sequence"
        )
        self.method = widgets.Dropdown(options=list(self.methods), description="method")
        self.correct = widgets.Checkbox(value=False, description="gradient correction")
        self.start = widgets.IntSlider(
            value=0, min=0, max=length - self.window, description="start", continuous_update=False
        )
        self.view = AttributionView(data=self._data())
        rows = [("sequence", "method", "correct"), "start"]
        super().__init__(linked_layout(self, self.view, rows))

    def _data(self) -> dict:
        data = {
            "bases": pack(self.x.argmax(1), "uint8"),
            "outputs": pack(self.outputs),
            "methods": list(self.methods),
            "gradient": [method in GRADIENT_METHODS for method in self.methods],
            "scores": {_key(e): _pack_scores(s, self.x) for e, s in self.table.scores.items()},
            "window": self.window,
        }
        if self.truth is not None:
            data["truth"] = pack(self.truth, "uint8")
            data["auroc"] = {_key(e): pack(v) for e, v in self.table.auroc.items()}
            data["auprc"] = {_key(e): pack(v) for e, v in self.table.auprc.items()}
        return data

    def entry(self) -> Entry:
        """The (method, correction) shown: the correction only for a gradient method."""
        method = self.method.value
        return method, bool(self.correct.value and method in GRADIENT_METHODS)

    def scores(self) -> torch.Tensor:
        """The chosen method's ``(4, L)`` scores for the chosen sequence (from the table)."""
        return self.table.scores[self.entry()][self.sequence.value]

    def shown(self) -> dict[str, float]:
        """The numbers the summary shows: ``output`` and, with ``truth``, ``auroc`` and
        ``auprc`` (NaN for a sequence without both kinds of position)."""
        index = self.sequence.value
        numbers = {"output": float(self.outputs[index])}
        if self.truth is not None:
            numbers["auroc"] = float(self.table.auroc[self.entry()][index])
            numbers["auprc"] = float(self.table.auprc[self.entry()][index])
        return numbers
