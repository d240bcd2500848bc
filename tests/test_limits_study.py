"""Tests of genotutor.studies.limits (chapter 5, limits 7 and 8) at tiny sizes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genotutor.sequences import random_sequences
from genotutor.studies import limits

TINY = {"n": 300, "length": 100, "seed": 0, "drivers": ["CTCF"]}


def test_models_shapes_and_first_conv():
    x = random_sequences(3, 100, seed=0)
    cnn = limits.DropoutCNN(100, dropout=0.5).eval()
    assert cnn(x).shape == (3, 1) and cnn.first_conv is cnn.conv
    for kwargs in ({}, {"residual": True}, {"norm": True}, {"he_init": True}):
        stack = limits.DeepStack(3, **kwargs).eval()
        assert stack(x).shape == (3, 1) and len(stack.blocks) == 3
    with pytest.raises(ValueError, match="dropout"):
        limits.DropoutCNN(100, dropout=1.0)
    with pytest.raises(ValueError, match="depth"):
        limits.DeepStack(0)


def test_channel_dropout_drops_whole_filters_in_training_only():
    cnn = limits.DropoutCNN(100, dropout=0.5).train()
    h = cnn.relu(cnn.conv(random_sequences(8, 100, seed=1)))
    torch.manual_seed(0)
    dropped = cnn.dropout(h)
    zero_channels = (dropped == 0).all(-1) & (h != 0).any(-1)
    assert zero_channels.any()  # whole filters switched off
    assert torch.equal(cnn.eval().dropout(h), h)


def test_gradient_norms_plain_falls_and_residual_does_not():
    norms = limits.gradient_norms((2, 8), n_sequences=4, length=40, seeds=(0,))
    assert list(norms.columns) == list(limits.VARIANTS) and list(norms.index) == [2, 8]
    plain = norms.loc[8, "plain"] / norms.loc[2, "plain"]
    residual = norms.loc[8, "residual"] / norms.loc[2, "residual"]
    assert plain < 0.1 * residual
    assert 0.2 < plain ** (1 / 6) < 0.6  # about 1/sqrt(6) per layer
    with pytest.raises(ValueError, match="variants"):
        limits.gradient_norms((2,), variants=("sideways",))


def test_dropout_model_is_cached_and_redundancy_table_columns():
    first = limits.dropout_model(0.3, task=TINY, epochs=1, progress=False)
    again = limits.dropout_model(0.3, task=TINY, epochs=1, progress=False)
    assert not first.from_cache and again.from_cache
    negatives = first.test.x[first.test.y[:, 0] == 0][:10]
    table = limits.redundancy_table({0.3: first.model}, negatives)
    assert list(table.columns) == [
        "motif effect", "filters responding", "largest single share", "group share",
        "single / group", "sum of singles / group",
    ]  # fmt: skip
    row = table.loc[0.3]
    assert row["filters responding"] >= 1 and np.isfinite(row["motif effect"])
    on_probability = limits.redundancy_table(
        {0.3: first.model}, negatives, target=lambda y: torch.sigmoid(y[:, 0])
    )
    assert abs(on_probability.loc[0.3, "motif effect"]) <= 1


def test_deep_model_trains_plain_and_residual():
    for residual in (False, True):
        fitted = limits.deep_model(residual, depth=2, task=TINY, epochs=1, progress=False)
        assert any(
            isinstance(m, limits.Block) and m.residual == residual for m in fitted.model.modules()
        )
        assert fitted.config["depth"] == 2
