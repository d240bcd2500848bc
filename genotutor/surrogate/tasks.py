"""A CNN with a known cooperative motif pair, for the epistasis section of chapter 6.

Taught in chapter 6 (the task itself, :func:`genotutor.simulate.cooperative_task`, in
chapter 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from torch import nn


@dataclass
class CooperativeModel:
    """A CNN trained on :func:`genotutor.simulate.cooperative_task`, with its test split.

    Attributes
    ----------
    model : torch.nn.Module
    test : genotutor.simulate.PlantedTask
    history : pandas.DataFrame
    from_cache : bool
    """

    model: nn.Module
    test: object
    history: pd.DataFrame
    from_cache: bool


def cooperative_task_model(
    *,
    n: int = 8000,
    length: int = 150,
    task_seed: int = 0,
    seed: int = 0,
    epochs: int = 15,
    progress: bool = True,
) -> CooperativeModel:
    """Train (or load from the cache) a Basset-style regressor on the cooperative task.

    The task's label adds a bonus when TAL1::TCF3 and GATA1 sit at the preferred gap, so
    the model must learn an interaction between the two motifs: the planted epistasis
    that a pairwise surrogate should find.

    Parameters
    ----------
    n, length, task_seed : int
        Size, length and seed of the simulated task.
    seed : int
        Seed of the weights and of training.
    epochs : int
        Most training epochs (early stopping on a validation split).
    progress : bool
        Progress bar while training.

    Returns
    -------
    CooperativeModel

    Taught in chapter 6.
    """
    from genotutor.cache import train_or_load
    from genotutor.models import Basset
    from genotutor.simulate import cooperative_task
    from genotutor.training import fit

    task = cooperative_task(n, length, seed=task_seed)
    train, valid, test = task.split(seed=task_seed)
    config = {
        "name": "cooperative-basset",
        "task": {"n": n, "length": length, "seed": task_seed},
        "seed": seed,
        "fit": {"epochs": epochs, "loss": "mse"},
    }

    def build() -> nn.Module:
        return Basset(length)

    def run(model: nn.Module) -> pd.DataFrame:
        return fit(
            model,
            (train.x, train.y),
            (valid.x, valid.y),
            epochs=epochs,
            loss="mse",
            patience=3,
            seed=seed,
            progress=progress,
        ).history

    trained = train_or_load(config, build, run)
    return CooperativeModel(trained.model, test, trained.history, trained.from_cache)
