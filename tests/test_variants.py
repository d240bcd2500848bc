"""Variant effects: ``score_variants`` against brute-force forward passes and ISM, and
SpliceAI's delta scores against a direct computation on whole sequences (a small random
SpliceAI-shaped network, and the real weights where the ``spliceai`` package is installed)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from genotutor.attribution import attribute
from genotutor.sequences import ALPHABET, one_hot, random_sequences
from genotutor.spliceai import SpliceAI
from genotutor.variants import (
    DELTA_COLUMNS,
    SpliceTracks,
    delta_scores,
    score_variants,
    spliceai_delta,
    spliceai_tracks,
)

HAS_SPLICEAI = all(importlib.util.find_spec(n) is not None for n in ("spliceai", "h5py"))


class TwoHeads(nn.Module):
    """A profile head (N, 2, L) and a counts head (N, 3), as a tuple."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv1d(4, 6, 5, padding=2)
        self.profile = nn.Conv1d(6, 2, 1)
        self.counts = nn.Linear(6, 3)

    def forward(self, x):
        h = torch.relu(self.conv(x))
        return self.profile(h), self.counts(h.mean(dim=-1))


@pytest.fixture(scope="module")
def two_heads():
    return TwoHeads().eval()


@pytest.fixture(scope="module")
def x():
    return random_sequences(4, 25, seed=3)


def _random_variants(x: torch.Tensor, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        row, position = int(rng.integers(len(x))), int(rng.integers(x.shape[-1]))
        ref = ALPHABET[int(x[row, :, position].argmax())]
        alt = rng.choice([b for b in ALPHABET if b != ref])
        rows.append({"row": row, "position": position, "ref": ref, "alt": str(alt)})
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    "output, target",
    [(1, 2), (1, [0, 2]), (0, lambda profile: profile[:, 1, 3:9].sum(dim=1))],
)
def test_score_variants_equals_brute_force(two_heads, x, output, target):
    table = _random_variants(x, 12, seed=0)
    scored = score_variants(two_heads, x, table, output=output, target=target, progress=False)
    for i, row in table.iterrows():
        mutant = x[row["row"]].clone()
        mutant[:, row["position"]] = 0
        mutant[ALPHABET.index(row["alt"]), row["position"]] = 1
        with torch.no_grad():
            pair = torch.stack([x[row["row"]], mutant])
            raw = two_heads(pair)[output]
            if callable(target):
                values = target(raw)
            else:
                values = raw[:, target].sum(dim=1) if isinstance(target, list) else raw[:, target]
        assert scored.loc[i, "ref_score"] == pytest.approx(float(values[0]), abs=1e-5)
        assert scored.loc[i, "alt_score"] == pytest.approx(float(values[1]), abs=1e-5)
        assert scored.loc[i, "effect"] == pytest.approx(float(values[1] - values[0]), abs=1e-5)
    assert list(scored.columns[:4]) == ["row", "position", "ref", "alt"]


def test_score_variants_equals_ism_at_every_cell(two_heads, x):
    every = pd.DataFrame(
        [
            {"row": r, "position": p, "ref": ALPHABET[int(x[r, :, p].argmax())], "alt": b}
            for r in range(len(x))
            for p in range(x.shape[-1])
            for b in ALPHABET
            if b != ALPHABET[int(x[r, :, p].argmax())]
        ]
    )
    scored = score_variants(two_heads, x, every, output=1, target=0, batch_size=7, progress=False)
    ism = attribute(two_heads, x, "ism", output=1, target=0, progress=False)
    expected = ism[every["row"], every["alt"].map(ALPHABET.index), every["position"]]
    np.testing.assert_allclose(scored["effect"], expected.numpy(), atol=1e-5)


def test_score_variants_is_batch_invariant_and_keeps_extra_columns(two_heads, x):
    table = _random_variants(x, 9, seed=1).assign(name=[f"v{i}" for i in range(9)])
    one = score_variants(two_heads, x, table, output=1, batch_size=1, progress=False)
    many = score_variants(two_heads, x, table, output=1, batch_size=64, progress=False)
    np.testing.assert_allclose(one["effect"], many["effect"], atol=1e-6)
    assert list(one["name"]) == list(table["name"])


