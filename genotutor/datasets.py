"""Loaders for real data shipped in the repository's ``data/`` folder.

Each file's source, licence and checksum are recorded in ``data/README.md``; the loaders
check the checksum so that a damaged file is reported rather than silently used.
"""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """The folder holding the shipped data files.

    ``GENOTUTOR_DATA`` overrides it; by default it is the repository's ``data/`` folder
    (genotutor is installed in editable mode from its repository).
    """
    override = os.environ.get("GENOTUTOR_DATA")
    folder = Path(override) if override else Path(__file__).resolve().parent.parent / "data"
    if not folder.is_dir():
        raise FileNotFoundError(
            f"genotutor's data folder was not found at {folder}; install genotutor in editable "
            "mode from its repository (pip install -e .) or set GENOTUTOR_DATA to its data/ folder"
        )
    return folder


def data_path(name: str) -> Path:
    """Path of one shipped data file, with a clear error when it is missing."""
    path = data_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"data file {name!r} is missing from {path.parent}")
    return path
