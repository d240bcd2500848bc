"""Loaders for real data shipped with genotutor.

The files live in the repository's ``data/`` folder, which the wheel installs inside the
package as ``genotutor/data`` (package ``genotutor.data``). Each file's source, licence and
checksum are recorded in ``data/README.md``; the loaders check the checksum so that a
damaged file is reported rather than silently used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from genotutor.rows import Rows
from genotutor.validation import check_bool

_PACKAGE = Path(__file__).resolve().parent
# Where the data folder is, in order: inside the installed package (a wheel), then next to
# the package (a checkout, which an editable install imports from).
_CANDIDATES = (_PACKAGE / "data", _PACKAGE.parent / "data")
_MARKER = "README.md"  # every genotutor data folder holds one (provenance and checksums)


def data_dir() -> Path:
    """The folder holding the shipped data files.

    ``GENOTUTOR_DATA`` overrides it. Otherwise it is ``genotutor/data`` inside an installed
    wheel, or the repository's ``data/`` folder next to the package in a checkout (an
    editable install).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileNotFoundError
        If ``GENOTUTOR_DATA`` names no folder, or no data folder is found.
    """
    override = os.environ.get("GENOTUTOR_DATA")
    if override:
        folder = Path(override)
        if not folder.is_dir():
            raise FileNotFoundError(
                f"GENOTUTOR_DATA is {override!r}, which is not a folder; expected genotutor's "
                "data folder (data/ in its repository)"
            )
        return folder
    for folder in _CANDIDATES:
        if (folder / _MARKER).is_file():
            return folder
    raise FileNotFoundError(
        "genotutor's data folder was not found; looked for "
        + " and ".join(str(folder / _MARKER) for folder in _CANDIDATES)
        + ". Reinstall genotutor (pip install genotutor, or pip install -e . in its "
        "repository) or set GENOTUTOR_DATA to its data/ folder"
    )


def data_path(name: str) -> Path:
    """Path of the shipped data file ``name`` (e.g. ``"jaspar_subset.tsv"``) inside
    :func:`data_dir`; a ``FileNotFoundError`` names the file and the folder when it is
    missing."""
    path = data_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"data file {name!r} is missing from {path.parent}")
    return path


# --------------------------------------------------------------------------- MPSA (chapter 8)
MPSA_FILE = "mpsa_data.csv.gz"
MPSA_SHA256 = "df1251425d7bae15cbae5922c9b05e7765344fc4bb13970fb44b51370c09cf74"
MPSA_SETS = ("training", "validation", "test")


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checked_path(name: str, sha256: str, *, verify: bool = True) -> Path:
    """Path of the shipped file ``name``, after checking its SHA-256 checksum against
    ``sha256`` (the one recorded in ``data/README.md``) when ``verify`` is true.

    Raises
    ------
    ValueError
        If the checksum differs: the file is damaged or was replaced.
    """
    path = data_path(name)
    if verify:
        found = _sha256(path)
        if found != sha256:
            raise ValueError(
                f"{path} has SHA-256 {found}; expected {sha256} (see data/README.md). "
                "The file is damaged or was replaced: restore it from the repository."
            )
    return path


def read_checked_csv(name: str, sha256: str, *, verify: bool = True):
    """The shipped CSV file ``name`` as a DataFrame, its checksum checked first
    (:func:`checked_path`). Taught in chapter 4."""
    import pandas as pd

    return pd.read_csv(checked_path(name, sha256, verify=verify))


def load_mpsa(*, verify: bool = True):
    """The massively parallel splicing assay (MPSA) of 5' splice sites, as a DataFrame.

    About 30,000 variants of the 9-nt 5' splice site (3 exonic + 6 intronic nucleotides,
    positions -3 to +6 around the exon-intron junction) of a minigene, each with the
    measured percent spliced in (Wong, Kinney and Krainer 2018), as shipped with MAVE-NN
    (Tareen et al. 2022), which labels each variant training, validation or test. See
    ``data/README.md`` for source, licence and checksum.

    Parameters
    ----------
    verify : bool
        Check the file's SHA-256 checksum first (about 1 ms).

    Returns
    -------
    pandas.DataFrame
        One row per variant, columns ``sequence`` (the 9-nt splice site written in DNA
        letters: the file's RNA ``U`` becomes ``T``, so that
        :func:`genotutor.sequences.one_hot` reads it), ``rna`` (the file's own string),
        ``y`` (log10 PSI), ``tot_ct`` and ``ex_ct`` (read counts of all and of exon-included
        transcripts) and ``set`` (``"training"``, ``"validation"`` or ``"test"``, MAVE-NN's
        split).

    Raises
    ------
    ValueError
        If the file's checksum is not the recorded one.

    Taught in chapter 8.
    """
    frame = read_checked_csv(MPSA_FILE, MPSA_SHA256, verify=verify)
    frame = frame.rename(columns={"x": "rna"})
    frame.insert(0, "sequence", frame["rna"].str.replace("U", "T", regex=False))
    return frame[["sequence", "rna", "y", "tot_ct", "ex_ct", "set"]]


# ---------------------------------------------------------------- lac Sort-Seq (chapter 4)
SORTSEQ_FILE = "sortseq_data.csv.gz"
SORTSEQ_SHA256 = "874d92522535f24517e1c389f21c9e067ab30f43ec34cf951d3efee498324d40"
SORTSEQ_BINS = 10


def load_sortseq(*, verify: bool = True):
    """The lac promoter Sort-Seq experiment of Kinney et al. (2010), as a DataFrame.

    50,518 variants of the 75-nt region upstream of the *E. coli* lac transcription start
    (positions -75 to -1; about 12 % of bases mutated per variant), each sorted by the
    fluorescence of a reporter into 10 bins (bin 0 dimmest) and counted in each, as shipped
    with MAVE-NN (Tareen et al. 2022), which labels each variant training, validation or
    test. See ``data/README.md`` for source, licence and checksum.

    Parameters
    ----------
    verify : bool
        Check the file's SHA-256 checksum first.

    Returns
    -------
    pandas.DataFrame
        One row per variant: ``sequence`` (75 nt), ``ct_0`` ... ``ct_9`` (reads in each
        bin), ``total`` (their sum), ``mean_bin`` (the count-weighted mean bin, a measure of
        expression) and ``set`` (``"training"``, ``"validation"`` or ``"test"``).

    The checksum is checked as for :func:`load_mpsa`. Taught in chapter 4.
    """
    frame = read_checked_csv(SORTSEQ_FILE, SORTSEQ_SHA256, verify=verify)
    counts = frame[[f"ct_{k}" for k in range(SORTSEQ_BINS)]]
    total = counts.sum(axis=1)
    frame = frame.rename(columns={"x": "sequence"})
    frame["total"] = total
    frame["mean_bin"] = counts.to_numpy() @ np.arange(SORTSEQ_BINS) / total.to_numpy()
    return frame[["sequence", *counts.columns, "total", "mean_bin", "set"]]


def lac_wild_type(sequences) -> str:
    """The wild-type lac sequence of the Sort-Seq library: the most common base at each
    position of ``sequences`` (a Series or list of equal-length strings). Taught in
    chapter 4."""
    letters = np.array([list(s) for s in sequences])
    return "".join(max("ACGT", key=lambda b, col=col: int((col == b).sum())) for col in letters.T)


# ------------------------------------------------------------ ChIP-seq peaks (chapter 4)
JANGGU_VERSION = "0.10.2"
TF_PEAK_FILES = {"Oct4": "sample.fa", "MafK": "sample2.fa"}
TF_HELD_OUT_FILES = {"Oct4": "sample_test.fa", "MafK": "sample2_test.fa"}
PEAK_LENGTH = 200


@dataclass
class PeakSet(Rows):
    """ChIP-seq peaks of several transcription factors, one-hot, with where they lie.

    ``len`` and ``subset(index)`` (the peaks at integer rows or a boolean mask) come
    from :class:`genotutor.rows.Rows`.

    Attributes
    ----------
    x : torch.Tensor, shape (N, 4, L)
        One-hot peak sequences (upper-cased: the files soft-mask repeats in lower case).
    y : torch.Tensor, shape (N,), int64
        Which factor's peak each sequence is: an index into ``factors``.
    factors : tuple of str
        The factors, in the order of ``y``.
    chrom : numpy.ndarray of str, shape (N,)
        The chromosome of each peak, from the FASTA header (``chr1:15710957-15711157``).
    start, end : numpy.ndarray of int, shape (N,)
        The peak's coordinates from the header (no assembly is named by the source).
    soft_masked : numpy.ndarray of float, shape (N,)
        Fraction of the peak's letters in lower case (repeat-masked in the source).
    """

    x: torch.Tensor
    y: torch.Tensor
    factors: tuple[str, ...]
    chrom: np.ndarray
    start: np.ndarray
    end: np.ndarray
    soft_masked: np.ndarray

    ROW_FIELDS = ("x", "y", "chrom", "start", "end", "soft_masked")  # not factors

    def split_by_chromosome(
        self, *, test: tuple[str, ...] = ("chr8", "chr9"), valid: tuple[str, ...] = ("chr7",)
    ) -> tuple[PeakSet, PeakSet, PeakSet]:
        """Train / validation / test sets that keep chromosomes apart: every peak on a
        ``test`` chromosome is in the test set, on a ``valid`` one in the validation set,
        the rest in the training set. Taught in chapter 4.

        Raises
        ------
        ValueError
            If a chromosome is named in both, or a named chromosome holds no peak.
        """
        test, valid = _chromosomes(test, "test"), _chromosomes(valid, "valid")
        if set(test) & set(valid):
            raise ValueError(f"test and valid share chromosomes {sorted(set(test) & set(valid))}")
        present = set(self.chrom.tolist())
        for name, group in (("test", test), ("valid", valid)):
            missing = [c for c in group if c not in present]
            if missing:
                raise ValueError(
                    f"{name} names {missing}, which hold no peak; found {sorted(present)}"
                )
        in_test, in_valid = np.isin(self.chrom, test), np.isin(self.chrom, valid)
        return self.subset(~(in_test | in_valid)), self.subset(in_valid), self.subset(in_test)


def _chromosomes(value: object, name: str) -> tuple[str, ...]:
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise TypeError(
            f"{name} must be a tuple of chromosome names such as ('chr8',); found {value!r}"
        )
    return tuple(value)


def janggu_file(name: str) -> Path:
    """Path of ``name`` in janggu's ``resources`` folder, found through the installed
    distribution's metadata without importing janggu (which would need TensorFlow).

    Raises
    ------
    ModuleNotFoundError
        If janggu is not installed, saying how to install it.
    """
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        path = Path(distribution("janggu").locate_file(f"janggu/resources/{name}"))
    except PackageNotFoundError:
        raise ModuleNotFoundError(
            "the ChIP-seq peaks ship in the janggu package, which is not installed; install "
            f"it without its dependencies: pip install --no-deps janggu=={JANGGU_VERSION}"
        ) from None
    if not path.is_file():
        raise FileNotFoundError(
            f"janggu is installed but {path} is missing; reinstall janggu=={JANGGU_VERSION}"
        )
    return path


def read_fasta(path: Path) -> tuple[list[str], list[str]]:
    """Headers (without ``>``) and sequences of a FASTA file, sequences joined across lines."""
    headers, sequences = [], []
    with open(path) as stream:
        for line in stream:
            line = line.strip()
            if line.startswith(">"):
                headers.append(line[1:])
                sequences.append([])
            elif line:
                if not headers:
                    raise ValueError(f"{path} does not start with a FASTA header ('>')")
                sequences[-1].append(line)
    return headers, ["".join(parts) for parts in sequences]


def load_tf_peaks(*, held_out: bool = False) -> PeakSet:
    """Human Oct4 and MafK ChIP-seq peaks (200 nt each), as shipped with janggu.

    janggu 0.10.2 (Kopp et al. 2020; GPL-3.0, read from its installed files, never copied
    here) ships 3,897 Oct4 and 3,900 MafK peak sequences as "sample sequences", plus 100 +
    100 held-out peaks; it names no genome assembly. Install it with
    ``pip install --no-deps janggu==0.10.2``.

    Parameters
    ----------
    held_out : bool
        Load janggu's 100 + 100 held-out peaks (``sample_test.fa``, ``sample2_test.fa``)
        instead of the 7,797 main ones.

    Returns
    -------
    PeakSet
        ``factors == ("Oct4", "MafK")``.

    Taught in chapter 4.
    """
    from genotutor.sequences import one_hot

    check_bool(held_out, "held_out")
    files = TF_HELD_OUT_FILES if held_out else TF_PEAK_FILES
    headers, sequences, labels = [], [], []
    for label, name in enumerate(files.values()):
        heads, seqs = read_fasta(janggu_file(name))
        headers += heads
        sequences += seqs
        labels += [label] * len(seqs)
    chrom, start, end = _coordinates(headers)
    masked = np.array([sum(c.islower() for c in s) / len(s) for s in sequences])
    x = one_hot([s.upper() for s in sequences])
    y = torch.tensor(labels, dtype=torch.long)
    return PeakSet(x, y, tuple(files), chrom, start, end, masked)


def _coordinates(headers: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    chrom, start, end = [], [], []
    for header in headers:
        name, _, span = header.partition(":")
        first, _, last = span.partition("-")
        if not (name and first.isdigit() and last.isdigit()):
            raise ValueError(f"FASTA header {header!r} is not of the form chr1:100-300")
        chrom.append(name)
        start.append(int(first))
        end.append(int(last))
    return np.array(chrom), np.array(start), np.array(end)