@pytest.mark.parametrize(
    "change, message",
    [
        ({"ref": "Z"}, r"variants\['ref'\] in row 0 must be one of A, C, G, T; found 'Z'"),
        ({"alt": "AC"}, r"variants\['alt'\] in row 0 must be one of A, C, G, T"),
        ({"position": 25}, r"variant 0 \(row 0, position 25\) lies outside x"),
        ({"row": 4}, r"lies outside x, which has 4 sequences of length 25"),
        ({"row": -1}, r"lies outside x"),
    ],
)
def test_score_variants_rejects_bad_rows(two_heads, x, change, message):
    table = _random_variants(x, 1, seed=2).assign(row=0, position=0)
    table["ref"] = ALPHABET[int(x[0, :, 0].argmax())]
    for column, value in change.items():
        table[column] = value
    with pytest.raises(ValueError, match=message):
        score_variants(two_heads, x, table, output=1, progress=False)


def test_score_variants_names_a_ref_mismatch(two_heads, x):
    held = ALPHABET[int(x[2, :, 7].argmax())]
    wrong = next(b for b in ALPHABET if b != held)
    table = pd.DataFrame({"row": [2], "position": [7], "ref": [wrong], "alt": [held]})
    with pytest.raises(ValueError, match=rf"variant 0: ref '{wrong}' does not match x at row 2, "
                                         rf"position 7, which holds '{held}'"):  # fmt: skip
        score_variants(two_heads, x, table, output=1, progress=False)


def test_score_variants_checks_the_table(two_heads, x):
    with pytest.raises(TypeError, match="variants must be a pandas DataFrame"):
        score_variants(two_heads, x, [(0, 1, "A", "C")], output=1, progress=False)
    with pytest.raises(ValueError, match=r"variants lacks the columns \['alt'\]"):
        score_variants(two_heads, x, pd.DataFrame({"row": [0], "position": [0], "ref": ["A"]}))
    with pytest.raises(TypeError, match=r"variants\['position'\] must hold integers"):
        table = pd.DataFrame({"row": [0], "position": [1.5], "ref": ["A"], "alt": ["C"]})
        score_variants(two_heads, x, table, output=1, progress=False)
    with pytest.raises(ValueError, match="variants is empty"):
        score_variants(two_heads, x, pd.DataFrame(columns=["row", "position", "ref", "alt"]))
    with pytest.raises(TypeError, match="progress"):
        score_variants(two_heads, x, _random_variants(x, 1, 0), output=1, progress="yes")


# ------------------------------------------------------------------ SpliceAI's delta scores
@pytest.fixture(scope="module")
def small_spliceai():
    """A random network of SpliceAI's shape with a 12-nt context (6 on each side)."""
    torch.manual_seed(1)
    model = SpliceAI(channels=4, kernel_sizes=(3, 3), dilations=(1, 2), skip_every=1).eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm1d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2)
    assert model.context == 12
    return model


def _whole(model: nn.Module, sequence: str, pad: int) -> np.ndarray:
    """Predictions at every position of ``sequence`` and ``pad - context/2`` beyond each
    end, from the whole sequence N-padded by ``pad``: (3, len + 2 (pad - flank))."""
    padded = "N" * pad + sequence + "N" * pad
    with torch.no_grad():
        return model(one_hot(padded, unknown="zeros"))[0].numpy()


