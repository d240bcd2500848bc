"""Transparent architectures: models whose units have an assigned meaning.

:class:`TransparentNet` follows ExplaiNN (Novakovsky et al. 2023): independent units, each
built on a single convolutional filter, combined by one linear layer, so the prediction
is a sum of per-unit contributions that can be read off. :meth:`TransparentNet.from_motifs`
fixes the filters to known PWMs instead of learning them. :class:`WithFreeTerm` adds a free
term to any model: its hypothesis class contains the model's, the black box that the
chapter compares the transparent model with.

Taught in chapter 6.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from genotutor.models.cnn import _activation
from genotutor.motifs import Motif
from genotutor.validation import check_model, check_positive_int, check_tensor


class TransparentNet(nn.Module):
    """Independent single-filter units, combined linearly (ExplaiNN-style).

    Unit ``k`` is ``u_k(x) = g_k(max_i (w_k * x)_i)``: one filter ``w_k`` scanned along the
    sequence, its activation, the maximum over positions, then a small MLP ``g_k`` of that
    one number (1 -> ``hidden`` -> 1, its own weights). The output is
    ``y_t = sum_k W[t, k] u_k(x) + b_t``, so ``W[t, k] u_k(x)`` is unit ``k``'s contribution
    to output ``t``, and nothing else in the model mixes the units.

    Departures from ExplaiNN: ExplaiNN max-pools each filter in windows (7 bases, stride 7)
    and feeds the pooled track to a two-layer fully connected net of width 100 with batch
    norm and dropout, so a unit can respond to *where* its motif is; here each unit sees
    only its filter's best score (position-invariant), far fewer units and a much smaller
    MLP, so a unit is exactly a motif detector with a dose-response curve.

    Parameters
    ----------
    n_tasks : int
        Number of outputs.
    n_units : int
        Number of units (filters).
    filter_width : int
        Width of each filter.
    hidden : int
        Width of each unit's MLP.
    activation : {"relu", "exp"}
        Activation after the convolution.

    Attributes
    ----------
    conv : torch.nn.Conv1d
        All units' filters, ``n_units`` output channels (channel ``k`` reads filter ``k``
        only), also available as ``first_conv``.
    unit_in, unit_out : torch.nn.Conv1d
        The units' MLPs as grouped 1x1 convolutions (``groups=n_units``: unit ``k``'s MLP
        reads unit ``k``'s score only).
    combine : torch.nn.Linear
        ``W`` and ``b``.

    Taught in chapter 6.
    """

    def __init__(
        self,
        n_tasks: int = 1,
        *,
        n_units: int = 8,
        filter_width: int = 11,
        hidden: int = 8,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        self.n_units = k = check_positive_int(n_units, "n_units")
        hidden = check_positive_int(hidden, "hidden")
        self.conv = nn.Conv1d(4, k, check_positive_int(filter_width, "filter_width"))
        self.activation = _activation(activation)
        self.pool = nn.AdaptiveMaxPool1d(1)
        self.unit_in = nn.Conv1d(k, k * hidden, 1, groups=k)
        self.unit_relu = nn.ReLU()
        self.unit_out = nn.Conv1d(k * hidden, k, 1, groups=k)
        self.flatten = nn.Flatten()
        self.combine = nn.Linear(k, check_positive_int(n_tasks, "n_tasks"))

    @classmethod
    def from_motifs(
        cls,
        motifs: Sequence[Motif],
        n_tasks: int = 1,
        *,
        hidden: int = 8,
        background: tuple[float, float, float, float] = (0.25, 0.25, 0.25, 0.25),
    ) -> TransparentNet:
        """A net with one unit per motif, its filter fixed to the motif's log-odds PWM.

        Filter ``k`` is ``log2(p / background)`` of ``motifs[k]`` (shorter motifs padded
        with zeros on the right), bias 0, and is not trained (``requires_grad`` False): the
        units are the motifs by construction and only their MLPs and ``W`` are learned.

        Parameters
        ----------
        motifs : sequence of genotutor.motifs.Motif
        n_tasks, hidden : int
            As for the constructor (the activation is ReLU).
        background : four floats
            Base frequencies of A, C, G, T for the log-odds.

        Taught in chapter 6.
        """
        motifs = list(motifs)
        if not motifs or not all(isinstance(m, Motif) for m in motifs):
            raise TypeError(
                "motifs must be a non-empty sequence of genotutor.motifs.Motif; found "
                f"{[type(m).__name__ for m in motifs]}"
            )
        back = np.asarray(background, dtype=np.float64)
        if back.shape != (4,) or (back <= 0).any():
            raise ValueError(f"background must be 4 positive frequencies; found {background!r}")
        width = max(m.width for m in motifs)
        net = cls(n_tasks, n_units=len(motifs), filter_width=width, hidden=hidden)
        weights = np.zeros((len(motifs), 4, width), dtype=np.float32)
        for i, motif in enumerate(motifs):
            probs = np.clip(motif.probs, 1e-3, None)
            weights[i, :, : motif.width] = np.log2(probs / back[:, None])
        with torch.no_grad():
            net.conv.weight.copy_(torch.from_numpy(weights))
            net.conv.bias.zero_()
        net.conv.requires_grad_(False)
        net.unit_names = [m.name for m in motifs]
        return net

    @property
    def first_conv(self) -> nn.Conv1d:
        """The units' filters (what :func:`genotutor.interpret.filters_to_pwms` reads)."""
        return self.conv

    def units(self, x: torch.Tensor) -> torch.Tensor:
        """Each unit's output ``u_k(x)``: ``(N, 4, L)`` -> ``(N, n_units)``."""
        check_tensor(x, "x")
        score = self.pool(self.activation(self.conv(x)))  # (N, K, 1)
        return self.flatten(self.unit_out(self.unit_relu(self.unit_in(score))))

    def contributions(self, x: torch.Tensor) -> torch.Tensor:
        """Each unit's contribution ``W[t, k] u_k(x)``: ``(N, 4, L)`` -> ``(N, n_tasks, n_units)``.

        Summed over units and added to ``combine.bias`` they give the output exactly.
        """
        return self.units(x)[:, None, :] * self.combine.weight[None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        score = self.pool(self.activation(self.conv(x)))
        return self.combine(self.flatten(self.unit_out(self.unit_relu(self.unit_in(score)))))


class WithFreeTerm(nn.Module):
    """``base(x) + free(x)``: any model plus an unconstrained term.

    Every function ``base`` can compute, the augmented model computes too (with ``free``
    giving 0, e.g. its last layer's weights and bias zero), so its hypothesis class
    contains ``base``'s and its best achievable loss is never higher. Chapter 6 uses it as
    the black box that the transparent model is compared with: a transparent model plus
    a CNN whose contribution nobody can read.

    Parameters
    ----------
    base, free : torch.nn.Module
        Two models with the same input and output shapes.

    Taught in chapter 6.
    """

    def __init__(self, base: nn.Module, free: nn.Module) -> None:
        super().__init__()
        self.base = check_model(base, "base")
        self.free = check_model(free, "free")

    @property
    def first_conv(self) -> nn.Conv1d:
        """The base model's first convolution."""
        return self.base.first_conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + self.free(x)
