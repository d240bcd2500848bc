"""Chapter 11's study: variants of HBB, scored by SpliceAI against what the literature reports.

The gene is the shipped HBB sequence of chapter 10 (GenBank KU350152.1, on the gene's
strand). Variants are named as the thalassaemia literature and HbVar name them: IVS-I-n is
the n-th base of intron 1 (IVS-II-n of intron 2), and codon c counts from the valine after
the initiator methionine; their positions are computed from the sequence's landmarks (the
end of exon 1, the ends of exon 2, the start codon), and every reference base is checked
against the sequence by :func:`genotutor.variants.spliceai_tracks`.

Mechanisms, as reported (Treisman, Orkin and Maniatis 1983; Busslinger, Moschonas and
Flavell 1981; Orkin et al. 1982; Cheng et al. 1984; reviewed by Thein 2013; HbVar):

- IVS-I-1 G>A, IVS-I-5 G>C, IVS-I-6 T>C: the exon-1 donor is weakened (abolished by
  IVS-I-1; IVS-I-6 is a mild beta+ allele); cryptic donors are used instead, one in codon
  25, 16 nt upstream of the normal donor.
- IVS-II-1 G>A: the exon-2 donor is abolished.
- IVS-I-110 G>A: a new AG makes an acceptor 19 nt upstream of exon 2's.
- IVS-II-654 C>T, IVS-II-705 T>G, IVS-II-745 C>G: a new donor in intron 2, used with a
  cryptic acceptor at IVS-II-579, so that an intron segment is spliced in as an exon.
- Codon 26 G>A (HbE, GAG>AAG): the cryptic donor in codon 25 is strengthened.

SpliceAI puts an acceptor's probability on the exon's first base and a donor's on the
exon's last base, so each expected site below is that base.

Taught in chapter 11, "Variant effects".
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from genotutor.studies.spliceai_hbb import hbb_exon2, hbb_gene

GAIN_THRESHOLD = 0.2  # SpliceAI's high-recall cutoff (0.5 recommended, 0.8 high precision)


@lru_cache(maxsize=1)
def hbb_landmarks() -> dict[str, int]:
    """0-based positions in :func:`hbb_gene`: the first base of intron 1 and of intron 2,
    the first base of codon 1, and the first base of exon 3. Taught in chapter 11."""
    gene = hbb_gene()
    return {
        "intron 1": gene.index("CTGGGCAGGTTGGT") + 8,
        "intron 2": hbb_exon2()[1],
        "codon 1": gene.index("ATGGTGCATCTG") + 3,
        "exon 3": gene.index("CCCACAGCTCCTGGGCAACG") + 7,
    }


def hbb_position(region: str, number: int, base: int = 1) -> int:
    """0-based position of IVS-I-``number`` (``region="IVS-I"``), IVS-II-``number`` or base
    ``base`` of codon ``number`` (``region="codon"``). Taught in chapter 11."""
    marks = hbb_landmarks()
    if region == "IVS-I":
        return marks["intron 1"] + number - 1
    if region == "IVS-II":
        return marks["intron 2"] + number - 1
    if region == "codon":
        return marks["codon 1"] + 3 * (number - 1) + base - 1
    raise ValueError(f"region must be 'IVS-I', 'IVS-II' or 'codon'; found {region!r}")


def _site(kind: str, region: str, number: int, base: int = 1) -> tuple[str, int]:
    return kind, hbb_position(region, number, base)


def clinical_variants() -> pd.DataFrame:
    """HBB's beta-thalassaemia splice variants and HbE, with the event the literature reports.

    Returns
    -------
    pandas.DataFrame
        ``name``, ``position``, ``ref``, ``alt``, ``mechanism`` (the reported effect, in
        words), ``event`` (the SpliceAI delta score that should show it: ``donor_loss`` ...)
        and ``site`` (0-based position of the base that carries it).

    Taught in chapter 11.
    """
    exon1_donor = _site("donor_loss", "IVS-I", 0)  # exon 1's last base
    rows = [
        ("codon 26 G>A (HbE)", "codon", 26, "G", "A", "cryptic donor in codon 25 strengthened",
         _site("donor_gain", "codon", 25, 1)),
        ("IVS-I-1 G>A", "IVS-I", 1, "G", "A", "exon-1 donor abolished (beta0)", exon1_donor),
        ("IVS-I-5 G>C", "IVS-I", 5, "G", "C", "exon-1 donor weakened, cryptic donors used",
         exon1_donor),
        ("IVS-I-6 T>C", "IVS-I", 6, "T", "C", "exon-1 donor mildly weakened (mild beta+)",
         exon1_donor),
        ("IVS-I-110 G>A", "IVS-I", 110, "G", "A", "new acceptor 19 nt upstream of exon 2",
         _site("acceptor_gain", "IVS-I", 112)),
        ("IVS-II-1 G>A", "IVS-II", 1, "G", "A", "exon-2 donor abolished (beta0)",
         _site("donor_loss", "IVS-II", 0)),
        ("IVS-II-654 C>T", "IVS-II", 654, "C", "T", "new donor in intron 2 (with IVS-II-579)",
         _site("donor_gain", "IVS-II", 652)),
        ("IVS-II-705 T>G", "IVS-II", 705, "T", "G", "new donor in intron 2 (with IVS-II-579)",
         _site("donor_gain", "IVS-II", 705)),
        ("IVS-II-745 C>G", "IVS-II", 745, "C", "G", "new donor in intron 2 (with IVS-II-579)",
         _site("donor_gain", "IVS-II", 744)),
    ]  # fmt: skip
    table = pd.DataFrame(
        [
            {"name": name, "position": hbb_position(region, number), "ref": ref, "alt": alt,
             "mechanism": mechanism, "event": event, "site": site}
            for name, region, number, ref, alt, mechanism, (event, site) in rows
        ]
    )  # fmt: skip
    return table


def control_variants() -> pd.DataFrame:
    """Controls: the classical beta-globin framework polymorphisms (Orkin et al. 1982), common
    alleles carried on normal and thalassaemic chromosomes alike, so not splice-altering.

    Returns
    -------
    pandas.DataFrame
        ``name``, ``position``, ``ref`` (the base of the shipped sequence), ``alt`` (the
        other allele of the polymorphism).

    Taught in chapter 11.
    """
    gene = hbb_gene()
    polymorphisms = [  # (name, region, number, base in codon, the two alleles)
        ("codon 2 CAT/CAC", "codon", 2, 3, "TC"),
        ("IVS-II-16 G/C", "IVS-II", 16, 1, "GC"),
        ("IVS-II-74 T/G", "IVS-II", 74, 1, "TG"),
        ("IVS-II-81 C/T", "IVS-II", 81, 1, "CT"),
        ("IVS-II-666 C/T", "IVS-II", 666, 1, "CT"),
    ]
    rows = []
    for name, region, number, base, alleles in polymorphisms:
        position = hbb_position(region, number, base)
        ref = gene[position]
        if ref not in alleles:
            raise ValueError(f"{name}: the sequence has {ref} at {position}, not {alleles}")
        rows.append({"name": name, "position": position, "ref": ref,
                     "alt": alleles.replace(ref, "")})  # fmt: skip
    return pd.DataFrame(rows)


def mechanism_found(deltas: pd.DataFrame) -> pd.DataFrame:
    """Whether SpliceAI's delta scores show each reported mechanism at its site.

    Parameters
    ----------
    deltas : pandas.DataFrame
        :func:`genotutor.variants.spliceai_delta` of :func:`clinical_variants`.

    Returns
    -------
    pandas.DataFrame
        One row per variant: the expected event and its offset from the variant, SpliceAI's
        score and offset for that event, and ``found`` (score at least
        :data:`GAIN_THRESHOLD` at exactly the reported site).

    Taught in chapter 11.
    """
    rows = []
    for _, row in deltas.iterrows():
        expected = int(row["site"]) - int(row["position"])
        score, at = float(row[row["event"]]), int(row[row["event"] + "_at"])
        rows.append({
            "variant": row["name"], "reported": row["mechanism"],
            "event": row["event"].replace("_", " "), "expected at": expected,
            "SpliceAI delta": score, "SpliceAI at": at,
            "found": bool(score >= GAIN_THRESHOLD and at == expected),
        })  # fmt: skip
    return pd.DataFrame(rows)


def site_coordinate(position: int, intron_start: int) -> str:
    """A position in splice-site numbering around an exon's end: ``-1`` is the exon's last
    base, ``+1`` the intron's first (there is no 0). Taught in chapter 11."""
    offset = int(position) - int(intron_start)
    return f"+{offset + 1}" if offset >= 0 else f"{offset}"


