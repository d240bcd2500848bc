"""The real-data studies of chapter 4: a CNN on Oct4 and MafK ChIP-seq peaks with a
chromosome hold-out, and a CNN of the lac promoter Sort-Seq with its known sites.

Taught in chapter 4 ("Motifs from a real experiment").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from genotutor.cache import array_digest
from genotutor.datasets import PeakSet, lac_wild_type, load_sortseq, load_tf_peaks
from genotutor.evaluation import auroc
from genotutor.models import Basset
from genotutor.sequences import dinucleotide_shuffle, one_hot
from genotutor.studies.settings import study_seed
from genotutor.training import predict, train_cached

PEAK_TEST_CHROMOSOMES = ("chr8", "chr9")
PEAK_VALID_CHROMOSOMES = ("chr7",)
# lac promoter elements, found in the library's wild type by their sequence (positions are
# computed, never typed): CRP's palindromic site TGTGA-N6-TCAC(A/T), RNA polymerase's -35
# hexamer TTTACA and -10 hexamer TATGTT (Kinney et al. 2010, Fig. 1).
LAC_ELEMENTS = {"CRP": r"TGTGA.{6}TCAC[AT]", "RNAP -35": "TTTACA", "RNAP -10": "TATGTT"}


def with_background(peaks: PeakSet, *, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Each peak and one dinucleotide shuffle of it, labelled for a multi-task model.

    Returns
    -------
    x : torch.Tensor, shape (2N, 4, L)
        The peaks, then their shuffles (same order).
    y : torch.Tensor, shape (2N, F)
        1 in the column of the peak's factor; all 0 for a shuffle. So each task asks
        "a peak of this factor, or not", against backgrounds of the same composition,
        and a pattern that only tells one factor's peaks from the other's (or GC-rich
        from AT-rich) does not solve it.
    """
    shuffled = dinucleotide_shuffle(peaks.x, n=1, seed=seed)[:, 0]
    labels = torch.zeros(2 * len(peaks), len(peaks.factors))
    labels[torch.arange(len(peaks)), peaks.y] = 1.0
    return torch.cat([peaks.x, shuffled]), labels


@dataclass
class PeakModel:
    """A CNN trained on the peaks against shuffled backgrounds, and how well it does.

    Attributes
    ----------
    model : torch.nn.Module
        Two logits per sequence: an Oct4 peak, a MafK peak.
    history : pandas.DataFrame
    train, valid, test : genotutor.datasets.PeakSet
        The chromosome split (test: chr8 and chr9; validation: chr7).
    auroc : pandas.DataFrame
        Rows ``test chromosomes`` and ``janggu held-out``, a column per factor: AUROC of
        its peaks against their shuffles; and ``Oct4 vs MafK`` (the difference of the
        logits separating the two factors' peaks).
    from_cache : bool
    """

    model: nn.Module
    history: pd.DataFrame
    train: PeakSet
    valid: PeakSet
    test: PeakSet
    auroc: pd.DataFrame
    from_cache: bool


def _peak_aurocs(model: nn.Module, peaks: PeakSet, seed: int) -> dict:
    x, y = with_background(peaks, seed=seed)
    logits = predict(model, x)
    row = {f: auroc(y[:, k], logits[:, k]) for k, f in enumerate(peaks.factors)}
    real = logits[: len(peaks)]
    row["Oct4 vs MafK"] = auroc((peaks.y == 0).float(), real[:, 0] - real[:, 1])
    return row


def peak_model(*, seed: int = 0, epochs: int = 8, progress: bool = False) -> PeakModel:
    """Train (or load) a Basset-style CNN on the Oct4 and MafK peaks, chromosomes held out.

    Adam at a learning rate of 3e-3 (at 1e-3 the first five epochs barely move), each
    training batch augmented with its reverse complement; the epoch of the best
    validation loss (chr7) is kept. ``seed`` is a base seed (shifted by the re-draw).

    Taught in chapter 4.
    """
    seed = study_seed(seed)
    peaks = load_tf_peaks()
    train, valid, test = peaks.split_by_chromosome(
        test=PEAK_TEST_CHROMOSOMES, valid=PEAK_VALID_CHROMOSOMES
    )
    config = {
        "name": "tf-peaks-basset",
        "data": array_digest(peaks.x),
        "split": [list(PEAK_TEST_CHROMOSOMES), list(PEAK_VALID_CHROMOSOMES)],
        "background": "dinucleotide shuffle",
    }
    trained = train_cached(
        config,
        lambda: Basset(peaks.x.shape[-1], len(peaks.factors)),
        with_background(train, seed=seed),
        with_background(valid, seed=seed + 1),
        seed=seed,
        epochs=epochs,
        lr=3e-3,
        patience=3,
        reverse_complement=True,
        progress=progress,
    )
    rows = {
        "test chromosomes": _peak_aurocs(trained.model, test, seed + 2),
        "janggu held-out": _peak_aurocs(trained.model, load_tf_peaks(held_out=True), seed + 3),
    }
    return PeakModel(
        trained.model,
        trained.history,
        train,
        valid,
        test,
        pd.DataFrame(rows).T,
        trained.from_cache,
    )


