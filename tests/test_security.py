"""Security properties: weights are only loaded with weights_only=True, and the package
makes no network calls (its core functions run with sockets disabled)."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
import torch

PACKAGE = Path(__file__).resolve().parent.parent / "genotutor"


def test_every_torch_load_is_weights_only():
    calls = []
    for path in PACKAGE.rglob("*.py"):
        for match in re.finditer(r"torch\.load\((.*?)\)", path.read_text(), re.S):
            calls.append((path.name, match.group(1)))
    assert calls, "expected at least the cache's torch.load"
    for name, arguments in calls:
        assert "weights_only=True" in arguments, f"{name}: torch.load({arguments})"


def test_no_pickle_or_network_imports():
    forbidden = re.compile(r"^\s*(import|from)\s+(pickle|urllib|requests|http|socket)\b", re.M)
    offenders = [p.name for p in PACKAGE.rglob("*.py") if forbidden.search(p.read_text())]
    assert offenders == []


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("genotutor tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_core_functions_run_offline(no_network):
    from genotutor import cache, motifs, plotting, simulate, training
    from genotutor.models import DeepBind

    task = simulate.planted_motif_task(200, 120, seed=0)
    train, valid, _ = task.split(seed=0)

    def fit(model):
        return training.fit(
            model, (train.x, train.y), (valid.x, valid.y), epochs=1, progress=False
        ).history

    trained = cache.train_or_load({"name": "offline"}, lambda: DeepBind(filter_width=7), fit)
    again = cache.train_or_load({"name": "offline"}, lambda: DeepBind(filter_width=7), fit)
    assert again.from_cache
    assert training.predict(trained.model, task.x[:4]).shape == (4, 1)
    assert len(motifs.jaspar_motifs()) > 10
    plotting.logo(torch.randn(4, 20))


def test_the_offline_fixture_really_blocks(no_network):
    with pytest.raises(AssertionError, match="network"):
        socket.create_connection(("127.0.0.1", 9))
