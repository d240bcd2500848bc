"""A splicing simulator with a known code, and the confounders that the genome adds to it.

A sequence is an exon in a fixed minigene reporter::

    [ upstream intron, ends in the 3' splice site AG | exon | downstream intron ]
                                             5' splice site: exon -3..-1, intron +1..+6

Its inclusion (logit PSI) is a known **code**: the 5' splice-site strength (a log-odds
score from the real human 5' splice sites that logomaker ships), exonic enhancer and
silencer k-mers, and a hairpin term (the 5' splice site paired with a complementary arm
in the exon is hidden from the spliceosome). CpG dinucleotides and stop codons are not in
the code: they have no effect on the truth, by construction.

Two kinds of sequence, as in Liu, Zhang and Regev (2025):

- ``"reference"``-like: genome-like exons. Each has a hidden genomic context (say, a
  constitutive exon of a coding gene, or not) that raises or lowers its measured
  inclusion from outside the sequence; the same context makes strong donors, enhancers,
  CpG dinucleotides and open reading frames (no in-frame stops) more common. So CpG and
  stops correlate with inclusion without causing it, and hairpins over the 5' splice
  site are absent (selected against).
- ``"random"`` (non-reference) exons in the fixed reporter: uniform random exons, no
  context, confounders uncorrelated with anything.

Taught in chapter 7, "Distilling a splicing model".
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from genotutor.sequences import ALPHABET, check_choice, check_positive_int
from genotutor.splicing.features import (
    edit_codes,
    feature_starts,
    from_codes,
    motif_codes,
    to_codes,
)

UPSTREAM = "TCTTTTCCTTCTTCTTGCAG"  # a pyrimidine tract and the 3' splice site AG
DOWNSTREAM = "GTAAGTATTCATTGCTTACT"  # +1..+6 GTAAGT, then intron
ENHANCERS = ("GAAG", "AGGA", "CAAG")  # illustrative purine-rich enhancer k-mers
SILENCERS = ("GGTT", "TTGG", "CCTT")  # illustrative silencer k-mers
KINDS = ("reference", "random")


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

    Taught in chapter 7.
    """
    return _genome_table().copy()


