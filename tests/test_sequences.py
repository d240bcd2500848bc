from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from genotutor import sequences as seq

dna = st.text(alphabet="ACGT", min_size=2, max_size=120)


@given(st.lists(dna, min_size=1, max_size=4).filter(lambda s: len({len(x) for x in s}) == 1))
def test_one_hot_round_trip(strings):
    x = seq.one_hot(strings)
    assert x.shape == (len(strings), 4, len(strings[0]))
    assert x.dtype == torch.float32
    assert torch.all(x.sum(dim=1) == 1)
    assert seq.decode(x) == strings


def test_one_hot_order_is_acgt():
    x = seq.one_hot("ACGT")[0]
    assert torch.equal(x, torch.eye(4))


def test_lower_case_is_encoded_like_upper_case():
    assert torch.equal(seq.one_hot("acgt"), seq.one_hot("ACGT"))


@pytest.mark.parametrize(
    ("value", "error", "words"),
    [
        (["ACGTX"], ValueError, ["'X'", "position 4", "A, C, G, T"]),
        (["ACGT", "ACG"], ValueError, ["ragged", "[3, 4]"]),
        (["ACGN"], ValueError, ["'N'", "unknown='zeros'"]),
        ([], ValueError, ["empty"]),
        (["ACGT", 5], TypeError, ["sequences[1]", "string"]),
        (42, TypeError, ["sequences", "int"]),
    ],
)
def test_one_hot_rejects_bad_input(value, error, words):
    with pytest.raises(error) as info:
        seq.one_hot(value)
    for word in words:
        assert word in str(info.value)


def test_unknown_letters_documented_modes():
    assert torch.equal(seq.one_hot("AN", unknown="zeros")[0, :, 1], torch.zeros(4))
    assert torch.allclose(seq.one_hot("AN", unknown="uniform")[0, :, 1], torch.full((4,), 0.25))
    assert seq.decode(seq.one_hot("ANT", unknown="zeros")) == ["ANT"]
    with pytest.raises(ValueError, match="unknown must be one of"):
        seq.one_hot("A", unknown="drop")


@pytest.mark.parametrize(
    ("value", "error", "words"),
    [
        (torch.zeros(2, 5, 10), ValueError, ["x", "4 channels", "(2, 5, 10)"]),
        (torch.zeros(10), ValueError, ["x", "shape", "(10,)"]),
        (torch.zeros(2, 4, 10, dtype=torch.int64), TypeError, ["x", "torch.int64"]),
        (np.zeros((2, 4, 10)), TypeError, ["x", "torch.Tensor", "ndarray"]),
        (torch.full((1, 4, 3), float("nan")), ValueError, ["x", "NaN"]),
        (torch.zeros(0, 4, 10), ValueError, ["x", "empty"]),
    ],
)
def test_check_tensor_messages(value, error, words):
    with pytest.raises(error) as info:
        seq.check_tensor(value, "x")
    for word in words:
        assert word in str(info.value)


def test_check_one_hot_rejects_soft_values():
    with pytest.raises(ValueError, match="one-hot"):
        seq.check_one_hot(torch.full((1, 4, 5), 0.25), "x")


def test_reverse_complement(one_hot_batch):
    text = seq.decode(one_hot_batch)
    pairs = str.maketrans("ACGT", "TGCA")
    expected = [s.translate(pairs)[::-1] for s in text]
    assert seq.decode(seq.reverse_complement(one_hot_batch)) == expected
    assert torch.equal(seq.reverse_complement(seq.reverse_complement(one_hot_batch)), one_hot_batch)


def test_random_sequences_seeded_and_gc():
    a = seq.random_sequences(200, 300, gc=0.7, seed=3)
    b = seq.random_sequences(200, 300, gc=0.7, seed=3)
    assert torch.equal(a, b)
    gc = a[:, 1:3].sum() / a.sum()
    assert abs(float(gc) - 0.7) < 0.01
    assert not torch.equal(a, seq.random_sequences(200, 300, gc=0.7, seed=4))


def test_mutate_changes_one_position(one_hot_batch):
    out = seq.mutate(one_hot_batch, 7, "G")
    assert torch.all(out[:, :, 7] == torch.tensor([0.0, 0.0, 1.0, 0.0]))
    keep = [i for i in range(50) if i != 7]
    assert torch.equal(out[:, :, keep], one_hot_batch[:, :, keep])
    assert torch.equal(
        seq.mutate(one_hot_batch, -1, 3)[:, :, -1], seq.mutate(one_hot_batch, 49, "T")[:, :, 49]
    )
    with pytest.raises(ValueError, match="position"):
        seq.mutate(one_hot_batch, 50, "A")
    with pytest.raises(ValueError, match="base"):
        seq.mutate(one_hot_batch, 0, "N")


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet="ACGT", min_size=2, max_size=200), st.integers(0, 2**31 - 1))
def test_dinucleotide_shuffle_keeps_counts_exactly(text, seed):
    x = seq.one_hot(text)
    shuffled = seq.dinucleotide_shuffle(x, n=5, seed=seed)
    assert shuffled.shape == (1, 5, 4, len(text))
    counts = seq.dinucleotide_counts(x)
    for k in range(5):
        assert torch.equal(seq.dinucleotide_counts(shuffled[0, k]), counts)
        assert (
            seq.decode(shuffled[0, k])[0][0] == text[0]
        )  # an Eulerian walk keeps the first letter


def test_dinucleotide_shuffle_shuffles_and_is_seeded():
    x = seq.random_sequences(3, 400, seed=0)
    a = seq.dinucleotide_shuffle(x, n=4, seed=1)
    assert torch.equal(a, seq.dinucleotide_shuffle(x, n=4, seed=1))
    # Long random sequences have astronomically many shuffles: no copy of the original.
    assert not any(torch.equal(a[i, k], x[i]) for i in range(3) for k in range(4))
    assert seq.dinucleotide_shuffle(x[0], n=2).shape == (2, 4, 400)


def test_dinucleotide_shuffle_rejects_n_columns():
    with pytest.raises(ValueError, match="N"):
        seq.dinucleotide_shuffle(seq.one_hot("ACGNA", unknown="zeros"))


def test_check_model_rejects_non_modules():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        seq.check_model(lambda x: x)
