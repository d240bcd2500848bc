"""SpliceAI as a teacher: exons and 5' splice sites placed in one fixed gene context.

Chapter 8 queries SpliceAI on sequences that differ only in a short insert: random 70-nt
exons, or the 9-nt 5' splice sites of the massively parallel splicing assay (MPSA). The
fixed context is the human beta-globin gene (HBB), padded with 5,000 N on each side as
SpliceAI's own scoring pads gene ends; the insert replaces HBB's exon 2 (or only its 5'
splice site). :func:`hbb_reporter` builds that context; :class:`ReporterTeacher` scores
inserts in it with :class:`genotutor.splicing.spliceai_context.ContextSpliceAI` (the
context's activations are computed once) and caches every score with
:func:`genotutor.cache.memoize`, so a rebuild does not run SpliceAI again.

The teacher's score follows Liu, Zhang and Regev (2025): the mean of SpliceAI's acceptor
probability at the exon's first base and its donor probability at the exon's last base.

Taught in chapter 8, "A real teacher: SpliceAI".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from genotutor.cache import memoize
from genotutor.datasets import data_path
from genotutor.sequences import check_choice, check_model, check_positive_int, check_tensor, one_hot
from genotutor.splicing.code import Layout, genome_donor_pwm
from genotutor.splicing.features import count_feature, to_codes
from genotutor.splicing.spliceai import FLANK, SpliceAI, SpliceAIEnsemble
from genotutor.splicing.spliceai_context import ContextSpliceAI

# The human beta-globin gene, HBB (GenBank KU350152.1, 2,031 nt: 5' flank, exons 1-3 with
# introns 1-2, 3' UTR), shipped in data/ (provenance in data/README.md); the same
# sequence as benchmarks/spliceai_fixture.py uses. GenBank sequences carry no use restrictions.
HBB_GENE = data_path("hbb_KU350152.1.txt").read_text().strip()
# HBB exon 2 (223 nt): its first base follows intron 1's ...CCCTTAG, its last base
# precedes intron 2's GTGAGT.
HBB_EXON2 = (HBB_GENE.index("CCCTTAGGCTGCT") + 7, HBB_GENE.index("CTTCAGGGTGAGT") + 7)
SCORES = ("mean", "acceptor", "donor")


@dataclass(frozen=True, eq=False)
class Reporter:
    """A fixed sequence context with a replaceable insert: an exon and its flanks.

    Attributes
    ----------
    context : torch.Tensor, shape (4, L)
        The whole sequence, one-hot (N as all-zero columns), 5,000 N on each side.
    layout : genotutor.splicing.Layout
        The insert: ``layout.upstream`` (fixed intron), the exon, ``layout.downstream``
        (fixed intron). ``layout.body``, ``layout.donor`` and ``layout.exon_start`` are
        insert coordinates, as in chapter 7.
    start : int
        Where the insert begins in ``context``.
    name : str

    Taught in chapter 8.
    """

    context: torch.Tensor
    layout: Layout
    start: int
    name: str

    @property
    def acceptor(self) -> int:
        """Position of the exon's first base in ``context`` (SpliceAI's acceptor site)."""
        return self.start + self.layout.exon_start

    @property
    def donor(self) -> int:
        """Position of the exon's last base in ``context`` (SpliceAI's donor site)."""
        return self.start + self.layout.exon_stop - 1

    def insert(self) -> torch.Tensor:
        """The context's own insert, shape (1, 4, layout.length)."""
        return self.context[None, :, self.start : self.start + self.layout.length].clone()

    def digest(self) -> str:
        """A short hash of the context and the insert's place (a cache key)."""
        data = self.context.numpy().tobytes() + f"{self.start}:{self.layout}".encode()
        return hashlib.sha256(data).hexdigest()[:16]


