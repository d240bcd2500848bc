"""The planted-task models the book trains and reuses: chapter 1's classifier, chapter 3's
cooperative regression model and chapter 5's confounded classifier.

Each is simulated, trained and cached with :func:`genotutor.training.train_cached` (same
arguments, same model, trained once), so later chapters reuse the weights of earlier ones.

Taught in chapter 1 (:func:`planted_task_model`), chapter 3 (the cooperative task) and
chapter 5 (the confounded task).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from torch import nn

from genotutor.models import Basset, DeepBind
from genotutor.simulate import PlantedTask, add_confounder, cooperative_task, planted_motif_task
from genotutor.studies.settings import study_seed
from genotutor.training import train_cached
from genotutor.validation import check_choice


@dataclass
class PlantedModel:
    """A model trained on a planted-motif task, with the task's splits.

    Attributes
    ----------
    model : torch.nn.Module
        Trained, in eval mode.
    history : pandas.DataFrame
        Training history (one row per epoch).
    train, valid, test : genotutor.simulate.PlantedTask
        The splits the model was trained, early-stopped and can be tested on.
    config : dict
        The cache configuration that identifies this model.
    from_cache : bool
        Whether the weights were loaded rather than trained now.
    """

    model: nn.Module
    history: pd.DataFrame
    train: object
    valid: object
    test: object
    config: dict
    from_cache: bool


def planted_task_model(
    *,
    architecture: str = "basset",
    activation: str = "relu",
    n: int = 12000,
    length: int = 200,
    task_seed: int = 0,
    seed: int = 0,
    task_options: dict | None = None,
    progress: bool = True,
    **fit_options: object,
) -> PlantedModel:
    """Simulate a planted-motif task, then train a CNN on it or load it from the cache.

    This is the book's workhorse: chapter 1 trains it, later chapters reuse it through the
    cache (same arguments, same model, trained once).

    Parameters
    ----------
    architecture : {"basset", "deepbind"}
        Which CNN of :mod:`genotutor.models`.
    activation : {"relu", "exp"}
        First-layer activation.
    n, length, task_seed : int
        Size, sequence length and (base) seed of :func:`genotutor.simulate.planted_motif_task`.
    seed : int
        (Base) seed of the initial weights and of training. Both seeds are shifted by the
        re-draw of :mod:`genotutor.studies.settings`.
    task_options : dict, optional
        Further keyword arguments of ``planted_motif_task`` (e.g. ``drivers``).
    progress : bool
        Progress bar while training.
    **fit_options
        Passed to :func:`genotutor.training.fit` (here ``epochs=30, lr=1e-3,
        patience=4`` unless given).

    Returns
    -------
    PlantedModel

    Taught in chapter 1.
    """
    check_choice(architecture, "architecture", ("basset", "deepbind"))
    options = dict(task_options or {})
    task_seed = study_seed(task_seed)
    task = planted_motif_task(n, length, seed=task_seed, **options)
    config = {
        "name": f"planted-{architecture}-{activation}",
        "architecture": architecture,
        "activation": activation,
        "task": {"n": n, "length": length, "seed": task_seed, **options},
    }

    def build() -> nn.Module:
        if architecture == "basset":
            return Basset(length, activation=activation)
        return DeepBind(activation=activation)

    fit_options = {"epochs": 30, "lr": 1e-3, "patience": 4} | fit_options
    return _train_planted(config, task, build, seed=seed, progress=progress, **fit_options)


def _train_planted(
    config: dict,
    task: PlantedTask,
    build: Callable[[], nn.Module],
    *,
    seed: int,
    progress: bool,
    **fit_options: object,
) -> PlantedModel:
    """Split ``task`` with its own seed, then train (or load) ``build()`` on it.

    ``config["task"]["seed"]`` is the task's seed as drawn (:func:`study_seed` applied);
    ``seed`` is a base seed, shifted here.
    """
    seed = study_seed(seed)
    train_split, valid_split, test_split = task.split(seed=config["task"]["seed"])
    trained = train_cached(
        config,
        build,
        (train_split.x, train_split.y),
        (valid_split.x, valid_split.y),
        seed=seed,
        progress=progress,
        **fit_options,
    )
    return PlantedModel(
        trained.model,
        trained.history,
        train_split,
        valid_split,
        test_split,
        {**config, "seed": seed, "fit": fit_options},
        trained.from_cache,
    )


def cooperative_task_model(
    *,
    n: int = 6000,
    length: int = 150,
    spacing: int = 8,
    task_seed: int = 0,
    seed: int = 0,
    activation: str = "relu",
    progress: bool = True,
    **fit_options: object,
) -> PlantedModel:
    """A Basset-style regression CNN trained on :func:`genotutor.simulate.cooperative_task`.

    Parameters
    ----------
    n, length, spacing, task_seed : int
        Passed to ``cooperative_task`` (its other settings are the defaults).
    seed : int
        Seed of the weights and of training.
    activation : {"relu", "exp"}
        First-layer activation.
    progress : bool
    **fit_options
        Passed to :func:`genotutor.training.fit` (here ``epochs=30, patience=4`` and the
        mean squared error unless given).

    Returns
    -------
    PlantedModel

    Taught in chapter 3.
    """
    task_seed = study_seed(task_seed)
    task = cooperative_task(n, length, spacing=spacing, seed=task_seed)
    config = {
        "name": f"cooperative-basset-{activation}",
        "activation": activation,
        "task": {"n": n, "length": length, "spacing": spacing, "seed": task_seed},
    }
    return _train_planted(
        config,
        task,
        lambda: Basset(length, activation=activation),
        seed=seed,
        progress=progress,
        **({"epochs": 30, "patience": 4, "loss": "mse"} | fit_options),
    )


def confounded_task_model(
    *,
    n: int = 4000,
    length: int = 200,
    confounder: str = "NRF1",
    rate_positive: float = 0.9,
    rate_negative: float = 0.1,
    task_seed: int = 0,
    seed: int = 0,
    progress: bool = True,
    **fit_options: object,
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
    seed, progress
        As for :func:`cooperative_task_model`.
    **fit_options
        Passed to :func:`genotutor.training.fit` (here ``epochs=30, patience=4`` and the
        binary cross-entropy unless given).

    Returns
    -------
    PlantedModel

    Taught in chapter 5.
    """
    task_seed = study_seed(task_seed)
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
    }
    return _train_planted(
        config,
        task,
        lambda: Basset(length),
        seed=seed,
        progress=progress,
        **({"epochs": 30, "patience": 4, "loss": "bce"} | fit_options),
    )
