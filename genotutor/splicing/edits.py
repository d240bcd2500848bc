"""Every edit of an exon that chapter 9's explorer offers (one base mutated, CpG or
in-frame stop codons added or removed), run through several models: the table it draws.

Taught in chapter 9.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from genotutor.progress import progress_bar
from genotutor.splicing.features import edit_codes, from_codes, to_codes
from genotutor.training import predict
from genotutor.validation import (
    check_bool,
    check_device,
    check_models,
    check_positive_int,
    check_region,
    check_target,
)

EDITS = {
    "none": None,
    "add 2 CpG": ("cpg", "add"),
    "remove CpG": ("cpg", "remove"),
    "add 2 stops": ("stop", "add"),
    "remove stops": ("stop", "remove"),
}
N_SITES = 2  # what "add 2" adds
MAX_COMBINATIONS = 250_000  # edited sequences in the table: what a page can carry


@dataclass(frozen=True)
class EditTable:
    """Each model's output on every reachable edited sequence.

    Attributes
    ----------
    names : tuple of str
        The models, in order.
    positions, region : (int, int)
        The mutated range ``[start, stop)`` and where confounders are edited.
    frame, seed : int
        As passed (the codon start; the seed of the "add" edits).
    before : torch.Tensor, shape (M, N)
        Each model's output for each sequence as it is.
    after : torch.Tensor, shape (M, N, 5, 4, P)
        Each model's output after edit ``e`` (in the order of :data:`EDITS`) of the
        sequence with base ``b`` at position ``positions[0] + i``.
    n_distinct : int
        How many distinct edited sequences each model was run on.
    changed_at, changed_to, offsets : numpy.ndarray
        The bases each edited sequence changed, as compressed rows: for combination ``c``
        (the flat index of ``after``'s axes after the first), positions
        ``changed_at[offsets[c]:offsets[c + 1]]`` now hold bases ``changed_to[...]``.

    Taught in chapter 9.
    """

    names: tuple[str, ...]
    positions: tuple[int, int]
    region: tuple[int, int]
    frame: int
    seed: int
    before: torch.Tensor
    after: torch.Tensor
    n_distinct: int
    changed_at: np.ndarray
    changed_to: np.ndarray
    offsets: np.ndarray


def edit_table(
    models: dict[str, nn.Module],
    x: torch.Tensor,
    *,
    region: tuple[int, int] | None = None,
    frame: int = 0,
    target: int = 0,
    positions: tuple[int, int] | None = None,
    seed: int = 0,
    device: object = None,
    progress: bool = True,
) -> EditTable:
    """Every combination of sequence, position in ``positions``, base and confounder edit
    (``N x P x 4 x 5`` edited sequences; the base of the sequence itself is one of the 4)
    edited once and run through every model once.

    Parameters
    ----------
    models : dict of str to torch.nn.Module
        Any models mapping ``(N, 4, L)`` to ``(N, T)``, e.g.
        ``{"teacher": ..., "student": ..., "truth": TruthModel()}``.
    x : torch.Tensor, shape (N, 4, L)
        One-hot sequences (A, C, G, T only).
    region : (int, int), optional
        Where confounders are added or removed (the exon body); everywhere by default.
    frame : int
        A codon start (for stop codons).
    target : int
        Which output.
    positions : (int, int), optional
        The ``[start, stop)`` range of mutated positions; the whole sequence by default.
    seed : int
        Seeds where an "add" edit puts its sites, as ``edit_feature(seed=seed)`` does.
    device, progress
        Where to run, and a progress bar: as for :func:`genotutor.training.predict`.

    Returns
    -------
    EditTable

    Raises
    ------
    ValueError
        When the table would hold more than :data:`MAX_COMBINATIONS` edited sequences.

    Taught in chapter 9.
    """
    models = check_models(models)
    codes = to_codes(x, "x")
    length = codes.shape[1]
    region = check_region(region, length, "region")
    frame = check_positive_int(frame, "frame", minimum=0)
    positions = check_region(positions, length, "positions")
    seed = check_positive_int(seed, "seed", minimum=0)
    check_device(device)
    check_bool(progress, "progress")
    _check_table_size(len(codes), positions)
    originals = from_codes(codes)
    befores = {}
    for name, model in models.items():  # every model's outputs checked before any editing
        outputs = predict(model, originals, device=device, progress=False)
        target = check_target(target, outputs.shape[1])
        befores[name] = outputs
    edited = _edited_codes(codes, positions, region, frame, seed)
    unique, inverse = np.unique(edited.reshape(-1, length), axis=0, return_inverse=True)
    inputs, where = from_codes(unique), torch.from_numpy(inverse.reshape(-1))
    before, after = [], []
    for name in progress_bar(models, desc="edited sequences", progress=progress):
        before.append(befores[name][:, target])
        outputs = predict(models[name], inputs, device=device, progress=False)[:, target]
        after.append(outputs[where])
    shape = (len(models), *edited.shape[:-1])
    changed_at, changed_to, offsets = _changes(codes, edited)
    return EditTable(
        tuple(models), positions, region, frame, seed,
        torch.stack(before).float(), torch.stack(after).float().reshape(shape), len(unique),
        changed_at, changed_to, offsets,
    )  # fmt: skip


def _check_table_size(n_sequences: int, positions: tuple[int, int]) -> None:
    combinations = n_sequences * (positions[1] - positions[0]) * 4 * len(EDITS)
    if combinations > MAX_COMBINATIONS:
        raise ValueError(
            f"the table holds every edited sequence, {n_sequences} sequences x "
            f"{positions[1] - positions[0]} positions x 4 bases x {len(EDITS)} edits = "
            f"{combinations:,}, more than {MAX_COMBINATIONS:,}: pass fewer sequences (x) or "
            "a shorter positions=(start, stop) range"
        )


def _edited_codes(
    codes: np.ndarray, positions: tuple[int, int], region: tuple[int, int], frame: int, seed: int
) -> np.ndarray:
    """Every reachable edited sequence, ``(N, 5, 4, P, L)`` codes: edit ``e`` of sequence
    ``n`` with base ``b`` at position ``positions[0] + i``.

    Each distinct mutant is edited once. "remove" edits act on each row alone, so they
    run on all rows at once; "add" edits draw their positions from a generator seeded as
    :func:`edit_feature` seeds it, once per sequence, so each mutant gets its own call.
    """
    n, length = codes.shape
    start, stop = positions
    spots = np.arange(start, stop)
    mutants = np.repeat(codes[:, None, None, :], 4, axis=1).repeat(len(spots), axis=2)
    mutants[:, :, np.arange(len(spots)), spots] = np.arange(4)[None, :, None]
    unique, inverse = np.unique(mutants.reshape(-1, length), axis=0, return_inverse=True)
    out = np.empty((len(EDITS), *unique.shape), dtype=np.int64)
    for e, change in enumerate(EDITS.values()):
        rows = out[e]
        rows[:] = unique
        if change is None:
            continue
        feature, action = change
        options = {"n_sites": N_SITES, "region": region, "frame": frame, "motif": None}
        if action == "remove":
            edit_codes(rows, feature, action, rng=np.random.default_rng(seed), **options)
            continue
        for r in range(len(rows)):
            edit_codes(rows[r : r + 1], feature, action, rng=np.random.default_rng(seed), **options)
    table = out.astype(np.uint8)[:, inverse.reshape(-1)]
    return table.reshape(len(EDITS), n, 4, len(spots), length).transpose(1, 0, 2, 3, 4)


def _changes(codes: np.ndarray, edited: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The bases each edited sequence changed, as compressed rows: for combination ``c``
    (the flat index of ``edited``'s leading axes), positions ``at[offsets[c]:offsets[c+1]]``
    now hold bases ``to[...]``."""
    length = codes.shape[1]
    changed = edited != codes[:, None, None, None, :]
    flat = changed.reshape(-1, length)
    offsets = np.concatenate([[0], np.cumsum(flat.sum(axis=1))])
    combination, at = np.nonzero(flat)
    to = edited.reshape(-1, length)[combination, at]
    return at, to, offsets
