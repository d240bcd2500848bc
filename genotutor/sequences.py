"""DNA sequences as tensors: one-hot encoding, validation, shuffles and mutations.

One layout everywhere: ``(N, 4, L)`` float32 tensors with channels in the order A, C, G, T.
Every user-facing check goes through the validators of :mod:`genotutor.validation`
(re-exported here), so that a bad input always gets the same kind of message: the
argument's name, what was found, what was expected.

Taught in chapter 1, "Sequence to function" (dinucleotide shuffles in chapter 2).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from genotutor.validation import (  # noqa: F401  (re-exported: the one validation family)
    as_array,
    check_bool,
    check_choice,
    check_index,
    check_model,
    check_number,
    check_one_hot,
    check_positive_int,
    check_region,
    check_target,
    check_tensor,
    describe,
)

ALPHABET = "ACGT"
_CODES = np.full(256, -1, dtype=np.int64)
for _index, _letter in enumerate(ALPHABET):
    _CODES[ord(_letter)] = _index
    _CODES[ord(_letter.lower())] = _index
_UNKNOWN_LETTERS = frozenset("Nn")
UNKNOWN_MODES = ("error", "zeros", "uniform")


# --------------------------------------------------------------------------- encoding
def one_hot(sequences: str | Sequence[str], *, unknown: str = "error") -> torch.Tensor:
    """One-hot encode DNA strings into an ``(N, 4, L)`` float32 tensor (A, C, G, T).

    Lower-case letters (soft-masked genome sequence) are encoded like upper-case ones.

    Parameters
    ----------
    sequences : str or sequence of str
        One sequence or several of equal length.
    unknown : {"error", "zeros", "uniform"}
        What to do with ``N``: raise, encode as an all-zero column, or as 0.25 everywhere.
        Any other letter always raises.

    Returns
    -------
    torch.Tensor, shape (N, 4, L)

    Taught in chapter 1.
    """
    check_choice(unknown, "unknown", UNKNOWN_MODES)
    if isinstance(sequences, str):
        sequences = [sequences]
    if not isinstance(sequences, Sequence) or isinstance(sequences, bytes):
        raise TypeError(
            f"sequences must be a string or a list of strings; found {describe(sequences)}"
        )
    if len(sequences) == 0:
        raise ValueError("sequences is empty; expected at least one sequence")
    for i, seq in enumerate(sequences):
        if not isinstance(seq, str):
            raise TypeError(f"sequences[{i}] must be a string; found {describe(seq)}")
    lengths = {len(s) for s in sequences}
    if len(lengths) > 1:
        raise ValueError(
            f"sequences have ragged lengths {sorted(lengths)[:5]}; expected all of one length "
            "(pad or trim them first)"
        )
    joined = "".join(sequences)
    raw = np.frombuffer(joined.encode("ascii", errors="replace"), dtype=np.uint8)
    codes = _CODES[raw].reshape(len(sequences), -1)
    bad = codes < 0
    if bad.any():
        letters = {c for c in joined if c not in "ACGTacgt"}
        others = sorted(letters - _UNKNOWN_LETTERS)
        if others or unknown == "error":
            row, col = map(int, np.argwhere(bad)[0])
            raise ValueError(
                f"sequences[{row}] has {sequences[row][col]!r} at position {col}; expected only "
                f"A, C, G, T (found letters {sorted(letters)})"
                + ("; pass unknown='zeros' or 'uniform' to encode N" if not others else "")
            )
    length = codes.shape[1]
    out = np.zeros((len(sequences), 4, length), dtype=np.float32)
    rows, cols = np.nonzero(~bad)
    out[rows, codes[rows, cols], cols] = 1.0
    if unknown == "uniform":
        rows, cols = np.nonzero(bad)
        out[rows, :, cols] = 0.25
    return torch.from_numpy(out)


def decode(x: torch.Tensor) -> list[str]:
    """Turn an ``(N, 4, L)`` tensor back into strings (argmax per position; all-zero -> N).

    Taught in chapter 1.
    """
    x = check_tensor(x, "x", ndim=(2, 3))
    if x.ndim == 2:
        x = x[None]
    letters = np.array(list(ALPHABET + "N"))
    index = x.argmax(dim=1).numpy()
    index[(x.sum(dim=1) == 0).numpy()] = 4
    return ["".join(row) for row in letters[index]]


def reverse_complement(x: torch.Tensor) -> torch.Tensor:
    """Reverse complement of ``(N, 4, L)`` or ``(4, L)`` one-hot sequences.

    With channels in the order A, C, G, T the complement is the channel axis reversed.
    Taught in chapter 1.
    """
    x = check_tensor(x, "x", ndim=(2, 3))
    return x.flip(dims=(-2, -1))


def random_sequences(n: int, length: int, *, gc: float = 0.5, seed: int = 0) -> torch.Tensor:
    """Draw ``n`` i.i.d. random sequences of ``length`` with GC content ``gc``.

    Returns
    -------
    torch.Tensor, shape (n, 4, length)

    Taught in chapter 1.
    """
    n = check_positive_int(n, "n")
    length = check_positive_int(length, "length")
    if not 0 < gc < 1:
        raise ValueError(f"gc must be in (0, 1); found {gc}")
    rng = np.random.default_rng(seed)
    probs = np.array([1 - gc, gc, gc, 1 - gc]) / 2
    index = rng.choice(4, size=(n, length), p=probs)
    return _index_to_one_hot(index)


def _index_to_one_hot(index: np.ndarray) -> torch.Tensor:
    """``(N, L)`` integer codes 0..3 -> ``(N, 4, L)`` float32 one-hot."""
    out = np.zeros((index.shape[0], 4, index.shape[1]), dtype=np.float32)
    rows, cols = np.indices(index.shape)
    out[rows, index, cols] = 1.0
    return torch.from_numpy(out)


def mutate(x: torch.Tensor, position: int, base: str | int) -> torch.Tensor:
    """Return a copy of ``x`` with ``base`` at ``position`` in every sequence.

    Parameters
    ----------
    x : torch.Tensor, shape (N, 4, L) or (4, L)
    position : int
        0-based position; negative values count from the end.
    base : str or int
        A letter of ACGT or its channel index.

    Taught in chapter 1.
    """
    x = check_tensor(x, "x", ndim=(2, 3))
    length = x.shape[-1]
    if not -length <= int(position) < length:
        raise ValueError(f"position must be in [{-length}, {length}); found {position}")
    if isinstance(base, str):
        if len(base) != 1 or base.upper() not in ALPHABET:
            raise ValueError(f"base must be one of A, C, G, T; found {base!r}")
        base = ALPHABET.index(base.upper())
    if not 0 <= int(base) < 4:
        raise ValueError(f"base must be a letter of ACGT or an index 0..3; found {base!r}")
    out = x.clone()
    out[..., :, position] = 0.0
    out[..., int(base), position] = 1.0
    return out


# --------------------------------------------------------------------------- shuffles
def dinucleotide_counts(x: torch.Tensor) -> torch.Tensor:
    """Count the 16 dinucleotides of each sequence.

    Returns
    -------
    torch.Tensor, shape (N, 4, 4)
        ``counts[n, a, b]`` is the number of positions i with base a at i and b at i + 1.

    Taught in chapter 2.
    """
    x = check_tensor(x, "x", ndim=(2, 3))
    if x.ndim == 2:
        x = x[None]
    return torch.einsum("nai,nbi->nab", x[..., :-1].double(), x[..., 1:].double())


def _shuffle_one(codes: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Dinucleotide shuffles of one integer sequence, as ``(n, L)`` codes.

    The sequence is a walk on a graph whose nodes are letters and whose edges are its
    dinucleotides. Permuting each node's outgoing edges while keeping each node's last
    exit fixed gives another Eulerian walk with the same first letter and the same
    dinucleotide counts (the last exits form a tree into the final letter, so the walk
    cannot get stuck), the classic Altschul-Erickson construction.
    """
    length = codes.shape[0]
    out = np.empty((n, length), dtype=codes.dtype)
    successors = [np.flatnonzero(codes[:-1] == letter) + 1 for letter in range(4)]
    for k in range(n):
        shuffled = []
        for nxt in successors:
            if len(nxt) > 1:
                order = np.concatenate([rng.permutation(len(nxt) - 1), [len(nxt) - 1]])
                nxt = nxt[order]
            shuffled.append(codes[nxt])
        counters = [0, 0, 0, 0]
        current = codes[0]
        out[k, 0] = current
        for i in range(1, length):
            nxt_letter = shuffled[current][counters[current]]
            counters[current] += 1
            out[k, i] = current = nxt_letter
    return out