def hbb_reporter(exon_length: int | None = 70, *, flank: int = 25) -> Reporter:
    """HBB with its exon 2 replaced by an insert: ``flank`` nt of intron, the exon, ``flank``.

    The flanks are HBB's own intron sequence around exon 2 (intron 1's polypyrimidine
    tract and AG, intron 2's GTGAGT...), so they stay fixed while the exon varies, like
    the random exons of Liu, Zhang and Regev (2025) in their minigene reporter.

    Parameters
    ----------
    exon_length : int or None
        Length of the exon that inserts carry (its content in ``context`` is a
        placeholder). ``None`` keeps HBB's natural exon 2 (223 nt) in place.
    flank : int
        Intron nucleotides on each side of the exon that belong to the insert (at least
        6 on the downstream side, for the 5' splice site's +1..+6).

    Returns
    -------
    Reporter

    Taught in chapter 8.
    """
    flank = check_positive_int(flank, "flank", minimum=6)
    acceptor, end = HBB_EXON2
    if flank > 200:
        raise ValueError(f"flank must be at most 200 nt (inside HBB's introns); found {flank}")
    exon = HBB_GENE[acceptor:end]
    if exon_length is not None:  # a placeholder: inserts overwrite it
        exon_length = check_positive_int(exon_length, "exon_length", minimum=9)
        exon = (exon + "A" * exon_length)[:exon_length]
    layout = Layout(
        upstream=HBB_GENE[acceptor - flank : acceptor],
        exon_length=len(exon),
        downstream=HBB_GENE[end : end + flank],
    )
    left = "N" * FLANK + HBB_GENE[: acceptor - flank]
    sequence = left + layout.upstream + exon + layout.downstream + HBB_GENE[end + flank :]
    context = one_hot(sequence + "N" * FLANK, unknown="zeros")[0]
    name = "HBB exon 2" if exon_length is None else f"HBB, exon 2 -> {exon_length} nt"
    return Reporter(context, layout, len(left), name)


