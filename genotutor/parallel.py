"""Per-locus work on one machine or many: any ``concurrent.futures.Executor``.

:func:`run_tasks` maps a function over tasks, serially or through an executor (a thread or
process pool, or a Dask cluster's ``Client.get_executor()``), and returns the results in
the tasks' order. :func:`seed_of_task` derives each task's seed from the caller's ``seed``
and the task's index, so the numbers never depend on how the work was split.

Taught in chapter 8, "Surrogate models" (many loci through a Dask cluster).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from typing import TypeVar

import numpy as np
import torch

from genotutor.progress import progress_bar
from genotutor.validation import check_positive_int, describe

Task = TypeVar("Task")
Result = TypeVar("Result")


def seed_of_task(seed: int, index: int) -> int:
    """The seed of task ``index`` of a job seeded with ``seed`` (NumPy's SeedSequence).

    Taught in chapter 8.
    """
    seed = check_positive_int(seed, "seed", minimum=0)
    index = check_positive_int(index, "index", minimum=0)
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def run_tasks(
    function: Callable[[Task], Result],
    tasks: Sequence[Task],
    *,
    executor: Executor | None = None,
    desc: str = "tasks",
    progress: bool = True,
) -> list[Result]:
    """``[function(task) for task in tasks]``, serially or on ``executor``, in order.

    Parameters
    ----------
    function : callable
        A module-level function (so that process pools and Dask can pickle it).
    tasks : sequence
        Its arguments, one per task.
    executor : concurrent.futures.Executor, optional
        E.g. ``ThreadPoolExecutor(2)``, ``ProcessPoolExecutor()`` or a Dask
        ``Client(LocalCluster()).get_executor()``; serial without one.
    desc : str
        Label of the progress bar.
    progress : bool
        A progress bar over finished tasks.

    Returns
    -------
    list
        The results, in the order of ``tasks``.

    Taught in chapter 8.
    """
    if executor is not None and not isinstance(executor, Executor):
        if not (hasattr(executor, "submit") and hasattr(executor, "map")):
            raise TypeError(
                "executor must be a concurrent.futures.Executor (a thread or process pool, or "
                f"a Dask client's get_executor()); found {describe(executor)}"
            )
    tasks = list(tasks)
    if executor is None:
        return [function(task) for task in progress_bar(tasks, desc=desc, progress=progress)]
    futures = [executor.submit(function, task) for task in tasks]
    return [future.result() for future in progress_bar(futures, desc=desc, progress=progress)]


_SINGLE_LOCK = threading.Lock()
_SINGLE_DEPTH, _SAVED_THREADS = 0, 1


@contextmanager
def single_thread() -> Iterator[None]:
    """Run the block with one intra-op thread, then restore the setting.

    A surrogate's matrices are small (batch x 4L): a second thread saves nothing, and on
    a shared, busy machine OpenMP threads that wait for each other made one fit 40 times
    slower in our measurements. Re-entrant and safe across threads (a thread pool running
    several fits): the setting is restored when the last block in the process ends.
    """
    global _SINGLE_DEPTH, _SAVED_THREADS
    with _SINGLE_LOCK:
        if _SINGLE_DEPTH == 0:
            _SAVED_THREADS = torch.get_num_threads()
            torch.set_num_threads(1)
        _SINGLE_DEPTH += 1
    try:
        yield
    finally:
        with _SINGLE_LOCK:
            _SINGLE_DEPTH -= 1
            if _SINGLE_DEPTH == 0:
                torch.set_num_threads(_SAVED_THREADS)
