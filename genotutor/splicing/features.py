"""Sequence features that splicing models can lean on: count them, add them, remove them.

Three kinds of feature: CpG dinucleotides, in-frame stop codons (TAA, TAG, TGA whose first
base sits at a codon start) and any fixed motif. The edits are chosen so that one feature
moves while the others stay put: adding a CpG never creates or destroys a stop codon or
another CpG, adding a stop codon never touches a CpG, removing CpGs (``CG -> CA``) never
creates a stop codon, and removing stop codons (``TAA/TAG -> TAT``, ``TGA -> TGG``) never
creates a CpG. These are the edits of the confounder probes
(:func:`genotutor.distillation.confounder_effect`) and of the reference-like simulator.

Taught in chapter 9, "Distilling a splicing model".
"""

from __future__ import annotations

import numpy as np
import torch

from genotutor.sequences import ALPHABET
from genotutor.validation import check_choice, check_one_hot, check_positive_int, check_region

FEATURES = ("cpg", "stop", "motif")
ACTIONS = ("add", "remove")
STOP_CODONS = ("TAA", "TAG", "TGA")
_STOP_CODES = np.array([[ALPHABET.index(b) for b in codon] for codon in STOP_CODONS])
_A, _C, _G, _T = range(4)


def to_codes(x: torch.Tensor, name: str = "x") -> np.ndarray:
    """``(N, 4, L)`` one-hot sequences (no N columns) -> ``(N, L)`` integer codes 0..3."""
    if isinstance(x, torch.Tensor) and x.ndim == 2:
        x = x[None]
    x = check_one_hot(x, name)
    if bool((x.sum(dim=1) == 0).any()):
        raise ValueError(f"{name} has all-zero (N) columns; expected only A, C, G, T")
    return x.argmax(dim=1).numpy().astype(np.int64)


def from_codes(codes: np.ndarray) -> torch.Tensor:
    """``(N, L)`` integer codes -> ``(N, 4, L)`` float32 one-hot."""
    out = np.zeros((codes.shape[0], 4, codes.shape[1]), dtype=np.float32)
    rows, cols = np.indices(codes.shape)
    out[rows, codes, cols] = 1.0
    return torch.from_numpy(out)


def motif_codes(motif: str, name: str = "motif") -> np.ndarray:
    """A DNA string (RNA ``U`` accepted) as ``(k,)`` integer codes, with a clear error."""
    if not isinstance(motif, str) or not motif:
        raise ValueError(f"{name} must be a non-empty string of A, C, G, T; found {motif!r}")
    letters = motif.upper().replace("U", "T")
    bad = sorted(set(letters) - set(ALPHABET))
    if bad:
        raise ValueError(f"{name} must contain only A, C, G, T; found {bad} in {motif!r}")
    return np.array([ALPHABET.index(b) for b in letters], dtype=np.int64)


# --------------------------------------------------------------------------- finding
def _matches(codes: np.ndarray, pattern: np.ndarray) -> np.ndarray:
    """``(N, L)`` bool: True where ``pattern`` starts (and fits)."""
    n, length = codes.shape
    k = len(pattern)
    hits = np.zeros((n, length), dtype=bool)
    if k > length:
        return hits
    window = np.ones((n, length - k + 1), dtype=bool)
    for offset, base in enumerate(pattern):
        window &= codes[:, offset : offset + length - k + 1] == base
    hits[:, : length - k + 1] = window
    return hits


def _in_region(hits: np.ndarray, width: int, start: int, stop: int) -> np.ndarray:
    keep = np.zeros(hits.shape[1], dtype=bool)
    keep[start : max(start, stop - width + 1)] = True
    return hits & keep


def _stop_hits(codes: np.ndarray, frame: int) -> np.ndarray:
    hits = np.zeros(codes.shape, dtype=bool)
    for codon in _STOP_CODES:
        hits |= _matches(codes, codon)
    in_frame = (np.arange(codes.shape[1]) - frame) % 3 == 0
    return hits & in_frame


