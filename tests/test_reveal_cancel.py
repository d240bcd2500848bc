"""DeepLIFT's RevealCancel and genomics-default rules: against a NumPy implementation of the
paper's equations, summation-to-delta through convolutional and dense networks, the paper's
min-like unit, batch invariance, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from genotutor.attribution import attribute, attribute_layer
from genotutor.models import DeepBind
from genotutor.sequences import dinucleotide_shuffle, random_sequences

RULES = ("rescale", "reveal_cancel", "genomics_default")


# ------------------------------------------------------------------ the NumPy oracle
def _relu(v):
    return np.maximum(v, 0.0)


def _relu_slope(v):
    return (v > 0).astype(float)


def _reveal_cancel(z_ref, pos, neg):
    """The paper's RevealCancel multipliers (m+, m-) of a ReLU unit, elementwise."""
    dy_pos = 0.5 * (
        (_relu(z_ref + pos) - _relu(z_ref)) + (_relu(z_ref + neg + pos) - _relu(z_ref + neg))
    )
    dy_neg = 0.5 * (
        (_relu(z_ref + neg) - _relu(z_ref)) + (_relu(z_ref + pos + neg) - _relu(z_ref + pos))
    )
    limit_pos = 0.5 * (_relu_slope(z_ref) + _relu_slope(z_ref + neg))
    limit_neg = 0.5 * (_relu_slope(z_ref) + _relu_slope(z_ref + pos))
    with np.errstate(divide="ignore", invalid="ignore"):
        m_pos = np.where(np.abs(pos) < 1e-6, limit_pos, dy_pos / pos)
        m_neg = np.where(np.abs(neg) < 1e-6, limit_neg, dy_neg / neg)
    return m_pos, m_neg  # fmt: skip


def _split(weight, delta_in):
    """Positive and negative parts of W @ delta_in, each term by the sign of w_ij dh_j."""
    terms = weight * delta_in[None, :]
    return np.where(terms > 0, terms, 0).sum(1), np.where(terms < 0, terms, 0).sum(1)


def _back(weight, delta_in, m_pos_out, m_neg_out):
    """Multipliers of the layer's inputs from those of its output's positive and negative
    parts: w m+ where w dh > 0, w m- where < 0, w (m+ + m-) / 2 where dh = 0."""
    terms = weight * delta_in[None, :]
    per_term = np.where(terms > 0, m_pos_out[:, None], np.where(terms < 0, m_neg_out[:, None],
                        0.5 * (m_pos_out + m_neg_out)[:, None]))  # fmt: skip
    return (weight * per_term).sum(0)


def oracle_multipliers(weights, biases, u, u_ref):
    """Input multipliers of a dense ReLU network (last layer linear) under RevealCancel."""
    h, h_ref, deltas, splits, refs = u, u_ref, [], [], []
    for w, b in zip(weights[:-1], biases[:-1]):
        delta = h - h_ref
        pos, neg = _split(w, delta)
        z_ref = w @ h_ref + b
        deltas.append(delta)
        splits.append((pos, neg))
        refs.append(z_ref)
        h, h_ref = _relu(w @ h + b), _relu(z_ref)
    multiplier = weights[-1][0]  # the output layer is linear
    for layer in reversed(range(len(weights) - 1)):
        m_pos, m_neg = _reveal_cancel(refs[layer], *splits[layer])
        multiplier = _back(weights[layer], deltas[layer], multiplier * m_pos, multiplier * m_neg)
    return multiplier


