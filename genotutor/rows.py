"""Row containers: dataclasses whose per-row fields share their first dimension.

:class:`~genotutor.simulate.PlantedTask` (chapter 1), :class:`~genotutor.interpret.FilterPWMs`
(chapter 3), :class:`~genotutor.datasets.PeakSet` (chapter 4) and
:class:`~genotutor.splicing.SplicingSet` (chapter 9) each hold one row per sequence (or per
filter) in several fields. :class:`Rows` gives them one ``len`` and one ``subset``, so that
the rule of what an index may be (:func:`~genotutor.validation.check_index`) and how each
kind of field is indexed is written once.

Taught in chapter 2 (``PlantedTask.subset``).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, TypeVar

import numpy as np
import pandas as pd
import torch

from genotutor.validation import check_index, describe

RowsT = TypeVar("RowsT", bound="Rows")


def take_rows(value: object, index: np.ndarray) -> object:
    """The rows ``index`` of a tensor, NumPy array or DataFrame (renumbered from 0).

    Parameters
    ----------
    value : torch.Tensor, numpy.ndarray or pandas.DataFrame, first dimension N
    index : numpy.ndarray of int64, shape (K,)
        Row numbers, as :func:`~genotutor.validation.check_index` returns them.

    Returns
    -------
    The same type as ``value``, first dimension K.

    Taught in chapter 2 (through ``PlantedTask.subset``).
    """
    if isinstance(value, torch.Tensor):
        return value[torch.as_tensor(index, device=value.device)]
    if isinstance(value, np.ndarray):
        return value[index]
    if isinstance(value, pd.DataFrame):
        return value.iloc[index].reset_index(drop=True)
    raise TypeError(
        f"a row field must be a tensor, NumPy array or DataFrame; found {describe(value)}"
    )


class Rows:
    """Mixin for a dataclass whose fields named in ``ROW_FIELDS`` hold one row per item.

    ``len`` is the length of the first row field; :meth:`subset` indexes every row field
    and keeps the other fields, except what :meth:`_subset_others` replaces (planted sites
    that refer to rows by number, for instance). Taught in chapter 2.
    """

    ROW_FIELDS: ClassVar[tuple[str, ...]] = ()

    def __len__(self) -> int:
        return len(getattr(self, self.ROW_FIELDS[0]))

    def subset(self: RowsT, index: object) -> RowsT:
        """The rows at ``index``: integers, in that order and with repeats allowed, or a
        boolean mask of shape ``(len(self),)``; fields that are not per-row are kept.

        Raises
        ------
        TypeError, ValueError
            If ``index`` is not integers or a mask, or names a row that is not there
            (:func:`~genotutor.validation.check_index`).
        """
        rows = check_index(index, len(self))
        changes = {name: take_rows(getattr(self, name), rows) for name in self.ROW_FIELDS}
        changes.update(self._subset_others(rows))
        return dataclasses.replace(self, **changes)

    def _subset_others(self, rows: np.ndarray) -> dict[str, object]:
        """The fields besides ``ROW_FIELDS`` that change with a subset (none by default)."""
        return {}