def feature_starts(
    codes: np.ndarray,
    feature: str,
    *,
    region: tuple[int, int],
    frame: int = 0,
    motif: str | None = None,
) -> np.ndarray:
    """``(N, L)`` bool: where each occurrence of ``feature`` starts, inside ``region``."""
    if feature == "cpg":
        return _in_region(_matches(codes, np.array([_C, _G])), 2, *region)
    if feature == "stop":
        return _in_region(_stop_hits(codes, frame), 3, *region)
    pattern = motif_codes(motif)
    return _in_region(_matches(codes, pattern), len(pattern), *region)


def _feature_width(feature: str, motif: str | None) -> int:
    return {"cpg": 2, "stop": 3}.get(feature) or len(motif_codes(motif))


def _check_feature(feature: object, motif: object) -> None:
    check_choice(feature, "feature", FEATURES)
    if feature == "motif":
        motif_codes(motif)
    elif motif is not None:
        raise ValueError(f"motif is only used with feature='motif'; found feature={feature!r}")


def count_feature(
    x: torch.Tensor,
    feature: str = "cpg",
    *,
    region: tuple[int, int] | None = None,
    frame: int = 0,
    motif: str | None = None,
) -> torch.Tensor:
    """Count a feature in each sequence.

    Parameters
    ----------
    x : torch.Tensor, shape (N, 4, L)
        One-hot sequences.
    feature : {"cpg", "stop", "motif"}
        CpG dinucleotides, in-frame stop codons, or occurrences of ``motif``.
    region : (int, int), optional
        Count only occurrences lying wholly in ``[start, stop)``; default everywhere.
    frame : int
        A position where a codon starts (stop codons only): a stop codon at position i
        is in frame when ``(i - frame) % 3 == 0``.
    motif : str, optional
        The motif, for ``feature="motif"``.

    Returns
    -------
    torch.Tensor, shape (N,)

    Taught in chapter 9.
    """
    _check_feature(feature, motif)
    codes = to_codes(x)
    region = check_region(region, codes.shape[1])
    hits = feature_starts(codes, feature, region=region, frame=frame, motif=motif)
    return torch.from_numpy(hits.sum(axis=1).astype(np.float32))