def region_snvs(start: int, stop: int) -> pd.DataFrame:
    """Every single-base substitution of :func:`hbb_gene` in ``[start, stop)``: ``position``,
    ``ref``, ``alt`` (three rows per position, alternative bases in A, C, G, T order).
    Taught in chapter 11."""
    gene = hbb_gene()
    if not 0 <= start < stop <= len(gene):
        raise ValueError(f"need 0 <= start < stop <= {len(gene)}; found {start}, {stop}")
    return pd.DataFrame(
        [
            {"position": p, "ref": gene[p], "alt": b}
            for p in range(start, stop)
            for b in "ACGT"
            if b != gene[p]
        ]
    )


def mpsa_neighbours(mpsa: pd.DataFrame, backgrounds: dict[str, str]) -> pd.DataFrame:
    """The single-base neighbours of each background 5' splice site that MPSA measured.

    Parameters
    ----------
    mpsa : pandas.DataFrame
        :func:`genotutor.datasets.load_mpsa` (``sequence``, ``y`` = log10 PSI).
    backgrounds : dict of str to str
        Name -> 9-nt site (exon -3 to intron +6), each measured by MPSA.

    Returns
    -------
    pandas.DataFrame
        ``background``, ``row`` (its index in ``backgrounds``), ``position`` (0-8), ``ref``,
        ``alt``, ``measured`` (the neighbour's log10 PSI minus the background's).

    Taught in chapter 11.
    """
    measured = dict(zip(mpsa["sequence"], mpsa["y"]))
    rows = []
    for index, (name, site) in enumerate(backgrounds.items()):
        if site not in measured:
            raise ValueError(f"background {name!r} ({site}) was not measured by MPSA")
        for position in range(len(site)):
            for base in "ACGT":
                mutant = site[:position] + base + site[position + 1 :]
                if base != site[position] and mutant in measured:
                    rows.append({"background": name, "row": index, "position": position,
                                 "ref": site[position], "alt": base,
                                 "measured": measured[mutant] - measured[site]})  # fmt: skip
    return pd.DataFrame(rows)


def alt_minus_ref(maps: np.ndarray, variants: pd.DataFrame) -> np.ndarray:
    """A variant's effect read off a map: ``maps[row, alt, position] - maps[row, ref,
    position]`` for each variant (a hypothetical attribution map, or a surrogate's additive
    parameters). ``maps`` is ``(N, 4, L)``. Taught in chapter 11."""
    rows = variants["row"].to_numpy()
    positions = variants["position"].to_numpy()
    alt = np.array(["ACGT".index(b) for b in variants["alt"]])
    ref = np.array(["ACGT".index(b) for b in variants["ref"]])
    return maps[rows, alt, positions] - maps[rows, ref, positions]
