"""TF-MoDISco through modisco-lite (genotutor.interpret.modisco): planted motifs come back
from oracle contributions, on both strands; inputs are validated; results are cached."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genotutor import interpret, motifs
from genotutor.sequences import random_sequences

pytest.importorskip("modiscolite")

PLANTED = ("CTCF", "SPI1")


def _oracle_task(n: int = 400, length: int = 100, seed: int = 0):
    """Random sequences, each with one sampled instance of a planted motif on a random
    strand; hypothetical contributions are the motif's log-odds inside the site and small
    noise elsewhere (the scores a perfect model would give)."""
    rng = np.random.default_rng(seed)
    x = random_sequences(n, length, seed=seed)
    hypothetical = 0.01 * torch.randn(n, 4, length, generator=torch.Generator().manual_seed(seed))
    mask = torch.zeros(n, length, dtype=torch.bool)
    strands = []
    for row in range(n):
        motif = motifs.get_motif(PLANTED[row % len(PLANTED)])
        site = motifs.sample_instances(motif, 1, rng=rng)[0]
        weights = torch.tensor(np.log2(motif.probs / 0.25), dtype=torch.float32)
        letters = torch.nn.functional.one_hot(torch.tensor(site), 4).T.float()
        strand = "+" if rng.random() < 0.5 else "-"
        if strand == "-":  # the reverse complement of the site and of its weights
            letters, weights = letters.flip(0, 1), weights.flip(0, 1)
        start = int(rng.integers(10, length - motif.width - 10))
        x[row, :, start : start + motif.width] = letters
        hypothetical[row, :, start : start + motif.width] = weights
        mask[row, start : start + motif.width] = True
        strands.append(strand)
    return x, hypothetical, mask


@pytest.fixture(scope="module")
def oracle():
    x, hypothetical, mask = _oracle_task()
    patterns = interpret.discover_motifs(x, hypothetical, n_leiden_runs=2, max_seqlets=400,
                                         cache=False)  # fmt: skip
    return x, hypothetical, mask, patterns


@pytest.mark.slow
def test_planted_motifs_come_back_from_oracle_contributions(oracle):
    x, _, mask, patterns = oracle
    table = motifs.match_motifs(patterns, n_matches=3)
    significant = set(table.loc[table["q_value"] < 0.05, "target_id"])
    for name in PLANTED:
        assert motifs.get_motif(name).matrix_id in significant, (name, table)
    for pattern in patterns:
        assert pattern.cwm.shape == pattern.pwm.shape == pattern.hypothetical_cwm.shape
        assert pattern.cwm.shape[0] == 4 and np.allclose(pattern.pwm.sum(axis=0), 1, atol=1e-3)
        assert pattern.n_seqlets == len(pattern.seqlets) >= 20
        assert list(pattern.seqlets.columns) == ["sequence", "start", "end", "strand"]
        assert pattern.seqlets["sequence"].between(0, len(x) - 1).all()


@pytest.mark.slow
def test_seqlets_come_from_both_strands_and_sit_on_the_sites(oracle):
    _, _, mask, patterns = oracle
    strands = set().union(*(set(p.seqlets["strand"]) for p in patterns))
    assert strands == {"+", "-"}
    for pattern in patterns:  # (almost) every seqlet is cut around a planted site
        on_site = [bool(mask[r.sequence, max(r.start, 0) : r.end].any())
                   for r in pattern.seqlets.itertuples()]  # fmt: skip
        assert np.mean(on_site) >= 0.9, pattern.name
    recovery = interpret.seqlet_recovery(patterns, mask).set_index("pattern")
    assert recovery.loc["all", "precision"] > 1.5 * float(mask.float().mean())  # above chance


def test_seqlet_recovery_counts_positions():
    import pandas as pd

    from genotutor.interpret.modisco import Pattern

    mask = torch.zeros(2, 10, dtype=torch.bool)
    mask[0, 2:6] = True
    seqlets = pd.DataFrame(
        {"sequence": [0, 1], "start": [0, 0], "end": [4, 2], "strand": ["+", "-"]}
    )
    pattern = Pattern("pos_0", np.zeros((4, 4)), np.zeros((4, 4)), np.full((4, 4), 0.25), seqlets)
    table = interpret.seqlet_recovery([pattern], mask).set_index("pattern")
    # covered: (0, 0..3) and (1, 0..1): 6 positions, 2 planted (0, 2..3); 4 planted in all
    assert table.loc["pos_0", "precision"] == pytest.approx(2 / 6)
    assert table.loc["all", "recall"] == pytest.approx(2 / 4)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            lambda x, h: (x.transpose(1, 2), h.transpose(1, 2)),
            ValueError,
            "looks like \\(N, L, 4\\)",
        ),
        (lambda x, h: (x, h[:, :, :-1]), ValueError, "the shape of x"),
        (
            lambda x, h: (
                x,
                h.masked_fill(
                    torch.zeros_like(h, dtype=torch.bool).index_fill(2, torch.tensor([3]), True),
                    float("nan"),
                ),
            ),
            ValueError,
            "NaN",
        ),
        (lambda x, h: (x * 2, h), ValueError, "one-hot"),
        (lambda x, h: (x.tolist(), h), TypeError, "tensor or array"),
    ],
)
def test_bad_inputs_get_clear_errors(one_hot_batch, change, error, message):
    x, h = change(one_hot_batch, torch.randn_like(one_hot_batch))
    with pytest.raises(error, match=message):
        interpret.discover_motifs(x, h)


@pytest.mark.parametrize(
    ("option", "message"),
    [({"max_seqlets": 0}, "max_seqlets"), ({"target_fdr": 1.0}, "target_fdr"),
     ({"window": 2.5}, "window"), ({"cache": "yes"}, "cache")],
)  # fmt: skip
def test_bad_options_get_clear_errors(one_hot_batch, option, message):
    with pytest.raises((TypeError, ValueError), match=message):
        interpret.discover_motifs(one_hot_batch, torch.randn_like(one_hot_batch), **option)


@pytest.mark.slow
def test_results_are_cached_and_equal(oracle, isolated_cache):
    x, hypothetical, _, _ = oracle
    x, hypothetical = x[:200], hypothetical[:200]
    first = interpret.discover_motifs(x, hypothetical, n_leiden_runs=2, max_seqlets=200)
    assert any(isolated_cache.glob("modisco-*.pt"))
    again = interpret.discover_motifs(x, hypothetical, n_leiden_runs=2, max_seqlets=200)
    assert [p.name for p in first] == [p.name for p in again]
    for a, b in zip(first, again):
        assert np.array_equal(a.cwm, b.cwm) and a.seqlets.equals(b.seqlets)
