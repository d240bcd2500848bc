from __future__ import annotations

import torch

from genotutor.models import DeepBind
from genotutor.widgets import mutation_explorer


def _explorer(one_hot_batch):
    torch.manual_seed(0)
    return mutation_explorer(DeepBind(filter_width=7).eval(), one_hot_batch)


def test_each_control_changes_the_output(one_hot_batch):
    explorer = _explorer(one_hot_batch)
    seen = {explorer.summary.value}
    explorer.position.value = 3
    seen.add(explorer.summary.value)
    explorer.base.value = "C" if explorer.base.value != "C" else "G"
    seen.add(explorer.summary.value)
    explorer.sequence.value = 5
    seen.add(explorer.summary.value)
    assert len(seen) == 4
    assert len(explorer.output.outputs) == 1  # one figure, redrawn in place


def test_prediction_matches_the_model(one_hot_batch):
    explorer = _explorer(one_hot_batch)
    explorer.position.value, explorer.base.value = 10, "T"
    before, after = explorer.mutated_prediction()
    mutant = one_hot_batch[explorer.sequence.value].clone()
    mutant[:, 10] = torch.tensor([0.0, 0.0, 0.0, 1.0])
    with torch.no_grad():
        assert abs(after - float(explorer.model(mutant[None])[0, 0])) < 1e-6


def test_bad_value_shows_a_message(one_hot_batch):
    explorer = _explorer(one_hot_batch)
    explorer.x = explorer.x[:2]  # the reader swapped in fewer sequences
    explorer.sequence.value = 6
    text = str(explorer.output.outputs)
    assert "Cannot show this" in text and "sequence must be in" in text
    assert explorer.summary.value == ""
