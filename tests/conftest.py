"""Shared fixtures: an isolated cache folder and small deterministic inputs."""

from __future__ import annotations

import matplotlib
import pytest
import torch

matplotlib.use("Agg")


def pytest_collection_modifyitems(config, items):
    """Tests marked ``cuda`` run only where a CUDA GPU is available."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own empty GENOTUTOR_CACHE, so no test reads another's entries."""
    folder = tmp_path / "genotutor-cache"
    monkeypatch.setenv("GENOTUTOR_CACHE", str(folder))
    return folder


@pytest.fixture
def one_hot_batch() -> torch.Tensor:
    """Eight random one-hot sequences of length 50, shape (8, 4, 50)."""
    from genotutor.sequences import random_sequences

    return random_sequences(8, 50, seed=1)


@pytest.fixture
def ledger_row():
    """Record one valid claims-ledger row in a ChapterClaims, with fields overridden."""
    from genotutor.studies import ledger

    def record(claims, **changes):
        arguments = dict(
            sources="tseng2020fourier",
            claim="The prior stabilises attributions.",
            section="Does the prior help here?",
            verdict=ledger.REPRODUCES,
            measured=ledger.mean_interval([0.1, 0.2, 0.3], "gain"),
        )
        arguments.update(changes)
        return claims.record(**arguments)

    return record
