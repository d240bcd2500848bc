"""DeepLIFT's RevealCancel rule and the authors' genomics default (``rule=`` of DeepLIFT).

The Rescale rule gives a nonlinearity ``y = f(x)`` one multiplier, ``(y - y_r) / (x - x_r)``.
When ``x``'s change is the sum of a positive part and a negative part that cancel, Rescale
cannot tell them apart: a min-like unit ``min(a, b) = a - relu(a - b)`` credits all of its
output to one input. RevealCancel (Shrikumar, Greenside and Kundaje 2017, section 3.5.3)
splits the change of the unit's input into its positive and negative terms, ``dx+`` and
``dx-`` (each term ``w_i dh_i`` of the layer below, by its sign), and gives each its own
change of the output, the average over the two orders in which they can be added::

    dy+ = 1/2 [f(x_r + dx+) - f(x_r)] + 1/2 [f(x_r + dx- + dx+) - f(x_r + dx-)]
    dy- = 1/2 [f(x_r + dx-) - f(x_r)] + 1/2 [f(x_r + dx+ + dx-) - f(x_r + dx+)]

with multipliers ``m+ = dy+ / dx+`` and ``m- = dy- / dx-`` (where a part is near zero, its
limit, the mean of ``f'`` at the two points it would be added to). ``dy+ + dy- = dy``, so
summation-to-delta holds. Through the layer below, a term's multiplier is ``m+ w_i`` when
``w_i dh_i > 0``, ``m- w_i`` when it is negative, and ``(m+ + m-) w_i / 2`` when ``dh_i = 0``
(as kundajelab/deeplift's ``Dense`` layer does; that code was read, not copied).

``rule="genomics_default"`` is kundajelab/deeplift's ``DeepLIFT_GenomicsDefault``:
RevealCancel for a nonlinearity fed by a dense layer (``nn.Linear``), Rescale for one fed by
a convolution; the layer found by looking through batch norm, dropout and identity. Where
no linear layer feeds a nonlinearity directly (a residual sum, a pooling), the authors'
code refuses; genotutor uses Rescale there, and ``rule="reveal_cancel"`` refuses with an
error naming the module. Max-pooling keeps the book's rule in every mode.

How it is applied: during the pass on the inputs, each ``nn.Linear`` or ``nn.Conv1d`` hook
also computes its output's positive and negative parts as differentiable functions of its
input (the split of each term fixed by the sign of ``w_i dh_i``); batch norm, dropout and
identity pass the parts on; the activation then returns its output plus a zero-valued term
``m+ (dx+ - dx+.detach()) + m- (dx- - dx-.detach())``, so the input gradient is the product
of RevealCancel's multipliers.

Taught in chapter 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from genotutor.attribution._common import DEEPLIFT_RULES as RULES
from genotutor.models import Exponential
from genotutor.validation import check_choice

SPLIT_SOURCES = (nn.Linear, nn.Conv1d)
PASS_THROUGH = (nn.BatchNorm1d, nn.Dropout, nn.Identity)
_SMALL = 1e-6


def check_rule(rule: object) -> str:
    """``rule`` as one of :data:`RULES`, else an error naming ``rule``. Taught in chapter 2."""
    return check_choice(rule, "rule", RULES)


@dataclass
class Split:
    """The change of a layer's output, split into its positive and negative terms.

    ``output`` is the layer's output tensor (the activation checks it receives this very
    tensor); ``positive`` and ``negative`` have its shape and sum to ``output - reference``;
    ``source`` is the ``nn.Linear`` or ``nn.Conv1d`` that made them.
    """

    output: torch.Tensor
    positive: torch.Tensor
    negative: torch.Tensor
    source: nn.Module
    tapped: bool = False  # the output was replaced by attribute_layer's leaf


def _apply_weight(module: nn.Module, h: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    if isinstance(module, nn.Linear):
        return F.linear(h, weight)
    if module.padding_mode != "zeros":
        raise ValueError(
            f"RevealCancel supports Conv1d with padding_mode='zeros'; found "
            f"{module.padding_mode!r} in {module}"
        )
    return F.conv1d(h, weight, None, module.stride, module.padding, module.dilation, module.groups)


def split_layer(module: nn.Module, h: torch.Tensor, h_reference: torch.Tensor, output) -> Split:
    """The positive and negative terms of the change of ``module``'s output.

    Parameters
    ----------
    module : nn.Linear or nn.Conv1d
    h : torch.Tensor
        The layer's input (with its autograd graph: the parts are differentiable in it).
    h_reference : torch.Tensor
        The layer's input on the reference.
    output : torch.Tensor
        What the layer returned for ``h``.
    """
    delta = h - h_reference
    sign = delta.detach()
    positive_in, negative_in = delta * (sign > 0), delta * (sign < 0)
    zero_in = delta * (sign == 0)  # worth 0, but carries the (m+ + m-) / 2 multiplier
    w = module.weight
    up, down = w.clamp(min=0), w.clamp(max=0)
    half = 0.5 * _apply_weight(module, zero_in, w)
    positive = _apply_weight(module, positive_in, up) + _apply_weight(module, negative_in, down)
    negative = _apply_weight(module, positive_in, down) + _apply_weight(module, negative_in, up)
    return Split(output, positive + half, negative + half, module)


def pass_split(module: nn.Module, split: Split, output: torch.Tensor) -> Split:
    """The split carried through a batch norm (eval mode: per channel ``a x + c``), a
    dropout (eval mode) or an identity."""
    if not isinstance(module, nn.BatchNorm1d):
        return Split(output, split.positive, split.negative, split.source)
    if module.training:
        raise ValueError("RevealCancel needs batch norm in eval mode (running statistics)")
    scale = module.running_var.add(module.eps).rsqrt()
    if module.weight is not None:
        scale = scale * module.weight
    shape = (-1,) + (1,) * (split.positive.ndim - 2)
    up, down = scale.clamp(min=0).view(shape), scale.clamp(max=0).view(shape)
    positive = up * split.positive + down * split.negative
    negative = up * split.negative + down * split.positive
    return Split(output, positive, negative, split.source)


def derivative(module: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The activation's ordinary derivative at ``x`` (``y`` is its output). Taught in chapter 2."""
    if isinstance(module, nn.ReLU):
        return (x > 0).to(x.dtype)
    if isinstance(module, Exponential):
        return y
    if isinstance(module, nn.Sigmoid):
        return y * (1 - y)
    if isinstance(module, nn.Tanh):
        return 1 - y * y
    with torch.enable_grad():
        z = x.detach().requires_grad_()
        return torch.autograd.grad(module.forward(z).sum(), z)[0]


