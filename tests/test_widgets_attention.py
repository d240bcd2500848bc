"""Tests of the chapter-6 attention explorer: a view over attention_table."""

from __future__ import annotations

import pytest
import torch
from node_oracle import run_module

from genotutor.interpret import attention_maps, attention_table
from genotutor.models import AttentionCNN
from genotutor.sequences import random_sequences
from genotutor.widgets import AttentionExplorer
from genotutor.widgets._view import unpack


@pytest.fixture
def model() -> AttentionCNN:
    torch.manual_seed(0)
    return AttentionCNN(60, n_filters=8, filter_width=5, pool=5, n_heads=2, hidden=8).eval()


@pytest.fixture
def x() -> torch.Tensor:
    return random_sequences(6, 60, seed=3)


def _explorer(model, x, **options) -> AttentionExplorer:
    return AttentionExplorer(attention_table(model, x, progress=False), **options)


def _marked(model) -> torch.Tensor:
    tokens = torch.zeros(6, model.n_tokens, dtype=torch.bool)
    tokens[:, [1, 7]] = True
    tokens[2, 4] = True
    tokens[3] = False  # no marked token: no share
    return tokens


def test_explorer_controls_move_the_view(model, x):
    explorer = _explorer(model, x, tokens=_marked(model))
    assert torch.equal(explorer.weights(), explorer.mean[0])
    explorer.head.value = "1"
    assert explorer.view.head == 2  # the option's index: 0 is the mean
    assert torch.equal(explorer.weights(), explorer.maps[0, 1])
    first = explorer.marked_share()
    explorer.sequence.value = 4
    assert explorer.view.sequence == 4 and explorer.marked_share() != first
    explorer.sequence.value = 3
    assert explorer.marked_share() is None


def test_explorer_table_matches_the_model(model, x):
    explorer = _explorer(model, x, tokens=_marked(model))
    data = explorer.view.data
    direct = attention_maps(model, x)["attention"]
    assert torch.allclose(torch.from_numpy(unpack(data["maps"]).copy()), direct, atol=1e-6)
    mean = torch.from_numpy(unpack(data["mean"]).copy())
    assert torch.allclose(mean, direct.mean(1), atol=1e-6)
    with torch.no_grad():
        outputs = model(x)[:, 0]
    assert torch.allclose(torch.from_numpy(unpack(data["outputs"]).copy()), outputs, atol=1e-6)
    assert (unpack(data["tokens"]) == _marked(model).numpy()).all()


def test_explorer_share_is_the_attention_between_marked_tokens(model, x):
    """Brute force over the pairs of distinct marked tokens, in Python and in the view's
    JavaScript (run by Node.js) on the view's own state."""
    explorer = _explorer(model, x, tokens=_marked(model))
    explorer.sequence.value, explorer.head.value = 2, "0"
    weights, marked = explorer.maps[2, 0], [1, 4, 7]
    brute = sum(float(weights[i, j]) for i in marked for j in marked if i != j) / 3
    assert abs(explorer.marked_share() - brute) < 1e-6
    script = """
const maps = mod.decode(input.data.maps);
const t = maps.shape[2];
console.log(JSON.stringify(mod.markedShare(mod.row(maps, 2, 0), t, [1, 4, 7])));
"""
    shown = run_module(
        "attention", script, {"data": explorer.view.data}, exports="decode, row, markedShare"
    )
    assert abs(shown - brute) < 1e-6


def test_explorer_refuses_bad_options_by_name(model, x):
    tokens = _marked(model)
    with pytest.raises(ValueError, match="tokens must have shape"):
        _explorer(model, x, tokens=tokens[:, :3])
    with pytest.raises(TypeError, match="tokens must be a bool tensor"):
        _explorer(model, x, tokens=tokens.float())
    with pytest.raises(TypeError, match="table must be an AttentionTable"):
        AttentionExplorer(attention_maps(model, x))
    explorer = _explorer(model, x)
    assert set(explorer.view.data) == {"maps", "mean", "outputs"}
    assert {"sequence", "head"} <= set(explorer.view.trait_names())
    explorer.maps = explorer.maps[:2]  # the reader swapped in fewer maps
    explorer.sequence.value = 5
    with pytest.raises(ValueError, match=r"sequence must be in \[0, 1\]"):
        explorer.weights()
