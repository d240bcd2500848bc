"""The two settings every chapter reads: which draw of the seeds, and how many threads.

``GENOTUTOR_SEED_OFFSET=k`` re-draws the book: every seed the studies use (planted data,
splits, initial weights, batch order, references) becomes ``seed + 1000 k``, so a build with
``k = 1`` trains other models on other data, and every claim the book asserts must hold
there too. Only the studies read it; the library keeps its explicit ``seed=``. A study
function takes base seeds (0, 1, 2, ...), labels its results with them, and shifts them with
:func:`study_seed` where it calls the library; a chapter that calls the library itself
shifts its seeds the same way.

``GENOTUTOR_THREADS`` (default 2) is torch's intra-op thread count for every chapter.
Trained weights depend on the floating-point reduction order, so one setting for all
chapters keeps a model the same whichever chapter trains it first.

Taught in the preface (how the book is built) and used by every chapter.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from genotutor.validation import check_positive_int

SEED_OFFSET_VARIABLE = "GENOTUTOR_SEED_OFFSET"
THREADS_VARIABLE = "GENOTUTOR_THREADS"
SEED_STRIDE = 1000  # larger than any base seed a study uses, so re-draws never overlap
DEFAULT_THREADS = 2


def _read_int(variable: str, default: int, minimum: int) -> int:
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{variable} must be an integer >= {minimum}; found {text!r}") from None
    if value < minimum:
        raise ValueError(f"{variable} must be an integer >= {minimum}; found {value}")
    return value


def seed_offset() -> int:
    """The re-draw ``k`` of ``GENOTUTOR_SEED_OFFSET`` (0 when unset)."""
    return _read_int(SEED_OFFSET_VARIABLE, 0, 0)


def thread_count() -> int:
    """Torch's thread count for the chapters: ``GENOTUTOR_THREADS`` (2 when unset)."""
    return _read_int(THREADS_VARIABLE, DEFAULT_THREADS, 1)


def study_seed(seed: int) -> int:
    """The seed a study uses for base seed ``seed`` in the current re-draw:
    ``seed + 1000 * GENOTUTOR_SEED_OFFSET``.

    Examples
    --------
    >>> study_seed(2)  # GENOTUTOR_SEED_OFFSET unset
    2
    """
    seed = check_positive_int(seed, "seed", minimum=0)
    if seed >= SEED_STRIDE:
        raise ValueError(f"seed must be a base seed below {SEED_STRIDE}; found {seed}")
    return seed + SEED_STRIDE * seed_offset()


@dataclass(frozen=True)
class ChapterSettings:
    """What :func:`setup_chapter` set: the re-draw ``seed_offset`` and torch's ``threads``."""

    seed_offset: int
    threads: int

    def __str__(self) -> str:
        return (
            f"seed re-draw {self.seed_offset} ({SEED_OFFSET_VARIABLE}), "
            f"torch threads {self.threads} ({THREADS_VARIABLE})"
        )


def setup_chapter() -> ChapterSettings:
    """Set torch's thread count from ``GENOTUTOR_THREADS``; called in every chapter's first
    cell, which prints the result, so a page says which draw and how many threads made it."""
    settings = ChapterSettings(seed_offset(), thread_count())
    torch.set_num_threads(settings.threads)
    return settings
