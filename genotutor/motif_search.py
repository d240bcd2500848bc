"""The field's motif workflow after attribution: TOMTOM matches against JASPAR, FIMO
instances, and the spacing of instances.

TOMTOM (Gupta et al. 2007) and FIMO (Grant et al. 2011) run through memelite (Schreiber's
numba implementation of the MEME suite's tools: ``pip install memelite``); the target
database is the whole JASPAR 2024 CORE vertebrate collection (879 matrices, the newest
version of each), shipped in ``data/jaspar2024_vertebrates.tsv.gz`` (CC BY 4.0, made from
pyjaspar's database by ``data/make_jaspar_table.py``). Re-exported by
:mod:`genotutor.motifs`. Taught in chapter 4 ("Motifs from a real experiment").
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import torch

from genotutor.datasets import checked_path
from genotutor.validation import check_choice, check_number, check_positive_int, describe

JASPAR_FILE = "jaspar2024_vertebrates.tsv.gz"
JASPAR_SHA256 = "951a6509720e3b86a8b5fa27291f215c8a7c08e1cae15e9d5c762246eaa859aa"
DATABASES = ("jaspar2024",)
MATCH_COLUMNS = ("query", "target_id", "target_name", "p_value", "q_value", "strand", "offset")
INSTANCE_COLUMNS = ("motif", "sequence", "start", "end", "strand", "score", "p_value")


@lru_cache(maxsize=1)
def _jaspar_vertebrates() -> tuple[tuple[str, str, np.ndarray], ...]:
    table = pd.read_csv(checked_path(JASPAR_FILE, JASPAR_SHA256), sep="\t")
    matrices = []
    for (matrix_id, name), rows in table.groupby(["matrix_id", "name"], sort=True):
        counts = rows.sort_values("position")[list("ACGT")].to_numpy(np.float64).T + 0.5
        probs = counts / counts.sum(axis=0, keepdims=True)
        probs.flags.writeable = False
        matrices.append((matrix_id, name, probs))
    return tuple(matrices)


def jaspar_vertebrates() -> pd.DataFrame:
    """The JASPAR 2024 CORE vertebrate matrices TOMTOM searches, as probabilities.

    Returns
    -------
    pandas.DataFrame
        One row per matrix: ``matrix_id`` (``"MA0142.1"``), ``name`` (``"Pou5f1::Sox2"``,
        JASPAR's own case) and ``probs`` (a read-only ``(4, w)`` array, counts plus 0.5
        per cell, normalised).

    Taught in chapter 4.
    """
    return pd.DataFrame(_jaspar_vertebrates(), columns=["matrix_id", "name", "probs"])


def _probability_matrix(matrix: object, name: str) -> np.ndarray:
    if isinstance(matrix, torch.Tensor):
        matrix = matrix.detach().cpu().numpy()
    if not isinstance(matrix, np.ndarray):
        raise TypeError(f"{name} must be a (4, w) array or a Pattern; found {describe(matrix)}")
    if matrix.ndim != 2 or matrix.shape[0] != 4 or matrix.shape[1] < 1:
        hint = (
            " (it looks like (w, 4): transpose it)"
            if matrix.ndim == 2 and matrix.shape[1] == 4
            else ""
        )
        raise ValueError(f"{name} must have shape (4, w); found {matrix.shape}{hint}")
    matrix = matrix.astype(np.float64)
    if not np.isfinite(matrix).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    if (matrix < 0).any() or not np.allclose(matrix.sum(axis=0), 1.0, atol=1e-3):
        raise ValueError(
            f"{name} must hold probabilities (non-negative, columns summing to 1); found "
            f"column sums {np.round(matrix.sum(axis=0), 3).tolist()[:6]}. Pass a Pattern "
            "(its PWM is used, trimmed by its CWM) or normalise counts first"
        )
    return matrix


def trim_by_contribution(pattern: object, *, threshold: float = 0.3) -> np.ndarray:
    """A pattern's PWM trimmed to the positions from the first to the last whose total
    absolute contribution (CWM) is at least ``threshold`` times the largest, as
    modisco-lite's report does before TOMTOM. Returns a ``(4, w')`` array."""
    threshold = check_number(threshold, "trim", minimum=0, maximum=1)
    score = np.abs(pattern.cwm).sum(axis=0)
    keep = np.flatnonzero(score >= threshold * score.max())
    return pattern.pwm[:, keep.min() : keep.max() + 1]


def _queries(queries: object, trim: float) -> dict[str, np.ndarray]:
    """Name -> (4, w) probabilities, from a Pattern, a list of them, an array or a dict."""
    if isinstance(queries, dict):
        items = list(queries.items())
    elif isinstance(queries, (list, tuple)):
        items = [(getattr(q, "name", f"query_{i}"), q) for i, q in enumerate(queries)]
    else:
        items = [(getattr(queries, "name", "query_0"), queries)]
    if not items:
        raise ValueError("queries is empty; expected at least one pattern or (4, w) matrix")
    out = {}
    for name, query in items:
        if hasattr(query, "cwm") and hasattr(query, "pwm"):
            query = trim_by_contribution(query, threshold=trim)
        out[str(name)] = _probability_matrix(query, f"queries[{name!r}]")
    return out


def _offset_corrected(
    p_values: np.ndarray, query_width: int, target_widths: np.ndarray
) -> np.ndarray:
    """The best alignment's p value corrected for the ``2 (w_q + w_t - 1)`` alignments tried
    (both strands, every overlap): ``1 - (1 - p)^n`` (Sidak). memelite reports the best
    alignment's p value uncorrected, which makes a random matrix match somewhere."""
    tried = 2 * (query_width + target_widths - 1)
    return -np.expm1(tried * np.log1p(-np.minimum(p_values, 1 - 1e-16)))