def reveal_cancel_rule(
    module: nn.Module,
    split: Split,
    x_reference: torch.Tensor,
    output: torch.Tensor,
) -> torch.Tensor:
    """The activation's output with RevealCancel's multipliers as its gradient."""
    f = module.forward
    p, n = split.positive.detach(), split.negative.detach()
    with torch.no_grad():
        y_r, y_p, y_n, y_pn = (
            f(x_reference),
            f(x_reference + p),
            f(x_reference + n),
            f(x_reference + p + n),
        )
        dy_p = 0.5 * ((y_p - y_r) + (y_pn - y_n))
        dy_n = 0.5 * ((y_n - y_r) + (y_pn - y_p))
        slope_r = derivative(module, x_reference, y_r)
        m_p = _ratio(dy_p, p, 0.5 * (slope_r + derivative(module, x_reference + n, y_n)))
        m_n = _ratio(dy_n, n, 0.5 * (slope_r + derivative(module, x_reference + p, y_p)))
    if split.tapped:  # the layer below is attribute_layer's leaf: one multiplier per unit
        total = p + n
        limit = 0.5 * (m_p + m_n)
        merged = _ratio(m_p * p + m_n * n, total, limit)
        return output.detach() + merged * (split.output - split.output.detach())
    zero = m_p * (split.positive - p) + m_n * (split.negative - n)
    return output.detach() + zero


def _ratio(change: torch.Tensor, part: torch.Tensor, limit: torch.Tensor) -> torch.Tensor:
    small = part.abs() < _SMALL
    return torch.where(small, limit, change / torch.where(small, torch.ones_like(part), part))


def chosen_rule(rule: str, split: Split | None, name: str, module: nn.Module) -> str:
    """``"rescale"`` or ``"reveal_cancel"`` for one activation under ``rule``."""
    if rule == "rescale":
        return "rescale"
    if rule == "genomics_default":
        dense = split is not None and isinstance(split.source, nn.Linear)
        return "reveal_cancel" if dense else "rescale"
    if split is None:
        raise ValueError(
            f"rule='reveal_cancel' needs every activation to follow an nn.Linear or nn.Conv1d "
            f"(through BatchNorm1d, Dropout or Identity); {name!r} ({type(module).__name__}) "
            "does not. Use rule='genomics_default' (Rescale there) or a rules= entry"
        )
    return "reveal_cancel"


class SplitTracker:
    """The splits of one pass on the inputs: made by linear layers, carried by pass-through
    layers, looked up by the activation that receives their output."""

    def __init__(self) -> None:
        self.references: dict[int, torch.Tensor] = {}
        self.splits: list[Split] = []

    def start(self) -> None:
        self.splits.clear()

    def record(self, module: nn.Module, x: torch.Tensor) -> None:
        if isinstance(module, SPLIT_SOURCES):
            self.references[id(module)] = x.detach()

    def apply(self, module: nn.Module, x: torch.Tensor, output: torch.Tensor) -> None:
        if isinstance(module, SPLIT_SOURCES):
            reference = self.references.pop(id(module))
            self.splits.append(split_layer(module, x, reference, output))
            return
        found = self.find(x)
        if found is not None:
            self.splits.append(pass_split(module, found, output))

    def alias(self, original: torch.Tensor, leaf: torch.Tensor) -> None:
        """``attribute_layer`` replaced ``original`` by ``leaf``: a split of ``original``
        now belongs to ``leaf``, whose gradient must carry its unit's contribution."""
        found = self.find(original)
        if found is not None:
            self.splits.append(Split(leaf, found.positive, found.negative, found.source, True))

    def find(self, x: torch.Tensor) -> Split | None:
        """The split whose output is the very tensor ``x``, or None."""
        return next((s for s in reversed(self.splits) if s.output is x), None)
