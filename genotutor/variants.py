"""What a variant does: reference and alternative scores of any model, and SpliceAI's delta scores.

Two questions a geneticist asks a sequence model:

- :func:`score_variants`: the model's output for the reference and the alternative
  sequence of each variant (single-base substitutions in rows of a one-hot batch), and the
  difference. For every single-base variant this is exactly what ISM computes at that cell.
- :func:`spliceai_tracks` and :func:`spliceai_delta`: SpliceAI's own variant scores. For a
  variant at position ``p`` of a sequence read on the gene's strand, SpliceAI predicts
  every position within ``distance`` nt of ``p`` (default 50) on the reference and on the
  alternative sequence, each from a window of ``10,000 + 2 distance + 1`` nt centred on
  the variant and N-padded beyond the sequence's ends (as SpliceAI pads beyond a gene's
  ends). The four delta scores are the largest increase and the largest decrease of the
  acceptor and of the donor probability in that range (acceptor gain / loss, donor gain /
  loss), each with its position relative to the variant (negative: upstream). This is the
  definition of ``get_delta_scores`` in Illumina's ``spliceai/utils.py``, read there (mask
  option off, its default; the score is not rounded to two decimals).

Indels follow SpliceAI's alignment. A variant is written as in a VCF: ``ref`` and ``alt``
share their first base, and one of them is a single base. For a deletion the alternative
track has ``len(ref) - 1`` fewer positions; zeros are inserted after the anchor base so the
deleted positions count as lost sites. For an insertion the ``len(alt)`` predictions from
the anchor base on are replaced by their maximum, so the track lines up with the reference
again. Substitutions of several bases at once (``ref`` and ``alt`` both longer than one)
are not scored by SpliceAI, and are refused here.

The reference track is computed once for the span of all variants (SpliceAI computes it
in each variant's window: with "valid" convolutions and a receptive field of exactly
10,001 nt both give the same numbers up to float rounding). A gene on the minus strand is
scored by passing its reverse complement, with positions and alleles on that strand.

Taught in chapter 11, "Variant effects".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from genotutor.progress import progress_bar
from genotutor.sequences import ALPHABET, one_hot
from genotutor.targets import Output, Target
from genotutor.training import evaluating, predict
from genotutor.validation import check_model, check_one_hot, check_positive_int, describe

SPLICEAI_CONTEXT = 10_000
DELTA_COLUMNS = ("acceptor_gain", "acceptor_loss", "donor_gain", "donor_loss")
_CHUNK = 4096  # reference outputs per forward pass: bounds memory on long genes


def _check_table(variants: object, columns: tuple[str, ...]) -> pd.DataFrame:
    if not isinstance(variants, pd.DataFrame):
        raise TypeError(
            f"variants must be a pandas DataFrame with columns {list(columns)}; "
            f"found {describe(variants)}"
        )
    missing = [c for c in columns if c not in variants.columns]
    if missing:
        raise ValueError(
            f"variants lacks the columns {missing}; expected {list(columns)}, found "
            f"{list(variants.columns)}"
        )
    if len(variants) == 0:
        raise ValueError("variants is empty; expected at least one row")
    return variants.reset_index(drop=True)


def _integers(values: pd.Series, name: str) -> np.ndarray:
    if not pd.api.types.is_integer_dtype(values):
        raise TypeError(f"variants[{name!r}] must hold integers; found dtype {values.dtype}")
    return values.to_numpy(dtype=np.int64)


def _allele(value: object, column: str, index: int, *, single: bool) -> str:
    text = value.upper() if isinstance(value, str) else None
    if not text or any(base not in ALPHABET for base in text) or (single and len(text) != 1):
        expected = "one of A, C, G, T" if single else "a string of A, C, G, T"
        raise ValueError(f"variants[{column!r}] in row {index} must be {expected}; found {value!r}")
    return text


def score_variants(
    model: nn.Module,
    x: torch.Tensor,
    variants: pd.DataFrame,
    *,
    output: Output = None,
    target: Target = 0,
    device: object = None,
    batch_size: int = 256,
    progress: bool = True,
) -> pd.DataFrame:
    """The model's output before and after each single-base substitution.

    Parameters
    ----------
    model : torch.nn.Module
        Any model of one-hot sequences.
    x : torch.Tensor, shape (N, 4, L)
        The reference sequences, one-hot.
    variants : pandas.DataFrame
        One row per variant: ``row`` (which sequence of ``x``), ``position`` (0-based),
        ``ref`` (the base of ``x`` there, checked) and ``alt`` (the new base); other
        columns are kept.
    output, target
        Which number to follow, as for :func:`genotutor.attribution.attribute`.
    device : str or torch.device, optional
        Where to run (the model's own device by default).
    batch_size : int
        Sequences per forward pass.
    progress : bool
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        ``variants`` with ``ref_score``, ``alt_score`` and ``effect`` (``alt - ref``)
        appended. ``effect`` equals ISM's score at ``(row, alt, position)``.

    Taught in chapter 11.
    """
    check_model(model)
    x = check_one_hot(x, "x")
    table = _check_table(variants, ("row", "position", "ref", "alt")).copy()
    rows = torch.tensor(_integers(table["row"], "row"))
    positions = torch.tensor(_integers(table["position"], "position"))
    n, _, length = x.shape
    for i, (row, position) in enumerate(zip(rows, positions)):
        if not (0 <= row < n and 0 <= position < length):
            raise ValueError(
                f"variant {i} (row {row}, position {position}) lies outside x, which has "
                f"{n} sequences of length {length}"
            )
    refs = [_allele(v, "ref", i, single=True) for i, v in enumerate(table["ref"])]
    alts = [_allele(v, "alt", i, single=True) for i, v in enumerate(table["alt"])]
    found = x[rows, :, positions]  # (V, 4)
    for i, (ref, column) in enumerate(zip(refs, found)):
        if column.sum() != 1 or ALPHABET[int(column.argmax())] != ref:
            seen = "N" if column.sum() != 1 else ALPHABET[int(column.argmax())]
            raise ValueError(
                f"variant {i}: ref {ref!r} does not match x at row {int(rows[i])}, position "
                f"{int(positions[i])}, which holds {seen!r}"
            )
    mutants = x[rows].clone()
    index = torch.arange(len(rows))
    mutants[index, :, positions] = 0
    mutants[index, torch.tensor([ALPHABET.index(a) for a in alts]), positions] = 1
    unique_rows, inverse = torch.unique(rows, return_inverse=True)
    options = dict(output=output, target=target, device=device, batch_size=batch_size)
    reference = predict(model, x[unique_rows], **options, progress=False)[inverse]
    alternative = predict(model, mutants, **options, progress=progress)
    table["ref_score"] = reference.cpu().double().numpy()
    table["alt_score"] = alternative.cpu().double().numpy()
    table["effect"] = table["alt_score"] - table["ref_score"]
    return table


@dataclass(frozen=True)
class SpliceTracks:
    """SpliceAI's predictions around each variant, reference and alternative, aligned.

    Attributes
    ----------
    variants : pandas.DataFrame
        The variants scored (``position``, ``ref``, ``alt`` and the caller's columns).
    reference, alternative : numpy.ndarray, shape (V, 3, 2 distance + 1)
        Probabilities of neither, acceptor, donor at offsets ``-distance ... distance``
        from each variant (indels aligned as the module docstring says).
    distance : int

    Taught in chapter 11.
    """

    variants: pd.DataFrame
    reference: np.ndarray
    alternative: np.ndarray
    distance: int

    @property
    def offsets(self) -> np.ndarray:
        """``(2 distance + 1,)``: position relative to the variant of each track column."""
        return np.arange(-self.distance, self.distance + 1)


def _check_sequence(sequence: object) -> str:
    if not isinstance(sequence, str) or not sequence:
        raise TypeError(f"sequence must be a non-empty DNA string; found {describe(sequence)}")
    text = sequence.upper()
    bad = sorted(set(text) - set(ALPHABET + "N"))
    if bad:
        raise ValueError(f"sequence must contain only A, C, G, T, N; found {bad}")
    return text


def _check_splice_variants(table: pd.DataFrame, sequence: str) -> list[tuple[int, str, str]]:
    positions = _integers(table["position"], "position")
    checked = []
    for i, position in enumerate(positions):
        ref = _allele(table["ref"][i], "ref", i, single=False)
        alt = _allele(table["alt"][i], "alt", i, single=False)
        if not 0 <= position <= len(sequence) - len(ref):
            raise ValueError(
                f"variant {i}: position {position} (ref {ref}) lies outside the sequence of "
                f"length {len(sequence)}"
            )
        if sequence[position : position + len(ref)] != ref:
            raise ValueError(
                f"variant {i}: ref {ref!r} does not match the sequence at position "
                f"{position}, which reads {sequence[position : position + len(ref)]!r}"
            )
        if len(ref) > 1 and len(alt) > 1:
            raise ValueError(
                f"variant {i}: {ref}>{alt} changes several bases at once; SpliceAI scores "
                "substitutions of one base and indels whose ref or alt is one base"
            )
        if ref == alt or (len(ref) != len(alt) and ref[0] != alt[0]):
            raise ValueError(
                f"variant {i}: {ref}>{alt} is not a variant in VCF form (an indel's ref and "
                "alt share their first base; a substitution changes its base)"
            )
        checked.append((int(position), ref, alt))
    return checked


def _run(model: nn.Module, x: torch.Tensor, here: torch.device) -> np.ndarray:
    return model(x.to(here)).float().cpu().numpy()


def _reference_span(model, padded: str, start: int, stop: int, here, flank: int) -> np.ndarray:
    """Predictions ``(3, stop - start)`` at padded positions ``start ... stop - 1``."""
    parts = []
    for lo in range(start, stop, _CHUNK):
        hi = min(lo + _CHUNK, stop)
        window = one_hot(padded[lo - flank : hi + flank], unknown="zeros")
        parts.append(_run(model, window, here)[0])
    return np.concatenate(parts, axis=1)


def _align(track: np.ndarray, ref: str, alt: str, distance: int) -> np.ndarray:
    """SpliceAI's alignment of an indel's alternative track to the reference's columns."""
    if len(ref) > 1:  # deletion: zeros after the anchor for the deleted positions
        cut = distance + 1
        gap = np.zeros((3, len(ref) - 1), dtype=track.dtype)
        return np.concatenate([track[:, :cut], gap, track[:, cut:]], axis=1)
    if len(alt) > 1:  # insertion: the inserted positions collapse to their maximum
        merged = track[:, distance : distance + len(alt)].max(axis=1, keepdims=True)
        return np.concatenate(
            [track[:, :distance], merged, track[:, distance + len(alt) :]], axis=1
        )
    return track


def spliceai_tracks(
    model: nn.Module,
    sequence: str,
    variants: pd.DataFrame,
    *,
    distance: int = 50,
    device: object = None,
    batch_size: int = 8,
    progress: bool = True,
) -> SpliceTracks:
    """SpliceAI's acceptor and donor tracks around each variant, before and after it.

    Parameters
    ----------
    model : SpliceAI or SpliceAIEnsemble
        ``genotutor.spliceai.load_spliceai()`` (SpliceAI scores with all five), or any
        model mapping ``(N, 4, L)`` to ``(N, 3, L - model.context)`` probabilities.
    sequence : str
        The gene (A, C, G, T, N) on its own strand, any length; N-padded beyond its ends.
    variants : pandas.DataFrame
        ``position`` (0-based, of the first base of ``ref``), ``ref``, ``alt`` in VCF form
        (see the module docstring); other columns are kept.
    distance : int
        How far from the variant to look, in nt (SpliceAI's ``-D``, default 50).
    device : str or torch.device, optional
        Where to run (the model's own device by default).
    batch_size : int
        Alternative windows per forward pass.
    progress : bool
        Show a progress bar.

    Returns
    -------
    SpliceTracks

    Taught in chapter 11.
    """
    check_model(model)
    sequence = _check_sequence(sequence)
    table = _check_table(variants, ("position", "ref", "alt"))
    distance = check_positive_int(distance, "distance")
    batch_size = check_positive_int(batch_size, "batch_size")
    checked = _check_splice_variants(table, sequence)
    flank = int(getattr(model, "context", SPLICEAI_CONTEXT)) // 2
    half = flank + distance  # SpliceAI's wid // 2
    padded = "N" * half + sequence + "N" * half
    centres = np.array([p for p, _, _ in checked]) + half
    alternative = np.empty((len(checked), 3, 2 * distance + 1), dtype=np.float32)
    by_length: dict[int, list[int]] = {}
    for i, (_, ref, alt) in enumerate(checked):
        by_length.setdefault(len(alt) - len(ref), []).append(i)
    batches = [
        group[i : i + batch_size]
        for group in by_length.values()
        for i in range(0, len(group), batch_size)
    ]
    with evaluating(model, device) as here, torch.inference_mode():
        span_start, span_stop = centres.min() - distance, centres.max() + distance + 1
        span = _reference_span(model, padded, span_start, span_stop, here, flank)
        offsets = centres[:, None] - span_start + np.arange(-distance, distance + 1)
        reference = np.stack([span[:, columns] for columns in offsets])
        for batch in progress_bar(batches, desc="SpliceAI variants", progress=progress):
            windows = []
            for i in batch:
                centre, (_, ref, alt) = centres[i], checked[i]
                windows.append(
                    padded[centre - half : centre]
                    + alt
                    + padded[centre + len(ref) : centre + half + 1]
                )
            tracks = _run(model, one_hot(windows, unknown="zeros"), here)
            for i, track in zip(batch, tracks):
                alternative[i] = _align(track, checked[i][1], checked[i][2], distance)
    return SpliceTracks(table, reference.astype(np.float32), alternative, distance)


def delta_scores(tracks: SpliceTracks) -> pd.DataFrame:
    """SpliceAI's four delta scores and their positions, from :func:`spliceai_tracks`.

    Returns
    -------
    pandas.DataFrame
        The variants with ``acceptor_gain``, ``acceptor_loss``, ``donor_gain``,
        ``donor_loss`` (each in [0, 1]), their positions relative to the variant
        (``acceptor_gain_at`` ...; SpliceAI's DP_AG ...) and ``max_delta``.

    Taught in chapter 11.
    """
    if not isinstance(tracks, SpliceTracks):
        raise TypeError(f"tracks must come from spliceai_tracks; found {describe(tracks)}")
    table = tracks.variants.copy()
    change = tracks.alternative - tracks.reference  # (V, 3, W)
    for channel, kind in ((1, "acceptor"), (2, "donor")):
        for name, signed in (("gain", change[:, channel]), ("loss", -change[:, channel])):
            at = signed.argmax(axis=1)
            table[f"{kind}_{name}"] = signed[np.arange(len(at)), at].astype(np.float64)
            table[f"{kind}_{name}_at"] = at - tracks.distance
    table["max_delta"] = table[list(DELTA_COLUMNS)].max(axis=1)
    return table


def spliceai_delta(
    model: nn.Module, sequence: str, variants: pd.DataFrame, **options: object
) -> pd.DataFrame:
    """SpliceAI's delta scores of variants in a sequence: :func:`spliceai_tracks` (which
    takes the same arguments and keyword options: ``distance``, ``device``,
    ``batch_size``, ``progress``), then :func:`delta_scores` (which says what it returns).

    Taught in chapter 11.
    """
    return delta_scores(spliceai_tracks(model, sequence, variants, **options))
