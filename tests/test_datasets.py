"""Shipped real data: the MPSA loader and its checksum."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from genotutor import datasets
from genotutor.sequences import one_hot


def test_load_mpsa_is_complete_and_readable():
    frame = datasets.load_mpsa()
    assert len(frame) == 30483
    assert set(frame["set"]) == {"training", "validation", "test"}
    assert frame["sequence"].str.len().eq(9).all()
    assert not frame["sequence"].str.contains("U").any()
    assert (frame["sequence"] == frame["rna"].str.replace("U", "T")).all()
    assert frame["y"].notna().all()
    x = one_hot(list(frame["sequence"].head(100)))
    assert x.shape == (100, 4, 9)
    # the library fixes the G at +1 (position 3) and varies everything else
    assert frame["sequence"].str[3].eq("G").all()


def test_load_mpsa_rejects_a_damaged_file(tmp_path, monkeypatch):
    shutil.copy(datasets.data_path(datasets.MPSA_FILE), tmp_path / datasets.MPSA_FILE)
    with open(tmp_path / datasets.MPSA_FILE, "ab") as stream:
        stream.write(b"tampered")
    monkeypatch.setenv("GENOTUTOR_DATA", str(tmp_path))
    with pytest.raises(ValueError, match="SHA-256"):
        datasets.load_mpsa()


def test_missing_data_file_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("GENOTUTOR_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="mpsa_data.csv.gz"):
        datasets.load_mpsa()


def test_checkout_reads_the_repository_data_folder(monkeypatch):
    monkeypatch.delenv("GENOTUTOR_DATA", raising=False)
    repo = Path(datasets.__file__).resolve().parent.parent
    assert datasets.data_dir() == repo / "data"


def test_override_that_is_not_a_folder_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("GENOTUTOR_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="GENOTUTOR_DATA is .*nowhere"):
        datasets.data_dir()


def test_no_data_folder_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("GENOTUTOR_DATA", raising=False)
    monkeypatch.setattr(datasets, "_CANDIDATES", (tmp_path / "a", tmp_path / "b"))
    with pytest.raises(FileNotFoundError, match="data folder was not found.*GENOTUTOR_DATA"):
        datasets.data_dir()
