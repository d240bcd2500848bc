"""Shipped real data: the MPSA and lac Sort-Seq loaders and their checksums, and the
ChIP-seq peaks read from janggu's installed files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

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


# ------------------------------------------------------------------ ChIP-seq peaks (janggu)
@pytest.fixture(scope="module")
def peaks():
    try:
        return datasets.load_tf_peaks()
    except ModuleNotFoundError:
        pytest.skip("janggu is not installed (pip install --no-deps janggu==0.10.2)")


def test_load_tf_peaks_shapes_labels_and_chromosomes(peaks):
    assert peaks.factors == ("Oct4", "MafK")
    assert peaks.x.shape == (3897 + 3900, 4, 200)
    assert torch_equal_one_hot(peaks.x)
    assert int((peaks.y == 0).sum()) == 3897 and int((peaks.y == 1).sum()) == 3900
    assert all(c.startswith("chr") for c in set(peaks.chrom.tolist()))
    assert (peaks.end - peaks.start == 200).all()
    assert ((peaks.soft_masked >= 0) & (peaks.soft_masked <= 1)).all()
    assert 0 < peaks.soft_masked.mean() < 1  # the files soft-mask repeats


def torch_equal_one_hot(x) -> bool:
    return bool(((x == 0) | (x == 1)).all() and (x.sum(dim=1) == 1).all())


def test_split_by_chromosome_keeps_chromosomes_apart(peaks):
    train, valid, test = peaks.split_by_chromosome(test=("chr8", "chr9"), valid=("chr7",))
    assert len(train) + len(valid) + len(test) == len(peaks)
    assert set(test.chrom.tolist()) == {"chr8", "chr9"}
    assert set(valid.chrom.tolist()) == {"chr7"}
    assert not set(train.chrom.tolist()) & {"chr7", "chr8", "chr9"}
    # the subset keeps each peak's sequence with its label and coordinates
    k = 5
    original = int(((peaks.chrom == test.chrom[k]) & (peaks.start == test.start[k])).argmax())
    assert (peaks.x[original] == test.x[k]).all() and peaks.y[original] == test.y[k]


def test_subset_takes_integers_in_order_or_a_mask(peaks):
    part = peaks.subset([4, 1, 4])
    assert part.start.tolist() == peaks.start[[4, 1, 4]].tolist()
    assert torch.equal(part.x[0], peaks.x[4]) and torch.equal(part.y[2], peaks.y[4])
    mask = peaks.chrom == "chr8"
    assert set(peaks.subset(mask).chrom.tolist()) == {"chr8"}
    with pytest.raises(ValueError, match="from 0 to"):
        peaks.subset([len(peaks)])


def test_split_by_chromosome_rejects_bad_chromosomes(peaks):
    with pytest.raises(ValueError, match="share chromosomes"):
        peaks.split_by_chromosome(test=("chr8",), valid=("chr8",))
    with pytest.raises(ValueError, match="hold no peak"):
        peaks.split_by_chromosome(test=("chr99",), valid=("chr7",))
    with pytest.raises(TypeError, match="tuple of chromosome names"):
        peaks.split_by_chromosome(test="chr8", valid=("chr7",))


def test_held_out_peaks_are_other_loci(peaks):
    held = datasets.load_tf_peaks(held_out=True)
    assert len(held) == 200 and held.x.shape[1:] == (4, 200)
    main = set(zip(peaks.chrom.tolist(), peaks.start.tolist()))
    assert not main & set(zip(held.chrom.tolist(), held.start.tolist()))


def test_missing_janggu_says_how_to_install(monkeypatch):
    import importlib.metadata

    def absent(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", absent)
    with pytest.raises(ModuleNotFoundError, match="pip install --no-deps janggu==0.10.2"):
        datasets.load_tf_peaks()


def test_read_fasta_joins_lines_and_rejects_headerless(tmp_path):
    path = tmp_path / "a.fa"
    path.write_text(">chr1:1-5\nAC\nGT\n>chr2:3-4\nA\n")
    assert datasets.read_fasta(path) == (["chr1:1-5", "chr2:3-4"], ["ACGT", "A"])
    path.write_text("ACGT\n")
    with pytest.raises(ValueError, match="FASTA header"):
        datasets.read_fasta(path)


# --------------------------------------------------------------------------- lac Sort-Seq
def test_load_sortseq_counts_and_mean_bin():
    frame = datasets.load_sortseq()
    assert len(frame) == 50518
    assert frame["sequence"].str.len().eq(75).all()
    counts = frame[[f"ct_{k}" for k in range(10)]].to_numpy()
    assert (counts.sum(axis=1) == frame["total"]).all() and (frame["total"] > 0).all()
    expected = (counts * range(10)).sum(axis=1) / counts.sum(axis=1)
    assert abs(frame["mean_bin"] - expected).max() < 1e-12
    assert set(frame["set"]) == {"training", "validation", "test"}


def test_lac_wild_type_is_the_consensus():
    frame = datasets.load_sortseq()
    wild = datasets.lac_wild_type(frame["sequence"])
    assert len(wild) == 75
    # each variant differs from the wild type at a minority of positions
    differences = [sum(a != b for a, b in zip(s, wild)) for s in frame["sequence"].head(500)]
    assert sum(differences) / 500 < 15  # about 12 % of 75 bases mutated per variant
    assert datasets.lac_wild_type(["ACGT", "ACGA", "TCGA"]) == "ACGA"


def test_load_sortseq_rejects_a_damaged_file(tmp_path, monkeypatch):
    shutil.copy(datasets.data_path(datasets.SORTSEQ_FILE), tmp_path / datasets.SORTSEQ_FILE)
    (tmp_path / "README.md").write_text("provenance")
    with open(tmp_path / datasets.SORTSEQ_FILE, "ab") as stream:
        stream.write(b"tampered")
    monkeypatch.setenv("GENOTUTOR_DATA", str(tmp_path))
    with pytest.raises(ValueError, match="SHA-256"):
        datasets.load_sortseq()
