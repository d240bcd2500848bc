"""SpliceAI as a teacher: exons and 5' splice sites placed in one fixed gene context.

A :class:`Reporter` is a gene with one exon made replaceable: :func:`make_reporter` pads
any gene with 5,000 N on each side (as SpliceAI's own scoring pads gene ends) and marks an
insert (intron flank, exon, intron flank) that queries overwrite: random exons, or only
the 9-nt 5' splice site. :class:`ReporterTeacher` scores inserts in it with
:class:`genotutor.spliceai.context.ContextSpliceAI` (the context's activations are
computed once) and caches every score with :func:`genotutor.cache.memoize`, so a rebuild
does not run SpliceAI again. The book's reporter (HBB exon 2) is built by
:func:`genotutor.studies.spliceai_hbb.hbb_reporter`.

The teacher's score follows Liu, Zhang and Regev (2025): the mean of SpliceAI's acceptor
probability at the exon's first base and its donor probability at the exon's last base.

Taught in chapter 10, "A real teacher: SpliceAI".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import torch
from torch import nn

from genotutor.cache import array_digest, memoize, model_digest
from genotutor.progress import progress_bar
from genotutor.sequences import one_hot
from genotutor.spliceai.context import ContextSpliceAI
from genotutor.spliceai.model import FLANK, SpliceAI, SpliceAIEnsemble
from genotutor.splicing.code import Layout
from genotutor.training import evaluating
from genotutor.validation import (
    check_bool,
    check_choice,
    check_model,
    check_number,
    check_positive_int,
    check_region,
    check_tensor,
)

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
        insert coordinates, as in chapter 9.
    start : int
        Where the insert begins in ``context``.
    name : str

    Taught in chapter 10.
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


def make_reporter(
    gene: str,
    exon: tuple[int, int],
    *,
    exon_length: int | None = 70,
    flank: int = 25,
    name: str = "reporter",
) -> Reporter:
    """A gene with one exon made replaceable: ``flank`` nt of intron, the exon, ``flank``.

    The flanks are the gene's own intron sequence around the exon, so they stay fixed
    while the exon varies, like the random exons of Liu, Zhang and Regev (2025) in their
    minigene reporter. The gene is padded with 5,000 N on each side.

    Parameters
    ----------
    gene : str
        The gene's DNA (A, C, G, T; N allowed and encoded as all-zero columns).
    exon : (int, int)
        The exon to replace, ``[start, stop)`` in ``gene``: its first base follows the
        upstream intron's AG, its last base precedes the downstream intron's GT.
    exon_length : int or None
        Length of the exon that inserts carry (its content in the context is a
        placeholder). ``None`` keeps the gene's own exon in place.
    flank : int
        Intron nucleotides on each side of the exon that belong to the insert (at least
        6, for the 5' splice site's +1..+6).
    name : str
        A label for tables and plots.

    Returns
    -------
    Reporter

    Taught in chapter 10.
    """
    if not isinstance(gene, str) or not gene:
        raise TypeError(f"gene must be a non-empty DNA string; found {type(gene).__name__}")
    acceptor, end = check_region(exon, len(gene), "exon", allow_none=False)
    flank = check_positive_int(flank, "flank", minimum=6)
    if flank > min(acceptor, len(gene) - end):
        raise ValueError(
            f"flank must fit inside the gene on both sides of the exon (at most "
            f"{min(acceptor, len(gene) - end)} nt here); found {flank}"
        )
    body = gene[acceptor:end]
    if exon_length is not None:  # a placeholder: inserts overwrite it
        exon_length = check_positive_int(exon_length, "exon_length", minimum=9)
        body = (body + "A" * exon_length)[:exon_length]
    layout = Layout(
        upstream=gene[acceptor - flank : acceptor],
        exon_length=len(body),
        downstream=gene[end : end + flank],
    )
    left = "N" * FLANK + gene[: acceptor - flank]
    sequence = left + layout.upstream + body + layout.downstream + gene[end + flank :]
    context = one_hot(sequence + "N" * FLANK, unknown="zeros")[0]
    return Reporter(context, layout, len(left), str(name))


class ReporterTeacher(nn.Module):
    """SpliceAI's score for inserts placed in a :class:`Reporter`, with every score cached.

    ``forward(x)`` writes each insert ``x`` over ``region`` of the reporter's insert and
    returns the logit of SpliceAI's score there: by default the mean of the acceptor
    probability at the exon's first base and the donor probability at its last base (the
    teacher score of Liu, Zhang and Regev 2025). Scores are computed by
    :class:`~genotutor.spliceai.context.ContextSpliceAI` (built on first use),
    kept in memory per sequence and stored on disk with :func:`genotutor.cache.memoize`.

    Taught in chapter 10.

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
        progress: bool = True,
    ) -> None:
        super().__init__()
        members = model.members if isinstance(model, SpliceAIEnsemble) else [model]
        if not all(isinstance(m, SpliceAI) for m in members):
            raise TypeError(
                f"model must be a SpliceAI or SpliceAIEnsemble (load_spliceai); found "
                f"{type(check_model(model)).__name__}"
            )
        if not isinstance(reporter, Reporter):
            raise TypeError(f"reporter must be a Reporter (make_reporter()); found {reporter!r}")
        self.model = model  # its train/eval mode is the caller's: scoring switches it
        self.reporter = reporter
        self.region = check_region(region, reporter.layout.length, "region")
        self.score = check_choice(score, "score", SCORES)
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.eps = check_number(eps, "eps", minimum=0, maximum=0.5, inclusive=(False, False))
        self.progress = check_bool(progress, "progress")
        self.key = (
            f"spliceai-{len(members)}-{model_digest(model)}-{reporter.digest()}-"
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
            with evaluating(self.model):
                self._scorer = ContextSpliceAI(self.model, self.reporter.context, region, positions)
        return self._scorer

    def _compute(self, x: torch.Tensor) -> torch.Tensor:
        scorer = self._context_scorer()
        out = []
        batches = range(0, len(x), self.batch_size)
        with evaluating(self.model), torch.inference_mode():
            for i in progress_bar(batches, desc="SpliceAI", progress=self.progress):
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
        if x.requires_grad and torch.is_grad_enabled():
            raise TypeError(
                "ReporterTeacher has no gradients (its scores are cached, computed without "
                "autograd): explain it with a forward-only method such as "
                "attribute(..., 'ism'), not a gradient or DeepLIFT method"
            )
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
            digest = array_digest(new)
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
