"""Tests of genotutor.interpret.ablation: exact effects on a model whose output is linear in
its filters' pooled activations, groups, the motif response, and errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from genotutor.interpret import ablate_filters, insert_motifs
from genotutor.interpret.ablation import ablation_effects, motif_response
from genotutor.sequences import random_sequences


class Pooled(nn.Module):
    """Output = w . (global max of relu(conv x)) + b: each filter's term is separate."""

    def __init__(self, n_filters: int = 5) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv1d(4, n_filters, 7, padding=3)
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveMaxPool1d(1)
        self.flatten = nn.Flatten()
        self.output = nn.Linear(n_filters, 2)

    @property
    def first_conv(self) -> nn.Conv1d:
        return self.conv

    def forward(self, x):
        return self.output(self.flatten(self.pool(self.relu(self.conv(x)))))


def _pooled(model, x):
    with torch.no_grad():
        return model.relu(model.conv(x)).amax(-1)  # (N, F)


def test_single_and_group_effects_are_exact_for_an_additive_output():
    model = Pooled().eval()
    x, reference = random_sequences(20, 40, seed=1), random_sequences(15, 40, seed=2)
    table = ablation_effects(model, x, reference, groups={"pair": [1, 3]}, target=1)
    w = model.output.weight[1].detach()
    terms = w * (_pooled(model, x).mean(0) - _pooled(model, reference).mean(0))
    with torch.no_grad():
        intact = float(model(x)[:, 1].mean() - model(reference)[:, 1].mean())
    assert table.attrs["effect"] == pytest.approx(intact, abs=1e-5)
    assert list(table.index) == [f"filter {f}" for f in range(5)] + ["pair"]
    assert terms.abs().max() > 1e-3
    for f in range(5):
        assert table.loc[f"filter {f}", "removed"] == pytest.approx(float(terms[f]), abs=1e-5)
    assert table.loc["pair", "removed"] == pytest.approx(float(terms[1] + terms[3]), abs=1e-5)
    assert table.loc["pair", "share"] == pytest.approx(
        float(terms[1] + terms[3]) / intact, rel=1e-4
    )


def test_without_reference_the_effect_is_the_mean_output_and_model_is_unchanged():
    model = Pooled().eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = random_sequences(10, 30, seed=3)
    table = ablation_effects(model, x, filters=[0, 2])
    with torch.no_grad():
        mean = float(model(x)[:, 0].mean())
        ablated = float(ablate_filters(model, [2])(x)[:, 0].mean())
    assert table.attrs["effect"] == pytest.approx(mean, abs=1e-6)
    assert table.loc["filter 2", "effect"] == pytest.approx(ablated, abs=1e-6)
    assert list(table.index) == ["filter 0", "filter 2"]
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name])


def test_motif_response_is_the_rise_of_each_filters_max():
    model = Pooled().eval()
    background = random_sequences(12, 50, seed=4)
    response = motif_response(model, background, "CTCF", 10)
    planted = insert_motifs(background, "CTCF", 10)
    expected = (_pooled(model, planted) - _pooled(model, background)).mean(0)
    assert response.shape == (5,) and response.index.name == "filter"
    torch.testing.assert_close(torch.tensor(response.values), expected, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize(
    ("options", "error", "words"),
    [
        ({"filters": [5]}, ValueError, "filters must hold filter indices in"),
        ({"filters": [-1]}, ValueError, "filters"),
        ({"filters": "01"}, TypeError, "filters must be a sequence"),
        ({"filters": [1.5]}, TypeError, "filters"),
        ({"groups": [[0, 1]]}, TypeError, "groups must be a dict"),
        ({"groups": {"g": [9]}}, ValueError, "groups\\['g'\\]"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"target": 5}, ValueError, "target"),
    ],
)
def test_bad_arguments_name_the_argument(options, error, words):
    model = Pooled().eval()
    with pytest.raises(error, match=words):
        ablation_effects(model, random_sequences(3, 30, seed=5), **options)


def test_bad_inputs():
    model = Pooled().eval()
    with pytest.raises(ValueError, match="x must be one-hot"):
        ablation_effects(model, torch.rand(2, 4, 30))
    with pytest.raises(ValueError, match="reference"):
        ablation_effects(model, random_sequences(2, 30), torch.zeros(2, 4, 30) + 0.5)
    with pytest.raises(TypeError, match="first_conv"):
        ablation_effects(nn.Sequential(nn.Conv1d(4, 2, 3)), random_sequences(2, 30))
