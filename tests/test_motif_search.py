"""TOMTOM matches against JASPAR 2024 vertebrates, FIMO instances and their spacing
(genotutor.motif_search, re-exported by genotutor.motifs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from genotutor import motifs
from genotutor.interpret.modisco import Pattern
from genotutor.sequences import one_hot, random_sequences, reverse_complement

pytest.importorskip("memelite")


def test_the_database_is_the_whole_vertebrate_collection():
    table = motifs.jaspar_vertebrates()
    assert len(table) == 879 and table["matrix_id"].is_unique
    assert {"MA0139.2", "MA0142.1", "MA0496.4"} <= set(table["matrix_id"])
    for probs in table["probs"].head(50):
        assert probs.shape[0] == 4 and np.allclose(probs.sum(axis=0), 1)
        assert not probs.flags.writeable


@pytest.mark.parametrize("name", ["CTCF", "SPI1", "CEBPB"])
def test_a_planted_jaspar_matrix_is_found_with_a_small_q(name):
    motif = motifs.get_motif(name)
    rng = np.random.default_rng(0)
    sites = motifs.sample_instances(motif, 60, rng=rng)  # a PWM counted from 60 sampled sites
    counts = np.stack([np.bincount(sites[:, i], minlength=4) for i in range(motif.width)], axis=1)
    table = motifs.match_motifs({"sampled": motifs.counts_to_probs(counts)}, n_matches=3)
    assert motif.matrix_id in set(table["target_id"])
    row = table[table["target_id"] == motif.matrix_id].iloc[0]
    assert row["q_value"] < 0.05
    assert (table["p_value"].diff().dropna() >= 0).all()  # best first


def test_the_reverse_complement_matches_on_the_other_strand():
    probs = motifs.get_motif("CTCF").probs
    table = motifs.match_motifs({"fwd": probs, "rev": probs[::-1, ::-1].copy()}, n_matches=1)
    assert list(table["target_id"]) == ["MA0139.2", "MA0139.2"]
    assert list(table["strand"]) == ["+", "-"]


def test_random_informative_matrices_get_no_significant_match():
    rng = np.random.default_rng(3)
    queries = {f"random{i}": rng.dirichlet(np.full(4, 0.3), size=10).T for i in range(20)}
    table = motifs.match_motifs(queries, n_matches=1)
    assert len(table) == 20
    assert (table["q_value"] >= 0.05).all(), table


def test_q_values_are_benjamini_hochberg_and_bounded():
    from genotutor.motif_search import _benjamini_hochberg

    p = np.array([0.01, 0.04, 0.03, 0.5])
    q = _benjamini_hochberg(p)
    assert np.allclose(q, [0.04, 0.16 / 3, 0.16 / 3, 0.5])  # p * n / rank, then running min
    assert (q >= p).all() and (q <= 1).all()


def _pattern(core: np.ndarray, flank: int = 4) -> Pattern:
    width = core.shape[1] + 2 * flank
    pwm = np.full((4, width), 0.25)
    pwm[:, flank : flank + core.shape[1]] = core
    cwm = np.zeros((4, width))
    cwm[:, flank : flank + core.shape[1]] = core
    seqlets = pd.DataFrame({"sequence": [0], "start": [0], "end": [width], "strand": ["+"]})
    return Pattern("pos_0", cwm, cwm, pwm, seqlets)


def test_patterns_are_trimmed_by_their_contributions_before_matching():
    core = motifs.get_motif("SPI1").probs
    pattern = _pattern(core)
    trimmed = motifs.trim_by_contribution(pattern, threshold=0.3)
    assert trimmed.shape[1] <= core.shape[1]
    table = motifs.match_motifs([pattern], n_matches=3)
    assert table.iloc[0]["query"] == "pos_0" and "MA0080.7" in set(table["target_id"])


@pytest.mark.parametrize(
    ("queries", "error", "message"),
    [
        ({"a": np.full((10, 4), 0.25)}, ValueError, "looks like \\(w, 4\\)"),
        ({"a": np.full((4, 6), np.nan)}, ValueError, "NaN"),
        ({"a": np.ones((4, 6))}, ValueError, "probabilities"),
        ({}, ValueError, "empty"),
        ({"a": "ACGT"}, TypeError, "\\(4, w\\) array"),
    ],
)
def test_bad_queries_get_clear_errors(queries, error, message):
    with pytest.raises(error, match=message):
        motifs.match_motifs(queries)


def test_bad_options_get_clear_errors():
    probs = motifs.get_motif("CTCF").probs
    with pytest.raises(ValueError, match="database must be one of"):
        motifs.match_motifs(probs, database="jaspar2030")
    with pytest.raises(ValueError, match="n_matches"):
        motifs.match_motifs(probs, n_matches=0)


def _planted(consensus: str, placements: list[tuple[int, int, str]], n: int, length: int):
    x = random_sequences(n, length, seed=7)
    site = one_hot(consensus)[0]
    for row, start, strand in placements:
        x[row, :, start : start + site.shape[1]] = (
            site if strand == "+" else reverse_complement(site[None])[0]
        )
    return x


def test_find_instances_finds_planted_sites_on_both_strands():
    motif = motifs.get_motif("CTCF")
    placements = [(0, 20, "+"), (1, 70, "-"), (3, 5, "+")]
    x = _planted(motif.consensus, placements, n=5, length=120)
    hits = motifs.find_instances({"CTCF": motif.probs}, x, threshold=1e-7)
    found = set(zip(hits["sequence"], hits["start"], hits["strand"]))
    assert set(placements) <= found
    assert (hits["end"] - hits["start"] == motif.width).all()
    assert (hits["p_value"] < 1e-7).all()
    assert list(hits.columns) == list(motifs.find_instances.__globals__["INSTANCE_COLUMNS"])


def test_find_instances_rejects_bad_input(one_hot_batch):
    probs = motifs.get_motif("CTCF").probs
    with pytest.raises(TypeError, match="dict"):
        motifs.find_instances(probs, one_hot_batch)
    with pytest.raises(ValueError, match="\\(N, 4, L\\)"):
        motifs.find_instances({"CTCF": probs}, one_hot_batch.transpose(1, 2))
    with pytest.raises(ValueError, match="threshold"):
        motifs.find_instances({"CTCF": probs}, one_hot_batch, threshold=0)


def test_instance_spacing_pairs_within_sequences():
    instances = pd.DataFrame(
        {
            "motif": ["A", "B", "B", "A", "B"],
            "sequence": [0, 0, 0, 1, 2],
            "start": [10, 18, 40, 5, 7],
            "strand": ["+", "-", "+", "+", "+"],
        }
    )
    spacing = motifs.instance_spacing(instances, "A", "B")
    assert sorted(zip(spacing["spacing"], spacing["orientation"])) == [
        (8, "opposite"),
        (30, "same"),
    ]
    assert (spacing["sequence"] == 0).all()
    with pytest.raises(ValueError, match="second must be a motif"):
        motifs.instance_spacing(instances, "A", "C")
    with pytest.raises(ValueError, match="lacks columns"):
        motifs.instance_spacing(instances.drop(columns="strand"), "A", "B")


def test_instance_spacing_of_a_motif_with_itself_skips_self_pairs():
    instances = pd.DataFrame({"motif": ["A", "A"], "sequence": [0, 0], "start": [3, 9],
                              "strand": ["+", "+"]})  # fmt: skip
    spacing = motifs.instance_spacing(instances, "A", "A")
    assert sorted(spacing["spacing"]) == [-6, 6]


def test_reexported_from_motifs():
    from genotutor import motif_search

    assert motifs.match_motifs is motif_search.match_motifs
    assert torch.is_tensor(one_hot("A"))
