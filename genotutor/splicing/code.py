"""The known splicing code of the simulator: the reporter's layout, the genome's 5' splice
sites (from logomaker's example data), and the code itself as a table of terms and as a
model.

Taught in chapter 9, "Distilling a splicing model".
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from genotutor.sequences import ALPHABET
from genotutor.splicing.features import count_feature, feature_starts, to_codes
from genotutor.validation import check_tensor

UPSTREAM = "CCTTCTCTTTTCCTTCTTCTTGCAG"  # 25 nt: a pyrimidine tract, the 3' splice site AG
DOWNSTREAM = "GTAAGTATTCATTGCTTACTTTTCC"  # 25 nt: +1..+6 GTAAGT, then intron
ENHANCERS = ("GAAG", "AGGA", "CAAG")  # illustrative purine-rich enhancer k-mers
SILENCERS = ("GGTT", "TTGG", "CCTT")  # illustrative silencer k-mers


# --------------------------------------------------------------------------- genome 5'ss
GENOME_5SS_FILE = "examples/datafiles/ss_sequences.txt"


def _logomaker_file(relative: str) -> Path:
    """A data file of the installed logomaker package, found without importing it."""
    spec = importlib.util.find_spec("logomaker")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("logomaker is not installed; pip install logomaker")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the installed logomaker package")
    return path


@lru_cache(maxsize=1)
def _genome_table() -> pd.DataFrame:
    frame = pd.read_csv(_logomaker_file(GENOME_5SS_FILE), sep="\t", comment="#")
    frame["sequence"] = frame["sequence"].str.upper().str.replace("U", "T", regex=False)
    return frame[["sequence", "count"]].reset_index(drop=True)


@lru_cache(maxsize=1)
def _genome_codes() -> np.ndarray:
    letters = np.frombuffer("".join(_genome_table()["sequence"]).encode(), dtype=np.uint8)
    lookup = np.zeros(256, dtype=np.int64)
    for index, letter in enumerate(ALPHABET):
        lookup[ord(letter)] = index
    return lookup[letters].reshape(-1, 9)


def genome_5ss() -> pd.DataFrame:
    """The human 5' splice sites that logomaker ships, with their genome counts.

    Every 9-nt site of the form ``NNNGYNNNN`` (exon -3..-1, intron +1..+6) annotated in
    hg38 by GENCODE, and how often it occurs, from logomaker's
    ``examples/datafiles/ss_sequences.txt`` (found through the installed package). RNA
    ``U`` is written ``T``.

    Returns
    -------
    pandas.DataFrame
        Columns ``sequence`` (9 letters) and ``count``.

    Taught in chapter 9.
    """
    return _genome_table().copy()


def genome_donor_pwm(*, pseudocount: float = 1.0) -> np.ndarray:
    """Log2-odds position weight matrix of the genome's 5' splice sites.

    Frequencies are weighted by each site's genome count; the background is uniform.

    Returns
    -------
    np.ndarray, shape (9, 4)
        ``log2(p / 0.25)`` for positions -3..+6 and bases A, C, G, T.

    Taught in chapter 9.
    """
    table = _genome_table()
    codes = _genome_codes()
    counts = np.full((9, 4), pseudocount)
    for position in range(9):
        np.add.at(counts[position], codes[:, position], table["count"].to_numpy())
    probs = counts / counts.sum(axis=1, keepdims=True)
    return np.log2(probs / 0.25)


# --------------------------------------------------------------------------- the code
@dataclass(frozen=True)
class Layout:
    """Where things sit in a reporter sequence.

    Attributes
    ----------
    upstream, downstream : str
        The fixed intron flanks; ``downstream`` starts with the donor's +1..+6.
    exon_length : int

    Taught in chapter 9.
    """

    upstream: str = UPSTREAM
    exon_length: int = 70
    downstream: str = DOWNSTREAM

    @property
    def exon_start(self) -> int:
        return len(self.upstream)

    @property
    def exon_stop(self) -> int:
        return self.exon_start + self.exon_length

    @property
    def length(self) -> int:
        return self.exon_stop + len(self.downstream)

    @property
    def donor(self) -> tuple[int, int]:
        """``(start, stop)`` of the 9-nt 5' splice site, exon -3 to intron +6."""
        return self.exon_stop - 3, self.exon_stop + 6

    @property
    def body(self) -> tuple[int, int]:
        """``(start, stop)`` of the exon without the donor's exonic -3..-1."""
        return self.exon_start, self.exon_stop - 3


