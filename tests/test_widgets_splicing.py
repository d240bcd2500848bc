from __future__ import annotations

import torch

from genotutor.distill import AdditiveStudent
from genotutor.splicing import Layout, TruthModel, reporter_sequences
from genotutor.widgets import splicing_explorer

LAYOUT = Layout()


def _explorer():
    torch.manual_seed(0)
    student = AdditiveStudent(LAYOUT.length)
    with torch.no_grad():
        student.theta.normal_()
    x = reporter_sequences(6, seed=1)
    models = {"truth": TruthModel(), "student": student.eval()}
    return splicing_explorer(models, x, region=LAYOUT.body, frame=LAYOUT.exon_start)


def test_each_control_changes_the_output():
    explorer = _explorer()
    seen = {explorer.summary.value}
    explorer.base.value = "G"
    seen.add(explorer.summary.value)
    explorer.position.value = LAYOUT.exon_start + 5
    seen.add(explorer.summary.value)
    explorer.edit.value = "add 2 CpG"
    seen.add(explorer.summary.value)
    explorer.sequence.value = 3
    seen.add(explorer.summary.value)
    assert len(seen) == 5
    assert len(explorer.output.outputs) == 1


def test_predictions_match_the_models():
    explorer = _explorer()
    explorer.edit.value = "remove CpG"
    before, after = explorer.edited()
    values = explorer.predictions()
    assert abs(values["truth"][1] - float(TruthModel()(after)[0, 0])) < 1e-6
    assert abs(values["student"][0] - float(explorer.models["student"](before)[0, 0])) < 1e-5


def test_bad_value_shows_a_message():
    explorer = _explorer()
    explorer.x = explorer.x[:2]
    explorer.sequence.value = 5
    text = str(explorer.output.outputs)
    assert "Cannot show this" in text and "sequence must be in" in text
    assert explorer.summary.value == ""
