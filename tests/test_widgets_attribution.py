"""Tests of the chapter-2 attribution explorer."""

from __future__ import annotations

import torch

from genotutor.attribution import attribute
from genotutor.models import DeepBind
from genotutor.widgets.attribution import attribution_explorer


def _explorer(one_hot_batch):
    torch.manual_seed(0)
    model = DeepBind(filter_width=7).eval()
    truth = torch.zeros(8, 50, dtype=torch.bool)
    truth[:, 10:20] = True
    return attribution_explorer(model, one_hot_batch, truth=truth, window=30)


def test_each_control_changes_the_output(one_hot_batch):
    explorer = _explorer(one_hot_batch)
    seen = {explorer.summary.value}
    explorer.method.value = "grad_x_input"
    seen.add(explorer.summary.value)
    explorer.correct.value = True
    seen.add(explorer.summary.value)
    explorer.sequence.value = 5
    seen.add(explorer.summary.value)
    assert len(seen) == 4
    before = explorer.output.outputs
    explorer.start.value = 20
    assert explorer.output.outputs != before
    assert len(explorer.output.outputs) == 1  # one figure, redrawn in place


def test_scores_match_attribute(one_hot_batch):
    explorer = _explorer(one_hot_batch)
    explorer.sequence.value, explorer.method.value = 3, "ism"
    expected = attribute(explorer.model, one_hot_batch[3:4], "ism")[0]
    assert torch.allclose(explorer.scores(), expected)


def test_bad_value_shows_a_message(one_hot_batch):
    explorer = _explorer(one_hot_batch)
    explorer.x = explorer.x[:2]  # the reader swapped in fewer sequences
    explorer.sequence.value = 6
    text = str(explorer.output.outputs)
    assert "Cannot show this" in text and "sequence must be in" in text
    assert explorer.summary.value == ""
