"""Building twice from a cold cache gives the same numbers: seeded simulation, seeded
initial weights and training, deterministic CPU kernels."""

from __future__ import annotations

import torch

from genotutor.evaluation import auroc
from genotutor.studies.planted import planted_task_model
from genotutor.training import predict

SMALL = {"architecture": "deepbind", "n": 600, "length": 150, "epochs": 2, "progress": False}


def _cold_run(folder, monkeypatch):
    monkeypatch.setenv("GENOTUTOR_CACHE", str(folder))
    planted = planted_task_model(**SMALL)
    assert not planted.from_cache
    scores = predict(planted.model, planted.test.x)[:, 0]
    return planted, scores, auroc(planted.test.y, scores)


def test_two_cold_builds_agree(tmp_path, monkeypatch):
    first, scores_a, auroc_a = _cold_run(tmp_path / "a", monkeypatch)
    second, scores_b, auroc_b = _cold_run(tmp_path / "b", monkeypatch)
    assert torch.equal(scores_a, scores_b)
    assert auroc_a == auroc_b
    assert first.history.equals(second.history)
    for key, value in first.model.state_dict().items():
        assert torch.equal(value, second.model.state_dict()[key]), key


def test_a_different_seed_gives_different_weights(tmp_path, monkeypatch):
    _, scores_a, _ = _cold_run(tmp_path / "a", monkeypatch)
    monkeypatch.setenv("GENOTUTOR_CACHE", str(tmp_path / "c"))
    other = planted_task_model(seed=1, **SMALL)
    assert not torch.equal(scores_a, predict(other.model, other.test.x)[:, 0])
