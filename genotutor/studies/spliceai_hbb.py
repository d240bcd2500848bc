"""Chapter 10's study: SpliceAI as a teacher in the human beta-globin gene (HBB).

The fixed context is HBB (GenBank KU350152.1, 2,031 nt: 5' flank, exons 1-3 with introns
1-2, 3' UTR), shipped in ``data/`` (provenance in ``data/README.md``; the same sequence as
``benchmarks/spliceai_fixture.py`` uses; GenBank sequences carry no use restrictions). Its
exon 2 is made replaceable with :func:`genotutor.spliceai.make_reporter`, and the
library's :class:`genotutor.spliceai.ReporterTeacher` scores inserts there. The file is
read on first use, not at import.

Taught in chapter 10, "A real teacher: SpliceAI".
"""

from __future__ import annotations

from functools import lru_cache

from genotutor.datasets import data_path
from genotutor.spliceai.reporter import Reporter, make_reporter
from genotutor.validation import check_positive_int

_MAX_FLANK = 130  # HBB's intron 1 is 130 nt long: a longer flank would reach exon 1


@lru_cache(maxsize=1)
def hbb_gene() -> str:
    """HBB's DNA, 2,031 nt, upper case. Taught in chapter 10."""
    return data_path("hbb_KU350152.1.txt").read_text().strip()


def hbb_exon2() -> tuple[int, int]:
    """HBB exon 2 (223 nt) as ``[start, stop)`` in :func:`hbb_gene`: its first base follows
    intron 1's ...CCCTTAG, its last base precedes intron 2's GTGAGT. Taught in chapter 10."""
    gene = hbb_gene()
    return gene.index("CCCTTAGGCTGCT") + 7, gene.index("CTTCAGGGTGAGT") + 7


def hbb_reporter(exon_length: int | None = 70, *, flank: int = 25) -> Reporter:
    """HBB with its exon 2 replaced by an insert: ``flank`` nt of intron, the exon, ``flank``.

    Parameters
    ----------
    exon_length : int or None
        Length of the exon that inserts carry. ``None`` keeps HBB's natural exon 2
        (223 nt) in place.
    flank : int
        Intron nucleotides on each side of the exon that belong to the insert (6 to 130:
        intron 1 is 130 nt long).

    Returns
    -------
    genotutor.spliceai.Reporter

    Taught in chapter 10.
    """
    flank = check_positive_int(flank, "flank", minimum=6)
    if flank > _MAX_FLANK:
        raise ValueError(f"flank must be at most {_MAX_FLANK} nt (HBB's intron 1); found {flank}")
    name = "HBB exon 2" if exon_length is None else f"HBB, exon 2 -> {exon_length} nt"
    return make_reporter(hbb_gene(), hbb_exon2(), exon_length=exon_length, flank=flank, name=name)
