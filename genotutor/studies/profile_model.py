"""Chapter 12's two-head model: a BPNet-style network trained on planted read profiles.

Sequences come from :func:`genotutor.simulate.planted_motif_task`; each planted driver
motif draws reads around its centre (a Gaussian footprint, stronger for CTCF than for the
others), on top of a flat background. A sequence's reads are a multinomial draw of a
Poisson total over that shape. :class:`genotutor.models.ProfileNet` learns the shape (its
profile head, a multinomial likelihood) and the total (its counts head, squared error on
``log(1 + total)``), as BPNet does. The planted motif positions are the ground truth its
attributions are scored against.

Taught in chapter 12, "Explaining a real model".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from genotutor.models import ProfileNet, bpnet_loss
from genotutor.simulate import PlantedTask, planted_motif_task
from genotutor.studies.settings import study_seed
from genotutor.training import train_cached
from genotutor.validation import check_positive_int

# reads per sequence drawn by one instance of each driver (and the flat background)
STRENGTHS = {"CTCF": 60.0, "CEBPB": 30.0, "SPI1": 30.0}
BACKGROUND = 10.0
FOOTPRINT = 4.0  # standard deviation of a motif's footprint, in nucleotides


@dataclass
class ProfileTask:
    """Sequences with planted motifs, their read profiles and the ground truth.

    Attributes
    ----------
    task : genotutor.simulate.PlantedTask
        The sequences ``x`` (N, 4, L), truth ``mask`` (N, L) and planted ``sites``.
    reads : torch.Tensor, shape (N, L)
        Read counts per position.
    expected : torch.Tensor, shape (N, L)
        The expected reads (the planted signal without sampling noise).

    Taught in chapter 12.
    """

    task: PlantedTask
    reads: torch.Tensor
    expected: torch.Tensor

    def labels(self) -> torch.Tensor:
        """``(N, L + 1)``: the read profile, then ``log(1 + total)``, as
        :func:`genotutor.models.bpnet_loss` reads them."""
        total = self.reads.sum(dim=1, keepdim=True)
        return torch.cat([self.reads, torch.log1p(total)], dim=1)


def profile_task(n: int = 2000, length: int = 200, *, seed: int = 0) -> ProfileTask:
    """Simulate sequences with planted motifs and the reads each motif draws.

    Parameters
    ----------
    n, length : int
        Number and length of sequences.
    seed : int
        (Base) seed of the sequences, the motifs and the reads, shifted by the re-draw of
        :mod:`genotutor.studies.settings`.

    Returns
    -------
    ProfileTask

    Taught in chapter 12.
    """
    seed = study_seed(seed)
    task = planted_motif_task(check_positive_int(n, "n"), length, seed=seed)
    positions = np.arange(length)
    expected = np.full((len(task), length), BACKGROUND / length)
    drivers = task.sites[task.sites["role"] == "driver"]
    for row in drivers.itertuples():
        centre = (row.start + row.end - 1) / 2
        bump = np.exp(-0.5 * ((positions - centre) / FOOTPRINT) ** 2)
        expected[row.sequence] += STRENGTHS[row.motif] * bump / bump.sum()
    rng = np.random.default_rng([seed, 7])
    totals = rng.poisson(expected.sum(axis=1))
    reads = np.stack(
        [rng.multinomial(t, p / p.sum()) for t, p in zip(totals, expected, strict=True)]
    )
    as_tensor = lambda a: torch.as_tensor(a, dtype=torch.float32)  # noqa: E731
    return ProfileTask(task, as_tensor(reads), as_tensor(expected))


@dataclass
class ProfileModel:
    """A trained :class:`genotutor.models.ProfileNet` with its task's splits.

    Attributes
    ----------
    model : torch.nn.Module
        Trained, in eval mode; returns ``(profile (N, 1, L), counts (N, 1))``.
    history : pandas.DataFrame
    train, valid, test : ProfileTask
    from_cache : bool

    Taught in chapter 12.
    """

    model: nn.Module
    history: pd.DataFrame
    train: ProfileTask
    valid: ProfileTask
    test: ProfileTask
    from_cache: bool


def _subset(data: ProfileTask, index: np.ndarray) -> ProfileTask:
    rows = torch.as_tensor(index)
    return ProfileTask(data.task.subset(index), data.reads[rows], data.expected[rows])


def profile_model(
    *,
    n: int = 2000,
    length: int = 200,
    task_seed: int = 0,
    seed: int = 0,
    counts_weight: float = 1.0,
    progress: bool = True,
    **fit_options: object,
) -> ProfileModel:
    """Simulate :func:`profile_task`, then train a ProfileNet on it or load it from the cache.

    Parameters
    ----------
    n, length, task_seed
        The task (split 80 / 10 / 10 with :func:`genotutor.simulate.split_indices`).
    seed : int
        Seeds the weights and training.
    counts_weight : float
        Weight of the counts head's loss (see :func:`genotutor.models.bpnet_loss`).
    progress : bool
    **fit_options
        Passed to :func:`genotutor.training.fit` (here ``epochs=20, lr=3e-3, patience=3``
        unless given).

    Returns
    -------
    ProfileModel

    Taught in chapter 12.
    """
    from genotutor.simulate import split_indices

    data = profile_task(n, length, seed=task_seed)
    task_seed = study_seed(task_seed)
    parts = [
        _subset(data, index) for index in split_indices(n, valid=0.1, test=0.1, seed=task_seed)
    ]
    train, valid, test = parts
    config = {
        "name": "profile-net",
        "task": {"n": n, "length": length, "seed": task_seed},
        "loss": {"bpnet": counts_weight},
    }
    mean_log_total = float(train.labels()[:, -1].mean())

    def build() -> nn.Module:
        model = ProfileNet()
        with torch.no_grad():  # start the counts head at the mean, as one would a regression
            model.counts.bias.fill_(mean_log_total)
        return model

    trained = train_cached(
        config,
        build,
        (train.task.x, train.labels()),
        (valid.task.x, valid.labels()),
        seed=study_seed(seed),
        progress=progress,
        loss=bpnet_loss(counts_weight),
        **({"epochs": 20, "lr": 3e-3, "patience": 3} | fit_options),
    )
    return ProfileModel(trained.model, trained.history, train, valid, test, trained.from_cache)
