from __future__ import annotations

import pytest
import torch

from genotutor.models import DeepBind
from genotutor.widgets import MutationExplorer, mutation_explorer
from genotutor.widgets._view import unpack


def _explorer(one_hot_batch):
    torch.manual_seed(0)
    return mutation_explorer(DeepBind(filter_width=7).eval(), one_hot_batch)


def test_each_control_moves_the_view(one_hot_batch):
    explorer = _explorer(one_hot_batch)
    seen = {explorer.mutated_prediction()}
    explorer.position.value = 3
    seen.add(explorer.mutated_prediction())
    explorer.base.value = "C" if explorer.base.value != "C" else "G"
    assert explorer.view.base == "ACGT".index(explorer.base.value)
    seen.add(explorer.mutated_prediction())
    explorer.sequence.value = 5
    seen.add(explorer.mutated_prediction())
    assert len(seen) == 4
    assert (explorer.view.sequence, explorer.view.position) == (5, 3)


def test_every_mutant_in_the_table_matches_the_model(one_hot_batch):
    """The view's table against brute force: each single-base mutant run through the model."""
    explorer = _explorer(one_hot_batch)
    table = torch.from_numpy(unpack(explorer.view.data["outputs"]).copy())
    n, _, length = one_hot_batch.shape
    mutants = one_hot_batch[:, None, None].repeat(1, 4, length, 1, 1)  # (N, 4, L, 4, L)
    for base in range(4):
        for pos in range(length):
            mutants[:, base, pos, :, pos] = torch.nn.functional.one_hot(torch.tensor(base), 4)
    with torch.no_grad():
        brute = explorer.model(mutants.reshape(-1, 4, length))[:, 0].reshape(n, 4, length)
    assert torch.allclose(table, brute, atol=1e-5)
    bases = unpack(explorer.view.data["bases"])
    assert (torch.from_numpy(bases.astype("int64")) == one_hot_batch.argmax(1)).all()


def test_prediction_matches_the_model(one_hot_batch):
    explorer = _explorer(one_hot_batch)
    explorer.position.value, explorer.base.value = 10, "T"
    before, after = explorer.mutated_prediction()
    mutant = one_hot_batch[explorer.sequence.value].clone()
    mutant[:, 10] = torch.tensor([0.0, 0.0, 0.0, 1.0])
    with torch.no_grad():
        assert abs(after - float(explorer.model(mutant[None])[0, 0])) < 1e-5
        assert abs(before - float(explorer.model(one_hot_batch[:1])[0, 0])) < 1e-6


@pytest.mark.parametrize(
    ("options", "message"),
    [({"window": 0}, "window"), ({"target": 3}, "target"), ({"truth": "x"}, "truth")],
)
def test_bad_options_are_refused_by_name(one_hot_batch, options, message):
    with pytest.raises((TypeError, ValueError), match=message):
        MutationExplorer(DeepBind(filter_width=7).eval(), one_hot_batch, **options)