# --------------------------------------------------------------------------- editing
def _any_near(mask: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """``(N, L)`` bool: is ``mask[n, i + lo : i + hi]`` (clipped) any True, for each i?"""
    n, length = mask.shape
    padded = np.zeros((n, length + 1), dtype=np.int64)
    np.cumsum(mask, axis=1, out=padded[:, 1:])
    starts = np.arange(length)
    first = np.clip(starts + lo, 0, length)
    last = np.clip(starts + hi, 0, length)
    return padded[:, last] - padded[:, first] > 0


def _add_candidates(codes: np.ndarray, feature, pattern, region, frame) -> np.ndarray:
    """``(N, L)`` bool: starts where writing the feature leaves every other feature as it was."""
    width = len(pattern) if pattern is not None else {"cpg": 2, "stop": 3}[feature]
    inside = _in_region(np.ones(codes.shape, dtype=bool), width, *region)
    if feature == "motif":
        return inside & ~_any_near(_matches(codes, pattern), -width + 1, width)
    cpg = _matches(codes, np.array([_C, _G]))
    stops = _stop_hits(codes, frame)
    if feature == "cpg":
        # keep neighbouring CpGs and stop codons intact; a C can be in no stop codon
        return inside & ~_any_near(cpg, -1, 3) & ~_any_near(stops, -2, 2)
    in_frame = (np.arange(codes.shape[1]) - frame) % 3 == 0
    return inside & in_frame & ~stops & ~_any_near(cpg, -1, 4)


def _add(codes, feature, pattern, region, frame, n_sites, rng) -> None:
    """Add ``n_sites`` occurrences to every row in place (fewer where no room is left)."""
    for _ in range(n_sites):
        candidates = _add_candidates(codes, feature, pattern, region, frame)
        keys = np.where(candidates, rng.random(codes.shape), -1.0)
        rows = np.flatnonzero(candidates.any(axis=1))
        cols = keys[rows].argmax(axis=1)
        if feature == "cpg":
            written = np.array([_C, _G])[None].repeat(len(rows), 0)
        elif feature == "stop":
            written = _STOP_CODES[rng.integers(len(_STOP_CODES), size=len(rows))]
        else:
            written = pattern[None].repeat(len(rows), 0)
        for offset in range(written.shape[1]):
            codes[rows, cols + offset] = written[:, offset]


def _remove(codes: np.ndarray, feature, pattern, region, frame) -> None:
    """Remove every occurrence in place (all sequences at once)."""
    if feature == "cpg":
        hits = feature_starts(codes, "cpg", region=region)
        rows, cols = np.nonzero(hits)
        codes[rows, cols + 1] = _A  # CG -> CA: a C can be in no stop codon, an A ends none
    elif feature == "stop":
        hits = feature_starts(codes, "stop", region=region, frame=frame)
        rows, cols = np.nonzero(hits)
        second = codes[rows, cols + 1]
        # TAA / TAG -> TAT (Tyr), TGA -> TGG (Trp): neither makes a CpG
        codes[rows, cols + 2] = np.where(second == _A, _T, _G)
    else:
        for _ in range(len(pattern) + 1):
            hits = _in_region(_matches(codes, pattern), len(pattern), *region)
            if not hits.any():
                return
            rows, cols = np.nonzero(hits)
            middle = cols + len(pattern) // 2
            codes[rows, middle] = (codes[rows, middle] + 2) % 4


def edit_feature(
    x: torch.Tensor,
    feature: str,
    action: str,
    *,
    n_sites: int = 1,
    region: tuple[int, int] | None = None,
    frame: int = 0,
    motif: str | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """Add or remove a feature, changing as little else as possible.

    Parameters
    ----------
    x, feature
        One-hot sequences ``(N, 4, L)`` and the feature, as for :func:`count_feature`.
    action : {"add", "remove"}
        ``"add"`` writes ``n_sites`` new occurrences at random admissible positions
        (fewer when no admissible position is left); ``"remove"`` breaks every occurrence
        in ``region``.
    n_sites : int
        Occurrences to add per sequence.
    region : (int, int), optional
        Edit only inside ``[start, stop)``; default everywhere.
    frame : int
        A codon start, for stop codons (see :func:`count_feature`).
    motif : str, optional
        The motif, for ``feature="motif"``.
    seed : int
        Seeds the choice of positions.

    Returns
    -------
    torch.Tensor, shape (N, 4, L)
        Edited copies.

    Taught in chapter 9.
    """
    _check_feature(feature, motif)
    check_choice(action, "action", ACTIONS)
    n_sites = check_positive_int(n_sites, "n_sites")
    seed = check_positive_int(seed, "seed", minimum=0)
    codes = to_codes(x).copy()
    region = check_region(region, codes.shape[1])
    edit_codes(
        codes,
        feature,
        action,
        n_sites=n_sites,
        region=region,
        frame=frame,
        motif=motif,
        rng=np.random.default_rng(seed),
    )
    return from_codes(codes)


def edit_codes(
    codes: np.ndarray,
    feature: str,
    action: str,
    *,
    n_sites: int,
    region: tuple[int, int],
    frame: int,
    motif: str | None,
    rng: np.random.Generator,
) -> None:
    """:func:`edit_feature` on ``(N, L)`` integer codes, in place, without validation."""
    pattern = motif_codes(motif) if feature == "motif" else None
    if action == "remove":
        _remove(codes, feature, pattern, region, frame)
    else:
        _add(codes, feature, pattern, region, frame, n_sites, rng)
