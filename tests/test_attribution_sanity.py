"""The model-randomisation sanity check: trained vs re-drawn weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genotutor import evaluation as ev
from genotutor.attribution import sanity


def _planted(n: int, length: int, seed: int = 0) -> torch.Tensor:
    """A truth mask with one 8-nt site per sequence, except the last (none)."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((n, length), dtype=bool)
    for i in range(n - 1):
        start = rng.integers(0, length - 8)
        mask[i, start : start + 8] = True
    return torch.from_numpy(mask)


def test_randomize_model_copies_and_reseeds():
    from genotutor.models import Basset

    torch.manual_seed(0)
    model = Basset(64)
    before = [p.clone() for p in model.parameters()]
    a = sanity.randomize_model(model, seed=1)
    b = sanity.randomize_model(model, seed=1)
    c = sanity.randomize_model(model, seed=2)
    assert all(torch.equal(p, q) for p, q in zip(before, model.parameters(), strict=True))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(a.body[0].weight, c.body[0].weight)
    assert not torch.equal(a.body[0].weight, model.body[0].weight)


def test_randomization_check_separates_a_model_from_its_random_copy():
    from genotutor.models import Basset
    from genotutor.sequences import random_sequences

    torch.manual_seed(0)
    model = Basset(64).eval()
    x = random_sequences(5, 64, seed=0)
    mask = _planted(5, 64)
    table = sanity.randomization_check(model, x, "grad_x_input", seed=3, truth_mask=mask)
    assert list(table.columns) == ["spearman", "cosine", "auroc_trained", "auroc_random"]
    assert len(table) == 5 and table["spearman"].abs().max() <= 1.0
    same = sanity._spearman_rows(np.arange(10.0)[None], np.arange(10.0)[None] * 2)
    assert same[0] == pytest.approx(1.0)
    reverse = sanity._spearman_rows(np.arange(10.0)[None], -np.arange(10.0)[None])
    assert reverse[0] == pytest.approx(-1.0)


class _RawParameters(torch.nn.Module):
    """A custom module with raw nn.Parameters (as the students and surrogates have)."""

    def __init__(self) -> None:
        super().__init__()
        self.kernel = torch.nn.Parameter(torch.full((3, 4, 5), 0.7))
        self.scale = torch.nn.Parameter(torch.tensor(2.0))
        self.head = torch.nn.Linear(3, 1)

    def forward(self, x):
        h = torch.nn.functional.conv1d(x, self.kernel).amax(dim=-1)
        return self.head(self.scale * h)


def test_randomize_model_redraws_every_parameter():
    model = _RawParameters()
    before = {k: p.detach().clone() for k, p in model.named_parameters()}
    random_a = sanity.randomize_model(model, seed=1)
    random_b = sanity.randomize_model(model, seed=1)
    for name, parameter in random_a.named_parameters():
        assert not torch.equal(parameter, before[name]), name  # re-drawn, raw ones too
        assert torch.equal(parameter, dict(random_b.named_parameters())[name])  # seeded
    for name, parameter in model.named_parameters():
        assert torch.equal(parameter, before[name])  # the original is untouched


def test_randomization_check_columns_are_what_they_say():
    """Each column equals its definition computed by hand, and a model that reads the
    planted positions scores them above its random copy."""
    from genotutor.attribution import attribute

    x = torch.zeros(5, 4, 40)
    x[:, 0] = 1.0  # all A
    mask = torch.zeros(5, 40, dtype=torch.bool)
    mask[:, 10:18] = True
    x[:, :, 10:18] = 0.0
    x[:, 2, 10:18] = 1.0  # planted G block
    model = torch.nn.Sequential(
        torch.nn.Conv1d(4, 1, 1), torch.nn.Flatten(), torch.nn.Linear(40, 1)
    )
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].weight[0, 2, 0] = 1.0  # a G detector
        model[0].bias.zero_()
        model[2].weight.fill_(1.0)
        model[2].bias.zero_()
    table = sanity.randomization_check(
        model, x, "grad_x_input", seed=3, truth_mask=mask, progress=False
    )
    trained = attribute(model, x, "grad_x_input", progress=False)
    randomized = attribute(sanity.randomize_model(model, seed=3), x, "grad_x_input", progress=False)
    np.testing.assert_allclose(table["cosine"], ev.cosine_similarity(trained, randomized))
    spearman = sanity._spearman_rows(
        ev.position_importance(trained), ev.position_importance(randomized)
    )
    np.testing.assert_allclose(table["spearman"], spearman)
    assert (table["auroc_trained"] == 1.0).all()
    assert (table["auroc_random"] < 1.0).all()
