"""Loaders for real data shipped with genotutor.

The files live in the repository's ``data/`` folder, which the wheel installs inside the
package as ``genotutor/data`` (package ``genotutor.data``). Each file's source, licence and
checksum are recorded in ``data/README.md``; the loaders check the checksum so that a
damaged file is reported rather than silently used.
"""

from __future__ import annotations

import os
from pathlib import Path

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


# --------------------------------------------------------------------------- MPSA (chapter 7)
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

    Taught in chapter 7.
    """
    import pandas as pd

    path = data_path(MPSA_FILE)
    if verify:
        found = _sha256(path)
        if found != MPSA_SHA256:
            raise ValueError(
                f"{path} has SHA-256 {found}; expected {MPSA_SHA256} (see data/README.md). "
                "The file is damaged or was replaced: restore it from the repository."
            )
    frame = pd.read_csv(path)
    frame = frame.rename(columns={"x": "rna"})
    frame.insert(0, "sequence", frame["rna"].str.replace("U", "T", regex=False))
    return frame[["sequence", "rna", "y", "tot_ct", "ex_ct", "set"]]
