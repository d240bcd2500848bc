"""Motif similarity (chapter 3): self-matches, strands, offsets, and an independent oracle."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genotutor.motifs import (
    best_matches,
    get_motif,
    information_content,
    jaspar_motifs,
    motif_similarity,
    trim_motif,
)


def _random_probs(seed: int, width: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    counts = rng.gamma(0.5, size=(4, width)) + 1e-3
    return counts / counts.sum(0)


def _oracle(query: np.ndarray, target: np.ndarray, min_overlap: int) -> float:
    """Brute force with np.corrcoef, column by column."""
    shorter = max(min(query.shape[1], target.shape[1]), min_overlap)
    best = -np.inf
    for matrix in (query, query[::-1, ::-1]):
        wq, wt = matrix.shape[1], target.shape[1]
        for offset in range(-wq + 1, wt):
            pairs = [(j, offset + j) for j in range(wq) if 0 <= offset + j < wt]
            if len(pairs) < min(min_overlap, wq, wt):
                continue
            total = sum(np.corrcoef(matrix[:, a], target[:, b])[0, 1] for a, b in pairs)
            best = max(best, total / shorter)
    return best


def test_a_motif_matches_itself_exactly():
    for motif in jaspar_motifs().values():
        found = motif_similarity(motif, motif)
        assert found.score == pytest.approx(1.0)
        assert (found.offset, found.strand, found.overlap) == (0, "+", motif.width)


def test_reverse_complement_piece_is_found_on_minus_strand_at_its_offset():
    ctcf = get_motif("CTCF").probs
    piece = ctcf[:, 4:12][::-1, ::-1]
    found = motif_similarity(piece, ctcf)
    assert found.score == pytest.approx(1.0)
    assert (found.strand, found.offset, found.overlap) == ("-", 4, 8)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(5, 12), st.integers(5, 12))
def test_pearson_agrees_with_brute_force(seed, wq, wt):
    query, target = _random_probs(seed, wq), _random_probs(seed + 1, wt)
    assert motif_similarity(query, target).score == pytest.approx(_oracle(query, target, 5))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["pearson", "euclidean"]))
def test_score_is_symmetric_and_at_most_one(seed, metric):
    a, b = _random_probs(seed, 9), _random_probs(seed + 7, 6)
    ab = motif_similarity(a, b, metric=metric)
    ba = motif_similarity(b, a, metric=metric)
    assert ab.score == pytest.approx(ba.score)
    assert ab.score <= 1 + 1e-9


def test_short_queries_cannot_score_a_full_match():
    one_column = get_motif("SP1").probs[:, :1]
    assert motif_similarity(one_column, get_motif("SP1")).score <= 1 / 5 + 1e-9


def test_euclidean_identity_and_distance():
    spi1 = get_motif("SPI1")
    assert motif_similarity(spi1, spi1, metric="euclidean").score == pytest.approx(1.0)
    flat = np.full((4, spi1.width), 0.25)
    assert motif_similarity(flat, spi1, metric="euclidean").score < 0.9


def test_trim_motif_drops_flat_flanks_only():
    core = get_motif("CEBPB").probs
    flat = np.full((4, 3), 0.25)
    padded = np.concatenate([flat, core, flat], axis=1)
    trimmed = trim_motif(padded, min_information=0.3)
    informative = np.flatnonzero(information_content(core) >= 0.3)
    assert trimmed.shape[1] == informative[-1] - informative[0] + 1
    assert trim_motif(np.full((4, 5), 0.25)).shape == (4, 5)  # nothing informative: unchanged


def test_best_matches_names_pieces_of_the_shipped_motifs():
    table = jaspar_motifs()
    queries = {name: table[name].probs[:, 1:-1] for name in ["CTCF", "CEBPB", "SPI1", "REST"]}
    found = best_matches(queries)
    assert list(found["match"]) == list(queries)
    assert (found["score"] > found["runner_up_score"]).all()


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: motif_similarity(np.ones((3, 5)), get_motif("SP1")), "query must be"),
        (lambda: motif_similarity(get_motif("SP1"), np.ones((4, 0))), "target must be"),
        (lambda: motif_similarity(get_motif("SP1"), get_motif("SP1"), metric="cosine"), "metric"),
        (
            lambda: motif_similarity(get_motif("SP1"), get_motif("SP1"), min_overlap=0),
            "min_overlap",
        ),
        (lambda: best_matches({}), "queries is empty"),
        (lambda: best_matches([np.full((4, 5), np.nan)]), "NaN"),
    ],
)
def test_bad_input_is_named(call, words):
    with pytest.raises((ValueError, TypeError), match=words):
        call()
