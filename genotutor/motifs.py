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
from genotutor.sequences import ALPHABET, check_choice, check_positive_int, check_tensor
from genotutor.validation import check_number


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
    """Normalise a ``(4, w)`` count matrix to probabilities, with a pseudocount per cell.

    Raises ``ValueError`` if ``pseudocount`` is negative or not a number. Taught in chapter 3.
    """
    pseudocount = check_number(pseudocount, "pseudocount", minimum=0)
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
    return dict(_jaspar_motifs())


@lru_cache(maxsize=1)
def _jaspar_motifs() -> dict[str, Motif]:
    motifs = {}
    for (matrix_id, name), rows in _jaspar_table().groupby(["matrix_id", "name"], sort=False):
        counts = rows.sort_values("position")[list(ALPHABET)].to_numpy().T
        probs = counts_to_probs(counts)
        probs.flags.writeable = False  # shared between calls: read-only
        motifs[name] = Motif(name=name, matrix_id=matrix_id, probs=probs)
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


# --------------------------------------------------------------------------- similarity
SIMILARITY_METRICS = ("pearson", "euclidean")


@dataclass(frozen=True)
class Alignment:
    """The best alignment of one motif against another, as :func:`motif_similarity` finds it.

    Attributes
    ----------
    score : float
        Similarity, at most 1 (1: the shorter motif matches part of the longer exactly).
    offset : int
        Position in ``target`` of the first column of ``query`` (negative when ``query``
        overhangs the start of ``target``).
    strand : str
        ``"+"`` if ``query`` matches as given, ``"-"`` if its reverse complement matches.
    overlap : int
        Number of aligned columns.
    """

    score: float
    offset: int
    strand: str
    overlap: int


def _column_scores(query: np.ndarray, target: np.ndarray, metric: str) -> np.ndarray:
    """Similarity of every query column with every target column, shape (wq, wt)."""
    if metric == "euclidean":
        distance = np.sqrt(((query.T[:, None, :] - target.T[None, :, :]) ** 2).sum(-1))
        return 1.0 - distance / np.sqrt(2.0)
    q = query - query.mean(axis=0, keepdims=True)
    t = target - target.mean(axis=0, keepdims=True)
    norms = np.sqrt((q**2).sum(0))[:, None] * np.sqrt((t**2).sum(0))[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = (q.T @ t) / norms
    return np.nan_to_num(scores, nan=0.0)  # a flat column correlates with nothing


def _check_matrix(matrix: object, name: str) -> np.ndarray:
    array = np.asarray(matrix.probs if isinstance(matrix, Motif) else matrix, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] != 4 or array.shape[1] == 0:
        raise ValueError(f"{name} must be a Motif or a (4, w) matrix; found shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def motif_similarity(
    query: Motif | np.ndarray,
    target: Motif | np.ndarray,
    *,
    metric: str = "pearson",
    min_overlap: int = 5,
) -> Alignment:
    """Tomtom-style similarity of two motifs: the best offset and strand.

    ``query`` is slid along ``target`` (and so is its reverse complement). At each offset
    with at least ``min_overlap`` aligned columns, the column similarities (Pearson
    correlation of the two columns, or ``1 - distance / sqrt(2)`` for the Euclidean
    distance of two probability columns) are summed over the aligned columns and divided
    by the width of the shorter motif (at least ``min_overlap``), so neither a short
    overlap nor a very short motif can score as well as a full match.

    Parameters
    ----------
    query, target : Motif or np.ndarray, shape (4, w)
        Probability matrices, A, C, G, T.
    metric : {"pearson", "euclidean"}
    min_overlap : int
        Fewest aligned columns considered (capped at the shorter width).

    Returns
    -------
    Alignment

    Taught in chapter 3.
    """
    check_choice(metric, "metric", SIMILARITY_METRICS)
    q = _check_matrix(query, "query")
    t = _check_matrix(target, "target")
    min_overlap = check_positive_int(min_overlap, "min_overlap")
    shorter = max(min(q.shape[1], t.shape[1]), min_overlap)
    min_overlap = min(min_overlap, q.shape[1], t.shape[1])
    best = Alignment(-np.inf, 0, "+", 0)
    for strand, matrix in (("+", q), ("-", q[::-1, ::-1])):
        columns = _column_scores(matrix, t, metric)  # (wq, wt)
        wq, wt = columns.shape
        for offset in range(min_overlap - wq, wt - min_overlap + 1):
            lo, hi = max(0, offset), min(wt, offset + wq)
            diagonal = columns[np.arange(lo, hi) - offset, np.arange(lo, hi)]
            score = float(diagonal.sum() / shorter)
            if score > best.score:
                best = Alignment(score, offset, strand, hi - lo)
    return best


def trim_motif(probs: np.ndarray, *, min_information: float = 0.3) -> np.ndarray:
    """Drop the uninformative flanks of a ``(4, w)`` probability matrix.

    Columns are removed from both ends while their information content is below
    ``min_information`` bits; a matrix with no informative column is returned whole.
    Taught in chapter 3 (filter PWMs have wide, flat flanks).
    """
    probs = _check_matrix(probs, "probs")
    informative = np.flatnonzero(information_content(probs) >= min_information)
    if len(informative) == 0:
        return probs
    return probs[:, informative[0] : informative[-1] + 1]


def best_matches(
    queries: dict[str, np.ndarray] | list[np.ndarray] | np.ndarray,
    *,
    database: dict[str, Motif] | None = None,
    metric: str = "pearson",
    min_overlap: int = 5,
) -> pd.DataFrame:
    """Match each query matrix against a motif database and report the best match.

    Parameters
    ----------
    queries : dict of name to (4, w) array, list of arrays, or np.ndarray, shape (F, 4, w)
        Probability matrices (e.g. filter PWMs from
        :func:`genotutor.interpret.filters_to_pwms`).
    database : dict of str to Motif, optional
        The motifs to search; the shipped JASPAR table by default.
    metric, min_overlap
        See :func:`motif_similarity`.

    Returns
    -------
    pandas.DataFrame
        One row per query (index: its name, or its number), columns ``match``, ``score``,
        ``offset``, ``strand``, ``runner_up`` and ``runner_up_score`` (the best other
        motif, a measure of how clear-cut the match is).

    Taught in chapter 3.
    """
    if isinstance(queries, dict):
        named = list(queries.items())
    else:
        named = list(enumerate(queries))
    if not named:
        raise ValueError("queries is empty; expected at least one (4, w) matrix")
    database = jaspar_motifs() if database is None else database
    if len(database) < 2:
        raise ValueError(f"database must hold at least two motifs; found {len(database)}")
    rows = []
    for name, matrix in named:
        scored = sorted(
            (
                (motif_similarity(matrix, motif, metric=metric, min_overlap=min_overlap), key)
                for key, motif in database.items()
            ),
            key=lambda pair: -pair[0].score,
        )
        (best, key), (second, second_key) = scored[0], scored[1]
        rows.append(
            {
                "query": name,
                "match": key,
                "score": best.score,
                "offset": best.offset,
                "strand": best.strand,
                "runner_up": second_key,
                "runner_up_score": second.score,
            }
        )
    return pd.DataFrame(rows).set_index("query")


# The field's workflow (TOMTOM, FIMO, spacing) lives in its own module, which does not import
# this one (no import cycle); re-exported here so that motifs are found in one place.
from genotutor.motif_search import (  # noqa: E402, F401  (re-exported)
    find_instances,
    instance_spacing,
    jaspar_vertebrates,
    match_motifs,
    trim_by_contribution,
)
