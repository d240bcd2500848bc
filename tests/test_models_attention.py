"""Chapter 6's library: the attention model and its maps, the multicollinearity helpers,
the transparent architectures and the long-range task. Properties and oracles (a hand
computation of softmax(QK^T/sqrt(d)), an independent basis for the condition number,
contributions that add up), no golden numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from genotutor.attribution import attribute
from genotutor.interpret import (
    attention_auroc,
    attention_condition_number,
    attention_maps,
    equivalent_attention,
    predict_with_attention,
)
from genotutor.models import AttentionCNN, MultiHeadSelfAttention, TransparentNet, WithFreeTerm
from genotutor.motifs import get_motif
from genotutor.sequences import random_sequences
from genotutor.simulate import long_range_task


@pytest.fixture
def model() -> AttentionCNN:
    torch.manual_seed(0)
    return AttentionCNN(60, n_filters=8, filter_width=5, pool=5, n_heads=2, hidden=8).eval()


@pytest.fixture
def x() -> torch.Tensor:
    return random_sequences(6, 60, seed=3)


# --------------------------------------------------------------------------- maps
def test_maps_have_one_row_per_query_summing_to_one(model, x):
    maps = attention_maps(model, x, batch_size=4)
    assert list(maps) == ["attention"]
    weights = maps["attention"]
    assert weights.shape == (6, 2, model.n_tokens, model.n_tokens)
    assert torch.allclose(weights.sum(-1), torch.ones(6, 2, model.n_tokens), atol=1e-5)
    assert (weights >= 0).all()


def test_maps_agree_with_a_hand_computation(model, x):
    layer = model.attention
    with torch.no_grad():
        h = model.tokens(x)
        d = layer.head_dim
        expected = []
        for head in range(layer.n_heads):
            cols = slice(head * d, (head + 1) * d)
            q = h @ layer.query.weight[cols].T + layer.query.bias[cols]
            k = h @ layer.key.weight[cols].T + layer.key.bias[cols]
            expected.append(torch.softmax(q @ k.transpose(1, 2) / math.sqrt(d), dim=-1))
    got = attention_maps(model, x, layer="attention")
    assert torch.allclose(got, torch.stack(expected, dim=1), atol=1e-6)


def test_torch_multihead_attention_is_read_per_head(x):
    class TorchAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(4, 8, 5)
            self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
            self.out = nn.Linear(8, 1)

        def forward(self, x):
            h = self.conv(x).transpose(1, 2)
            mixed, _ = self.attn(h, h, h, need_weights=False)
            return self.out(mixed.mean(1))

    torch.manual_seed(0)
    net = TorchAttention().eval()
    maps = attention_maps(net, x, layer="attn")
    with torch.no_grad():
        h = net.conv(x).transpose(1, 2)
        _, expected = net.attn(h, h, h, average_attn_weights=False)
    assert maps.shape == (6, 2, 56, 56) and torch.allclose(maps, expected, atol=1e-6)


def test_replacing_the_maps_by_themselves_changes_nothing(model, x):
    weights = attention_maps(model, x, layer="attention")
    with torch.no_grad():
        expected = model(x)
    assert torch.allclose(predict_with_attention(model, x, weights), expected, atol=1e-6)
    uniform = torch.full_like(weights, 1 / weights.shape[-1])
    assert not torch.allclose(predict_with_attention(model, x, uniform), expected, atol=1e-4)


def test_equivalent_maps_differ_but_give_the_same_outputs(model, x):
    weights = attention_maps(model, x, layer="attention")
    with torch.no_grad():
        values = model.attention.values(model.tokens(x))  # T = 11 tokens > head_dim = 4
        expected = model(x)
    other = equivalent_attention(weights, values)
    assert torch.allclose(other.sum(-1), torch.ones_like(other.sum(-1)), atol=1e-5)
    assert (other >= 0).all()
    assert torch.allclose(other @ values, weights @ values, atol=1e-5)
    assert (0.5 * (other - weights).abs().sum(-1)).mean() > 0.1
    assert torch.allclose(predict_with_attention(model, x, other), expected, atol=1e-4)


def test_a_cost_picks_which_mass_moves():
    values = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])  # tokens 0 and 1 alike
    row = torch.tensor([0.5, 0.2, 0.3])
    cost = torch.tensor([1.0, 0.0, 0.0])  # move mass off token 0
    moved = equivalent_attention(
        row[None, None, None], values[None, None], cost=cost[None, None, None]
    )
    assert torch.allclose(moved[0, 0, 0], torch.tensor([0.0, 0.7, 0.3]), atol=1e-6)


def test_attention_auroc_is_one_for_a_map_on_the_pairs():
    truth = torch.zeros(3, 5, 5, dtype=torch.bool)
    truth[:, 0, 3] = truth[:, 3, 0] = True
    perfect = torch.full((3, 5, 5), 0.1)
    perfect[:, 0, 3] = 0.6
    assert attention_auroc(perfect, truth).pooled == 1.0
    assert attention_auroc(perfect.transpose(1, 2), truth).pooled == 1.0  # symmetric
    assert attention_auroc(torch.full((3, 5, 5), 0.2), truth).pooled == 0.5


def test_every_nonlinearity_is_its_own_module():
    for net in (AttentionCNN(60, filter_width=5, pool=5), TransparentNet(n_units=3)):
        kinds = (
            nn.ReLU,
            nn.Softmax,
            type(net.activation) if hasattr(net, "activation") else nn.ReLU,
        )
        seen = [id(m) for m in net.modules() if isinstance(m, kinds)]
        assert len(seen) == len(set(seen)) >= 2


def test_ism_and_deeplift_shap_run_through_the_attention_model(model, x):
    scores = attribute(model, x[:2], "ism", progress=False)
    with torch.no_grad():
        mutant = x[:2].clone()
        mutant[1, :, 30] = (
            torch.tensor([0.0, 0.0, 0.0, 1.0]) if x[1, 3, 30] == 0 else torch.tensor([1.0, 0, 0, 0])
        )
        base = 3 if x[1, 3, 30] == 0 else 0
        expected = model(mutant)[1, 0] - model(x[:2])[1, 0]
    assert torch.allclose(scores[1, base, 30], expected, atol=1e-5)
    shap = attribute(
        model,
        x[:2],
        "deeplift_shap",
        rules={nn.Softmax: "linear"},
        n_references=3,
        warn=False,
        progress=False,
    )
    assert shap.shape == x[:2].shape and torch.isfinite(shap).all()


# --------------------------------------------------------------------------- conditioning
def _condition_in_a_basis(values: np.ndarray) -> float:
    """An independent oracle: an orthonormal basis Q of the zero-sum directions, then
    the 2-norm condition number of the map d -> V^T Q d."""
    n = len(values)
    basis, _ = np.linalg.qr(np.eye(n)[:, 1:] - np.eye(n)[:, :1])  # spans sum(d) = 0
    return float(np.linalg.cond(values.T @ basis))


def test_condition_number_matches_an_independent_basis():
    values = np.random.default_rng(0).standard_normal((5, 6))
    got = float(attention_condition_number(torch.from_numpy(values)))
    assert got == pytest.approx(_condition_in_a_basis(values), rel=1e-8)


def test_condition_number_grows_as_two_tokens_become_collinear():
    numbers = []
    for eps in (1.0, 0.1, 0.01):
        values = torch.tensor([[1.0, 0.0, 0.0], [1.0, eps, 0.0], [0.0, 0.0, 1.0]])
        numbers.append(float(attention_condition_number(values)))
        assert numbers[-1] == pytest.approx(_condition_in_a_basis(values.numpy()), rel=1e-8)
    assert numbers[0] < numbers[1] < numbers[2] and numbers[2] > 50


def test_condition_number_is_infinite_with_fewer_dimensions_than_directions():
    values = torch.randn(2, 4, 10, 3)  # T - 1 = 9 directions, head_dim 3
    assert torch.isinf(attention_condition_number(values)).all()
    assert attention_condition_number(values).shape == (2, 4)


# --------------------------------------------------------------------------- transparent
def test_contributions_sum_to_the_output(one_hot_batch):
    torch.manual_seed(0)
    net = TransparentNet(2, n_units=5, filter_width=7).eval()
    with torch.no_grad():
        parts = net.contributions(one_hot_batch)
        assert parts.shape == (8, 2, 5)
        assert torch.allclose(parts.sum(-1) + net.combine.bias, net(one_hot_batch), atol=1e-5)


def test_a_unit_depends_only_on_its_own_weights(one_hot_batch):
    torch.manual_seed(0)
    net = TransparentNet(n_units=4, filter_width=7, hidden=3).eval()
    with torch.no_grad():
        before = net.units(one_hot_batch)
        net.conv.weight[2] += torch.randn_like(net.conv.weight[2])
        net.unit_in.weight[6:9] *= -1.5  # unit 2's MLP (hidden 3: rows 6, 7, 8)
        after = net.units(one_hot_batch)
    changed = (after - before).abs().amax(0)
    assert changed[2] > 0 and torch.equal(changed[[0, 1, 3]], torch.zeros(3))


def test_units_from_motifs_are_the_motifs(one_hot_batch):
    motifs = [get_motif("GATA1"), get_motif("TAL1::TCF3")]
    net = TransparentNet.from_motifs(motifs)
    assert net.unit_names == ["GATA1", "TAL1::TCF3"] and not net.conv.weight.requires_grad
    logodds = np.log2(np.clip(motifs[0].probs, 1e-3, None) / 0.25)
    assert np.allclose(net.conv.weight[0, :, : motifs[0].width].numpy(), logodds, atol=1e-6)
    assert net.conv.weight[0, :, motifs[0].width :].abs().sum() == 0
    assert net(one_hot_batch).shape == (8, 1)


def test_augmented_with_a_zero_free_term_is_the_base(one_hot_batch):
    torch.manual_seed(0)
    base = TransparentNet(n_units=3, filter_width=5).eval()
    free = nn.Sequential(
        nn.Conv1d(4, 2, 5), nn.ReLU(), nn.AdaptiveMaxPool1d(1), nn.Flatten(), nn.Linear(2, 1)
    )
    nn.init.zeros_(free[-1].weight)
    nn.init.zeros_(free[-1].bias)
    both = WithFreeTerm(base, free).eval()
    with torch.no_grad():
        assert torch.equal(both(one_hot_batch), base(one_hot_batch))
    assert both.first_conv is base.conv


# --------------------------------------------------------------------------- the task
def test_long_range_positives_carry_both_motifs_far_apart():
    task = long_range_task(200, 200, min_distance=100, seed=0)
    for i in range(len(task)):
        rows = task.sites[task.sites["sequence"] == i]
        if task.y[i, 0] == 1:
            assert sorted(rows["motif"]) == ["CEBPB", "CTCF"] and set(rows["role"]) == {"driver"}
            assert abs(int(rows["start"].diff().iloc[-1])) >= 100
            assert task.mask[i].sum() == (rows["end"] - rows["start"]).sum()
        else:
            assert len(rows) == 1 and rows["role"].iloc[0] == "decoy" and not task.mask[i].any()
    assert 0.3 < float(task.y.mean()) < 0.7


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: long_range_task(10, 100, min_distance=95), ["min_distance", "found"]),
        (lambda: long_range_task(10, 100, pair=("CTCF",)), ["pair"]),
        (lambda: AttentionCNN(20, filter_width=15, pool=10), ["input_length", "expected"]),
        (lambda: MultiHeadSelfAttention(8, n_heads=0), ["n_heads"]),
        (lambda: TransparentNet(n_units=0), ["n_units"]),
        (lambda: TransparentNet(activation="tanh"), ["activation"]),
        (lambda: TransparentNet.from_motifs(["GATA1"]), ["motifs"]),
        (lambda: attention_condition_number(torch.ones(1, 3)), ["values", "2 tokens"]),
        (lambda: attention_maps(nn.Linear(2, 2), torch.zeros(1, 4, 5)), ["no attention layer"]),
        (
            lambda: equivalent_attention(torch.ones(1, 1, 3, 3) / 3, torch.ones(1, 1, 4, 2)),
            ["values"],
        ),
        (
            lambda: equivalent_attention(
                torch.ones(1, 1, 2, 2) / 2, torch.ones(1, 1, 2, 2), tolerance=-1
            ),
            ["tolerance"],
        ),
        (lambda: attention_auroc(torch.ones(2, 3, 3), torch.ones(2, 3, 3)), ["truth", "bool"]),
    ],
)
def test_errors_name_the_argument(call, words):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    for word in words:
        assert word in str(info.value)


def test_predict_with_attention_checks_the_shape(model, x):
    with pytest.raises(ValueError, match="weights must have the layer's shape"):
        predict_with_attention(model, x, torch.ones(6, 2, 3, 3))
    with pytest.raises(ValueError, match="layer must be one of"):
        attention_maps(model, x, layer="nope")


# The explorer's tests are in tests/test_widgets_attention.py.