def _dense_net(length: int, seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Flatten(), nn.Linear(4 * length, 8), nn.ReLU(), nn.Linear(8, 5), nn.ReLU(),
        nn.Linear(5, 1),
    ).double().eval()  # fmt: skip


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reveal_cancel_equals_the_papers_equations(seed):
    length = 6
    model = _dense_net(length, seed)
    x = random_sequences(5, length, seed=seed).double()
    references = torch.stack([dinucleotide_shuffle(row, n=1, seed=seed)[0] for row in x])
    linears = [m for m in model if isinstance(m, nn.Linear)]
    weights = [m.weight.detach().numpy() for m in linears]
    biases = [m.bias.detach().numpy() for m in linears]
    hypothetical = attribute(model, x, "deeplift", references=references, rule="reveal_cancel",
                             hypothetical=True, progress=False)  # fmt: skip
    scores, delta = attribute(model, x, "deeplift", references=references, rule="reveal_cancel",
                              return_delta=True, progress=False)  # fmt: skip
    for i in range(len(x)):
        # the flattened input is channel-major: unit c * L + l is base c at position l
        u, u_ref = x[i].numpy().reshape(-1), references[i].numpy().reshape(-1)
        m = oracle_multipliers(weights, biases, u, u_ref).reshape(4, length)
        expected = m - (references[i].numpy() * m).sum(0, keepdims=True)
        np.testing.assert_allclose(hypothetical[i].numpy(), expected, atol=1e-8)
        contributions = (m * (x[i].numpy() - references[i].numpy())).sum(0)
        np.testing.assert_allclose(scores[i].sum(0).numpy(), contributions, atol=1e-8)
    assert delta.abs().max() < 1e-8


