"""The chapter-8 and chapter-9 explorer: edit an exon or toggle a confounder, watch
teacher, student and truth move."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import torch
import traitlets
from torch import nn

from genotutor.sequences import ALPHABET, mutate
from genotutor.splicing.features import edit_codes, edit_feature, from_codes, to_codes
from genotutor.training import evaluating, predict
from genotutor.validation import (
    check_model,
    check_positive_int,
    check_region,
    check_target,
    check_tensor,
)
from genotutor.widgets._base import sequence_and_position_controls
from genotutor.widgets._view import ExplorerView, esm, link, pack

EDITS = {
    "none": None,
    "add 2 CpG": ("cpg", "add"),
    "remove CpG": ("cpg", "remove"),
    "add 2 stops": ("stop", "add"),
    "remove stops": ("stop", "remove"),
}
N_SITES = 2  # what "add 2" adds
MAX_COMBINATIONS = 250_000  # edited sequences in the table: what a page can carry


class SplicingView(ExplorerView):
    """The browser side of :class:`SplicingExplorer` (``js/splicing.js``)."""

    _esm = esm("splicing")
    sequence = traitlets.Int(0).tag(sync=True)
    position = traitlets.Int(0).tag(sync=True)
    base = traitlets.Int(0).tag(sync=True)  # index into keep, A, C, G, T
    edit = traitlets.Int(0).tag(sync=True)  # index into EDITS


class SplicingExplorer(widgets.VBox):
    """Mutate a base of an exon, or add / remove CpG or in-frame stop codons, and compare
    several models' predictions before and after.

    Every combination the controls can reach (sequence, position in ``positions``, base,
    confounder edit: ``N x P x 4 x 5`` edited sequences, the base ``keep`` being the
    reference's own base) is edited and run through every model once, when the explorer
    is built; the view draws from that table (each model's output and the bases the edits
    changed), so the explorer works the same in a live notebook and on the book's static
    page. Pass few sequences, or a short ``positions`` range, for a slow model.

    Parameters
    ----------
    models : dict of str to torch.nn.Module
        Any models mapping ``(N, 4, L)`` to ``(N, T)`` (output ``target`` is shown), e.g.
        ``{"teacher": ..., "student": ..., "truth": TruthModel()}``.
    x : torch.Tensor, shape (N, 4, L)
        One-hot sequences (A, C, G, T only).
    region : (int, int), optional
        Where confounders are added or removed (the exon body); everywhere by default.
    frame : int
        A codon start (for stop codons).
    target : int
    window : int
        Positions shown around the mutated base.
    positions : (int, int), optional
        The ``[start, stop)`` range of the position control; the whole sequence by default.
    seed : int
        Seeds where an "add" edit puts its sites, as ``edit_feature(seed=seed)`` does.

    Attributes
    ----------
    sequence, position, base, edit : ipywidgets controls
    view : SplicingView
        Draws the summary and the figure.
    before : torch.Tensor, shape (M, N)
        Each model's output for each sequence as it is.
    n_distinct : int
        How many distinct edited sequences each model was run on to fill the table.
    after : torch.Tensor, shape (M, N, 5, 4, P)
        Each model's output after edit ``e`` (in the order of ``EDITS``) of the sequence
        with base ``b`` at position ``positions[0] + i``.

    Taught in chapter 9.
    """

    def __init__(
        self,
        models: dict[str, nn.Module],
        x: torch.Tensor,
        *,
        region: tuple[int, int] | None = None,
        frame: int = 0,
        target: int = 0,
        window: int = 40,
        positions: tuple[int, int] | None = None,
        seed: int = 0,
    ) -> None:
        self.models = _check_models(models)
        self.x = check_tensor(x, "x")
        codes = to_codes(self.x, "x")
        length = codes.shape[1]
        self.region = check_region(region, length, "region")
        self.frame = check_positive_int(frame, "frame", minimum=0)
        self.target = _check_target(self.models, self.x, target)
        self.window = check_positive_int(window, "window")
        self.positions = check_region(positions, length, "positions")
        self.seed = check_positive_int(seed, "seed", minimum=0)
        _check_table_size(len(codes), self.positions)
        edited = _edited_codes(codes, self.positions, self.region, self.frame, self.seed)
        self.before, self.after = self._outputs(codes, edited)
        self.sequence, self.position = sequence_and_position_controls(len(codes), length)
        start, stop = self.positions
        self.position.min, self.position.max = start, stop - 1
        self.position.value = (start + stop - 1) // 2
        self.base = widgets.ToggleButtons(options=["keep", *ALPHABET], description="base")
        self.edit = widgets.Dropdown(options=list(EDITS), description="confounder")
        changed_at, changed_to, offsets = _changes(codes, edited)
        data = {
            "names": list(self.models),
            "bases": pack(codes, "uint8"),
            "before": pack(self.before),
            "after": pack(self.after),
            "offsets": pack(offsets, "int32"),
            "changed_at": pack(changed_at, "uint8" if length <= 256 else "int32"),
            "changed_to": pack(changed_to, "uint8"),
            "positions": list(self.positions),
            "window": self.window,
        }
        self.view = SplicingView(data=data)
        for name in ("sequence", "position", "base", "edit"):
            link(getattr(self, name), self.view, name)
        super().__init__(
            [
                widgets.HBox([self.sequence, self.position]),
                widgets.HBox([self.base, self.edit]),
                self.view,
            ]
        )

    def _outputs(self, codes: np.ndarray, edited: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Each model's output on the sequences ``(M, N)`` and on each distinct edited one,
        scattered back over the table ``(M, N, 5, 4, P)``."""
        unique, inverse = np.unique(edited.reshape(-1, codes.shape[1]), axis=0, return_inverse=True)
        self.n_distinct = len(unique)  # what each model was run on, besides the originals
        inputs, originals = from_codes(unique), from_codes(codes)
        before, after = [], []
        for model in self.models.values():
            before.append(predict(model, originals)[:, self.target])
            outputs = predict(model, inputs)[:, self.target]
            after.append(outputs[torch.from_numpy(inverse.reshape(-1))])
        shape = (len(self.models), *edited.shape[:-1])
        return torch.stack(before).float(), torch.stack(after).float().reshape(shape)

    def _check_index(self) -> int:
        index = self.sequence.value
        if not 0 <= index < len(self.x):
            raise ValueError(f"sequence must be in [0, {len(self.x) - 1}]; found {index}")
        return index

    def edited(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The chosen sequence before and after the edits, each of shape (1, 4, L),
        computed afresh with :func:`~genotutor.sequences.mutate` and
        :func:`~genotutor.splicing.features.edit_feature` (the table's oracle)."""
        index = self._check_index()
        before = self.x[index : index + 1]
        after = before
        if self.base.value != "keep":
            after = mutate(after, self.position.value, self.base.value)
        change = EDITS[self.edit.value]
        if change is not None:
            feature, action = change
            after = edit_feature(
                after,
                feature,
                action,
                n_sites=N_SITES,
                region=self.region,
                frame=self.frame,
                seed=self.seed,
            )
        return before, after

    def predictions(self) -> dict[str, tuple[float, float]]:
        """Each model's output before and after the edits: what the view shows, read from
        the table."""
        index = self._check_index()
        position = self.position.value
        base = self.base.value
        b = int(self.x[index, :, position].argmax()) if base == "keep" else ALPHABET.index(base)
        e = list(EDITS).index(self.edit.value)
        i = position - self.positions[0]
        return {
            name: (float(self.before[m, index]), float(self.after[m, index, e, b, i]))
            for m, name in enumerate(self.models)
        }


def _check_models(models: object) -> dict[str, nn.Module]:
    if not isinstance(models, dict) or not models:
        raise TypeError(f"models must be a non-empty dict of name -> model; found {models!r}")
    for name in models:
        if not isinstance(name, str):
            raise TypeError(f"models' names must be strings; found {name!r}")
    return {name: check_model(model, f"models[{name!r}]") for name, model in models.items()}


def _check_target(models: dict[str, nn.Module], x: torch.Tensor, target: object) -> int:
    """``target`` checked against the outputs of every model (on one sequence)."""
    for model in models.values():
        with torch.no_grad(), evaluating(model):
            target = check_target(target, model(x[:1]).shape[1])
    return target


def _check_table_size(n_sequences: int, positions: tuple[int, int]) -> None:
    combinations = n_sequences * (positions[1] - positions[0]) * 4 * len(EDITS)
    if combinations > MAX_COMBINATIONS:
        raise ValueError(
            f"the explorer precomputes every edited sequence, {n_sequences} sequences x "
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


def splicing_explorer(
    models: dict[str, nn.Module],
    x: torch.Tensor,
    *,
    region: tuple[int, int] | None = None,
    frame: int = 0,
    target: int = 0,
    positions: tuple[int, int] | None = None,
    seed: int = 0,
) -> SplicingExplorer:
    """Build a :class:`SplicingExplorer` (chapters 9 and 10) for any models and sequences.
    Taught in chapter 9."""
    return SplicingExplorer(
        models, x, region=region, frame=frame, target=target, positions=positions, seed=seed
    )