def genome_donor_pwm(*, pseudocount: float = 1.0) -> np.ndarray:
    """Log2-odds position weight matrix of the genome's 5' splice sites.

    Frequencies are weighted by each site's genome count; the background is uniform.

    Returns
    -------
    np.ndarray, shape (9, 4)
        ``log2(p / 0.25)`` for positions -3..+6 and bases A, C, G, T.

    Taught in chapter 7.
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

    Taught in chapter 7.
    """

    upstream: str = UPSTREAM
    exon_length: int = 60
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

    Taught in chapter 7.
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
        """True logit PSI, shape (N,). Taught in chapter 7."""
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

    Taught in chapter 7.
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

    Taught in chapter 7.
    """

    def __init__(self, code: SplicingCode | None = None) -> None:
        super().__init__()
        self.code = code if code is not None else SplicingCode()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.code.logit(x)[:, None]


# --------------------------------------------------------------------------- sampling
@dataclass
class SplicingSet:
    """Simulated exons in the reporter, their true inclusion and what the genome shows.

    Attributes
    ----------
    x : torch.Tensor, shape (N, 4, L)
    truth : torch.Tensor, shape (N,)
        True logit PSI of each sequence in the reporter (the code).
    label : torch.Tensor, shape (N,)
        What a model is trained on: the truth plus the genomic context (reference-like
        only) plus measurement noise.
    features : pandas.DataFrame
        Per sequence: ``context`` (the hidden context's effect), the code's terms, and
        the confounders ``cpg`` and ``stops`` (in-frame stop codons in the exon).
    kind : str

    Taught in chapter 7.
    """

    x: torch.Tensor
    truth: torch.Tensor
    label: torch.Tensor
    features: pd.DataFrame
    kind: str

    def __len__(self) -> int:
        return len(self.x)

    def subset(self, index: Sequence[int] | np.ndarray) -> SplicingSet:
        """The set restricted to ``index``."""
        index = np.asarray(index, dtype=np.int64)
        picked = torch.as_tensor(index)
        return SplicingSet(
            self.x[picked],
            self.truth[picked],
            self.label[picked],
            self.features.iloc[index].reset_index(drop=True),
            self.kind,
        )

    def split(
        self, *, valid: float = 0.1, test: float = 0.2, seed: int = 0
    ) -> tuple[SplicingSet, SplicingSet, SplicingSet]:
        """Random train / validation / test split."""
        if not (0 < valid < 1 and 0 < test < 1 and valid + test < 1):
            raise ValueError(
                f"valid and test must be fractions summing below 1; found {valid}, {test}"
            )
        order = np.random.default_rng(seed).permutation(len(self))
        n_valid, n_test = int(round(valid * len(self))), int(round(test * len(self)))
        return (
            self.subset(order[n_valid + n_test :]),
            self.subset(order[:n_valid]),
            self.subset(order[n_valid : n_valid + n_test]),
        )


def reporter_sequences(n: int, *, layout: Layout | None = None, seed: int = 0) -> torch.Tensor:
    """``n`` uniform random exons in the fixed reporter (the non-reference design).

    Returns
    -------
    torch.Tensor, shape (n, 4, L)

    Taught in chapter 7.
    """
    n = check_positive_int(n, "n")
    layout = layout or Layout()
    rng = np.random.default_rng(seed)
    return from_codes(_reporter_codes(n, layout, rng))


def _reporter_codes(n: int, layout: Layout, rng: np.random.Generator) -> np.ndarray:
    codes = np.empty((n, layout.length), dtype=np.int64)
    codes[:, : layout.exon_start] = motif_codes(layout.upstream)
    codes[:, layout.exon_start : layout.exon_stop] = rng.integers(0, 4, (n, layout.exon_length))
    codes[:, layout.exon_stop :] = motif_codes(layout.downstream)
    return codes


def _plant(codes: np.ndarray, kmers: tuple[str, ...], counts: np.ndarray, region, rng) -> None:
    start, stop = region
    for row, k in zip(codes, counts):
        for _ in range(int(k)):
            kmer = motif_codes(kmers[rng.integers(len(kmers))])
            i = rng.integers(start, stop - len(kmer) + 1)
            row[i : i + len(kmer)] = kmer


def _genome_donors(z: np.ndarray, pwm: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Genome 5'ss drawn by count: the stronger half for z = 1, the weaker for z = 0."""
    table = _genome_table()
    sites = _genome_codes()
    score = pwm[np.arange(9), sites].sum(axis=1)
    weight = table["count"].to_numpy().astype(float)
    order = np.argsort(score)
    cumulative = np.cumsum(weight[order]) / weight.sum()
    strong = np.zeros(len(sites), dtype=bool)
    strong[order[cumulative > 0.5]] = True
    out = np.empty((len(z), 9), dtype=np.int64)
    for flag in (0, 1):
        pool = np.flatnonzero(strong == bool(flag))
        rows = np.flatnonzero(z == flag)
        p = weight[pool] / weight[pool].sum()
        out[rows] = sites[rng.choice(pool, size=len(rows), p=p)]
    return out


def _confound(codes: np.ndarray, z: np.ndarray, confounding: float, layout: Layout, rng):
    """Coding exons (z = 1) lose in-frame stops and gain CpG; the others the reverse.

    Each feature is edited with probability ``confounding``, independently, so that each
    carries its own information about the context.
    """
    options = {"region": layout.body, "frame": layout.exon_start, "motif": None, "rng": rng}
    edits = {
        ("cpg", 1): ("add", 2),
        ("cpg", 0): ("remove", 1),
        ("stop", 1): ("remove", 1),
        ("stop", 0): ("add", 3),
    }
    for feature in ("cpg", "stop"):
        hit = rng.random(len(codes)) < confounding
        for flag in (1, 0):
            rows = np.flatnonzero(hit & (z == flag))
            action, n_sites = edits[feature, flag]
            part = codes[rows]
            edit_codes(part, feature, action, n_sites=n_sites, **options)
            codes[rows] = part


def _reference_codes(n, code: SplicingCode, confounding: float, rng) -> tuple:
    layout = code.layout
    z = (rng.random(n) < 0.5).astype(np.int64)
    codes = _reporter_codes(n, layout, rng)
    _confound(codes, z, confounding, layout, rng)
    body = layout.body
    _plant(codes, code.enhancers, rng.poisson(np.where(z == 1, 1.5, 0.4)), body, rng)
    _plant(codes, code.silencers, rng.poisson(np.where(z == 1, 0.4, 1.5)), body, rng)
    start, stop = layout.donor
    codes[:, start:stop] = _genome_donors(z, code.donor_pwm, rng)
    return codes, z


def simulate_splicing(
    n: int = 4000,
    *,
    kind: str = "reference",
    code: SplicingCode | None = None,
    confounding: float = 0.9,
    context: float = 1.5,
    noise: float = 0.5,
    seed: int = 0,
) -> SplicingSet:
    """Draw reference-like or random (non-reference) exons with their truth and labels.

    Parameters
    ----------
    n : int
        Number of sequences.
    kind : {"reference", "random"}
        Genome-like exons with a hidden context and correlated confounders, or uniform
        random exons in the fixed reporter (see the module docstring).
    code : SplicingCode, optional
        The splicing code; the default code by default.
    confounding : float in [0, 1]
        Reference-like only: the share of sequences whose CpG and stop codons are edited
        to match their context. 0 breaks the correlation.
    context : float
        Reference-like only: the hidden context adds ``+context`` (coding, constitutive)
        or ``-context`` to the label's logit.
    noise : float
        Standard deviation of the Gaussian measurement noise on the label's logit.
    seed : int

    Returns
    -------
    SplicingSet

    Taught in chapter 7.
    """
    n = check_positive_int(n, "n")
    check_choice(kind, "kind", KINDS)
    for name, value, low, high in (
        ("confounding", confounding, 0.0, 1.0),
        ("context", context, 0.0, np.inf),
        ("noise", noise, 0.0, np.inf),
    ):
        if not isinstance(value, (int, float)) or not low <= value <= high:
            raise ValueError(f"{name} must be a number in [{low}, {high}]; found {value!r}")
    code = code if code is not None else SplicingCode()
    rng = np.random.default_rng(seed)
    if kind == "random":
        codes, z = _reporter_codes(n, code.layout, rng), np.full(n, -1)
    else:
        codes, z = _reference_codes(n, code, confounding, rng)
        for _ in range(20):  # genomes avoid hairpins over the 5' splice site
            bad = np.flatnonzero(
                stem_length(codes, code.layout, min_loop=code.min_loop) >= code.stem_min
            )
            if len(bad) == 0:
                break
            codes[bad], z[bad] = _reference_codes(len(bad), code, confounding, rng)
    terms = code._terms(codes)
    effect = np.where(z == 1, context, np.where(z == 0, -context, 0.0))
    label = terms["logit"].to_numpy() + effect + noise * rng.standard_normal(n)
    x = from_codes(codes)
    layout = code.layout
    features = pd.concat(
        [
            pd.DataFrame({"context": effect}),
            terms,
            pd.DataFrame(
                {
                    "cpg": feature_starts(codes, "cpg", region=layout.body).sum(axis=1),
                    "stops": feature_starts(
                        codes, "stop", region=layout.body, frame=layout.exon_start
                    ).sum(axis=1),
                }
            ),
        ],
        axis=1,
    )
    return SplicingSet(
        x=x,
        truth=torch.tensor(terms["logit"].to_numpy(), dtype=torch.float32),
        label=torch.tensor(label, dtype=torch.float32),
        features=features,
        kind=kind,
    )


def plant_hairpin(
    x: torch.Tensor,
    *,
    layout: Layout | None = None,
    arm_length: int = 9,
    mismatches: int = 0,
    seed: int = 0,
) -> torch.Tensor:
    """Write into each exon an arm that pairs with its 5' splice site (a hairpin).

    The arm, the reverse complement of the site's first ``arm_length`` bases, is written
    at a random place of the exon at least 4 nt upstream of the site; with
    ``mismatches`` > 0 that many bases of the arm (spread along it) are changed to
    another base, so the hairpin no longer forms. The same seed
    puts the arm at the same place, so ``mismatches=0`` and ``mismatches=3`` give pairs
    of sequences that differ only at those bases.

    Parameters
    ----------
    x : torch.Tensor, shape (N, 4, L)
        Reporter sequences.
    arm_length : int
        Bases of the site to pair, 2..9.
    mismatches : int
        Bases of the arm to mutate (0 keeps the hairpin).
    seed : int

    Returns
    -------
    torch.Tensor, shape (N, 4, L)

    Taught in chapter 7.
    """
    layout = layout or Layout()
    codes = to_codes(x).copy()
    if codes.shape[1] != layout.length:
        raise ValueError(f"x has length {codes.shape[1]}; the layout expects {layout.length}")
    if not isinstance(arm_length, int) or not 2 <= arm_length <= 9:
        raise ValueError(f"arm_length must be an int in [2, 9]; found {arm_length!r}")
    if not isinstance(mismatches, int) or not 0 <= mismatches <= arm_length:
        raise ValueError(f"mismatches must be an int in [0, {arm_length}]; found {mismatches!r}")
    rng = np.random.default_rng(seed)
    start, _ = layout.donor
    last = start - 4 - arm_length
    spots = rng.integers(layout.exon_start, last + 1, size=len(codes))
    arm = 3 - codes[:, start : start + arm_length][:, ::-1]
    if mismatches:
        which = np.linspace(0, arm_length - 1, mismatches + 2)[1:-1].round().astype(int)
        arm = arm.copy()
        arm[:, which] = (arm[:, which] + 1) % 4
    for row, spot, bases in zip(codes, spots, arm):
        row[spot : spot + arm_length] = bases
    return from_codes(codes)