def test_the_min_unit_rescale_credits_one_input_revealcancel_both():
    """min(a, b) = relu(a) - relu(a - b) at a = 3, b = 1 from a = b = 0 (the paper's case)."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2, bias=False), nn.ReLU(),
                          nn.Linear(2, 1, bias=False)).eval()  # fmt: skip
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[1.0, 0, 0, 0], [1.0, -1.0, 0, 0]]))
        model[3].weight.copy_(torch.tensor([[1.0, -1.0]]))
    x = torch.tensor([[[3.0], [1.0], [0.0], [0.0]]])
    zero = torch.zeros(4, 1)
    found = {
        rule: attribute(model, x, "deeplift", references=zero, rule=rule, progress=False)[0, :2, 0]
        for rule in RULES
    }
    assert float(model(x).detach()) == pytest.approx(1.0)
    assert found["rescale"].tolist() == pytest.approx([0.0, 1.0])
    assert found["reveal_cancel"].tolist() == pytest.approx([0.5, 0.5])
    assert found["genomics_default"].tolist() == pytest.approx([0.5, 0.5])  # dense -> RC


def _conv_dense(batch_norm: bool) -> nn.Module:
    torch.manual_seed(3)
    layers = [nn.Conv1d(4, 6, 5)]
    if batch_norm:
        layers.append(nn.BatchNorm1d(6))
    layers += [nn.ReLU(), nn.MaxPool1d(4), nn.Flatten(), nn.Linear(6 * 4, 7), nn.Dropout(0.2),
               nn.ReLU(), nn.Linear(7, 2)]  # fmt: skip
    model = nn.Sequential(*layers).eval()
    if batch_norm:
        with torch.no_grad():
            model[1].running_mean.uniform_(-0.3, 0.3)
            model[1].running_var.uniform_(0.5, 1.5)
            model[1].weight.uniform_(-1, 1)  # negative scales swap the parts
    return model


@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("rule", RULES)
def test_summation_to_delta_through_conv_and_dense(rule, batch_norm):
    model = _conv_dense(batch_norm)
    x = random_sequences(6, 20, seed=4)
    scores, delta = attribute(model, x, "deeplift_shap", target=1, n_references=4, rule=rule,
                              return_delta=True, progress=False)  # fmt: skip
    assert delta.abs().max() < 1e-4
    assert scores.abs().sum() > 0


def test_the_rules_differ_where_they_should():
    model = _conv_dense(False)
    x = random_sequences(6, 20, seed=5)
    out = {r: attribute(model, x, "deeplift_shap", n_references=4, rule=r, progress=False)
           for r in RULES}  # fmt: skip
    assert not torch.allclose(out["rescale"], out["reveal_cancel"], atol=1e-4)
    conv_only = nn.Sequential(nn.Conv1d(4, 3, 5), nn.ReLU(), nn.AdaptiveAvgPool1d(1),
                              nn.Flatten()).eval()  # fmt: skip
    a = attribute(conv_only, x, "deeplift_shap", n_references=4, progress=False)
    b = attribute(conv_only, x, "deeplift_shap", n_references=4, rule="genomics_default",
                  progress=False)  # fmt: skip
    assert torch.equal(a, b)  # Rescale after convolutions


def test_reveal_cancel_is_batch_invariant():
    model = DeepBind(n_filters=6, hidden=5).eval()
    x = random_sequences(5, 40, seed=6)
    whole = attribute(model, x, "deeplift_shap", n_references=3, rule="reveal_cancel",
                      batch_size=15, progress=False)  # fmt: skip
    single = torch.cat([attribute(model, x[i : i + 1], "deeplift_shap", n_references=3,
                                  rule="reveal_cancel", batch_size=1, progress=False)
                        for i in range(len(x))])  # fmt: skip
    torch.testing.assert_close(whole, single, atol=1e-6, rtol=1e-5)


def test_a_rules_entry_wins_over_rule():
    model = _conv_dense(False)
    x = random_sequences(3, 20, seed=7)
    plain = attribute(model, x, "deeplift_shap", n_references=3, progress=False)
    overridden = attribute(model, x, "deeplift_shap", n_references=3, rule="reveal_cancel",
                           rules={nn.ReLU: "nonlinear"}, progress=False)  # fmt: skip
    torch.testing.assert_close(plain, overridden)


def test_reveal_cancel_needs_a_linear_layer_below():
    model = nn.Sequential(nn.Conv1d(4, 3, 3), nn.MaxPool1d(2), nn.ReLU(), nn.Flatten(),
                          nn.Linear(27, 1)).eval()  # fmt: skip
    x = random_sequences(2, 20, seed=8)
    with pytest.raises(ValueError, match=r"rule='reveal_cancel' needs every activation to follow"):
        attribute(model, x, "deeplift_shap", n_references=2, rule="reveal_cancel", progress=False)
    _, delta = attribute(model, x, "deeplift_shap", n_references=2, rule="genomics_default",
                         return_delta=True, progress=False)  # fmt: skip
    assert delta.abs().max() < 1e-4


@pytest.mark.parametrize("layer", ["dense", "dense_relu", "conv"])
@pytest.mark.parametrize("rule", RULES)
def test_layer_contributions_sum_to_delta_under_every_rule(layer, rule):
    model = DeepBind(n_filters=6, hidden=5).eval()
    x = random_sequences(4, 40, seed=9)
    scores, delta = attribute_layer(model, x, layer, n_references=3, rule=rule,
                                    return_delta=True, progress=False)  # fmt: skip
    assert delta.abs().max() < 1e-4, (layer, rule)


def test_attribute_layer_checks_rule():
    model = DeepBind(n_filters=4, hidden=3).eval()
    x = random_sequences(2, 30, seed=10)
    with pytest.raises(ValueError, match="rule must be one of"):
        attribute_layer(model, x, "dense", rule="revealcancel", progress=False)
    with pytest.raises(TypeError, match="does not take 'rule'"):
        attribute_layer(model, x, "dense", method="gradient_x_activation", rule="reveal_cancel")


def test_cancelling_inputs_rescale_credits_neither_revealcancel_both():
    """relu(a - b) at a = b = 2 from 0: the input change cancels (0), so Rescale gives both
    inputs nothing; RevealCancel credits a with +1 and b with -1 (summing to the change, 0)."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 1, bias=False), nn.ReLU()).eval()
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[1.0, -1.0, 0, 0]]))
    x = torch.tensor([[[2.0], [2.0], [0.0], [0.0]]])
    zero = torch.zeros(4, 1)
    rescale = attribute(model, x, "deeplift", references=zero, progress=False)[0, :2, 0]
    reveal = attribute(model, x, "deeplift", references=zero, rule="reveal_cancel",
                       progress=False)[0, :2, 0]  # fmt: skip
    assert rescale.tolist() == pytest.approx([0.0, 0.0])
    assert reveal.tolist() == pytest.approx([1.0, -1.0])