@dataclass(frozen=True)
class SplicingCode:
    """The known splicing code: logit PSI as a sum of named terms.

    ``logit = intercept + donor_weight * donor PWM score + enhancer_weight * #enhancers
    - silencer_weight * #silencers - stem_weight * max(0, stem - stem_min + 1)``, where
    k-mers are counted in the exon and ``stem`` is the longest run of exon bases that can
    pair with the 5' splice site (a hairpin arm at least ``min_loop`` nt upstream of it).
    Nothing else, in particular no CpG and no stop-codon term.

    Taught in chapter 9.
    """

    donor_pwm: np.ndarray = field(default_factory=genome_donor_pwm, repr=False)
    enhancers: tuple[str, ...] = ENHANCERS
    silencers: tuple[str, ...] = SILENCERS
    donor_weight: float = 0.4
    enhancer_weight: float = 0.8
    silencer_weight: float = 0.8
    stem_weight: float = 1.2
    stem_min: int = 6
    min_loop: int = 4
    intercept: float = -3.0
    layout: Layout = field(default_factory=Layout)

    def terms(self, x: torch.Tensor) -> pd.DataFrame:
        """Each term of the code for each sequence.

        Parameters
        ----------
        x : torch.Tensor, shape (N, 4, L)

        Returns
        -------
        pandas.DataFrame
            Columns ``donor`` (the PWM score, bits), ``enhancers``, ``silencers`` (counts),
            ``stem`` (nt) and ``logit`` (the total).
        """
        codes = to_codes(x)
        if codes.shape[1] != self.layout.length:
            raise ValueError(
                f"x has length {codes.shape[1]}; this code reads reporter sequences of length "
                f"{self.layout.length} (see SplicingCode.layout)"
            )
        return self._terms(codes)

    def _terms(self, codes: np.ndarray) -> pd.DataFrame:
        start, stop = self.layout.donor
        donor = self.donor_pwm[np.arange(9), codes[:, start:stop]].sum(axis=1)
        exon = (self.layout.exon_start, self.layout.exon_stop)
        enh = sum(_count(codes, k, exon) for k in self.enhancers)
        sil = sum(_count(codes, k, exon) for k in self.silencers)
        stem = stem_length(codes, self.layout, min_loop=self.min_loop)
        logit = (
            self.intercept
            + self.donor_weight * donor
            + self.enhancer_weight * enh
            - self.silencer_weight * sil
            - self.stem_weight * np.maximum(0, stem - self.stem_min + 1)
        )
        return pd.DataFrame(
            {"donor": donor, "enhancers": enh, "silencers": sil, "stem": stem, "logit": logit}
        )

    def logit(self, x: torch.Tensor) -> torch.Tensor:
        """True logit PSI, shape (N,). Taught in chapter 9."""
        return torch.tensor(self.terms(x)["logit"].to_numpy(), dtype=torch.float32)


def _count(codes: np.ndarray, kmer: str, region: tuple[int, int]) -> np.ndarray:
    return feature_starts(codes, "motif", region=region, motif=kmer).sum(axis=1)


def stem_length(codes: np.ndarray, layout: Layout, *, min_loop: int = 4) -> np.ndarray:
    """Longest exon arm that pairs (Watson-Crick) with the 5' splice site, per sequence.

    Parameters
    ----------
    codes : np.ndarray, shape (N, L)
        Integer-coded sequences (0..3 for A, C, G, T).

    Returns
    -------
    np.ndarray, shape (N,)
        Length of the longest exon substring, ending at least ``min_loop`` nt before the
        splice site, equal to the reverse complement of a substring of the site.

    Taught in chapter 9.
    """
    start, stop = layout.donor
    site_rc = 3 - codes[:, start:stop][:, ::-1]  # (N, 9)
    arm = codes[:, layout.exon_start : start - min_loop]  # (N, M)
    equal = site_rc[:, :, None] == arm[:, None, :]  # (N, 9, M)
    run = np.zeros(equal.shape[::2], dtype=np.int64)  # (N, M): run ending at (i, j)
    best = np.zeros(len(codes), dtype=np.int64)
    for i in range(equal.shape[1]):
        shifted = np.zeros_like(run)
        shifted[:, 1:] = run[:, :-1]
        run = (shifted + 1) * equal[:, i, :]
        best = np.maximum(best, run.max(axis=1))
    return best


class TruthModel(nn.Module):
    """The known code as a model: ``(N, 4, L)`` -> ``(N, 1)`` true logit PSI.

    It has no parameters and no gradients; it lets the truth go wherever a model goes
    (probes, tables, the chapter's explorer).

    Taught in chapter 9.
    """

    def __init__(self, code: SplicingCode | None = None) -> None:
        super().__init__()
        self.code = code if code is not None else SplicingCode()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.code.logit(x)[:, None]


# --------------------------------------------------------------------------- covariates
def exon_covariates(x: torch.Tensor, layout: Layout) -> pd.DataFrame:
    """Simple features of exons in a reporter, to read a student's filters against.

    Parameters
    ----------
    x : torch.Tensor, shape (N, 4, layout.length)
        One-hot inserts.
    layout : genotutor.splicing.Layout

    Returns
    -------
    pandas.DataFrame
        Per sequence: ``cpg`` (CpG dinucleotides in the exon body), ``stops`` (in-frame stop
        codons there, codons starting at the exon's first base), ``gc`` (G+C fraction of
        the exon), ``GT`` and ``AG`` (counts in the exon body: cryptic donor and acceptor
        cores) and ``donor`` (genome log-odds score of the 5' splice site, exon -3..+6).

    Taught in chapter 10.
    """
    check_tensor(x, "x")
    if not isinstance(layout, Layout):
        raise TypeError(f"layout must be a genotutor.splicing.Layout; found {layout!r}")
    if x.shape[-1] != layout.length:
        raise ValueError(f"x must have length {layout.length}; found shape {tuple(x.shape)}")
    body = layout.body
    codes = to_codes(x)
    exon = codes[:, layout.exon_start : layout.exon_stop]
    start, stop = layout.donor
    pwm = genome_donor_pwm()
    features = {
        "cpg": count_feature(x, "cpg", region=body),
        "stops": count_feature(x, "stop", region=body, frame=layout.exon_start),
        "gc": torch.from_numpy(((exon == 1) | (exon == 2)).mean(axis=1)),
        "GT": count_feature(x, "motif", motif="GT", region=body),
        "AG": count_feature(x, "motif", motif="AG", region=body),
        "donor": torch.from_numpy(pwm[np.arange(9), codes[:, start:stop]].sum(axis=1)),
    }
    return pd.DataFrame({k: np.asarray(v, dtype=np.float64) for k, v in features.items()})
