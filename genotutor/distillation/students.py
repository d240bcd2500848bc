"""Interpretable students: additive and pairwise position models, and a neural-basis CNN.

Taught in chapter 9, "Distilling a splicing model".
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from genotutor.sequences import check_positive_int
from genotutor.validation import check_bool


class AdditiveStudent(nn.Module):
    """``y = b + sum_l theta[l, x_l]`` (+ pairwise terms between nearby positions).

    Input ``(N, 4, L)``, output ``(N, 1)``. Taught in chapter 9.

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

    Period 3 is the reading frame. Taught in chapter 9.
    """
    position = torch.arange(length, dtype=torch.float32)
    rows = []
    for period in periods:
        angle = 2 * math.pi * position / period
        rows += [torch.sin(angle), torch.cos(angle)]
    return torch.stack(rows)


class NeuralBasisStudent(nn.Module):
    """The neural-basis student of Liu, Zhang and Regev (2025): filters meet in one scalar.

    Input ``(N, 4, L)``, output ``(N, 1)``. Taught in chapter 9.

    Filter k's activation at position p, ``a_kp = ELU(BN(conv(x)))[k, p]`` (a valid
    convolution, then batch normalisation per filter), is joined with the position's
    sinusoidal features ``e_p`` (period 3 is the reading frame) and passed through one
    **shared, learned** basis network ``g(a, e)`` with B outputs (a hidden layer and the B
    bases, each after a ReLU). Filter k's contribution at p is its own linear combination
    of the bases, ``c_kp = (W_k . g(a_kp, e_p) + b_k) / P`` over the P positions. Every
    contribution is summed into **one scalar** ``s = sum_kp c_kp``, and a small residual
    network acts on that scalar alone: ``y = t(s + beta) + s + beta``. So
    ``model(x) == model.readout(model.contributions(x).sum(dim=(1, 2))[:, None])`` (in
    eval mode), and changing filter k's weights changes ``c_k.`` only: filters never
    interact.

    This follows ``models/nbm.py`` (``Conv1DNBM`` with ``orders=[(1, B, None)]``) of
    regev-lab/splicing-interpretable-distillation and its SpliceAI parameters
    (``trained_models/SpliceAI/params.json``, whose sizes are powers of two: 2^6 = 64
    filters of width 24, ELU, 100 bases, one hidden layer of 23, a tuner of two layers of
    32; Adam at a learning rate of about 1e-3, cut 26-fold after 8 epochs without
    improvement, batches of 2^8 = 256, up to 200 epochs, the
    best of 150 trials of a hyperparameter search). Ours differs in sizes (the defaults
    below), in the position features (sines and cosines of the given periods, not their
    log-spaced frequencies plus period 3), in training (:func:`genotutor.distillation.distill`:
    20 epochs of batches of 32, one run per seed) and in two choices that let it learn in
    that budget: batch normalisation after the convolution (``conv_batch_norm``, an option
    of their model that their SpliceAI student leaves off) and the 1/P scale of the
    contributions (the same functions: ``W_k`` and ``b_k`` absorb it). Their per-filter
    output weight is folded into ``W_k`` (the same function class).

    Parameters
    ----------
    length : int
    n_filters, width : int
        Convolution filters and their width.
    n_basis, basis_hidden : int
        Bases B of the shared basis network and the size of its hidden layer.
    periods : tuple of float
        Periods of the position features.
    tuner_hidden : int
        Hidden units of each of the tuner's two layers (0: no tuner, ``y = s + beta``).
    conv_norm : bool
        Batch-normalise the convolution's output (False: the authors' SpliceAI setting,
        which chapter 9 shows does not learn in the book's budget).

    """

    def __init__(
        self,
        length: int,
        *,
        n_filters: int = 6,
        width: int = 6,
        n_basis: int = 32,
        basis_hidden: int = 16,
        periods: tuple[float, ...] = (3.0, 6.0, 12.0, 24.0, 48.0, 96.0, 200.0),
        tuner_hidden: int = 16,
        conv_norm: bool = True,
    ) -> None:
        super().__init__()
        self.length = check_positive_int(length, "length")
        n_filters = check_positive_int(n_filters, "n_filters")
        width = check_positive_int(width, "width")
        n_basis = check_positive_int(n_basis, "n_basis")
        basis_hidden = check_positive_int(basis_hidden, "basis_hidden")
        tuner_hidden = check_positive_int(tuner_hidden, "tuner_hidden", minimum=0)
        if width > self.length:
            raise ValueError(f"width must be <= length ({self.length}); found {width}")
        self.conv = nn.Conv1d(4, n_filters, width)
        conv_norm = check_bool(conv_norm, "conv_norm")
        self.norm = nn.BatchNorm1d(n_filters) if conv_norm else nn.Identity()
        self.activation = nn.ELU()
        self.n_positions = self.length - width + 1
        self.register_buffer("encoding", position_encoding(self.n_positions, tuple(periods)))
        self.basis_net = nn.Sequential(
            nn.Linear(1 + self.encoding.shape[0], basis_hidden), nn.ReLU(),
            nn.Linear(basis_hidden, n_basis), nn.ReLU(),
        )  # fmt: skip
        self.shape_weight = nn.Parameter(0.01 * torch.randn(n_filters, n_basis))  # s ~ 0 at first
        self.shape_bias = nn.Parameter(torch.zeros(n_filters))
        self.offset = nn.Parameter(torch.zeros(1))
        self.tuner = (
            nn.Sequential(
                nn.Linear(1, tuner_hidden),
                nn.ReLU(),
                nn.Linear(tuner_hidden, tuner_hidden),
                nn.ReLU(),
                nn.Linear(tuner_hidden, 1),
            )  # fmt: skip
            if tuner_hidden
            else None
        )

    @property
    def first_conv(self) -> nn.Conv1d:
        """The filters (read them as motifs)."""
        return self.conv

    @property
    def n_basis(self) -> int:
        """The number B of shared bases."""
        return self.shape_weight.shape[1]

    def activations(self, x: torch.Tensor) -> torch.Tensor:
        """``a_kp``, shape ``(N, K, P)``: each filter's normalised, activated response."""
        if x.shape[-1] != self.length:
            raise ValueError(f"x must have length {self.length}; found shape {tuple(x.shape)}")
        return self.activation(self.norm(self.conv(x)))

    def shape(self, activation: torch.Tensor, encoding: torch.Tensor) -> torch.Tensor:
        """``c_kp`` for activations ``(..., K, P)`` and position features ``(D, P)``.

        The basis network's first layer reads ``[a, e_p]``; its position part is the same
        for every sequence and filter, so it is computed once per position and added (the
        same function as ``basis_net`` on the concatenation, without building it).
        """
        first, rest = self.basis_net[0], self.basis_net[1:]
        per_position = encoding.T @ first.weight[:, 1:].T + first.bias  # (P, hidden)
        bases = rest(activation[..., None] * first.weight[:, 0] + per_position)  # (..., K, P, B)
        combined = (bases * self.shape_weight[:, None, :]).sum(-1)
        return (combined + self.shape_bias[:, None]) / self.n_positions

    def contributions(self, x: torch.Tensor) -> torch.Tensor:
        """Per filter and position contributions ``c_kp``, shape ``(N, K, P)``."""
        return self.shape(self.activations(x), self.encoding)

    def readout(self, total: torch.Tensor) -> torch.Tensor:
        """The output ``(N, 1)`` from the summed contributions ``(N, 1)``:
        ``t(s + beta) + s + beta``."""
        shifted = total + self.offset
        return shifted if self.tuner is None else shifted + self.tuner(shifted)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readout(self.contributions(x).sum(dim=(1, 2))[:, None])

    @torch.no_grad()
    def shape_function(self, k: int, activations: np.ndarray, positions: np.ndarray):
        """``c_k(a, p)`` on a grid of activations and positions: ``(len(p), len(a))``.

        Taught in chapter 9.
        """
        a = torch.as_tensor(np.asarray(activations, dtype=np.float32))
        p = torch.as_tensor(np.asarray(positions))
        n_filters = self.shape_weight.shape[0]
        grid = a[:, None, None].expand(-1, n_filters, len(p))  # (A, K, P)
        values = self.shape(grid, self.encoding[:, p])  # (A, K, P)
        return values[:, k].T.numpy()
