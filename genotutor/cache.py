"""A content-addressed cache of trained weights and computed results.

An entry's key is the hash of its configuration, of genotutor's own source code, of the
data files it ships (which configs read) and of torch's version, so a change to any of them
gives a new entry and a stale one is never returned. Entries are written to a temporary file
and renamed into place (atomic on POSIX), so a crash mid-write leaves no half-written entry,
and read with ``torch.load(weights_only=True)``, which cannot run code from the file.
The folder is ``$GENOTUTOR_CACHE`` or ``~/.cache/genotutor``.

Taught in chapter 1.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from genotutor import datasets
from genotutor.seeding import seeded

_FORMAT = 1


def cache_dir() -> Path:
    """The cache folder: ``$GENOTUTOR_CACHE`` if set, else ``~/.cache/genotutor``."""
    folder = os.environ.get("GENOTUTOR_CACHE") or Path.home() / ".cache" / "genotutor"
    return Path(folder)


@lru_cache(maxsize=1)
def code_version() -> str:
    """Hash of what every entry depends on besides its config.

    That is genotutor's source files (but the explorers, ``genotutor/widgets``: views that
    no cached computation runs, so that editing one retrains nothing), the files of its
    data folder
    (:func:`genotutor.datasets.data_dir`, which ``GENOTUTOR_DATA`` overrides; their names
    and content, not where the folder is) and ``torch.__version__``: a change to any of them
    invalidates the cache. Computed once per process; ``code_version.cache_clear()``
    recomputes it.

    Returns
    -------
    str
        16 hexadecimal digits.
    """
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        if path.relative_to(package).parts[0] == "widgets":
            continue
        digest.update(f"code|{path.relative_to(package).as_posix()}|".encode())
        digest.update(path.read_bytes())
    try:
        folder = datasets.data_dir()
    except FileNotFoundError:  # no data: entries that read none stay usable
        digest.update(b"data|none|")
    else:
        for path in _data_files(folder):
            digest.update(f"data|{path.relative_to(folder).as_posix()}|".encode())
            digest.update(path.read_bytes())
    digest.update(f"torch|{torch.__version__}".encode())
    return digest.hexdigest()[:16]


def _data_files(folder: Path) -> list[Path]:
    """The data folder's files, sorted; hidden files and bytecode (``__pycache__``) left out."""

    def shipped(path: Path) -> bool:
        parts = path.relative_to(folder).parts
        return path.is_file() and not any(p.startswith(".") or p == "__pycache__" for p in parts)

    return sorted(path for path in folder.rglob("*") if shipped(path))


def array_digest(*arrays: object) -> str:
    """A short hash of tensors or arrays (their bytes, in order): a cache key for data.

    Taught in chapter 1.
    """
    digest = hashlib.sha256()
    for array in arrays:
        if isinstance(array, torch.Tensor):
            array = array.detach().cpu().numpy()
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def model_digest(model: nn.Module) -> str:
    """A hash of a model's class and weights: a cache key for what a result was made from.

    Taught in chapter 1.
    """
    state = model.state_dict()
    return type(model).__name__ + "-" + array_digest(*(state[k] for k in sorted(state)))


def _canonical(config: Mapping) -> str:
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a dict; found {type(config).__name__}")
    try:
        return json.dumps(config, sort_keys=True, separators=(",", ":"))
    except TypeError as error:
        raise TypeError(
            f"config must hold only JSON values (str, numbers, bools, lists, dicts); {error}"
        ) from None


def entry_path(config: Mapping, *, kind: str = "model") -> Path:
    """Where the entry for ``config`` lives. The file name is a hash, plus a readable
    prefix from ``config["name"]`` reduced to ``[A-Za-z0-9_-]``, so no config can name a
    path outside the cache folder."""
    text = _canonical(config)
    key = hashlib.sha256(f"{_FORMAT}|{kind}|{code_version()}|{text}".encode()).hexdigest()[:24]
    prefix = re.sub(r"[^A-Za-z0-9_-]", "_", str(config.get("name", kind)))[:40] or kind
    return cache_dir() / f"{prefix}-{key}.pt"