def _direct(model, sequence: str, position: int, ref: str, alt: str, d: int):
    """The oracle: whole-sequence predictions before and after, lined up by hand."""
    extra = d + len(ref) + len(alt)  # room for positions beyond the ends
    before = _whole(model, sequence, model.context // 2 + extra)
    edited = sequence[:position] + alt + sequence[position + len(ref) :]
    after = _whole(model, edited, model.context // 2 + extra)
    columns = np.arange(position - d, position + d + 1) + extra
    reference = before[:, columns]
    shift = len(alt) - len(ref)
    aligned = []
    for offset in range(-d, d + 1):
        site = position + offset + extra
        if offset <= 0 or shift == 0:
            aligned.append(after[:, site])
        elif shift < 0 and offset < 1 - shift:  # a deleted base
            aligned.append(np.zeros(3))
        else:
            aligned.append(after[:, site + shift])
    alternative = np.stack(aligned, axis=1)
    if shift > 0:  # an insertion: the anchor and the inserted bases collapse to their max
        alternative[:, d] = after[:, position + extra : position + extra + len(alt)].max(axis=1)
    return reference, alternative


@pytest.mark.parametrize(
    "position, ref, alt",
    [(0, None, "A"), (17, None, "C"), (39, None, "T"), (10, 3, None), (38, 2, None),
     (21, None, "ACGT"), (0, None, "GG")],
)  # fmt: skip
def test_spliceai_tracks_equal_a_direct_computation(small_spliceai, position, ref, alt):
    sequence = "".join(np.random.default_rng(position).choice(list(ALPHABET), 40))
    if ref is None:  # a substitution or an insertion after the base at `position`
        ref_allele = sequence[position]
        alt_allele = alt if len(alt) == 1 else ref_allele + alt
        if alt_allele == ref_allele:
            alt_allele = next(b for b in ALPHABET if b != ref_allele)
    else:  # a deletion of `ref - 1` bases after the anchor
        ref_allele, alt_allele = sequence[position : position + ref], sequence[position]
    table = pd.DataFrame({"position": [position], "ref": [ref_allele], "alt": [alt_allele]})
    tracks = spliceai_tracks(small_spliceai, sequence, table, distance=5, progress=False)
    reference, alternative = _direct(small_spliceai, sequence, position, ref_allele,
                                     alt_allele, 5)  # fmt: skip
    np.testing.assert_allclose(tracks.reference[0], reference, atol=1e-5)
    np.testing.assert_allclose(tracks.alternative[0], alternative, atol=1e-5)
    assert tracks.offsets.tolist() == list(range(-5, 6))


def test_spliceai_tracks_are_batch_invariant(small_spliceai):
    sequence = "".join(np.random.default_rng(9).choice(list(ALPHABET), 60))
    table = pd.DataFrame(
        [{"position": p, "ref": sequence[p], "alt": "A" if sequence[p] != "A" else "C"}
         for p in range(3, 57, 6)]
        + [{"position": 30, "ref": sequence[30:33], "alt": sequence[30]},
           {"position": 12, "ref": sequence[12], "alt": sequence[12] + "TT"}]
    )  # fmt: skip
    one = spliceai_tracks(small_spliceai, sequence, table, distance=4, batch_size=1,
                          progress=False)  # fmt: skip
    many = spliceai_tracks(small_spliceai, sequence, table, distance=4, batch_size=16,
                           progress=False)  # fmt: skip
    np.testing.assert_allclose(one.alternative, many.alternative, atol=1e-6)
    np.testing.assert_allclose(one.reference, many.reference, atol=1e-6)


def test_delta_scores_read_the_tracks():
    reference = np.zeros((1, 3, 7), dtype=np.float32)
    alternative = np.zeros((1, 3, 7), dtype=np.float32)
    reference[0, 1, 1], alternative[0, 1, 5] = 0.6, 0.3  # acceptor lost at -2, gained at +2
    reference[0, 2, 3], alternative[0, 2, 3] = 0.9, 0.1  # donor lost at the variant
    alternative[0, 2, 0] = 0.2  # donor gained at -3
    table = pd.DataFrame({"position": [10], "ref": ["A"], "alt": ["G"]})
    deltas = delta_scores(SpliceTracks(table, reference, alternative, 3)).iloc[0]
    assert deltas["acceptor_gain"] == pytest.approx(0.3) and deltas["acceptor_gain_at"] == 2
    assert deltas["acceptor_loss"] == pytest.approx(0.6) and deltas["acceptor_loss_at"] == -2
    assert deltas["donor_loss"] == pytest.approx(0.8) and deltas["donor_loss_at"] == 0
    assert deltas["donor_gain"] == pytest.approx(0.2) and deltas["donor_gain_at"] == -3
    assert deltas["max_delta"] == pytest.approx(0.8)
    assert set(DELTA_COLUMNS) <= set(deltas.index)


@pytest.mark.parametrize(
    "row, message",
    [
        ({"position": 5, "ref": "X", "alt": "A"}, r"variants\['ref'\] in row 0 must be a string"),
        ({"position": 38, "ref": "ACG", "alt": "A"}, r"position 38 \(ref ACG\) lies outside"),
        ({"position": 5, "ref": "GC", "alt": "TT"}, "changes several bases at once"),
        ({"position": 5, "ref": "GC", "alt": "T"}, "is not a variant in VCF form"),
        ({"position": 5, "ref": "G", "alt": "G"}, "is not a variant in VCF form"),
        ({"position": 6, "ref": "G", "alt": "A"}, r"ref 'G' does not match the sequence at "
                                                 r"position 6, which reads 'C'"),
    ],
)  # fmt: skip
def test_spliceai_tracks_reject_bad_variants(small_spliceai, row, message):
    sequence = "AAAAAGCT" + "A" * 32
    with pytest.raises(ValueError, match=message):
        spliceai_tracks(small_spliceai, sequence, pd.DataFrame([row]), progress=False)


def test_spliceai_tracks_check_their_options(small_spliceai):
    table = pd.DataFrame({"position": [3], "ref": ["A"], "alt": ["C"]})
    with pytest.raises(ValueError, match=r"only A, C, G, T, N; found \[.X.\]"):
        spliceai_tracks(small_spliceai, "AAAX" + "A" * 10, table, progress=False)
    with pytest.raises(TypeError, match="sequence must be a non-empty DNA string"):
        spliceai_tracks(small_spliceai, one_hot("AAAA"), table, progress=False)
    with pytest.raises(ValueError, match="distance"):
        spliceai_tracks(small_spliceai, "A" * 10, table, distance=0, progress=False)
    with pytest.raises(TypeError, match="distance"):
        spliceai_tracks(small_spliceai, "A" * 10, table, distance=2.5, progress=False)
    with pytest.raises(TypeError, match="tracks must come from spliceai_tracks"):
        delta_scores({"reference": 0})


@pytest.mark.skipif(not HAS_SPLICEAI, reason="needs pip install --no-deps spliceai h5py")
def test_real_spliceai_planted_donor_and_hbb_ivs1():
    """A planted exon's GT destroyed gives a donor loss at the exon's last base; HBB's
    IVS-I-1 G>A (the first base of intron 1) a donor loss above 0.5 there."""
    from genotutor.spliceai import load_spliceai
    from genotutor.studies import hbb_variants
    from genotutor.studies.spliceai_hbb import hbb_gene

    model = load_spliceai([1])
    gene = hbb_gene()
    clinical = hbb_variants.clinical_variants()
    ivs1 = clinical[clinical["name"] == "IVS-I-1 G>A"]
    deltas = spliceai_delta(model, gene, ivs1, progress=False).iloc[0]
    assert deltas["donor_loss"] > 0.5 and deltas["donor_loss_at"] == -1
    # a hand-made sequence: HBB's exon 2 and 40 nt of each intron, in random flanks
    start, stop = gene.index("TTTCCCACCCTTAGGCTGCT") + 14, gene.index("CTTCAGGGTGAGT") + 7
    rng = np.random.default_rng(0)
    flank = "".join(rng.choice(list(ALPHABET), 300))
    made = flank + gene[start - 40 : stop + 40] + flank
    donor = len(flank) + 40 + (stop - start) - 1  # the exon's last base
    table = pd.DataFrame({"position": [donor + 1], "ref": ["G"], "alt": ["A"]})
    assert made[donor + 1 : donor + 3] == "GT"
    tracks = spliceai_tracks(model, made, table, distance=20, progress=False)
    padded = "N" * 5020 + made + "N" * 5020
    with torch.no_grad():
        whole = model(one_hot(padded, unknown="zeros"))[0, 2].numpy()
    edited = made[: donor + 1] + "A" + made[donor + 2 :]
    with torch.no_grad():
        after = model(one_hot("N" * 5020 + edited + "N" * 5020, unknown="zeros"))[0, 2].numpy()
    window = np.arange(donor + 1 - 20, donor + 1 + 21) + 20
    np.testing.assert_allclose(tracks.reference[0, 2], whole[window], atol=1e-5)
    np.testing.assert_allclose(tracks.alternative[0, 2], after[window], atol=1e-5)
    planted = delta_scores(tracks).iloc[0]
    assert planted["donor_loss_at"] == -1 and planted["donor_loss"] > 0.2
