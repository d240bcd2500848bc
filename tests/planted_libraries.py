"""A mutagenesis library labelled through a planted additive model: the oracle that the
surrogate tests (tests/test_surrogate.py, tests/test_surrogate_noise.py) fit against."""

from __future__ import annotations

import numpy as np
import torch

from genotutor.sequences import random_sequences
from genotutor.surrogate import mutagenesis_library


def planted_phi(n: int, length: int, *, seed: int):
    """``(library, phi, theta, rng)``: ``n`` mutants of a random wild type, their standardised
    additive score ``phi`` under planted effects ``theta`` (L, 4), and the generator that
    drew ``theta`` (for the caller's noise)."""
    rng = np.random.default_rng(seed)
    wild = random_sequences(1, length, seed=seed)[0]
    library = mutagenesis_library(wild, n, mutation_rate=0.15, seed=seed)
    theta = rng.normal(size=(length, 4))
    phi = torch.einsum("ncl,lc->n", library.double(), torch.from_numpy(theta)).float()
    return library, (phi - phi.mean()) / phi.std(), theta, rng
