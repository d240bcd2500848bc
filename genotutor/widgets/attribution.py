"""The chapter-2 explorer: pick a sequence and an attribution method, see the logo."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import torch
import traitlets
from torch import nn

from genotutor.attribution import GRADIENT_METHODS, METHODS, SEEDED_METHODS, attribute
from genotutor.evaluation import attribution_auprc, attribution_auroc
from genotutor.training import predict
from genotutor.validation import check_positive_int
from genotutor.widgets._base import check_view_inputs
from genotutor.widgets._view import ExplorerView, esm, link, pack

Entry = tuple[str, bool]  # (method, gradient correction applied)


class AttributionView(ExplorerView):
    """The browser side of :class:`AttributionExplorer` (``js/attribution.js``)."""

    _esm = esm("attribution")
    sequence = traitlets.Int(0).tag(sync=True)
    method = traitlets.Int(0).tag(sync=True)  # index into the methods offered
    correct = traitlets.Bool(False).tag(sync=True)
    start = traitlets.Int(0).tag(sync=True)


def _check_methods(methods: object) -> tuple[str, ...]:
    """``methods`` as a tuple of distinct names from :data:`genotutor.attribution.METHODS`."""
    if isinstance(methods, str) or not isinstance(methods, (tuple, list)) or not methods:
        raise TypeError(
            f"methods must be a non-empty tuple of names from {METHODS}; found {methods!r}"
        )
    unknown = [name for name in methods if name not in METHODS]
    if unknown:
        raise ValueError(f"methods must be names from {METHODS}; found {unknown}")
    if len(set(methods)) != len(methods):
        raise ValueError(f"methods must not repeat a name; found {list(methods)}")
    return tuple(methods)


def _entries(methods: tuple[str, ...]) -> list[Entry]:
    """Every (method, correction) the explorer can show: gradient methods twice."""
    return [(m, c) for m in methods for c in ((False, True) if m in GRADIENT_METHODS else (False,))]


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


def _per_sequence_scores(
    scores: torch.Tensor, truth: torch.Tensor
) -> tuple[np.ndarray, np.ndarray]:
    """Each sequence's AUROC and AUPRC of its own map against its own truth row (the
    pooled score of that one sequence), NaN where the row lacks true or false positions."""
    if not 0 < int(truth.sum()) < truth.numel():
        nan = np.full(len(scores), np.nan)
        return nan, nan.copy()
    auroc = attribution_auroc(scores, truth).per_sequence
    return auroc, attribution_auprc(scores, truth).per_sequence


class AttributionExplorer(widgets.VBox):
    """Show any attribution method's scores for one sequence, planted motifs shaded.

    Every method's scores for every sequence are computed once, when the explorer is
    built: one :func:`genotutor.attribution.attribute` call per (method, correction) over
    all sequences, the gradient methods with and without ``correct=True``, so eleven maps
    of ``(N, 4, L)`` with all methods (maps that live on the observed bases only are sent
    as ``(N, L)``: about 1.4 MB in the page for chapter 2's 50 sequences of length 200).
    With ``truth``, each map's AUROC and AUPRC per sequence too. The view draws from that
    table, so the explorer works the same in a live notebook and on the book's static page.

    Parameters
    ----------
    model : torch.nn.Module
        Any model mapping ``(N, 4, L)`` one-hot DNA to ``(N, T)`` outputs (yours too).
    x : torch.Tensor, shape (N, 4, L)
        The sequences to explore.
    truth : torch.Tensor, shape (N, L), bool, optional
        Positions to shade (e.g. planted motifs); adds the sequence's AUROC and AUPRC.
    target : int
        Which output to explain.
    methods : tuple of str
        The methods offered (default: all of :data:`genotutor.attribution.METHODS`); fewer
        make the explorer quicker to build (ISM and DeepLIFT-SHAP cost the most).
    window : int
        How many positions the logo shows at a time (the ``start`` slider moves it).
    seed : int
        The seed of the methods that draw random numbers
        (:data:`genotutor.attribution.SEEDED_METHODS`: noise, shuffled references).

    Attributes
    ----------
    sequence, method, correct, start : ipywidgets controls
    view : AttributionView
        Draws the summary and the figure.
    table : dict of (str, bool) to torch.Tensor, shape (N, 4, L)
        The scores of each (method, correction).
    outputs : torch.Tensor, shape (N,)
        The model's output ``target`` for each sequence.
    auroc, auprc : dict of (str, bool) to numpy.ndarray, shape (N,)
        With ``truth``: each map's score per sequence (NaN without both kinds of position).

    Taught in chapter 2.
    """

    def __init__(
        self,
        model: nn.Module,
        x: torch.Tensor,
        *,
        truth: torch.Tensor | None = None,
        target: int = 0,
        methods: tuple[str, ...] = METHODS,
        window: int = 100,
        seed: int = 0,
    ) -> None:
        self.model, self.x, self.truth, self.target = check_view_inputs(model, x, truth, target)
        self.methods = _check_methods(methods)
        self.seed = check_positive_int(seed, "seed", minimum=0)
        length = self.x.shape[-1]
        self.window = min(check_positive_int(window, "window"), length)
        self.outputs = predict(self.model, self.x)[:, self.target]
        self.table = {entry: self._attribute(entry) for entry in _entries(self.methods)}
        self.auroc, self.auprc = {}, {}
        if self.truth is not None:
            for entry, scores in self.table.items():
                self.auroc[entry], self.auprc[entry] = _per_sequence_scores(scores, self.truth)
        self.sequence = widgets.BoundedIntText(
            value=0, min=0, max=len(self.x) - 1, description="sequence"
        )
        self.method = widgets.Dropdown(options=list(self.methods), description="method")
        self.correct = widgets.Checkbox(value=False, description="gradient correction")
        self.start = widgets.IntSlider(
            value=0, min=0, max=length - self.window, description="start", continuous_update=False
        )
        self.view = AttributionView(data=self._data())
        for name in ("sequence", "method", "correct", "start"):
            link(getattr(self, name), self.view, name)
        controls = widgets.HBox([self.sequence, self.method, self.correct])
        super().__init__([controls, self.start, self.view])

    def _attribute(self, entry: Entry) -> torch.Tensor:
        method, correct = entry
        options = {"correct": True} if correct else {}
        if method in SEEDED_METHODS:
            options["seed"] = self.seed
        return attribute(self.model, self.x, method, self.target, progress=False, **options)

    def _data(self) -> dict:
        data = {
            "bases": pack(self.x.argmax(1), "uint8"),
            "outputs": pack(self.outputs),
            "methods": list(self.methods),
            "gradient": [method in GRADIENT_METHODS for method in self.methods],
            "scores": {_key(entry): _pack_scores(s, self.x) for entry, s in self.table.items()},
            "window": self.window,
        }
        if self.truth is not None:
            data["truth"] = pack(self.truth, "uint8")
            data["auroc"] = {_key(entry): pack(values) for entry, values in self.auroc.items()}
            data["auprc"] = {_key(entry): pack(values) for entry, values in self.auprc.items()}
        return data

    def entry(self) -> Entry:
        """The (method, correction) shown: the correction only for a gradient method."""
        method = self.method.value
        return method, bool(self.correct.value and method in GRADIENT_METHODS)

    def scores(self) -> torch.Tensor:
        """The chosen method's ``(4, L)`` scores for the chosen sequence (from the table)."""
        return self.table[self.entry()][self.sequence.value]

    def shown(self) -> dict[str, float]:
        """The numbers the summary shows: ``output`` and, with ``truth``, ``auroc`` and
        ``auprc`` (NaN for a sequence without both kinds of position)."""
        index = self.sequence.value
        numbers = {"output": float(self.outputs[index])}
        if self.truth is not None:
            numbers["auroc"] = float(self.auroc[self.entry()][index])
            numbers["auprc"] = float(self.auprc[self.entry()][index])
        return numbers


def attribution_explorer(
    model: nn.Module,
    x: torch.Tensor,
    *,
    truth: torch.Tensor | None = None,
    target: int = 0,
    methods: tuple[str, ...] = METHODS,
    window: int = 100,
    seed: int = 0,
) -> AttributionExplorer:
    """Build an :class:`AttributionExplorer` (chapter 2) for any model and sequences."""
    return AttributionExplorer(
        model, x, truth=truth, target=target, methods=methods, window=window, seed=seed
    )
