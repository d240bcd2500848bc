"""Distillation: fit an interpretable student to a teacher's outputs, and score the fit.

Taught in chapter 9, "Distilling a splicing model".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from genotutor.cache import array_digest, model_digest
from genotutor.distillation.students import AdditiveStudent, NeuralBasisStudent
from genotutor.simulate import split_indices
from genotutor.targets import Output, Target
from genotutor.training import predict, train_cached
from genotutor.validation import (
    as_array,
    check_choice,
    check_model,
    check_models,
    check_number,
    check_tensor,
)

STUDENTS = ("additive", "pairwise", "neural_basis")
LOSSES = ("mse", "kl_logits")
METRICS = ("pearson", "spearman", "r2")


def build_student(kind: str, length: int, **options: object) -> nn.Module:
    """A fresh student: ``"additive"``, ``"pairwise"`` (neighbours up to 3 apart by default)
    or ``"neural_basis"``; ``options`` go to the student's constructor.

    Taught in chapter 9.
    """
    check_choice(kind, "student", STUDENTS)
    if kind == "additive":
        return AdditiveStudent(length, **options)
    if kind == "pairwise":
        return AdditiveStudent(length, **{"max_distance": 3, **options})
    return NeuralBasisStudent(length, **options)


def _start_at(student: nn.Module, mean_output: float) -> nn.Module:
    """A neural-basis student starts at the teacher's mean output (its readout's offset), so
    its first steps learn how the output varies, not its level (on SpliceAI, chapter 10,
    started at zero it was still near its mean after 30 epochs)."""
    if isinstance(student, NeuralBasisStudent):
        with torch.no_grad():
            student.offset.fill_(mean_output)
    return student


@dataclass
class Distilled:
    """What :func:`distill` returns: the trained ``student`` (in eval mode), its training
    ``history``, the rows of ``sequences`` held out for early stopping (``valid_index``),
    the cache ``config`` and whether the student came ``from_cache``.

    Taught in chapter 9.
    """

    student: nn.Module
    history: pd.DataFrame
    valid_index: np.ndarray
    config: dict
    from_cache: bool


def distill(
    teacher: nn.Module,
    sequences: torch.Tensor,
    *,
    student: str = "neural_basis",
    student_options: dict | None = None,
    output: Output = None,
    target: Target = 0,
    valid_fraction: float = 0.1,
    seed: int = 0,
    teacher_key: str | None = None,
    loss: str = "mse",
    device: object = None,
    progress: bool = True,
    **fit_options: object,
) -> Distilled:
    """Fit a student to the teacher's outputs on sequences the caller chooses.

    The student is trained on the teacher's value (a logit, chosen by ``output`` and
    ``target``) for ``sequences``, by mean squared error or, as the paper does for
    SpliceAI, by the KL divergence of the Bernoulli distributions the logits define; a
    random ``valid_fraction`` of them is held out for early stopping. Students are cached
    like every trained model: the key holds a hash of the teacher's weights, of the
    sequences and of the labels.

    Parameters
    ----------
    teacher : torch.nn.Module
        Any model of ``(N, 4, L)`` sequences.
    sequences : torch.Tensor, shape (N, 4, L)
        Where to query the teacher: reference-like or random sequences give different
        students (that is the point of chapter 9).
    student : {"additive", "pairwise", "neural_basis"}
        See :func:`build_student`.
    student_options : dict, optional
        Keyword arguments of the student's constructor.
    output, target
        The teacher's value to distil (see :mod:`genotutor.targets`); by default column 0
        of a single ``(N, T)`` output.
    valid_fraction : float
    seed : int
        Seeds the split, the student's initial weights and training.
    teacher_key : str, optional
        Cache key of the teacher; by default a hash of its class and weights (give one
        for a teacher without weights, such as :class:`genotutor.splicing.TruthModel`).
    loss : {"mse", "kl_logits"}
        ``"kl_logits"``: ``KL(sigmoid(teacher) || sigmoid(student))``, the authors'
        ``kl_divergence_logits`` (``metrics/losses.py``): binary cross-entropy of the
        student's logit against the teacher's probability, minus the teacher's entropy.
    device : str or torch.device, optional
        Where to run the teacher and train the student (the teacher's device by default;
        the student is returned on the CPU).
    progress : bool
    **fit_options
        Passed to :func:`genotutor.training.fit` (here ``epochs=20, batch_size=32,
        lr=5e-3, patience=8`` unless given; the loss is ``loss``). With these the
        neural-basis student converges for every seed chapter 9 tries; with batches of 128,
        30 epochs and a patience of 4 it often stopped on a plateau or before converging.

    Returns
    -------
    Distilled

    Taught in chapter 9.
    """
    check_model(teacher, "teacher")
    check_tensor(sequences, "sequences")
    check_choice(student, "student", STUDENTS)
    check_choice(loss, "loss", LOSSES)
    options = dict(student_options or {})
    valid_fraction = check_number(
        valid_fraction, "valid_fraction", minimum=0, maximum=1, inclusive=(False, False)
    )
    n = len(sequences)
    n_valid = int(round(valid_fraction * n))
    if n_valid < 1 or n - n_valid < 1:
        raise ValueError(f"sequences has {n} rows; too few to hold out {valid_fraction:.0%}")
    y = predict(teacher, sequences, output=output, target=target, device=device, progress=False)[
        :, None
    ]
    train_index, valid_index, _ = split_indices(n, valid=valid_fraction, test=0.0, seed=seed)
    train_index, valid_index = np.sort(train_index), np.sort(valid_index)
    config = {
        "name": f"student-{student}",
        "teacher": teacher_key or model_digest(teacher),
        "data": array_digest(sequences),
        "labels": array_digest(y),
        "student": student,
        "options": options,
        "valid_fraction": valid_fraction,
        "loss": loss,
    }
    train_rows, valid_rows = torch.as_tensor(train_index), torch.as_tensor(valid_index)
    mean_output = float(y[train_rows].mean())
    trained = train_cached(
        config,
        lambda: _start_at(build_student(student, sequences.shape[-1], **options), mean_output),
        (sequences[train_rows], y[train_rows]),
        (sequences[valid_rows], y[valid_rows]),
        seed=seed,
        device=device,
        progress=progress,
        **({"epochs": 20, "batch_size": 32, "lr": 5e-3, "patience": 8} | fit_options),
        loss="mse" if loss == "mse" else kl_logits,
    )
    return Distilled(trained.model, trained.history, valid_index, config, trained.from_cache)


def kl_logits(student_logit: torch.Tensor, teacher_logit: torch.Tensor) -> torch.Tensor:
    """``KL(Bernoulli(sigmoid(t)) || Bernoulli(sigmoid(s)))``, averaged: ``(N, 1)`` each.

    Zero exactly where the logits agree. Taught in chapter 10 (distilling SpliceAI).
    """
    p = torch.sigmoid(teacher_logit)
    cross = nn.functional.binary_cross_entropy_with_logits(student_logit, p)
    return cross - nn.functional.binary_cross_entropy_with_logits(teacher_logit, p)


# --------------------------------------------------------------------------- agreement
def _as_vector(values: object, name: str) -> np.ndarray:
    array = as_array(values, name, ndim=(1, 2), min_size=3)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{name} must have shape (N,) or (N, 1); found shape {array.shape}")
    return array


def agreement(prediction: object, reference: object) -> dict[str, float]:
    """Pearson r, Spearman rho and R^2 (``1 - SS_res / SS_tot``) of ``prediction``
    against ``reference``; both of shape (N,).

    R^2 compares the values as they are; Pearson and Spearman forgive a linear or a
    monotone rescaling. Taught in chapter 9.
    """
    p, r = _as_vector(prediction, "prediction"), _as_vector(reference, "reference")
    if len(p) != len(r):
        raise ValueError(f"prediction has {len(p)} values, reference {len(r)}; expected equal")
    if p.std() == 0 or r.std() == 0:
        raise ValueError("prediction and reference must both vary; one of them is constant")
    ranks = [pd.Series(v).rank().to_numpy() for v in (p, r)]
    return {
        "pearson": float(np.corrcoef(p, r)[0, 1]),
        "spearman": float(np.corrcoef(*ranks)[0, 1]),
        "r2": float(1 - ((r - p) ** 2).sum() / ((r - r.mean()) ** 2).sum()),
    }


FIDELITY_SCALES = ("logit", "probability")


def excess_correlation_drop(
    scores: object, control: object, measured: object, subset: object
) -> float:
    """How much more Pearson r a model loses on ``subset`` than a control does.

    ``(r(scores) off subset - r(scores) on subset) - (the same for control)``, each r
    against ``measured``. A correlation falls with the range of what it correlates, so a
    lower r on a subset whose measurements span less (GC splice sites) is no blind spot by
    itself; a control fitted to the measurements loses what the range costs, and only the
    excess is the model's. All arrays of shape (N,); ``subset`` boolean.

    Taught in chapters 9 and 10.
    """
    arrays = [np.asarray(a, dtype=np.float64) for a in (scores, control, measured)]
    subset = np.asarray(subset)
    if subset.dtype != bool or len({len(a) for a in arrays} | {len(subset)}) != 1:
        raise ValueError(
            f"scores, control, measured and a boolean subset must have one length; found "
            f"{[len(a) for a in arrays]} and a {subset.dtype} subset of {len(subset)}"
        )
    if not 2 < subset.sum() < len(subset) - 2:
        raise ValueError(f"subset must keep and leave out at least 3 each; found {subset.sum()}")
    scores, control, measured = arrays

    def r(values: np.ndarray, keep: np.ndarray) -> float:
        return float(np.corrcoef(values[keep], measured[keep])[0, 1])

    return (r(scores, ~subset) - r(scores, subset)) - (r(control, ~subset) - r(control, subset))


def fidelity(
    student: nn.Module,
    teacher: nn.Module,
    x: torch.Tensor,
    *,
    output: Output = None,
    target: Target = 0,
    scale: str = "logit",
    device: object = None,
    progress: bool = False,
) -> dict[str, float]:
    """How well a student reproduces its teacher on (held-out) sequences ``x``.

    Parameters
    ----------
    student, teacher : torch.nn.Module
        The student maps ``(N, 4, L)`` to ``(N, 1)``; the teacher's value is chosen by
        ``output`` and ``target``, as in :func:`distill`.
    x : torch.Tensor, shape (N, 4, L)
    scale : {"logit", "probability"}
        Compare the outputs as they are (logits), or after a sigmoid on both: the
        authors' ``pearson-logits-r`` (Liu, Zhang, Regev 2025, ``metrics.py``) is the
        Pearson r on that probability scale.
    device, progress
        Where to run, and a progress bar: as for :func:`genotutor.training.predict`.

    Returns
    -------
    dict
        :func:`agreement` on the chosen scale, plus ``n``.

    Taught in chapters 9 and 10.
    """
    check_model(student, "student")
    check_model(teacher, "teacher")
    check_tensor(x, "x")
    check_choice(scale, "scale", FIDELITY_SCALES)
    run = {"device": device, "progress": progress}
    teacher_values = predict(teacher, x, output=output, target=target, **run)
    student_values = predict(student, x, **run)[:, 0]
    if scale == "probability":
        teacher_values, student_values = (
            torch.sigmoid(teacher_values),
            torch.sigmoid(student_values),
        )
    result = agreement(student_values, teacher_values)
    return {**result, "n": len(x)}


def blind_spot_table(
    models: dict[str, nn.Module],
    sets: dict[str, tuple[torch.Tensor, object]],
    *,
    metric: str = "pearson",
    device: object = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Each model's agreement with the truth (or measurements) on each set of sequences.

    Parameters
    ----------
    models : dict of str to torch.nn.Module
    sets : dict of str to (x, y)
        ``x`` of shape (N, 4, L), ``y`` of shape (N,): the true or measured values.
    metric : {"pearson", "spearman", "r2"}
    device, progress
        Where to run, and a progress bar: as for :func:`genotutor.training.predict`.

    Returns
    -------
    pandas.DataFrame
        One row per model, one column per set.

    Taught in chapter 9.
    """
    check_choice(metric, "metric", METRICS)
    models = check_models(models)
    if not isinstance(sets, dict) or not sets:
        raise TypeError(f"sets must be a non-empty dict of name -> (x, y); found {sets!r}"[:200])
    table, run = {}, {"device": device, "progress": progress}
    for set_name, pair in sets.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"sets[{set_name!r}] must be a pair (x, y)")
        x, y = pair
        check_tensor(x, f"sets[{set_name!r}][0]")
        table[set_name] = {
            name: agreement(predict(model, x, **run)[:, 0], y)[metric]
            for name, model in models.items()
        }
    return pd.DataFrame(table)
