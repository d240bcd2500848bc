"""The chapter-2 explorer: pick a sequence and an attribution method, see the logo."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from torch import nn

from genotutor.attribution import GRADIENT_METHODS, METHODS, attribute
from genotutor.evaluation import attribution_auprc, attribution_auroc
from genotutor.plotting import logo
from genotutor.widgets._base import check_view_inputs, render_into


class AttributionExplorer(widgets.VBox):
    """Show any attribution method's scores for one sequence, planted motifs shaded.

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
        The methods offered (default: all of :data:`genotutor.attribution.METHODS`).
    window : int
        How many positions the logo shows at a time (the ``start`` slider moves it).

    Attributes
    ----------
    sequence, method, correct, start : ipywidgets controls
    summary : ipywidgets.HTML
        The output for the sequence and, with ``truth``, the map's AUROC and AUPRC.

    Scores are computed on demand for the chosen sequence and kept, so going back to a
    (sequence, method) pair is instant. Taught in chapter 2.
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
    ) -> None:
        self.model, self.x, self.truth, self.target = check_view_inputs(model, x, truth, target)
        self._cache: dict[tuple[int, str, bool], torch.Tensor] = {}
        length = self.x.shape[-1]
        self.window = max(1, min(int(window), length))
        self.sequence = widgets.BoundedIntText(
            value=0, min=0, max=len(self.x) - 1, description="sequence"
        )
        self.method = widgets.Dropdown(
            options=list(methods), value=methods[0], description="method"
        )
        self.correct = widgets.Checkbox(value=False, description="gradient correction")
        self.start = widgets.IntSlider(
            value=0, min=0, max=length - self.window, description="start", continuous_update=False
        )
        self.summary = widgets.HTML()
        self.output = widgets.Output()
        for control in (self.sequence, self.method, self.correct, self.start):
            control.observe(self._update, names="value")
        controls = widgets.HBox([self.sequence, self.method, self.correct])
        super().__init__([controls, self.start, self.summary, self.output])
        self._update()

    def scores(self) -> torch.Tensor:
        """The chosen method's ``(4, L)`` scores for the chosen sequence."""
        index = self.sequence.value
        if not 0 <= index < len(self.x):
            raise ValueError(f"sequence must be in [0, {len(self.x) - 1}]; found {index}")
        correct = self.correct.value and self.method.value in GRADIENT_METHODS
        key = (index, self.method.value, correct)
        if key not in self._cache:
            options = {"correct": True} if correct else {}
            result = attribute(
                self.model,
                self.x[index : index + 1],
                self.method.value,
                self.target,
                progress=False,
                **options,
            )
            self._cache[key] = result[0]
        return self._cache[key]

    def _draw(self) -> None:
        scores = self.scores()
        index, method = self.sequence.value, self.method.value
        with torch.no_grad():
            output = float(self.model(self.x[index : index + 1])[0, self.target])
        text = f"output <b>{output:.3f}</b>"
        if self.correct.value and method not in GRADIENT_METHODS:
            text += f" (no gradient correction for {method})"
        truth = None
        if self.truth is not None:
            truth = self.truth[index]
            if 0 < int(truth.sum()) < truth.numel():
                auroc = attribution_auroc(scores[None], truth[None]).pooled
                auprc = attribution_auprc(scores[None], truth[None]).pooled
                text += f", AUROC <b>{auroc:.3f}</b>, AUPRC <b>{auprc:.3f}</b> vs the shading"
        self.summary.value = text
        begin = self.start.value
        stop = begin + self.window
        fig, ax = plt.subplots(figsize=(10, 2))
        logo(scores[:, begin:stop], ax=ax, start=begin,
             truth=None if truth is None else truth[begin:stop])  # fmt: skip
        ax.set_title(f"sequence {index}, {method}", fontsize=9, loc="left")

    def _update(self, change: dict | None = None) -> None:
        if not render_into(self.output, self._draw):
            self.summary.value = ""


def attribution_explorer(
    model: nn.Module,
    x: torch.Tensor,
    *,
    truth: torch.Tensor | None = None,
    target: int = 0,
    window: int = 100,
) -> AttributionExplorer:
    """Build an :class:`AttributionExplorer` (chapter 2) for any model and sequences."""
    return AttributionExplorer(model, x, truth=truth, target=target, window=window)
