"""The splicing simulator: its truth is what its code says, and nothing else."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genotutor.sequences import one_hot
from genotutor.splicing import (
    Layout,
    SplicingCode,
    TruthModel,
    count_feature,
    edit_feature,
    genome_5ss,
    genome_donor_pwm,
    plant_hairpin,
    reporter_sequences,
    simulate_splicing,
)

LAYOUT = Layout()


def test_genome_sites_are_logomakers_table():
    table = genome_5ss()
    assert len(table) > 10000 and (table["count"] > 0).all()
    assert table["sequence"].str.fullmatch("[ACGT]{3}G[CT][ACGT]{4}").all()
    pwm = genome_donor_pwm()
    assert pwm.shape == (9, 4)
    assert pwm[3].argmax() == 2 and pwm[4].argmax() == 3  # G at +1, T at +2


def test_count_feature_against_a_string_oracle():
    seqs = ["ACGTAACGTGACG", "TTTTTTTTTTTTT", "TAGCGTGACTAAT"]
    x = one_hot(seqs)
    assert count_feature(x, "cpg").tolist() == [s.count("CG") for s in seqs]
    stops = [sum(s[i : i + 3] in ("TAA", "TAG", "TGA") for i in range(0, 11, 3)) for s in seqs]
    assert count_feature(x, "stop", frame=0).tolist() == stops
    assert count_feature(x, "motif", motif="TT").tolist() == [0, 12, 0]


@pytest.mark.parametrize("feature", ["cpg", "stop"])
def test_edits_move_one_feature_and_not_the_other(feature):
    x = reporter_sequences(200, seed=3)
    options = {"region": LAYOUT.body, "frame": LAYOUT.exon_start}
    other = "stop" if feature == "cpg" else "cpg"
    added = edit_feature(x, feature, "add", n_sites=2, seed=1, **options)
    removed = edit_feature(x, feature, "remove", **options)
    assert (count_feature(added, feature, **options) >= count_feature(x, feature, **options)).all()
    assert (count_feature(removed, feature, **options) == 0).all()
    for edited in (added, removed):
        assert torch.equal(
            count_feature(edited, other, **options), count_feature(x, other, **options)
        )
        assert torch.equal(edited[..., : LAYOUT.exon_start], x[..., : LAYOUT.exon_start])


def test_truth_is_the_sum_of_its_terms():
    code = SplicingCode()
    data = simulate_splicing(300, kind="random", seed=0)
    terms = code.terms(data.x)
    expected = (
        code.intercept
        + code.donor_weight * terms["donor"]
        + code.enhancer_weight * terms["enhancers"]
        - code.silencer_weight * terms["silencers"]
        - code.stem_weight * np.maximum(0, terms["stem"] - code.stem_min + 1)
    )
    np.testing.assert_allclose(data.truth.numpy(), expected, rtol=1e-5, atol=1e-5)
    assert torch.allclose(TruthModel(code)(data.x)[:, 0], data.truth)


def test_features_without_a_causal_term_do_not_change_the_truth():
    """Sequences whose code terms are equal have equal truth, whatever their CpG and stops."""
    code = SplicingCode()
    x = reporter_sequences(400, seed=5)
    options = {"region": LAYOUT.body, "frame": LAYOUT.exon_start}
    for feature in ("cpg", "stop"):
        for action in ("add", "remove"):
            edited = edit_feature(x, feature, action, n_sites=3, seed=2, **options)
            before, after = code.terms(x), code.terms(edited)
            same = (before.drop(columns="logit") == after.drop(columns="logit")).all(axis=1)
            assert same.sum() > 100  # most edits touch no k-mer of the code
            np.testing.assert_allclose(before["logit"][same], after["logit"][same], atol=1e-6)
            # and a code with no k-mer or stem terms ignores every such edit
    bare = SplicingCode(enhancers=(), silencers=(), stem_weight=0.0)
    edited = edit_feature(x, "cpg", "add", n_sites=3, seed=2, **options)
    assert torch.equal(bare.logit(x), bare.logit(edited))


def test_causal_terms_do_change_the_truth():
    code = SplicingCode()
    x = reporter_sequences(100, seed=6)
    enhanced = edit_feature(x, "motif", "add", motif=code.enhancers[0], region=LAYOUT.body)
    assert (code.logit(enhanced) > code.logit(x)).float().mean() > 0.8
    hairpin = plant_hairpin(x, seed=1)
    broken = plant_hairpin(x, mismatches=3, seed=1)
    assert (code.terms(hairpin)["stem"] >= 9).all()
    assert (code.logit(hairpin) < code.logit(broken)).all()
    assert int((hairpin != broken).any(dim=1).sum(dim=1).max()) == 3


def test_reference_like_confounders_correlate_random_do_not():
    ref = simulate_splicing(1500, kind="reference", seed=0)
    ran = simulate_splicing(1500, kind="random", seed=0)
    f = ref.features
    assert np.corrcoef(f["cpg"], ref.label)[0, 1] > 0.3
    assert np.corrcoef(f["stops"], ref.label)[0, 1] < -0.3
    assert (f["stem"] < SplicingCode().stem_min).all()  # hairpins are selected out
    for column in ("cpg", "stops"):
        assert abs(np.corrcoef(ran.features[column], ran.truth)[0, 1]) < 0.1
    broken = simulate_splicing(1500, kind="reference", confounding=0.0, seed=0)
    assert abs(np.corrcoef(broken.features["cpg"], broken.features["context"])[0, 1]) < 0.1


def test_same_seed_same_data():
    a, b = (simulate_splicing(50, seed=4) for _ in range(2))
    assert torch.equal(a.x, b.x) and torch.equal(a.label, b.label)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: simulate_splicing(10, kind="genome"), "kind must be one of"),
        (lambda: simulate_splicing(10, confounding=1.5), "confounding must be"),
        (lambda: simulate_splicing(0), "n must be >= 1"),
        (lambda: SplicingCode().terms(torch.zeros(2, 4, 10)), "must be one-hot|all-zero"),
        (lambda: SplicingCode().terms(reporter_sequences(2)[..., :50]), "this code reads"),
        (lambda: count_feature(reporter_sequences(2), "gc"), "feature must be one of"),
        (lambda: count_feature(reporter_sequences(2), "motif", motif="AXG"), "motif must"),
        (lambda: count_feature(reporter_sequences(2), region=(5, 500)), "region must"),
        (lambda: edit_feature(reporter_sequences(2), "cpg", "swap"), "action must be one of"),
        (lambda: plant_hairpin(reporter_sequences(2), arm_length=12), "arm_length"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_subset_reads_a_mask_as_a_mask_and_keeps_rows_together():
    data = simulate_splicing(40, kind="random", seed=1)
    mask = data.truth > data.truth.median()
    part = data.subset(mask)
    assert len(part) == int(mask.sum())
    assert torch.equal(part.truth, data.truth[mask]) and torch.equal(part.x, data.x[mask])
    assert part.features.equals(data.features[mask.numpy()].reset_index(drop=True))
    with pytest.raises(ValueError, match="boolean mask"):
        data.subset(mask[:10])
