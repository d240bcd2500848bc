"""Synthetic tasks with planted, known answers.

A task is random background DNA with real JASPAR motifs planted in it. The label is a
known function of what was planted, so the positions that *should* matter are known
exactly: they are the ground truth that attributions are scored against. The long-range
pair task of chapter 6 lives in :mod:`genotutor.simulate.long_range`, re-exported here.

Taught in chapter 1 ("Sequence to function") and chapter 6 (the long-range pair task).
"""

from genotutor.simulate.long_range import long_range_task
from genotutor.simulate.tasks import (
    COOPERATIVE_LAYOUTS,
    PlantedTask,
    add_confounder,
    cooperative_task,
    insert_motif,
    planted_motif_task,
    split_indices,
)

__all__ = [
    "COOPERATIVE_LAYOUTS",
    "PlantedTask",
    "add_confounder",
    "cooperative_task",
    "insert_motif",
    "long_range_task",
    "planted_motif_task",
    "split_indices",
]
