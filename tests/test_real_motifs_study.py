"""Chapter 4's studies: the peak task's design, the lac promoter's known sites and the
count-weighted loss (genotutor.studies.real_motifs)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genotutor import datasets
from genotutor.sequences import dinucleotide_counts
from genotutor.studies import real_motifs


@pytest.fixture(scope="module")
def peaks():
    try:
        return datasets.load_tf_peaks(held_out=True)
    except ModuleNotFoundError:
        pytest.skip("janggu is not installed")


def test_each_peak_gets_a_shuffle_of_the_same_composition(peaks):
    x, y = real_motifs.with_background(peaks, seed=0)
    n = len(peaks)
    assert x.shape == (2 * n, 4, 200) and y.shape == (2 * n, 2)
    assert torch.equal(x[:n], peaks.x)
    assert torch.equal(y[:n].argmax(dim=1), peaks.y) and (y[:n].sum(dim=1) == 1).all()
    assert (y[n:] == 0).all()
    assert torch.equal(dinucleotide_counts(x[n:]), dinucleotide_counts(peaks.x))
    assert not torch.equal(x[n:], peaks.x)


def test_lac_sites_are_found_in_the_wild_type():
    wild = datasets.lac_wild_type(datasets.load_sortseq()["sequence"])
    sites = real_motifs.lac_sites(wild).set_index("element")
    assert list(sites.index) == ["CRP", "RNAP -35", "RNAP -10"]
    for _, row in sites.iterrows():
        assert wild[row["start"] : row["end"]] == row["sequence"]
    # the textbook positions relative to the transcription start
    assert sites.loc["RNAP -35", "from_tss"] == -36 and sites.loc["RNAP -10", "from_tss"] == -12
    mask = real_motifs.lac_mask(75, sites.reset_index())
    assert int(mask.sum()) == int((sites["end"] - sites["start"]).sum())


def test_lac_sites_refuse_a_sequence_without_them():
    with pytest.raises(ValueError, match="occurs 0 times"):
        real_motifs.lac_sites("A" * 75)


def test_weighted_mse_weights_by_reads():
    output = torch.tensor([[1.0], [3.0]])
    y = torch.tensor([[0.0, 1.0], [0.0, 3.0]])  # mean bins 0, read counts 1 and 3
    expected = (1 * 1.0**2 + 3 * 3.0**2) / 4
    assert float(real_motifs.weighted_mse(output, y)) == pytest.approx(expected)
    same = torch.tensor([[2.0, 5.0], [4.0, 5.0]])
    plain = torch.nn.functional.mse_loss(output[:, 0], same[:, 0])
    assert float(real_motifs.weighted_mse(output, same)) == pytest.approx(float(plain))
    assert np.isfinite(float(real_motifs.weighted_mse(output, y)))
