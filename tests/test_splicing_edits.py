"""Tests of edit_table: every edit chapter 9's explorer offers, run through the models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny_models import splicing_models

from genotutor.sequences import mutate
from genotutor.splicing import (
    EDITS,
    Layout,
    edit_feature,
    edit_table,
    reporter_sequences,
)
from genotutor.splicing.edits import N_SITES

LAYOUT = Layout()
POSITIONS = (LAYOUT.exon_start, LAYOUT.exon_start + 6)


def _models() -> dict:
    return splicing_models(LAYOUT)


@pytest.fixture(scope="module")
def table():
    x = reporter_sequences(3, seed=1)
    options = {"region": LAYOUT.body, "frame": LAYOUT.exon_start, "positions": POSITIONS}
    return x, edit_table(_models(), x, seed=4, progress=False, **options)


def _run(model, x) -> float:
    with torch.no_grad():
        return float(model(x)[0, 0])


def test_every_entry_is_the_model_on_the_edited_sequence(table):
    """Brute force on every combination: mutate, edit_feature, run the model."""
    x, result = table
    assert result.names == ("truth", "student") and result.positions == POSITIONS
    assert result.after.shape == (2, 3, len(EDITS), 4, POSITIONS[1] - POSITIONS[0])
    models = _models()
    for s in range(3):
        for e, change in enumerate(EDITS.values()):
            for b, base in enumerate("ACGT"):
                for p in (POSITIONS[0], POSITIONS[1] - 1):
                    edited = mutate(x[s : s + 1], p, base)
                    if change is not None:
                        edited = edit_feature(edited, *change, n_sites=N_SITES, region=LAYOUT.body,
                                              frame=LAYOUT.exon_start, seed=4)  # fmt: skip
                    for m, model in enumerate(models.values()):
                        got = float(result.after[m, s, e, b, p - POSITIONS[0]])
                        assert got == pytest.approx(_run(model, edited), abs=1e-4)
                    flat = np.ravel_multi_index((s, e, b, p - POSITIONS[0]), result.after.shape[1:])
                    at = result.changed_at[result.offsets[flat] : result.offsets[flat + 1]]
                    changed = np.flatnonzero((edited != x[s : s + 1])[0].any(0).numpy())
                    assert set(at.tolist()) == set(changed.tolist())
    for m, model in enumerate(models.values()):
        assert float(result.before[m, 1]) == pytest.approx(_run(model, x[1:2]), abs=1e-5)
    assert 0 < result.n_distinct <= result.after[0].numel()


def test_the_table_does_not_depend_on_the_device_argument(table):
    x, result = table
    again = edit_table(_models(), x, region=LAYOUT.body, frame=LAYOUT.exon_start,
                       positions=POSITIONS, seed=4, device="cpu", progress=False)  # fmt: skip
    assert torch.equal(again.after, result.after)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"positions": (5, 500)}, "positions"),
        ({"positions": 5}, "positions"),
        ({"region": (0, 1000)}, "region"),
        ({"target": 2}, "target"),
        ({"frame": -1}, "frame"),
        ({"seed": 1.5}, "seed"),
        ({"device": "nowhere"}, "device"),
        ({"progress": "yes"}, "progress"),
        ({"models": {}}, "models"),
        ({"models": {"a": "not a model"}}, "models"),
        ({"x": torch.zeros(2, 4, LAYOUT.length)}, "x"),
        ({"x": reporter_sequences(700, seed=3), "positions": None}, "fewer sequences"),
    ],
)
def test_bad_options_are_refused_by_name(options, message):
    arguments = {"models": _models(), "x": reporter_sequences(2, seed=1), "positions": POSITIONS}
    arguments.update(options)
    models, x = arguments.pop("models"), arguments.pop("x")
    with pytest.raises((TypeError, ValueError), match=message):
        edit_table(models, x, **arguments)
