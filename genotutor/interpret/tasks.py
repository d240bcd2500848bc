"""The trained models that chapters 3 and 4 interpret, besides the chapter-1 model.

Each is simulated, trained and cached like :func:`genotutor.training.planted_task_model`
(same arguments, same model, trained once).

Taught in chapter 3 (the cooperative task) and chapter 4 (the confounded task).
"""

from __future__ import annotations

import pandas as pd
from torch import nn

from genotutor.cache import train_or_load
from genotutor.models import Basset
from genotutor.simulate import PlantedTask, add_confounder, cooperative_task, planted_motif_task
from genotutor.training import PlantedModel, fit


def _train_cached(
    config: dict, task: PlantedTask, *, loss: str, epochs: int, progress: bool
) -> PlantedModel:
    train_split, valid_split, test_split = task.split(seed=config["task"]["seed"])
    length = task.x.shape[-1]

    def build() -> nn.Module:
        return Basset(length, activation=config["activation"])

    def train(model: nn.Module) -> pd.DataFrame:
        return fit(
            model,
            (train_split.x, train_split.y),
            (valid_split.x, valid_split.y),
            epochs=epochs,
            patience=4,
            loss=loss,
            seed=config["seed"],
            progress=progress,
        ).history

    trained = train_or_load(config, build, train)
    return PlantedModel(
        trained.model,
        trained.history,
        train_split,
        valid_split,
        test_split,
        config,
        trained.from_cache,
    )


def cooperative_task_model(
    *,
    n: int = 6000,
    length: int = 150,
    spacing: int = 8,
    task_seed: int = 0,
    seed: int = 0,
    epochs: int = 30,
    activation: str = "relu",
    progress: bool = True,
) -> PlantedModel:
    """A Basset-style regression CNN trained on :func:`genotutor.simulate.cooperative_task`.

    Parameters
    ----------
    n, length, spacing, task_seed : int
        Passed to ``cooperative_task`` (its other settings are the defaults).
    seed : int
        Seed of the weights and of training.
    epochs : int
        Most epochs (early stopping with patience 4 on the validation MSE).
    activation : {"relu", "exp"}
        First-layer activation.
    progress : bool

    Returns
    -------
    genotutor.training.PlantedModel

    Taught in chapter 3.
    """
    task = cooperative_task(n, length, spacing=spacing, seed=task_seed)
    config = {
        "name": f"cooperative-basset-{activation}",
        "activation": activation,
        "task": {"n": n, "length": length, "spacing": spacing, "seed": task_seed},
        "seed": seed,
        "fit": {"epochs": epochs, "loss": "mse"},
    }
    return _train_cached(config, task, loss="mse", epochs=epochs, progress=progress)


def confounded_task_model(
    *,
    n: int = 4000,
    length: int = 200,
    confounder: str = "NRF1",
    rate_positive: float = 0.9,
    rate_negative: float = 0.1,
    task_seed: int = 0,
    seed: int = 0,
    epochs: int = 30,
    progress: bool = True,
) -> PlantedModel:
    """A Basset-style classifier trained on the chapter-1 task with a planted confounder.

    The data are :func:`genotutor.simulate.planted_motif_task` (drivers CTCF, CEBPB, SPI1,
    decoy SP1) passed through :func:`genotutor.simulate.add_confounder`.

    Parameters
    ----------
    n, length, task_seed : int
        Size, length and seed of the task.
    confounder : str
        Name of a shipped JASPAR motif.
    rate_positive, rate_negative : float
        How often the confounder is planted in positives and in negatives.
    seed, epochs, progress
        As for :func:`cooperative_task_model`.

    Returns
    -------
    genotutor.training.PlantedModel

    Taught in chapter 4.
    """
    task = add_confounder(
        planted_motif_task(n, length, seed=task_seed),
        confounder,
        rate_positive=rate_positive,
        rate_negative=rate_negative,
        seed=task_seed,
    )
    config = {
        "name": f"confounded-basset-{confounder}",
        "activation": "relu",
        "task": {
            "n": n,
            "length": length,
            "seed": task_seed,
            "confounder": confounder,
            "rates": [rate_positive, rate_negative],
        },
        "seed": seed,
        "fit": {"epochs": epochs, "loss": "bce"},
    }
    return _train_cached(config, task, loss="bce", epochs=epochs, progress=progress)
