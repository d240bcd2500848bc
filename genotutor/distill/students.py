"""Interpretable students: additive and pairwise position models, and a neural-basis CNN.

Taught in chapter 8, "Distilling a splicing model".
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from genotutor.sequences import check_positive_int


class AdditiveStudent(nn.Module):
    """``y = b + sum_l theta[l, x_l]`` (+ pairwise terms between nearby positions).

    Input ``(N, 4, L)``, output ``(N, 1)``. Taught in chapter 8.

    Parameters
    ----------
    length : int
        Sequence length L.
    max_distance : int
        0 for a purely additive model; ``d > 0`` adds a pairwise term ``theta[l, a, l', b]``
        for every pair of positions at most ``d`` apart.

    """

    def __init__(self, length: int, *, max_distance: int = 0) -> None:
        super().__init__()
        self.length = check_positive_int(length, "length")
        self.max_distance = check_positive_int(max_distance, "max_distance", minimum=0)
        self.bias = nn.Parameter(torch.zeros(1))
        self.theta = nn.Parameter(torch.zeros(4, self.length))
        self.pairs = nn.ParameterList(
            nn.Parameter(torch.zeros(4, 4, self.length - d))
            for d in range(1, min(self.max_distance, self.length - 1) + 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.length:
            raise ValueError(f"x must have length {self.length}; found shape {tuple(x.shape)}")
        out = self.bias + (x * self.theta).sum(dim=(1, 2))
        for d, weight in enumerate(self.pairs, start=1):
            out = out + torch.einsum("nal,nbl,abl->n", x[..., :-d], x[..., d:], weight)
        return out[:, None]


def position_encoding(length: int, periods: tuple[float, ...]) -> torch.Tensor:
    """Sinusoidal position features: ``(2 * len(periods), length)`` sines and cosines.

    Period 3 is the reading frame. Taught in chapter 8.
    """
    position = torch.arange(length, dtype=torch.float32)
    rows = []
    for period in periods:
        angle = 2 * math.pi * position / period
        rows += [torch.sin(angle), torch.cos(angle)]
    return torch.stack(rows)


class NeuralBasisStudent(nn.Module):
    """A few convolution filters, per-position shape functions, summed; a small output map.

    Input ``(N, 4, L)``, output ``(N, 1)``. Taught in chapter 8.

    For filter k at position p with activation ``a = ELU(conv_k(x))[p]``, the contribution
    is the shape function ``f_k(a, p) = sum_b phi_b(a) * (u_kb + sum_j v_kbj e_j(p))``:
    ``phi_b`` are Gaussian bumps over ``tanh(a)`` and ``e_j`` sinusoidal position
    features with the periods given (3 is the reading frame). Contributions are summed
    over positions into one number per filter, ``s_k``; the output is
    ``w . s + b + MLP(s)`` (a linear map plus a small residual MLP). It follows Liu, Zhang
    and Regev (2025) in spirit (filters, per-position shape functions with a position
    encoding, a sum) but departs from their model in two ways: their shape functions come
    from one *shared, learned* basis network (about 100 bases) over activation and
    position, here from fixed Gaussian bumps; and their residual network acts on the single
    summed scalar, so filters never interact, while this ``MLP(s)`` acts on the filter sums,
    so filters may interact there (and :func:`filter_report` reads the additive part only).
    The paper's model (shared basis network, one scalar, a tuner on it) was built and tried
    against chapter 8's teacher: with this book's distillation settings (batches of 128, at
    most 30 epochs, 2,000 queries) it stayed near Pearson r = 0, and it needed batches of 16
    (eight times the optimiser steps) to reach r = 0.88 after 10 epochs, more training than
    a chapter can afford on a laptop; hence this simpler model.

    Parameters
    ----------
    length : int
    n_filters, width : int
        Convolution filters and their width.
    n_basis : int
        Basis functions per shape function.
    periods : tuple of float
        Periods of the position encoding.
    residual : int
        Hidden units of the residual MLP (0: none, a purely additive model over filters).

    """

    def __init__(
        self,
        length: int,
        *,
        n_filters: int = 6,
        width: int = 6,
        n_basis: int = 12,
        periods: tuple[float, ...] = (3.0, 6.0, 12.0, 24.0, 48.0, 96.0, 200.0),
        residual: int = 8,
    ) -> None:
        super().__init__()
        self.length = check_positive_int(length, "length")
        n_filters = check_positive_int(n_filters, "n_filters")
        width = check_positive_int(width, "width")
        n_basis = check_positive_int(n_basis, "n_basis", minimum=2)
        if width > self.length:
            raise ValueError(f"width must be <= length ({self.length}); found {width}")
        self.conv = nn.Conv1d(4, n_filters, width)
        self.activation = nn.ELU()
        n_positions = self.length - width + 1
        self.register_buffer("encoding", position_encoding(n_positions, tuple(periods)))
        self.register_buffer("centres", torch.linspace(-1, 1, n_basis))
        self.bandwidth = 2.0 / (n_basis - 1)
        self.u = nn.Parameter(torch.zeros(n_filters, n_basis))
        self.v = nn.Parameter(torch.zeros(n_filters, n_basis, self.encoding.shape[0]))
        self.linear = nn.Linear(n_filters, 1)
        self.mlp = (
            nn.Sequential(nn.Linear(n_filters, residual), nn.ReLU(), nn.Linear(residual, 1))
            if residual
            else None
        )

    @property
    def first_conv(self) -> nn.Conv1d:
        """The filters (read them as motifs)."""
        return self.conv

    def basis(self, activation: torch.Tensor) -> torch.Tensor:
        """``phi_b(a)``: shape ``activation.shape + (n_basis,)``."""
        squashed = torch.tanh(activation)[..., None]
        return torch.exp(-(((squashed - self.centres) / self.bandwidth) ** 2))

    def shape_weights(self) -> torch.Tensor:
        """``(K, P, B)`` basis weights at every position."""
        return self.u[:, None, :] + torch.einsum("kbj,jp->kpb", self.v, self.encoding)

    def contributions(self, x: torch.Tensor) -> torch.Tensor:
        """Per filter and position contributions ``f_k(a_kp, p)``, shape ``(N, K, P)``."""
        if x.shape[-1] != self.length:
            raise ValueError(f"x must have length {self.length}; found shape {tuple(x.shape)}")
        activation = self.activation(self.conv(x))
        return (self.basis(activation) * self.shape_weights()[None]).sum(dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        summed = self.contributions(x).sum(dim=-1)  # (N, K)
        out = self.linear(summed)
        if self.mlp is not None:
            out = out + self.mlp(summed)
        return out

    @torch.no_grad()
    def shape_function(self, k: int, activations: np.ndarray, positions: np.ndarray):
        """``f_k(a, p)`` on a grid, times the filter's output weight: ``(len(p), len(a))``.

        Taught in chapter 8.
        """
        a = torch.as_tensor(np.asarray(activations, dtype=np.float32))
        weights = self.shape_weights()[k, torch.as_tensor(np.asarray(positions))]  # (P, B)
        values = self.basis(a) @ weights.T  # (A, P)
        return (values.T * self.linear.weight[0, k]).numpy()
