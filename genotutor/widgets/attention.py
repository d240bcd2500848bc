"""The chapter-5 explorer: pick a sequence and a head, see its attention map with the
planted motif tokens marked."""

from __future__ import annotations

import ipywidgets as widgets
import torch
import traitlets
from torch import nn

from genotutor.interpret.attention import attention_maps
from genotutor.training import predict
from genotutor.validation import check_model, check_one_hot, describe
from genotutor.widgets._view import ExplorerView, esm, link, pack


class AttentionView(ExplorerView):
    """The browser side of :class:`AttentionExplorer` (``js/attention.js``)."""

    _esm = esm("attention")
    sequence = traitlets.Int(0).tag(sync=True)
    head = traitlets.Int(0).tag(sync=True)  # index into the head options: 0 is the mean


def _check_tokens(tokens: object, shape: tuple[int, int]) -> torch.Tensor | None:
    if tokens is None:
        return None
    if not isinstance(tokens, torch.Tensor) or tokens.dtype != torch.bool:
        raise TypeError(f"tokens must be a bool tensor (N, T) or None; found {describe(tokens)}")
    if tuple(tokens.shape) != shape:
        raise ValueError(
            f"tokens must have shape {shape} (sequences, tokens); found {tuple(tokens.shape)}"
        )
    return tokens


class AttentionExplorer(widgets.VBox):
    """Show one head's (or the heads' mean) attention map for one sequence.

    Every head's map of every sequence is read once, when the explorer is built (one
    forward pass, :func:`genotutor.interpret.attention_maps`), together with the heads'
    mean and the model's outputs; the view draws from that table (``N (H + 1) T^2``
    numbers), so the explorer works the same in a live notebook and on the book's static
    page.

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
    view : AttentionView
        Draws the summary and the figure.
    maps : torch.Tensor, shape (N, H, T, T)
        Rows are queries, columns the tokens they attend to.
    mean : torch.Tensor, shape (N, T, T)
        The heads' mean of ``maps``.
    outputs : torch.Tensor, shape (N,)
        The model's first output for each sequence.

    Taught in chapter 6.
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
        self.mean = maps.mean(1)
        self.tokens = _check_tokens(tokens, (len(self.x), maps.shape[-1]))
        self.outputs = predict(self.model, self.x)[:, 0]
        self.sequence = widgets.BoundedIntText(
            value=0, min=0, max=len(self.x) - 1, description="sequence"
        )
        heads = ["mean"] + [str(h) for h in range(maps.shape[1])]
        self.head = widgets.Dropdown(options=heads, value="mean", description="head")
        data = {"maps": pack(maps), "mean": pack(self.mean), "outputs": pack(self.outputs)}
        if self.tokens is not None:
            data["tokens"] = pack(self.tokens, "uint8")
        self.view = AttentionView(data=data)
        for name in ("sequence", "head"):
            link(getattr(self, name), self.view, name)
        super().__init__([widgets.HBox([self.sequence, self.head]), self.view])

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


def attention_explorer(
    model: nn.Module,
    x: torch.Tensor,
    *,
    tokens: torch.Tensor | None = None,
    layer: str | None = None,
) -> AttentionExplorer:
    """Build an :class:`AttentionExplorer` (chapter 6) for any attention model and sequences."""
    return AttentionExplorer(model, x, tokens=tokens, layer=layer)
