from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch
from torch import nn

from genotutor import cache, datasets


def _build():
    return nn.Linear(3, 1)


def _trainer(counter, value):
    def train(model):
        counter.append(1)
        with torch.no_grad():
            model.weight.fill_(value)
        return pd.DataFrame({"epoch": [1], "loss": [value]})

    return train


def test_trains_once_then_loads(isolated_cache):
    calls = []
    first = cache.train_or_load({"name": "m", "a": 1}, _build, _trainer(calls, 2.0))
    second = cache.train_or_load({"name": "m", "a": 1}, _build, _trainer(calls, 9.0))
    assert calls == [1]
    assert not first.from_cache and second.from_cache
    assert torch.equal(second.model.weight, torch.full((1, 3), 2.0))
    assert second.history.equals(first.history)
    assert not second.model.training


def test_never_returns_weights_of_another_config(isolated_cache):
    calls = []
    cache.train_or_load({"a": 1}, _build, _trainer(calls, 1.0))
    other = cache.train_or_load({"a": 2}, _build, _trainer(calls, 5.0))
    assert calls == [1, 1] and torch.equal(other.model.weight, torch.full((1, 3), 5.0))


def test_a_file_holding_another_config_is_not_trusted(isolated_cache):
    calls = []
    cache.train_or_load({"a": 1}, _build, _trainer(calls, 1.0))
    # Simulate a hash collision: the entry for {"a": 2} holds {"a": 1}'s payload.
    os.replace(cache.entry_path({"a": 1}), cache.entry_path({"a": 2}))
    with pytest.warns(UserWarning, match="another config"):
        loaded = cache.train_or_load({"a": 2}, _build, _trainer(calls, 7.0))
    assert not loaded.from_cache and torch.equal(loaded.model.weight, torch.full((1, 3), 7.0))


def test_crash_mid_write_leaves_no_entry(isolated_cache, monkeypatch):
    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut")

    with monkeypatch.context() as patch:  # undo only this patch, not the cache folder's
        patch.setattr(cache.torch, "save", crash)
        with pytest.raises(KeyboardInterrupt):
            cache.train_or_load({"a": 1}, _build, _trainer([], 1.0))
    assert list(isolated_cache.iterdir()) == []  # no entry, no temporary left behind
    calls = []
    cache.train_or_load({"a": 1}, _build, _trainer(calls, 3.0))
    assert calls == [1]


def test_corrupt_entry_is_recomputed_not_fatal(isolated_cache):
    cache.train_or_load({"a": 1}, _build, _trainer([], 1.0))
    keep = cache.memoize({"b": 1}, lambda: {"x": torch.ones(2)})
    cache.entry_path({"a": 1}).write_bytes(b"not a torch file")
    calls = []
    with pytest.warns(UserWarning, match="unreadable"):
        again = cache.train_or_load({"a": 1}, _build, _trainer(calls, 4.0))
    assert calls == [1] and torch.equal(again.model.weight, torch.full((1, 3), 4.0))
    assert torch.equal(cache.memoize({"b": 1}, lambda: {"x": torch.zeros(2)})["x"], keep["x"])


def test_entry_names_stay_inside_the_cache(isolated_cache):
    path = cache.entry_path({"name": "../../etc/passwd/..", "a": 1})
    assert path.parent == isolated_cache
    assert "/" not in path.name and ".." not in path.name.split("-")[0]


def test_memoize_computes_once(isolated_cache):
    calls = []

    def compute():
        calls.append(1)
        return {"scores": torch.arange(3.0), "label": "x"}

    a = cache.memoize({"k": 1}, compute)
    b = cache.memoize({"k": 1}, compute)
    assert calls == [1] and torch.equal(a["scores"], b["scores"]) and b["label"] == "x"


def test_config_must_be_json(isolated_cache):
    with pytest.raises(TypeError, match="JSON"):
        cache.entry_path({"a": object()})
    with pytest.raises(TypeError, match="config must be a dict"):
        cache.entry_path([1, 2])


@pytest.fixture
def fresh_version():
    """code_version is computed once per process: recompute it here, and again afterwards so
    that no other test sees this test's data folder or torch version."""
    cache.code_version.cache_clear()
    yield
    cache.code_version.cache_clear()


def test_a_changed_data_file_gives_a_new_entry(tmp_path, monkeypatch, fresh_version):
    original = cache.entry_path({"a": 1})
    copy = tmp_path / "data"
    shutil.copytree(datasets.data_dir(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("GENOTUTOR_DATA", str(copy))
    cache.code_version.cache_clear()
    assert cache.entry_path({"a": 1}) == original  # the files' content counts, not their folder
    with open(copy / "jaspar_subset.tsv", "a") as stream:
        stream.write("MA9999.1\tNEW\t1\t1\t0\t0\t0\n")
    cache.code_version.cache_clear()
    assert cache.entry_path({"a": 1}) != original


def test_another_torch_version_gives_a_new_entry(monkeypatch, fresh_version):
    original = cache.entry_path({"a": 1})
    monkeypatch.setattr(torch, "__version__", "0.0.1+other")
    cache.code_version.cache_clear()
    assert cache.entry_path({"a": 1}) != original


def test_the_explorers_source_is_not_part_of_the_key(tmp_path, monkeypatch, fresh_version):
    """Editing an explorer (a view) must not retrain the book's models; editing the library
    must."""
    package = tmp_path / "genotutor"
    skip = shutil.ignore_patterns("__pycache__")
    shutil.copytree(Path(cache.__file__).parent, package, ignore=skip)
    monkeypatch.setattr(cache, "__file__", str(package / "cache.py"))
    original = cache.entry_path({"a": 1})
    (package / "widgets" / "mutation.py").write_text("# edited\n")
    cache.code_version.cache_clear()
    assert cache.entry_path({"a": 1}) == original
    (package / "sequences.py").write_text("# edited\n")
    cache.code_version.cache_clear()
    assert cache.entry_path({"a": 1}) != original