def _save_atomic(payload: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pt")
    try:
        with os.fdopen(handle, "wb") as stream:
            torch.save(payload, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load(path: Path, config: Mapping) -> dict | None:
    """The entry's payload, or None if absent, unreadable or made for another config."""
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, weights_only=True)
    except Exception as error:  # a corrupt file is a miss, reported, then rewritten
        warnings.warn(f"ignoring unreadable cache entry {path.name}: {error}", stacklevel=3)
        return None
    if not isinstance(payload, dict) or payload.get("config") != _canonical(config):
        warnings.warn(f"ignoring cache entry {path.name}: made for another config", stacklevel=3)
        return None
    return payload


@dataclass
class TrainedModel:
    """What :func:`train_or_load` (and :func:`genotutor.training.train_cached`) return.

    Attributes
    ----------
    model : torch.nn.Module
        The trained model, in eval mode.
    history : pandas.DataFrame
        The training history (one row per epoch; empty if the trainer returned none).
    from_cache : bool
        Whether the weights were loaded rather than trained now.
    best_epoch : int or None
        The epoch whose weights were kept, when the trainer reported one.
    """

    model: nn.Module
    history: pd.DataFrame
    from_cache: bool
    best_epoch: int | None = None


def _history_and_epoch(outcome: object) -> tuple[pd.DataFrame, int | None]:
    """A trainer's return value: a FitResult-like object, a DataFrame, or None."""
    if hasattr(outcome, "history") and hasattr(outcome, "best_epoch"):
        return pd.DataFrame(outcome.history), int(outcome.best_epoch)
    return (outcome if isinstance(outcome, pd.DataFrame) else pd.DataFrame()), None


def train_or_load(
    config: Mapping,
    build: Callable[[], nn.Module],
    train: Callable[[nn.Module], object],
) -> TrainedModel:
    """Load the model trained for ``config`` from the cache, or train and store it.

    The cache primitive under :func:`genotutor.training.train_cached`, which every trained
    model of genotutor goes through; use this directly for a trainer other than ``fit``.
    Weights are stored as a CPU state dict, so a model trained on a GPU loads anywhere.

    Parameters
    ----------
    config : dict
        Everything that determines the trained weights (data, architecture, seed, ...),
        as JSON values. ``config["seed"]`` (default 0) seeds ``build`` (in a fork of
        torch's global generator: the caller's random state is left as it was).
    build : callable
        ``build() -> nn.Module``, a fresh untrained model.
    train : callable
        ``train(model)`` trains the model in place and returns a
        :class:`genotutor.training.FitResult`, a history DataFrame, or None.

    Returns
    -------
    TrainedModel

    Taught in chapter 1.
    """
    path = entry_path(config, kind="model")
    with seeded(int(config.get("seed", 0))):  # the caller's random state is left as it was
        model = build()
    payload = _load(path, config)
    if payload is not None:
        model.load_state_dict(payload["state_dict"])
        model.eval()
        history = pd.DataFrame(payload["history"])
        return TrainedModel(model, history, True, payload.get("best_epoch"))
    history, best_epoch = _history_and_epoch(train(model))
    model.eval()
    state = {name: value.detach().cpu() for name, value in model.state_dict().items()}
    _save_atomic(
        {
            "config": _canonical(config),
            "state_dict": state,
            "history": history.to_dict(orient="list"),
            "best_epoch": best_epoch,
        },
        path,
    )
    return TrainedModel(model, history, False, best_epoch)


def memoize(config: Mapping, compute: Callable[[], dict]) -> dict:
    """Return ``compute()`` for ``config``, computed once and then read from the cache.

    ``compute`` must return a dict of tensors, numbers, strings, lists or dicts (what
    ``torch.load(weights_only=True)`` can read back).

    Taught in chapter 1.
    """
    path = entry_path(config, kind="result")
    payload = _load(path, config)
    if payload is not None:
        return payload["result"]
    result = compute()
    if not isinstance(result, dict):
        raise TypeError(f"compute must return a dict; found {type(result).__name__}")
    _save_atomic({"config": _canonical(config), "result": result}, path)
    return result