class ReporterTeacher(nn.Module):
    """SpliceAI's score for inserts placed in a :class:`Reporter`, with every score cached.

    ``forward(x)`` writes each insert ``x`` over ``region`` of the reporter's insert and
    returns the logit of SpliceAI's score there: by default the mean of the acceptor
    probability at the exon's first base and the donor probability at its last base (the
    teacher score of Liu, Zhang and Regev 2025). Scores are computed by
    :class:`~genotutor.splicing.spliceai_context.ContextSpliceAI` (built on first use),
    kept in memory per sequence and stored on disk with :func:`genotutor.cache.memoize`.

    Taught in chapter 8.

    Parameters
    ----------
    model : SpliceAI or SpliceAIEnsemble
        E.g. ``load_spliceai([1])`` (one model) or ``load_spliceai()`` (all five).
    reporter : Reporter
        See :func:`hbb_reporter`.
    region : (int, int), optional
        Which part of the reporter's insert ``x`` replaces, in insert coordinates
        (``reporter.layout.donor`` for 9-nt 5' splice sites); the whole insert by default.
    score : {"mean", "acceptor", "donor"}
        What ``forward`` returns the logit of.
    batch_size : int
        Sequences per SpliceAI pass.
    eps : float
        Probabilities are clipped to ``[eps, 1 - eps]`` before the logit.
    progress : bool
        Show a progress bar while SpliceAI runs.

    Attributes
    ----------
    key : str
        Identifies model, context and region: pass it as ``distill(..., teacher_key=...)``.
    """

    def __init__(
        self,
        model: nn.Module,
        reporter: Reporter,
        *,
        region: tuple[int, int] | None = None,
        score: str = "mean",
        batch_size: int = 32,
        eps: float = 1e-4,
        progress: bool = False,
    ) -> None:
        super().__init__()
        members = model.members if isinstance(model, SpliceAIEnsemble) else [model]
        if not all(isinstance(m, SpliceAI) for m in members):
            raise TypeError(
                f"model must be a SpliceAI or SpliceAIEnsemble (load_spliceai); found "
                f"{type(check_model(model)).__name__}"
            )
        if not isinstance(reporter, Reporter):
            raise TypeError(f"reporter must be a Reporter (hbb_reporter()); found {reporter!r}")
        length = reporter.layout.length
        region = (0, length) if region is None else region
        if (
            not isinstance(region, (tuple, list))
            or len(region) != 2
            or not all(isinstance(v, (int, np.integer)) for v in region)
            or not 0 <= region[0] < region[1] <= length
        ):
            raise ValueError(
                f"region must be a pair (start, stop) with 0 <= start < stop <= {length} "
                f"(the reporter's insert); found {region!r}"
            )
        if not 0 < eps < 0.5:
            raise ValueError(f"eps must be in (0, 0.5); found {eps}")
        self.model = model.eval()
        self.reporter = reporter
        self.region = (int(region[0]), int(region[1]))
        self.score = check_choice(score, "score", SCORES)
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.eps, self.progress = float(eps), bool(progress)
        state = model.state_dict()
        weights = hashlib.sha256()
        for name in sorted(state):
            weights.update(state[name].numpy().tobytes())
        self.key = (
            f"spliceai-{len(members)}-{weights.hexdigest()[:12]}-{reporter.digest()}-"
            f"{self.region[0]}-{self.region[1]}"
        )
        self._scorer: ContextSpliceAI | None = None
        self._memory: dict[bytes, torch.Tensor] = {}

    @property
    def length(self) -> int:
        """Length of the inserts ``x``."""
        return self.region[1] - self.region[0]

    def _context_scorer(self) -> ContextSpliceAI:
        if self._scorer is None:
            start = self.reporter.start
            region = (start + self.region[0], start + self.region[1])
            positions = [self.reporter.acceptor, self.reporter.donor]
            self._scorer = ContextSpliceAI(self.model, self.reporter.context, region, positions)
        return self._scorer

    def _compute(self, x: torch.Tensor) -> torch.Tensor:
        scorer = self._context_scorer()
        out = []
        batches = range(0, len(x), self.batch_size)
        with torch.inference_mode():
            for i in tqdm(batches, disable=not self.progress, desc="SpliceAI", leave=False):
                probs = scorer(x[i : i + self.batch_size])  # (B, 3, 2)
                out.append(torch.stack([probs[:, 1, 0], probs[:, 2, 1]], dim=1))
        return torch.cat(out).clone()  # a normal tensor, usable as a training target

    def sites(self, x: torch.Tensor) -> torch.Tensor:
        """SpliceAI's acceptor and donor probabilities at the exon's two splice sites.

        Parameters
        ----------
        x : torch.Tensor, shape (N, 4, region length)
            One-hot inserts.

        Returns
        -------
        torch.Tensor, shape (N, 2)
            Acceptor probability at the exon's first base, donor probability at its last.
        """
        check_tensor(x, "x")
        if x.shape[-1] != self.length:
            raise ValueError(
                f"x must have length {self.length} (region {self.region} of the reporter's "
                f"insert); found shape {tuple(x.shape)}"
            )
        x = x.detach().float().contiguous()
        keys = [row.numpy().tobytes() for row in x]
        first: dict[bytes, int] = {}  # each new sequence once
        for i, key in enumerate(keys):
            if key not in self._memory:
                first.setdefault(key, i)
        unique = list(first.values())
        if unique:
            new = x[unique]
            digest = hashlib.sha256(new.numpy().tobytes()).hexdigest()[:16]
            config = {"name": "spliceai-reporter-sites", "teacher": self.key, "inserts": digest}
            result = memoize(config, lambda: {"sites": self._compute(new)})["sites"]
            for i, value in zip(unique, result):
                self._memory[keys[i]] = value
        return torch.stack([self._memory[k] for k in keys])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logit of the score (see ``score``), shape (N, 1), for inserts ``x`` (N, 4, length)."""
        sites = self.sites(x)
        if self.score == "mean":
            p = sites.mean(dim=1)
        else:
            p = sites[:, SCORES.index(self.score) - 1]
        p = p.clamp(self.eps, 1 - self.eps)
        return torch.log(p / (1 - p))[:, None]


def exon_covariates(x: torch.Tensor, layout: Layout) -> pd.DataFrame:
    """Simple features of exons in a reporter, to read a student's filters against.

    Parameters
    ----------
    x : torch.Tensor, shape (N, 4, layout.length)
        One-hot inserts.
    layout : Layout

    Returns
    -------
    pandas.DataFrame
        Per sequence: ``cpg`` (CpG dinucleotides in the exon body), ``stops`` (in-frame stop
        codons there, codons starting at the exon's first base), ``gc`` (G+C fraction of
        the exon), ``GT`` and ``AG`` (counts in the exon body: cryptic donor and acceptor
        cores) and ``donor`` (genome log-odds score of the 5' splice site, exon -3..+6).

    Taught in chapter 8.
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
