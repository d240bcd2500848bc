"""The one progress bar of genotutor.

Every public function that can take more than a couple of seconds takes
``progress: bool = True`` and shows a ``tqdm.auto`` bar (a widget in a notebook, text in
a terminal) that disappears when the work is done; ``progress=False`` silences it.

Taught in chapter 1.
"""

from __future__ import annotations

from collections.abc import Iterable

from tqdm.auto import tqdm

from genotutor.validation import check_bool


def progress_bar(
    iterable: Iterable, *, desc: str, progress: bool, total: int | None = None
) -> tqdm:
    """``iterable`` wrapped in a transient tqdm bar labelled ``desc``, or silent.

    ``progress`` is validated (a bool, not a truthy value). Taught in chapter 1.
    """
    enabled = check_bool(progress, "progress")
    return tqdm(iterable, desc=desc, total=total, disable=not enabled, leave=False)
