"""Position frequency and weight matrices: the shipped JASPAR table, information content,
and sampling motif instances.

Matrices are ``(4, w)`` arrays in the order A, C, G, T, like the sequences.
Taught in chapter 1 (planting motifs) and chapter 3 (filters as motifs).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import torch

from genotutor.datasets import data_path
from genotutor.sequences import ALPHABET, check_tensor


@dataclass(frozen=True)
class Motif:
    """A named position probability matrix.

    Attributes
    ----------
    name : str
        Transcription-factor name, upper case (``"CTCF"``).
    matrix_id : str
        JASPAR identifier with version (``"MA0139.2"``).
    probs : np.ndarray, shape (4, w)
        Column-normalised probabilities, A, C, G, T.
    """

    name: str
    matrix_id: str
    probs: np.ndarray

    @property
    def width(self) -> int:
        """Number of positions."""
        return int(self.probs.shape[1])

    @property
    def consensus(self) -> str:
        """Most probable letter at each position."""
        return "".join(ALPHABET[i] for i in self.probs.argmax(axis=0))

    def information_content(self) -> np.ndarray:
        """Bits per position, shape (w,); see :func:`information_content`."""
        return information_content(self.probs)


def counts_to_probs(counts: np.ndarray, *, pseudocount: float = 0.5) -> np.ndarray:
    """Normalise a ``(4, w)`` count matrix to probabilities, with a pseudocount per cell."""
    counts = np.asarray(counts, dtype=np.float64) + pseudocount
    return counts / counts.sum(axis=0, keepdims=True)


def information_content(probs: np.ndarray, *, background: float = 0.25) -> np.ndarray:
    """Information content (bits) of each column of a ``(4, w)`` probability matrix.

    ``IC_i = sum_b p_bi log2(p_bi / q_b)`` with a uniform background ``q``.
    Taught in chapter 1 and chapter 3.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[0] != 4:
        raise ValueError(f"probs must have shape (4, w); found {probs.shape}")
    safe = np.clip(probs, 1e-12, None)
    return (probs * np.log2(safe / background)).sum(axis=0)


@lru_cache(maxsize=1)
def _jaspar_table() -> pd.DataFrame:
    return pd.read_csv(data_path("jaspar_subset.tsv"), sep="\t")


def jaspar_motifs() -> dict[str, Motif]:
    """The JASPAR 2024 CORE matrices shipped in ``data/jaspar_subset.tsv``, by name.

    Returns
    -------
    dict of str to Motif
        For example ``jaspar_motifs()["CTCF"]``.

    Taught in chapter 1.
    """
    motifs = {}
    for (matrix_id, name), rows in _jaspar_table().groupby(["matrix_id", "name"], sort=False):
        counts = rows.sort_values("position")[list(ALPHABET)].to_numpy().T
        motifs[name] = Motif(name=name, matrix_id=matrix_id, probs=counts_to_probs(counts))
    return motifs


def get_motif(name: str) -> Motif:
    """One shipped JASPAR motif by name, with a clear error listing the names on offer."""
    motifs = jaspar_motifs()
    if name not in motifs:
        raise ValueError(f"motif must be one of {sorted(motifs)}; found {name!r}")
    return motifs[name]


def sample_instances(motif: Motif, n: int, *, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` instances of ``motif`` column by column, as ``(n, w)`` codes 0..3.

    Taught in chapter 1.
    """
    cumulative = np.cumsum(motif.probs, axis=0)  # (4, w)
    draws = rng.random((n, 1, motif.width))
    return (draws > cumulative[None]).sum(axis=1).clip(0, 3)


def best_match_score(x: torch.Tensor, motif: Motif, *, background: float = 0.25) -> torch.Tensor:
    """Best log-odds match of ``motif`` in each sequence, over positions and both strands.

    Parameters
    ----------
    x : torch.Tensor, shape (N, 4, L)
    motif : Motif

    Returns
    -------
    torch.Tensor, shape (N,)
        ``max_i sum_j log(p_j(x_{i+j}) / background)`` over both strands.

    Taught in chapter 1 (the best a motif scanner can do on the planted task).
    """
    x = check_tensor(x, "x")
    if x.shape[-1] < motif.width:
        raise ValueError(f"x has length {x.shape[-1]}, shorter than {motif.name} ({motif.width})")
    pwm = torch.tensor(np.log(motif.probs / background), dtype=x.dtype)
    both_strands = torch.stack([pwm, pwm.flip(0, 1)])
    return torch.nn.functional.conv1d(x, both_strands).amax(dim=(1, 2))
