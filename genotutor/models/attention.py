"""A CNN with one layer of multi-head self-attention over pooled convolutional features.

The attention layer is written out (rather than ``torch.nn.MultiheadAttention``) so that
each head's weights ``softmax(Q K^T / sqrt(d))`` come out of one ``nn.Softmax`` module:
:func:`genotutor.interpret.attention_maps` reads them with a forward hook, and
:func:`genotutor.interpret.replaced_attention` swaps them for others. Every nonlinearity is
its own module, as in :mod:`genotutor.models`; the softmax and the two products ``Q K^T``
and ``A V`` have no DeepLIFT rule of their own (see chapter 6).

Taught in chapter 6.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from genotutor.validation import check_positive_int


class MultiHeadSelfAttention(nn.Module):
    """Scaled dot-product self-attention with ``n_heads`` heads (Vaswani et al. 2017).

    For tokens ``h`` of shape ``(N, T, dim)`` and each head: ``Q = h W_q``, ``K = h W_k``,
    ``V = h W_v`` (each ``(N, T, head_dim)``), weights ``A = softmax(Q K^T / sqrt(head_dim))``
    over the last axis (``(N, T, T)``, rows sum to 1) and output ``A V``; the heads'
    outputs are concatenated and mapped back to ``dim`` by a linear layer.

    Parameters
    ----------
    dim : int
        Width of the tokens.
    n_heads : int
        Number of heads.
    head_dim : int, optional
        Width of each head's queries, keys and values (``dim // n_heads`` by default).

    Attributes
    ----------
    softmax : torch.nn.Softmax
        The module whose output is the attention weights ``(N, n_heads, T, T)``.

    Taught in chapter 6.
    """

    def __init__(self, dim: int, n_heads: int = 4, head_dim: int | None = None) -> None:
        super().__init__()
        dim = check_positive_int(dim, "dim")
        self.n_heads = check_positive_int(n_heads, "n_heads")
        self.head_dim = check_positive_int(
            max(1, dim // self.n_heads) if head_dim is None else head_dim, "head_dim"
        )
        inner = self.n_heads * self.head_dim
        self.query = nn.Linear(dim, inner)
        self.key = nn.Linear(dim, inner)
        self.value = nn.Linear(dim, inner)
        self.softmax = nn.Softmax(dim=-1)
        self.output = nn.Linear(inner, dim)

    def _heads(self, t: torch.Tensor) -> torch.Tensor:
        n, length, _ = t.shape
        return t.view(n, length, self.n_heads, self.head_dim).transpose(1, 2)

    def values(self, h: torch.Tensor) -> torch.Tensor:
        """Each head's value vectors ``V`` for tokens ``h``.

        ``(N, T, dim)`` -> ``(N, n_heads, T, head_dim)``.
        """
        return self._heads(self.value(h))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """``(N, T, dim)`` tokens -> ``(N, T, dim)`` attention outputs."""
        q, k, v = self._heads(self.query(h)), self._heads(self.key(h)), self.values(h)
        weights = self.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.head_dim))
        mixed = weights @ v  # (N, H, T, head_dim)
        n, _, length, _ = mixed.shape
        return self.output(mixed.transpose(1, 2).reshape(n, length, -1))


class AttentionCNN(nn.Module):
    """Convolution, max pooling into tokens, one self-attention layer, max over tokens.

    ``x (N, 4, L)`` -> convolution (no padding) -> ReLU -> max pooling by ``pool`` ->
    tokens ``h (N, T, n_filters)`` with ``T = (L - filter_width + 1) // pool`` -> ``h +
    attention(h)`` (a residual connection) -> a dense layer and ReLU per token -> the
    maximum over tokens -> ``(N, n_tasks)`` logits.

    The maximum over tokens makes attention necessary for any label that depends on two
    positions further apart than one token's receptive field (``filter_width + pool - 1``
    bases): only attention moves information between tokens. There is no positional
    encoding, so the attention is driven by content alone.

    Parameters
    ----------
    input_length : int
        Length L of the sequences.
    n_tasks : int
        Number of outputs (logits).
    n_filters : int
        Convolution filters, which are also the token width.
    filter_width : int
        Width of the filters.
    pool : int
        Max-pooling size and stride (bases per token).
    n_heads : int
        Attention heads.
    head_dim : int, optional
        Width of each head (``n_filters // n_heads`` by default).
    hidden : int
        Width of the per-token dense layer.

    Taught in chapter 6.
    """

    def __init__(
        self,
        input_length: int,
        n_tasks: int = 1,
        *,
        n_filters: int = 32,
        filter_width: int = 15,
        pool: int = 10,
        n_heads: int = 4,
        head_dim: int | None = None,
        hidden: int = 32,
    ) -> None:
        super().__init__()
        length = check_positive_int(input_length, "input_length")
        n_filters = check_positive_int(n_filters, "n_filters")
        filter_width = check_positive_int(filter_width, "filter_width")
        self.pool_size = check_positive_int(pool, "pool")
        self.n_tokens = (length - filter_width + 1) // self.pool_size
        if self.n_tokens < 2:
            raise ValueError(
                f"input_length {input_length} gives {self.n_tokens} token(s) with filter_width "
                f"{filter_width} and pool {pool}; expected at least 2"
            )
        self.conv = nn.Conv1d(4, n_filters, filter_width)
        self.conv_relu = nn.ReLU()
        self.pool = nn.MaxPool1d(self.pool_size)
        self.attention = MultiHeadSelfAttention(n_filters, n_heads, head_dim)
        self.dense = nn.Linear(n_filters, check_positive_int(hidden, "hidden"))
        self.dense_relu = nn.ReLU()
        self.token_pool = nn.AdaptiveMaxPool1d(1)
        self.flatten = nn.Flatten()
        self.readout = nn.Linear(hidden, check_positive_int(n_tasks, "n_tasks"))

    @property
    def first_conv(self) -> nn.Conv1d:
        """The first-layer convolution."""
        return self.conv

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """The tokens the attention reads: ``(N, 4, L)`` -> ``(N, T, n_filters)``."""
        return self.pool(self.conv_relu(self.conv(x))).transpose(1, 2)

    def token_span(self, token: int) -> tuple[int, int]:
        """The bases ``[start, stop)`` that token ``token`` sees (its receptive field)."""
        token = check_positive_int(token, "token", minimum=0)
        if token >= self.n_tokens:
            raise ValueError(f"token must be in [0, {self.n_tokens - 1}]; found {token}")
        start = token * self.pool_size
        return start, start + self.pool_size + self.conv.kernel_size[0] - 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.tokens(x)
        h = h + self.attention(h)
        g = self.dense_relu(self.dense(h)).transpose(1, 2)  # (N, hidden, T)
        return self.readout(self.flatten(self.token_pool(g)))
