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

Taught in chapter 9, "Distilling a splicing model".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from genotutor.rows import Rows
from genotutor.sequences import check_choice, check_positive_int
from genotutor.simulate import split_indices
from genotutor.splicing.code import (  # noqa: F401 (re-exported)
    ENHANCERS,
    GENOME_5SS_FILE,
    SILENCERS,
    Layout,
    SplicingCode,
    TruthModel,
    _genome_codes,
    _genome_table,
    genome_5ss,
    genome_donor_pwm,
    stem_length,
)
from genotutor.splicing.features import (
    edit_codes,
    feature_starts,
    from_codes,
    motif_codes,
    to_codes,
)

KINDS = ("reference", "random")


# --------------------------------------------------------------------------- sampling
@dataclass
class SplicingSet(Rows):
    """Simulated exons in the reporter, their true inclusion and what the genome shows.

    ``len`` and ``subset(index)`` (the exons at integer rows or a boolean mask) come
    from :class:`genotutor.rows.Rows`.

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

    Taught in chapter 9.
    """

    x: torch.Tensor
    truth: torch.Tensor
    label: torch.Tensor
    features: pd.DataFrame
    kind: str

    ROW_FIELDS = ("x", "truth", "label", "features")

    def split(
        self, *, valid: float = 0.1, test: float = 0.2, seed: int = 0
    ) -> tuple[SplicingSet, SplicingSet, SplicingSet]:
        """Random train / validation / test split (see :func:`genotutor.simulate.split_indices`)."""
        train, valid_index, test_index = split_indices(len(self), valid=valid, test=test, seed=seed)
        return self.subset(train), self.subset(valid_index), self.subset(test_index)


def reporter_sequences(n: int, *, layout: Layout | None = None, seed: int = 0) -> torch.Tensor:
    """``n`` uniform random exons in the fixed reporter (the non-reference design).

    Returns
    -------
    torch.Tensor, shape (n, 4, L)

    Taught in chapter 9.
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

    Taught in chapter 9.
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

    Taught in chapter 9.
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
