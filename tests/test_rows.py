"""Row containers (genotutor.rows): one ``len`` and one ``subset`` for every dataset class,
checked against indexing each field by hand."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import torch

from genotutor.rows import Rows, take_rows


@dataclass
class _Table(Rows):
    values: torch.Tensor
    labels: np.ndarray
    frame: pd.DataFrame
    name: str

    ROW_FIELDS = ("values", "labels", "frame")


def _table(n: int = 5) -> _Table:
    frame = pd.DataFrame({"a": np.arange(n) * 10}, index=np.arange(n) + 100)
    return _Table(torch.arange(2.0 * n).reshape(n, 2), np.arange(n) + 1, frame, "kept")


def test_len_is_the_first_row_fields_length():
    assert len(_table(5)) == 5
    assert len(_table(0)) == 0


@pytest.mark.parametrize("index", [[3, 0, 3], np.array([4]), torch.tensor([1, 2]), []])
def test_subset_indexes_every_row_field_in_order(index):
    table = _table()
    rows = np.asarray(index, dtype=np.int64)
    picked = table.subset(index)
    assert torch.equal(picked.values, table.values[torch.as_tensor(rows)])
    assert np.array_equal(picked.labels, table.labels[rows])
    assert picked.frame["a"].tolist() == table.frame["a"].to_numpy()[rows].tolist()
    assert picked.frame.index.tolist() == list(range(len(rows)))  # renumbered
    assert picked.name == "kept" and len(picked) == len(rows)


def test_a_mask_selects_the_rows_where_it_is_true():
    table = _table()
    mask = np.array([True, False, False, True, False])
    assert np.array_equal(table.subset(mask).labels, table.labels[mask])
    assert np.array_equal(table.subset(torch.as_tensor(mask)).labels, table.labels[mask])


def test_subset_leaves_the_original_alone():
    table = _table()
    table.subset([0]).values.add_(100)
    assert torch.equal(table.values, _table().values)


@pytest.mark.parametrize(
    ("index", "error", "match"),
    [
        ([5], ValueError, "index must hold row numbers from 0 to 4; found 5"),
        ([-1], ValueError, "found -1"),
        (np.array([True, False]), ValueError, r"shape \(5,\)"),
        ("0", TypeError, "integers or a boolean mask"),
        ([0.5], TypeError, "integers"),
    ],
)
def test_a_bad_index_is_refused_by_name(index, error, match):
    with pytest.raises(error, match=match):
        _table().subset(index)


def test_take_rows_refuses_a_field_it_cannot_index():
    with pytest.raises(TypeError, match="row field must be a tensor, NumPy array or DataFrame"):
        take_rows([1, 2, 3], np.array([0]))


def test_every_dataset_class_is_a_row_container():
    from genotutor.datasets import PeakSet
    from genotutor.interpret import FilterPWMs
    from genotutor.simulate import PlantedTask
    from genotutor.splicing import SplicingSet

    for cls in (PlantedTask, FilterPWMs, PeakSet, SplicingSet):
        assert issubclass(cls, Rows)
        fields = set(cls.__dataclass_fields__)
        assert set(cls.ROW_FIELDS) <= fields, cls
