"""Tests of the explorers' interpretation tables (filters, attention): each against the
library functions it repeats, called directly, and bad inputs refused by name."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genotutor import interpret
from genotutor.interpret import attention_maps, attention_table, filter_table
from genotutor.models import AttentionCNN, DeepBind
from genotutor.sequences import random_sequences


def _deepbind(activation: str) -> DeepBind:
    torch.manual_seed(0)
    return DeepBind(n_filters=4, filter_width=7, activation=activation).eval()


@pytest.mark.parametrize("activation", ["relu", "exp"])
@pytest.mark.parametrize("scores", ["activation", "convolution"])
def test_filter_table_tracks_are_what_the_site_rule_thresholds(one_hot_batch, activation, scores):
    """Where a track reaches its filter's cutoff is where the PWM took a site: counted
    over every sequence, the crossings are the PWM's sites."""
    model = _deepbind(activation)
    table = filter_table(model, one_hot_batch, threshold=0.6, scores=scores, progress=False)
    activated = scores == "activation"
    direct = interpret.filter_activations(model, one_hot_batch, activated=activated)
    assert table.scores == scores and table.tracks.shape == direct.shape
    assert torch.allclose(table.tracks, direct)
    crossings = (table.tracks >= table.cutoffs[None, :, None]).sum(dim=(0, 2))
    assert (crossings.numpy() == table.pwms.n_sites).all()
    pwms = interpret.filters_to_pwms(
        model, one_hot_batch, threshold=0.6, scores=scores, progress=False
    )
    assert np.allclose(table.pwms.probs, pwms.probs)
    assert table.matches.equals(interpret.match_filters(pwms, min_sites=0))
    assert table.centre == 3  # width 7, no padding


def test_filter_table_tracks_the_activation_by_default(one_hot_batch):
    model = _deepbind("exp")
    table = filter_table(model, one_hot_batch, n_tracks=3, progress=False)
    activation = interpret.filter_activations(model, one_hot_batch[:3], activated=True)
    convolution = interpret.filter_activations(model, one_hot_batch[:3])
    assert torch.allclose(table.tracks, activation)
    assert not torch.allclose(table.tracks, convolution)


def test_filter_table_passes_every_option_of_filters_to_pwms(one_hot_batch):
    model = _deepbind("relu")
    options = {"threshold": 0.7, "scores": "convolution", "batch_size": 2, "pseudocount": 0.1}
    table = filter_table(model, one_hot_batch, n_tracks=2, progress=False, **options)
    pwms = interpret.filters_to_pwms(model, one_hot_batch, progress=False, **options)
    assert np.array_equal(table.pwms.probs, pwms.probs) and table.pwms.scores == "convolution"
    assert table.scores == "convolution" and np.array_equal(table.cutoffs, pwms.cutoffs)
    with pytest.raises(TypeError, match="pseudocounts"):
        filter_table(model, one_hot_batch, pseudocounts=0.1)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_tracks": 0}, "n_tracks"),
        ({"threshold": 0}, "threshold"),
        ({"threshold": "half"}, "threshold"),
        ({"scores": "logits"}, "scores"),
        ({"pseudocount": -1}, "pseudocount"),
        ({"pseudocount": "half"}, "pseudocount"),
        ({"device": "nowhere"}, "device"),
        ({"progress": None}, "progress"),
    ],
)
def test_filter_table_refuses_bad_options_by_name(one_hot_batch, options, message):
    with pytest.raises((TypeError, ValueError), match=message):
        filter_table(_deepbind("relu"), one_hot_batch, **options)
    with pytest.raises(TypeError, match="first_conv"):
        filter_table(torch.nn.Linear(2, 1), one_hot_batch)


@pytest.fixture
def attention_model() -> AttentionCNN:
    torch.manual_seed(0)
    return AttentionCNN(60, n_filters=8, filter_width=5, pool=5, n_heads=2, hidden=8).eval()


def test_attention_table_is_attention_maps_and_the_outputs(attention_model):
    x = random_sequences(6, 60, seed=3)
    table = attention_table(attention_model, x, progress=False)
    direct = attention_maps(attention_model, x)["attention"]
    assert torch.allclose(table.maps, direct, atol=1e-6)
    assert torch.allclose(table.mean, direct.mean(1), atol=1e-6)
    with torch.no_grad():
        assert torch.allclose(table.outputs, attention_model(x)[:, 0], atol=1e-6)
    assert table.maps.shape[:2] == (6, 2) and table.mean.shape == (6, *direct.shape[-2:])


def test_attention_table_refuses_bad_options_by_name(attention_model):
    x = random_sequences(6, 60, seed=3)
    with pytest.raises(ValueError, match="layer must be one of"):
        attention_table(attention_model, x, layer="nope")
    with pytest.raises(ValueError, match="x must be one-hot"):
        attention_table(attention_model, x * 2)
    with pytest.raises(ValueError, match="device"):
        attention_table(attention_model, x, device="nowhere")
