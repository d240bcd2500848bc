"""The chapter-5 explorer: pick a sequence and a head, see its attention map with the
planted motif tokens marked."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from torch import nn

from genotutor.interpret.attention import attention_maps
from genotutor.training import predict
from genotutor.validation import _describe, check_model, check_one_hot
from genotutor.widgets._base import render_into


class AttentionExplorer(widgets.VBox):
    """Show one head's (or the heads' mean) attention map for one sequence.

    Parameters
    ----------
    model : torch.nn.Module
        Any model with one attention layer that :func:`genotutor.interpret.attention_maps`
        reads (yours too), mapping ``(N, 4, L)`` to ``(N, T)`` outputs.
    x : torch.Tensor, shape (N, 4, L)
        The sequences to explore.
    tokens : torch.Tensor, shape (N, T), bool, optional
        Tokens to mark (e.g. those that see a planted motif); the summary then gives the
        share of attention that marked tokens send to other marked tokens.
    layer : str, optional
        Which attention layer (needed when the model has several).

    Attributes
    ----------
    sequence, head : ipywidgets controls
    summary : ipywidgets.HTML
    maps : torch.Tensor, shape (N, H, T, T)
        Computed once, when the explorer is built.

    Taught in chapter 5.
    """

    def __init__(
        self,
        model: nn.Module,
        x: torch.Tensor,
        *,
        tokens: torch.Tensor | None = None,
        layer: str | None = None,
    ) -> None:
        self.model = check_model(model)
        self.x = check_one_hot(x, "x")
        maps = attention_maps(self.model, self.x, layer=layer)
        if isinstance(maps, dict):
            if len(maps) != 1:
                raise ValueError(f"model has attention layers {sorted(maps)}; pass layer=")
            maps = next(iter(maps.values()))
        self.maps = maps
        n_tokens = maps.shape[-1]
        if tokens is not None:
            if not isinstance(tokens, torch.Tensor) or tokens.dtype != torch.bool:
                raise TypeError(
                    f"tokens must be a bool tensor (N, T) or None; found {_describe(tokens)}"
                )
            if tuple(tokens.shape) != (len(self.x), n_tokens):
                raise ValueError(
                    f"tokens must have shape {(len(self.x), n_tokens)} (sequences, tokens); "
                    f"found {tuple(tokens.shape)}"
                )
        self.tokens = tokens
        self.outputs = predict(self.model, self.x)[:, 0]
        self.sequence = widgets.BoundedIntText(
            value=0, min=0, max=len(self.x) - 1, description="sequence"
        )
        heads = ["mean"] + [str(h) for h in range(maps.shape[1])]
        self.head = widgets.Dropdown(options=heads, value="mean", description="head")
        self.summary = widgets.HTML()
        self.output = widgets.Output()
        for control in (self.sequence, self.head):
            control.observe(self._update, names="value")
        super().__init__([widgets.HBox([self.sequence, self.head]), self.summary, self.output])
        self._update()

    def weights(self) -> torch.Tensor:
        """The shown ``(T, T)`` map: rows are queries, columns the tokens they attend to."""
        index = self.sequence.value
        if not 0 <= index < len(self.maps):
            raise ValueError(f"sequence must be in [0, {len(self.maps) - 1}]; found {index}")
        maps = self.maps[index]
        return maps.mean(0) if self.head.value == "mean" else maps[int(self.head.value)]

    def _draw(self) -> plt.Figure:
        weights = self.weights()
        index = self.sequence.value
        text = f"output <b>{float(self.outputs[index]):.3f}</b>"
        marked = None
        if self.tokens is not None:
            marked = torch.nonzero(self.tokens[index]).flatten().tolist()
            if len(marked) >= 2:
                block = weights[marked][:, marked].sum() - weights[marked, marked].sum()
                share = float(block / len(marked))
                text += (
                    f"; marked tokens send <b>{share:.2f}</b> of their attention to other "
                    "marked tokens"
                )
        self.summary.value = text
        fig, (heat, received) = plt.subplots(
            1, 2, figsize=(9, 3.6), gridspec_kw={"width_ratios": [1.2, 1]}
        )
        image = heat.imshow(weights.numpy(), cmap="viridis", vmin=0)
        fig.colorbar(image, ax=heat, fraction=0.046)
        heat.set_xlabel("key token (attended to)")
        heat.set_ylabel("query token")
        mass = weights.sum(0).numpy()
        received.bar(range(len(mass)), mass, color="0.5")
        for t in marked or []:
            heat.axhline(t, color="red", linewidth=0.6, alpha=0.7)
            heat.axvline(t, color="red", linewidth=0.6, alpha=0.7)
            received.bar(t, mass[t], color="red")
        received.set_xlabel("token")
        received.set_ylabel("attention received (column sum)")
        head = "mean of heads" if self.head.value == "mean" else f"head {self.head.value}"
        heat.set_title(f"sequence {index}, {head}", fontsize=9, loc="left")
        fig.tight_layout()
        return fig

    def _update(self, change: dict | None = None) -> None:
        if not render_into(self.output, self._draw):
            self.summary.value = ""


def attention_explorer(
    model: nn.Module,
    x: torch.Tensor,
    *,
    tokens: torch.Tensor | None = None,
    layer: str | None = None,
) -> AttentionExplorer:
    """Build an :class:`AttentionExplorer` (chapter 5) for any attention model and sequences."""
    return AttentionExplorer(model, x, tokens=tokens, layer=layer)