def dinucleotide_shuffle(x: torch.Tensor, *, n: int = 1, seed: int = 0) -> torch.Tensor:
    """Shuffle sequences while keeping their dinucleotide counts exactly.

    Used to build DeepLIFT / DeepLIFT-SHAP references that keep a sequence's composition
    but destroy its motifs.

    Parameters
    ----------
    x : torch.Tensor, shape (N, 4, L) or (4, L)
        One-hot sequences (no N columns).
    n : int
        Shuffles per sequence.
    seed : int
        Seed of the random generator; the same seed gives the same shuffles.

    Returns
    -------
    torch.Tensor, shape (N, n, 4, L), or (n, 4, L) for a 2-D input

    Taught in chapter 2.
    """
    single = isinstance(x, torch.Tensor) and x.ndim == 2
    x = check_one_hot(x[None] if single else x, "x")
    n = check_positive_int(n, "n")
    if bool((x.sum(dim=1) == 0).any()):
        raise ValueError("x has all-zero (N) columns; dinucleotide shuffles need A, C, G, T only")
    rng = np.random.default_rng(seed)
    codes = x.argmax(dim=1).numpy()
    shuffled = np.stack([_shuffle_one(row, n, rng) for row in codes])
    out = _index_to_one_hot(shuffled.reshape(-1, codes.shape[1])).reshape(
        len(codes), n, 4, codes.shape[1]
    )
    return out[0] if single else out