# ------------------------------------------------------------------------ lac Sort-Seq
def lac_sites(wild_type: str) -> pd.DataFrame:
    """Where the lac promoter's known elements lie in ``wild_type`` (75 nt, -75 .. -1).

    Returns
    -------
    pandas.DataFrame
        One row per element of ``LAC_ELEMENTS``: ``element``, ``start``, ``end``
        (0-based, exclusive), ``from_tss`` (the start relative to the transcription start,
        ``start - 75``) and ``sequence``.

    Raises
    ------
    ValueError
        If an element is not found exactly once.
    """
    rows = []
    for element, pattern in LAC_ELEMENTS.items():
        found = [m for m in re.finditer(f"(?=({pattern}))", wild_type)]
        if len(found) != 1:
            raise ValueError(f"{element} ({pattern}) occurs {len(found)} times in the wild type")
        start = found[0].start()
        end = start + len(found[0].group(1))
        rows.append((element, start, end, start - len(wild_type), wild_type[start:end]))
    return pd.DataFrame(rows, columns=["element", "start", "end", "from_tss", "sequence"])


def lac_mask(length: int, sites: pd.DataFrame) -> torch.Tensor:
    """A ``(length,)`` bool tensor, True inside the known elements of ``sites``."""
    mask = torch.zeros(length, dtype=torch.bool)
    for start, end in sites[["start", "end"]].to_numpy():
        mask[start:end] = True
    return mask


def weighted_mse(output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error of the mean bin, each variant weighted by its read count
    (``y[:, 0]`` the mean bin, ``y[:, 1]`` the count): a variant read ten times says
    more than one read once."""
    weight = y[:, 1]
    return (weight * (output[:, 0] - y[:, 0]) ** 2).sum() / weight.sum()


@dataclass
class SortSeqModel:
    """A CNN of the lac Sort-Seq's mean bin, with the data it was trained on.

    Attributes
    ----------
    model : torch.nn.Module
        One output: the predicted mean bin.
    data : pandas.DataFrame
        :func:`genotutor.datasets.load_sortseq`.
    wild_type : str
    sites : pandas.DataFrame
        :func:`lac_sites` of the wild type.
    test_r : float
        Pearson correlation of prediction and mean bin on MAVE-NN's test variants with at
        least ``min_reads`` reads.
    history : pandas.DataFrame
    from_cache : bool
    """

    model: nn.Module
    data: pd.DataFrame
    wild_type: str
    sites: pd.DataFrame
    test_r: float
    history: pd.DataFrame
    from_cache: bool


def _labels(frame: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor]:
    x = one_hot(list(frame["sequence"]))
    y = torch.tensor(frame[["mean_bin", "total"]].to_numpy(np.float32))
    return x, y


def sortseq_model(
    *, seed: int = 0, epochs: int = 8, min_reads: int = 2, progress: bool = False
) -> SortSeqModel:
    """Train (or load) a small CNN on the lac Sort-Seq's count-weighted mean bin.

    MAVE-NN's training / validation / test labels are kept. ``seed`` is a base seed.

    Taught in chapter 4.
    """
    seed = study_seed(seed)
    data = load_sortseq()
    parts = {name: data[data["set"] == name] for name in ("training", "validation", "test")}
    config = {"name": "lac-sortseq-cnn", "data": array_digest(one_hot(list(data["sequence"])))}
    trained = train_cached(
        config,
        lambda: Basset(75, 1, filters=(32, 32), widths=(9, 5), pools=(2, 2), hidden=32),
        _labels(parts["training"]),
        _labels(parts["validation"]),
        seed=seed,
        epochs=epochs,
        patience=3,
        loss=weighted_mse,
        progress=progress,
    )
    test = parts["test"][parts["test"]["total"] >= min_reads]
    predicted = predict(trained.model, one_hot(list(test["sequence"])))[:, 0].numpy()
    test_r = float(np.corrcoef(predicted, test["mean_bin"].to_numpy())[0, 1])
    wild_type = lac_wild_type(data["sequence"])
    return SortSeqModel(
        trained.model,
        data,
        wild_type,
        lac_sites(wild_type),
        test_r,
        trained.history,
        trained.from_cache,
    )
