from __future__ import annotations

import pytest
import torch

from genotutor.attribution import mutation_table
from genotutor.models import DeepBind
from genotutor.widgets import MutationExplorer
from genotutor.widgets._view import unpack


def _model() -> DeepBind:
    torch.manual_seed(0)
    return DeepBind(filter_width=7).eval()


def _explorer(one_hot_batch, **options):
    return MutationExplorer(mutation_table(_model(), one_hot_batch, progress=False),
                            one_hot_batch, **options)  # fmt: skip


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
        brute = _model()(mutants.reshape(-1, 4, length))[:, 0].reshape(n, 4, length)
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
        assert abs(after - float(_model()(mutant[None])[0, 0])) < 1e-5
        assert abs(before - float(_model()(one_hot_batch[:1])[0, 0])) < 1e-6


def test_the_view_state_keeps_its_keys(one_hot_batch):
    truth = torch.zeros(8, 50, dtype=torch.bool)
    view = _explorer(one_hot_batch, truth=truth).view
    assert set(view.data) == {"bases", "outputs", "reference", "window", "truth"}
    assert unpack(view.data["outputs"]).shape == (8, 4, 50)
    assert {"sequence", "position", "base"} <= set(view.trait_names())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"window": 0}, "window"),
        ({"truth": "x"}, "truth"),
        ({"truth": torch.zeros(8, 3, dtype=torch.bool)}, "truth"),
        ({"table": "outputs"}, "table must be a MutationTable"),
        ({"x": torch.zeros(2, 4, 50)}, "table must have the shape of x"),
    ],
)
def test_bad_options_are_refused_by_name(one_hot_batch, options, message):
    arguments = {"table": mutation_table(_model(), one_hot_batch, progress=False),
                 "x": one_hot_batch, **options}  # fmt: skip
    with pytest.raises((TypeError, ValueError), match=message):
        MutationExplorer(arguments.pop("table"), arguments.pop("x"), **arguments)
