"""Small models with known weights, shared by the tests of a library module and of the
explorer that draws its table."""

from __future__ import annotations

import torch

from genotutor.distillation import AdditiveStudent
from genotutor.models import DeepBind
from genotutor.sequences import one_hot
from genotutor.splicing import Layout, TruthModel


def detector(patterns: list[str], width: int = 15) -> DeepBind:
    """A DeepBind whose filter k scores matches to patterns[k] (+1 per matching base)."""
    torch.manual_seed(0)
    model = DeepBind(n_filters=len(patterns), filter_width=width).eval()
    with torch.no_grad():
        model.conv.weight.zero_()
        model.conv.bias.zero_()
        for k, text in enumerate(patterns):
            model.conv.weight[k, :, : len(text)] = one_hot(text)[0]
    return model


def splicing_models(layout: Layout) -> dict:
    """The simulator's truth and an additive student with random weights, by name."""
    torch.manual_seed(0)
    student = AdditiveStudent(layout.length)
    with torch.no_grad():
        student.theta.normal_()
    return {"truth": TruthModel(), "student": student.eval()}
