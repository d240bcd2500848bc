"""How consistent is one motif's map across loci? SQUID's benchmark, in small.

The same motif planted at several loci should get the same explanation at each, up to
noise; a method whose maps of the motif differ from locus to locus is explaining noise
(or the context). Taught in chapter 8.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch


def motif_maps(scores: torch.Tensor | np.ndarray, sites: pd.DataFrame) -> np.ndarray:
    """Cut each locus's motif out of its ``(4, L)`` map, on the motif's own strand.

    Parameters
    ----------
    scores : torch.Tensor, shape (K, 4, L)
        One map per locus, every base scored (ISM, hypothetical scores, surrogate
        parameters).
    sites : pandas.DataFrame
        K rows with ``start``, ``end`` (exclusive) and ``strand`` (``+`` or ``-``): where
        the motif is in each locus, in the map's coordinates.

    Returns
    -------
    np.ndarray, shape (K, 4, w)
        The motif windows; ``-`` strand windows reverse-complemented, so all read 5'-3'
        along the motif.

    Taught in chapter 8.
    """
    array = (
        scores.detach().cpu().numpy() if isinstance(scores, torch.Tensor) else np.asarray(scores)
    )
    if array.ndim != 3 or array.shape[1] != 4:
        raise ValueError(f"scores must have shape (K, 4, L); found {array.shape}")
    if len(sites) != len(array):
        raise ValueError(f"sites has {len(sites)} rows but scores has {len(array)} maps")
    widths = set((sites["end"] - sites["start"]).astype(int))
    if len(widths) != 1:
        raise ValueError(
            f"sites must all have one width (one motif); found widths {sorted(widths)}"
        )
    out = []
    for k, row in enumerate(sites.itertuples()):
        window = array[k, :, int(row.start) : int(row.end)]
        out.append(window[::-1, ::-1] if row.strand == "-" else window)
    return np.stack(out).astype(np.float64)


def map_consistency(maps: np.ndarray) -> float:
    """Mean pairwise cosine similarity of ``(K, 4, w)`` motif maps after centring each
    position over the four bases (which removes the per-position offset that ISM, gradients
    and gauges treat differently). 1 means the same map at every locus. Taught in chapter 8.
    """
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim != 3 or len(maps) < 2:
        raise ValueError(f"maps must have shape (K, 4, w) with K >= 2; found {maps.shape}")
    centred = maps - maps.mean(axis=1, keepdims=True)
    flat = centred.reshape(len(maps), -1)
    norms = np.linalg.norm(flat, axis=1)
    if (norms == 0).any():
        raise ValueError("a motif map is all zero after centring; its cosine is undefined")
    unit = flat / norms[:, None]
    similarity = unit @ unit.T
    upper = np.triu_indices(len(maps), k=1)
    return float(similarity[upper].mean())


def distances_from_mean(maps: np.ndarray, scales: np.ndarray | None = None) -> np.ndarray:
    """SQUID's per-locus error: how far each locus's motif map lies from the mean map.

    As in SQUID's analysis (squid-manuscript, ``examples/4_analyze_outputs.py``): each map is
    put in the hierarchical gauge (centred over the four bases at every position), divided
    by its locus's scale (SQUID standardises by the standard deviation of the locus's whole
    map; see :func:`map_scales`), and its Euclidean (Frobenius) distance from the mean of
    the K standardised maps is the locus's error. Smaller is more consistent; compare two
    methods' errors with a one-sided Mann-Whitney test, as SQUID does.

    Parameters
    ----------
    maps : np.ndarray, shape (K, 4, w)
        Motif maps (with flanks), one per locus, from :func:`motif_maps`.
    scales : np.ndarray, shape (K,), optional
        Each locus's standardising scale; ``None`` leaves the maps as they are.

    Returns
    -------
    np.ndarray, shape (K,)

    Taught in chapter 8.
    """
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim != 3 or maps.shape[1] != 4 or len(maps) < 2:
        raise ValueError(f"maps must have shape (K, 4, w) with K >= 2; found {maps.shape}")
    centred = maps - maps.mean(axis=1, keepdims=True)
    if scales is not None:
        scales = np.asarray(scales, dtype=np.float64)
        if scales.shape != (len(maps),) or not (np.isfinite(scales) & (scales > 0)).all():
            raise ValueError(
                f"scales must be {len(maps)} positive finite numbers; found {scales!r}"[:200]
            )
        centred = centred / scales[:, None, None]
    return np.linalg.norm(centred - centred.mean(axis=0), axis=(1, 2))


def map_scales(scores: torch.Tensor | np.ndarray, windows: list[tuple[int, int]]) -> np.ndarray:
    """The standard deviation of each locus's whole map over its window (hierarchical gauge),
    SQUID's standardising scale for :func:`distances_from_mean`.

    Parameters
    ----------
    scores : torch.Tensor, shape (K, 4, L)
    windows : list of (start, end)
        The window each locus was explained on.

    Returns
    -------
    np.ndarray, shape (K,)

    Taught in chapter 8.
    """
    array = (
        scores.detach().cpu().numpy() if isinstance(scores, torch.Tensor) else np.asarray(scores)
    )
    if array.ndim != 3 or array.shape[1] != 4 or len(windows) != len(array):
        raise ValueError(
            f"scores must have shape (K, 4, L) with one window per map; found {array.shape} "
            f"and {len(windows)} windows"
        )
    out = []
    for k, (start, end) in enumerate(windows):
        window = array[k, :, int(start) : int(end)].astype(np.float64)
        out.append((window - window.mean(axis=0)).std())
    return np.asarray(out)
