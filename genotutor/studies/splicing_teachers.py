"""Teacher models: what a splicing model learns from the reference genome.

Two teachers, each trained once and cached:

- :func:`splicing_teacher`, a CNN trained on simulated exons (reference-like by default,
  where CpG dinucleotides and stop codons are correlated with inclusion; or random
  exons in the reporter, or reference-like exons with the correlation broken);
- :func:`genome_splice_model`, a small network trained to tell the human 5' splice sites
  that logomaker ships (hg38, GENCODE, weighted by genome count) from decoys.

Taught in chapter 9, "Distilling a splicing model".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from genotutor.models import Basset
from genotutor.sequences import ALPHABET, check_choice, check_positive_int
from genotutor.simulate import split_indices
from genotutor.splicing.code import Layout, _genome_codes, _genome_table
from genotutor.splicing.features import from_codes
from genotutor.splicing.simulator import KINDS, SplicingSet, simulate_splicing
from genotutor.training import train_cached


# --------------------------------------------------------------------------- synthetic teacher
def splicing_cnn(length: int) -> nn.Module:
    """The synthetic study's teacher architecture: a small Basset-style CNN (two
    convolution blocks), one output.

    Input ``(N, 4, length)``, output ``(N, 1)`` logit PSI. Taught in chapter 9.
    """
    return Basset(length, filters=(32, 32), widths=(9, 5), pools=(3, 3), hidden=32, dropout=0.1)


@dataclass
class Teacher:
    """A teacher trained on simulated exons, with its data splits.

    Attributes
    ----------
    model : torch.nn.Module
        Trained, in eval mode; ``(N, 4, L)`` -> ``(N, 1)`` logit PSI.
    history : pandas.DataFrame
    train, valid, test : genotutor.splicing.SplicingSet
    config : dict
    from_cache : bool

    Taught in chapter 9.
    """

    model: nn.Module
    history: pd.DataFrame
    train: SplicingSet
    valid: SplicingSet
    test: SplicingSet
    config: dict
    from_cache: bool


def splicing_teacher(
    *,
    kind: str = "reference",
    n: int = 3000,
    confounding: float = 0.9,
    data_seed: int = 0,
    seed: int = 0,
    progress: bool = True,
    **fit_options: object,
) -> Teacher:
    """Simulate exons, train the teacher CNN on their labels, or load it from the cache.

    Parameters
    ----------
    kind : {"reference", "random"}
        Train on reference-like exons (labels include the hidden genomic context) or on
        random exons in the reporter (labels are the truth plus noise).
    n : int
        Sequences simulated (split 70 / 10 / 20).
    confounding : float
        Passed to :func:`genotutor.splicing.simulate_splicing`; 0 breaks the link between
        CpG / stop codons and the context.
    data_seed, seed : int
        Seeds of the simulated data and of the weights and training.
    progress : bool
    **fit_options
        Passed to :func:`genotutor.training.fit` (here ``epochs=15, lr=2e-3,
        patience=4`` and the mean squared error on the label unless given).

    Returns
    -------
    Teacher

    Taught in chapter 9.
    """
    check_choice(kind, "kind", KINDS)
    n = check_positive_int(n, "n", minimum=50)
    data = simulate_splicing(n, kind=kind, confounding=confounding, seed=data_seed)
    train, valid, test = data.split(seed=data_seed)
    config = {
        "name": f"splicing-teacher-{kind}",
        "data": {"kind": kind, "n": n, "confounding": confounding, "seed": data_seed},
    }
    trained = train_cached(
        config,
        lambda: splicing_cnn(Layout().length),
        (train.x, train.label),
        (valid.x, valid.label),
        seed=seed,
        progress=progress,
        **({"epochs": 15, "lr": 2e-3, "patience": 4, "loss": "mse"} | fit_options),
    )
    return Teacher(trained.model, trained.history, train, valid, test, config, trained.from_cache)


# --------------------------------------------------------------------------- genome teacher
class SpliceSiteNet(nn.Module):
    """A small dense network over a 9-nt 5' splice site: ``(N, 4, 9)`` -> ``(N, 1)`` logit.

    Two hidden ReLU layers, so it can learn interactions between positions.

    Taught in chapter 9.
    """

    def __init__(self, length: int = 9, hidden: int = 64) -> None:
        super().__init__()
        self.length = check_positive_int(length, "length")
        self.flatten = nn.Flatten()
        self.dense1 = nn.Linear(4 * length, hidden)
        self.relu1 = nn.ReLU()
        self.dense2 = nn.Linear(hidden, hidden // 2)
        self.relu2 = nn.ReLU()
        self.output = nn.Linear(hidden // 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.length:
            raise ValueError(f"x must have length {self.length}; found shape {tuple(x.shape)}")
        return self.output(self.relu2(self.dense2(self.relu1(self.dense1(self.flatten(x))))))


def genome_decoys(n: int, *, seed: int = 0) -> torch.Tensor:
    """Decoy 5' splice sites: uniform random 9-mers of the genome sites' form NNNGYNNNN.

    Position +1 is G; position +2 is T or C, C as often as among the genome's sites (so
    that +2 alone tells a decoy from a site no better than chance); the rest uniform.

    Returns
    -------
    torch.Tensor, shape (n, 4, 9)

    Taught in chapter 9.
    """
    n = check_positive_int(n, "n")
    rng = np.random.default_rng(seed)
    sites = _genome_codes()
    weight = _genome_table()["count"].to_numpy()
    c_share = float(weight[sites[:, 4] == ALPHABET.index("C")].sum() / weight.sum())
    codes = rng.integers(0, 4, (n, 9))
    codes[:, 3] = ALPHABET.index("G")
    codes[:, 4] = np.where(rng.random(n) < c_share, ALPHABET.index("C"), ALPHABET.index("T"))
    return from_codes(codes)


def _genome_split(n_sites: int, seed: int, valid: float = 0.1) -> tuple:
    """Sites drawn by genome count, from disjoint train / validation parts of the list."""
    sites = _genome_codes()
    weight = _genome_table()["count"].to_numpy().astype(float)
    train_index, valid_index, _ = split_indices(len(sites), valid=valid, test=0.0, seed=seed)
    rng = np.random.default_rng([seed, 1])  # the draws, independent of the split
    parts = []
    for index, share in ((train_index, 1 - valid), (valid_index, valid)):
        p = weight[index] / weight[index].sum()
        drawn = rng.choice(index, size=max(1, int(round(share * n_sites))), p=p)
        parts.append(from_codes(sites[drawn]))
    return parts


@dataclass
class GenomeTeacher:
    """The model trained on genome 5' splice sites against decoys.

    Attributes
    ----------
    model : SpliceSiteNet
        ``(N, 4, 9)`` -> ``(N, 1)`` logit of "a real 5' splice site".
    history : pandas.DataFrame
    valid : tuple of torch.Tensor
        ``(x, y)``: held-out genome sites (y = 1) and decoys (y = 0).
    config : dict
    from_cache : bool

    Taught in chapter 9.
    """

    model: nn.Module
    history: pd.DataFrame
    valid: tuple[torch.Tensor, torch.Tensor]
    config: dict
    from_cache: bool


def genome_splice_model(
    *,
    n_sites: int = 20000,
    seed: int = 0,
    data_seed: int = 0,
    progress: bool = True,
    **fit_options: object,
) -> GenomeTeacher:
    """Train :class:`SpliceSiteNet` on genome 5' splice sites vs decoys, or load it.

    Sites are drawn by their genome count from logomaker's list (so common sites weigh
    more), after splitting the list of distinct sites 90 / 10 into training and
    validation; as many decoys (:func:`genome_decoys`) are added to each part.

    Parameters
    ----------
    n_sites : int
        Genome sites drawn (plus as many decoys).
    seed, data_seed : int
        Seeds of the weights and training, and of the data.
    progress : bool
    **fit_options
        Passed to :func:`genotutor.training.fit` (here ``epochs=20, lr=2e-3,
        patience=3, batch_size=256`` and the binary cross-entropy unless given).

    Returns
    -------
    GenomeTeacher

    Taught in chapter 9.
    """
    n_sites = check_positive_int(n_sites, "n_sites", minimum=20)
    sites_train, sites_valid = _genome_split(n_sites, data_seed)
    decoys = genome_decoys(len(sites_train) + len(sites_valid), seed=data_seed + 1)

    def labelled(sites: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.cat([torch.ones(len(sites)), torch.zeros(len(fake))])[:, None]
        return torch.cat([sites, fake]), y

    train = labelled(sites_train, decoys[: len(sites_train)])
    valid = labelled(sites_valid, decoys[len(sites_train) :])
    config = {"name": "genome-5ss-model", "data": {"n_sites": n_sites, "seed": data_seed}}
    trained = train_cached(
        config,
        SpliceSiteNet,
        train,
        valid,
        seed=seed,
        progress=progress,
        **(
            {"epochs": 20, "lr": 2e-3, "patience": 3, "loss": "bce", "batch_size": 256}
            | fit_options
        ),
    )
    return GenomeTeacher(trained.model, trained.history, valid, config, trained.from_cache)
