"""The one validation family: each check accepts Python and NumPy values alike, and names
the argument, what was found and what was expected when it refuses one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genotutor import validation as v


@pytest.mark.parametrize("target", [0, 2, np.int64(1), np.int32(2)])
def test_check_target_accepts_python_and_numpy_ints(target):
    assert v.check_target(target, 3) == int(target)
    assert type(v.check_target(target, 3)) is int


@pytest.mark.parametrize(
    ("target", "error", "words"),
    [
        (3, ValueError, ["target", "[0, 2]", "3 outputs", "found 3"]),
        (-1, ValueError, ["target", "found -1"]),
        (True, TypeError, ["target", "int"]),
        (1.0, TypeError, ["target", "int", "float"]),
        ("0", TypeError, ["target", "int"]),
    ],
)
def test_check_target_refuses(target, error, words):
    with pytest.raises(error) as info:
        v.check_target(target, 3)
    assert all(word in str(info.value) for word in words)


def test_check_target_as_a_spec_takes_every_kind_select_takes():
    assert v.check_target(np.int64(1), 3, spec=True) == 1
    assert v.check_target((0, 2), spec=True) == [0, 2]
    assert v.check_target(slice(0, 2), spec=True) == slice(0, 2)
    assert v.check_target(sum, spec=True) is sum
    with pytest.raises(TypeError, match="target must be an int .a column., a slice"):
        v.check_target("all", spec=True)
    with pytest.raises(TypeError, match="target must be an int .an output index."):
        v.check_target((0, 2), 3)  # a column only, without spec
    with pytest.raises(ValueError, match=r"target must be in \[0, 2\]"):
        v.check_target(3, 3, spec=True)


@pytest.mark.parametrize(
    ("region", "expected"), [(None, (0, 10)), ((2, 5), (2, 5)), ([np.int64(0), 10], (0, 10))]
)
def test_check_region_accepts(region, expected):
    assert v.check_region(region, 10) == expected


@pytest.mark.parametrize(
    ("region", "error"),
    [((5, 2), ValueError), ((0, 11), ValueError), ((1,), TypeError), ((1.0, 3), TypeError),
     ((True, 3), TypeError), ("0:3", TypeError)],
)  # fmt: skip
def test_check_region_refuses(region, error):
    with pytest.raises(error, match="region"):
        v.check_region(region, 10)
    with pytest.raises(TypeError, match="exon"):
        v.check_region(None, 10, "exon", allow_none=False)


def test_check_number_and_bool():
    assert v.check_number(np.float32(0.5), "noise", minimum=0, inclusive=(False, True)) == 0.5
    assert v.check_number(3, "lr") == 3.0
    with pytest.raises(ValueError, match=r"noise must be in \(0, inf\]; found 0"):
        v.check_number(0, "noise", minimum=0, inclusive=(False, True))
    with pytest.raises(ValueError, match="finite"):
        v.check_number(float("nan"), "noise")
    with pytest.raises(TypeError, match="noise must be a number"):
        v.check_number("0.1", "noise")
    with pytest.raises(TypeError, match="noise must be a number"):
        v.check_number(True, "noise")
    assert v.check_bool(np.bool_(True), "flag") is True
    with pytest.raises(TypeError, match="hypothetical must be True or False; found str 'no'"):
        v.check_bool("no", "hypothetical")
    with pytest.raises(TypeError, match="flag"):
        v.check_bool(1, "flag")


def test_as_array():
    np.testing.assert_array_equal(v.as_array([1, 2], "y"), [1.0, 2.0])
    np.testing.assert_array_equal(v.as_array(torch.ones(2, 3), "y", ndim=2), np.ones((2, 3)))
    with pytest.raises(
        ValueError, match=r"y contains 1 NaN or infinite values \(first at index 1\)"
    ):
        v.as_array([0.0, float("nan")], "y")
    with pytest.raises(ValueError, match="y must have 1 dimension"):
        v.as_array(np.ones((2, 2)), "y", ndim=1)
    with pytest.raises(ValueError, match="at least 3"):
        v.as_array([1.0], "y", min_size=3)
    with pytest.raises(TypeError, match="y must be a tensor or array of numbers"):
        v.as_array("abc", "y")
    with pytest.raises(TypeError, match="y must be a tensor or array of numbers"):
        v.as_array([["a"]], "y")


def test_check_mask_accepts_none_and_a_bool_tensor_of_the_shape():
    assert v.check_mask(None, (3, 5)) is None
    mask = torch.zeros(3, 5, dtype=torch.bool)
    assert v.check_mask(mask, (3, 5), "truth") is mask


@pytest.mark.parametrize(
    ("mask", "error", "words"),
    [
        (torch.zeros(3, 5), TypeError, "tokens must be a bool tensor of shape (3, 5) or None"),
        ("x", TypeError, "found str"),
        (torch.zeros(3, 4, dtype=torch.bool), ValueError, "tokens must have shape (3, 5)"),
        (torch.zeros(5, dtype=torch.bool), ValueError, "found a torch.bool tensor of shape (5,)"),
    ],
)
def test_check_mask_refuses(mask, error, words):
    with pytest.raises(error) as info:
        v.check_mask(mask, (3, 5), "tokens")
    assert words in str(info.value)


def test_check_models_returns_a_plain_dict_in_order():
    a, b = torch.nn.Linear(2, 1), torch.nn.Linear(2, 1)
    assert list(v.check_models({"b": b, "a": a}).items()) == [("b", b), ("a", a)]


@pytest.mark.parametrize(
    ("models", "error", "words"),
    [
        ({}, TypeError, "models must be a non-empty dict of name -> torch.nn.Module"),
        (torch.nn.Linear(2, 1), TypeError, "found Linear"),
        ({1: torch.nn.Linear(2, 1)}, TypeError, "keyed by strings"),
        ({"a": "model"}, TypeError, "models['a'] must be a torch.nn.Module"),
    ],
)
def test_check_models_refuses(models, error, words):
    with pytest.raises(error) as info:
        v.check_models(models)
    assert words in str(info.value)


@pytest.mark.parametrize(
    "index",
    [[2, 0, 2], np.array([2, 0, 2]), torch.tensor([2, 0, 2]), np.array([2, 0, 2], dtype=np.int32)],
)
def test_check_index_keeps_integers_in_order_with_repeats(index):
    rows = v.check_index(index, 3)
    assert rows.dtype == np.int64 and rows.tolist() == [2, 0, 2]


@pytest.mark.parametrize("mask", [np.array([True, False, True]), torch.tensor([True, False, True])])
def test_check_index_reads_a_mask_as_a_mask_not_as_zeros_and_ones(mask):
    assert v.check_index(mask, 3).tolist() == [0, 2]


def test_check_index_returns_a_copy_and_accepts_an_empty_index():
    source = np.array([1, 0])
    rows = v.check_index(source, 2)
    rows[0] = 0
    assert source[0] == 1
    assert v.check_index([], 5).tolist() == []


@pytest.mark.parametrize(
    ("index", "error", "words"),
    [
        ([-1], ValueError, ["index", "0 to 2", "found -1"]),
        ([3], ValueError, ["index", "0 to 2", "found 3"]),
        (np.array([True, False]), ValueError, ["boolean mask", "(3,)", "(2,)"]),
        ([0.5], TypeError, ["index", "integers", "float64"]),
        ([[0, 1]], TypeError, ["index", "1-D"]),
        ("01", TypeError, ["index", "str"]),
        (None, TypeError, ["index", "NoneType"]),
    ],
)
def test_check_index_refuses(index, error, words):
    with pytest.raises(error) as info:
        v.check_index(index, 3)
    for word in words:
        assert word in str(info.value)