def _benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """q values of one query's p values over all targets (Benjamini-Hochberg, as TOMTOM)."""
    order = np.argsort(p_values)
    ranked = p_values[order] * len(p_values) / np.arange(1, len(p_values) + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty_like(q)
    out[order] = np.minimum(q, 1.0)
    return out


def match_motifs(
    queries: object,
    *,
    database: str = "jaspar2024",
    n_matches: int = 5,
    trim: float = 0.3,
) -> pd.DataFrame:
    """TOMTOM matches of motifs against JASPAR 2024 CORE vertebrates (memelite).

    Parameters
    ----------
    queries : Pattern, (4, w) array, list of them, or dict of name to either
        Patterns (from :func:`genotutor.interpret.discover_motifs`) are matched by their
        PWM trimmed where their CWM is at least ``trim`` of its largest column total;
        arrays must hold probabilities (columns summing to 1), A, C, G, T. memelite scores
        columns by Euclidean distance, under which near-uniform columns resemble the
        near-uniform flanks of many JASPAR matrices: trim uninformative ends first.
    database : {"jaspar2024"}
        The target collection (879 matrices).
    n_matches : int
        Rows kept per query, best p value first.
    trim : float
        The trimming threshold for patterns, in [0, 1].

    Returns
    -------
    pandas.DataFrame
        ``query, target_id, target_name, p_value, q_value, strand, offset``: the p value of
        the best alignment corrected for the number of alignments tried (memelite does not
        correct it: see :func:`_offset_corrected`), the q value by Benjamini-Hochberg over
        all targets of the query (as TOMTOM computes it), the
        strand of the target that matched (``"-"``: its reverse complement) and the offset
        of the alignment.

    Raises
    ------
    ModuleNotFoundError
        If memelite is not installed.

    Taught in chapter 4.
    """
    check_choice(database, "database", DATABASES)
    n_matches = check_positive_int(n_matches, "n_matches")
    query_matrices = _queries(queries, trim)
    try:
        from memelite import tomtom
    except ImportError:
        raise ModuleNotFoundError("match_motifs needs memelite: pip install memelite") from None
    targets = _jaspar_vertebrates()
    p, _, offsets, _, strands = tomtom(
        list(query_matrices.values()), [t[2] for t in targets], n_jobs=1
    )[:5]
    target_widths = np.array([t[2].shape[1] for t in targets])
    rows = []
    for i, (name, query) in enumerate(query_matrices.items()):
        p[i] = _offset_corrected(p[i], query.shape[1], target_widths)
        q = _benjamini_hochberg(p[i])
        for j in np.argsort(p[i], kind="stable")[:n_matches]:
            rows.append(
                (name, targets[j][0], targets[j][1], float(p[i, j]), float(q[j]),
                 "-" if strands[i, j] else "+", int(offsets[i, j]))
            )  # fmt: skip
    return pd.DataFrame(rows, columns=list(MATCH_COLUMNS))


def find_instances(
    motifs: dict,
    x: object,
    *,
    threshold: float = 1e-4,
) -> pd.DataFrame:
    """Motif instances in one-hot sequences: FIMO through memelite, both strands.

    Parameters
    ----------
    motifs : dict of str to (4, w) array or Pattern
        Probability matrices (a Pattern's PWM, trimmed by its CWM as in
        :func:`match_motifs`).
    x : torch.Tensor or np.ndarray, shape (N, 4, L)
        One-hot sequences.
    threshold : float
        FIMO's p-value threshold for a hit, in (0, 1).

    Returns
    -------
    pandas.DataFrame
        ``motif, sequence, start, end, strand, score, p_value``, one row per hit, sorted
        by sequence and start.

    Taught in chapter 4.
    """
    if not isinstance(motifs, dict):
        raise TypeError(f"motifs must be a dict of name to (4, w) matrix; found {describe(motifs)}")
    matrices = _queries(motifs, 0.3)
    threshold = check_number(threshold, "threshold", minimum=0, maximum=1, inclusive=(False, False))
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    if not isinstance(x, np.ndarray) or x.ndim != 3 or x.shape[1] != 4:
        raise ValueError(f"x must be one-hot of shape (N, 4, L); found {describe(x)}")
    try:
        from memelite import fimo
    except ImportError:
        raise ModuleNotFoundError("find_instances needs memelite: pip install memelite") from None
    hits = fimo(matrices, x.astype(np.float32), threshold=threshold)
    frames = [h for h in hits if len(h)]
    if not frames:
        return pd.DataFrame(columns=list(INSTANCE_COLUMNS))
    found = pd.concat(frames, ignore_index=True).rename(
        columns={"motif_name": "motif", "sequence_name": "sequence", "p-value": "p_value"}
    )
    found["sequence"] = found["sequence"].astype(np.int64)
    found = found[list(INSTANCE_COLUMNS)].sort_values(["sequence", "start"], kind="stable")
    return found.reset_index(drop=True)


def instance_spacing(instances: pd.DataFrame, first: str, second: str) -> pd.DataFrame:
    """Distances between instances of two motifs in the same sequence (syntax).

    Parameters
    ----------
    instances : pandas.DataFrame
        As returned by :func:`find_instances`.
    first, second : str
        Motif names in ``instances["motif"]``.

    Returns
    -------
    pandas.DataFrame
        One row per pair (an instance of ``first`` and one of ``second`` in the same
        sequence): ``sequence``, ``spacing`` (start of ``second`` minus start of
        ``first``), ``orientation`` (``"same"`` or ``"opposite"`` strands).

    Taught in chapter 4.
    """
    missing = {"motif", "sequence", "start", "strand"} - set(instances.columns)
    if missing:
        raise ValueError(f"instances lacks columns {sorted(missing)}; pass find_instances' table")
    names = set(instances["motif"])
    for name, value in (("first", first), ("second", second)):
        if value not in names:
            raise ValueError(
                f"{name} must be a motif of instances, one of {sorted(names)}; found {value!r}"
            )
    a = instances[instances["motif"] == first][["sequence", "start", "strand"]]
    b = instances[instances["motif"] == second][["sequence", "start", "strand"]]
    pairs = a.merge(b, on="sequence", suffixes=("_a", "_b"))
    if first == second:
        pairs = pairs[pairs["start_a"] != pairs["start_b"]]
    return pd.DataFrame(
        {
            "sequence": pairs["sequence"].to_numpy(),
            "spacing": (pairs["start_b"] - pairs["start_a"]).to_numpy(),
            "orientation": np.where(pairs["strand_a"] == pairs["strand_b"], "same", "opposite"),
        }
    )
