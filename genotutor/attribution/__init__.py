"""Input attributions: one entry point, :func:`attribute`, for every method of chapter 2.

``attribute(model, x, method, target=0, **options)`` takes one-hot sequences ``(N, 4, L)``
and returns scores of the same shape. Gradient methods run through captum; ISM and
DeepLIFT / DeepLIFT-SHAP are genotutor's own (captum 0.9's DeepLIFT gets max-pooling
wrong, see :mod:`genotutor.attribution.deeplift`), tested against brute force and
tangermeme.

==========================  =========================================================
method                      scores
==========================  =========================================================
``"saliency"``              gradient of the target logit, every base
``"grad_x_input"``          gradient times input (observed base only)
``"smoothgrad"``            gradient averaged over noisy inputs, every base
``"ism"``                   ``f(x with b at i) - f(x)``, every base (0 at observed)
``"integrated_gradients"``  ``(x - baseline)`` times the path-averaged gradient
``"deeplift"``              DeepLIFT from one reference, projected on observed bases
``"deeplift_shap"``         DeepLIFT averaged over dinucleotide-shuffled references
==========================  =========================================================

Taught in chapter 2.
"""

from __future__ import annotations

import torch
from torch import nn

from genotutor.attribution import deeplift as engine
from genotutor.attribution._common import (
    BASELINES,
    check_option,
    check_option_values,
    check_options,
    check_reference,
    evaluating,
    n_outputs,
)
from genotutor.attribution.gradients import (
    correct_gradients,
    grad_x_input,
    integrated_gradients,
    saliency,
    smoothgrad,
)
from genotutor.attribution.ism import check_window, ism
from genotutor.sequences import (
    check_choice,
    check_model,
    check_target,
    check_tensor,
    dinucleotide_shuffle,
)

METHODS = (
    "saliency",
    "grad_x_input",
    "smoothgrad",
    "ism",
    "integrated_gradients",
    "deeplift",
    "deeplift_shap",
)
GRADIENT_METHODS = ("saliency", "grad_x_input", "smoothgrad", "integrated_gradients")
_COMMON = ("batch_size", "progress")
_OPTIONS = {
    "saliency": ("correct", *_COMMON),
    "grad_x_input": ("correct", *_COMMON),
    "smoothgrad": ("correct", "n_samples", "noise", "seed", *_COMMON),
    "ism": ("fast", "start", "end", "return_plan", *_COMMON),
    "integrated_gradients": ("correct", "baseline", "n_steps", "seed", "return_delta", *_COMMON),
    "deeplift": ("references", "hypothetical", "return_delta", "warn", *_COMMON),
    "deeplift_shap": (
        "references",
        "n_references",
        "seed",
        "hypothetical",
        "return_delta",
        "warn",
        *_COMMON,
    ),
}
# options that may be None (their default): ISM picks its batch size and mutates every
# position, DeepLIFT's reference is all-zero, DeepLIFT-SHAP shuffles n_references=20 times
_OPTIONAL = {
    "ism": ("batch_size", "start", "end"),
    "deeplift": ("references",),
    "deeplift_shap": ("references", "n_references"),
}


def make_baseline(x: torch.Tensor, baseline: str | torch.Tensor = "zeros", *, seed: int = 0):
    """The reference input of integrated gradients (and single-reference DeepLIFT).

    Parameters
    ----------
    x : torch.Tensor, shape (N, 4, L)
    baseline : {"zeros", "uniform", "shuffle"} or torch.Tensor, shape (4, L) or (N, 4, L)
        All-zero columns, 0.25 everywhere, one dinucleotide shuffle of each sequence, or
        your own. Each sequence is shuffled with its own generator seeded by ``seed``, so
        its baseline does not depend on the other sequences in ``x``.
    seed : int
        Seed of the shuffles (>= 0).

    Returns
    -------
    torch.Tensor, shape (N, 4, L)

    Taught in chapter 2.
    """
    x = check_tensor(x, "x")
    seed = check_option("seed", seed)
    return _reference(x, check_reference(baseline, x, "baseline"), seed)


def _reference(x: torch.Tensor, checked: str | torch.Tensor, seed: int) -> torch.Tensor:
    """The ``(N, 4, L)`` reference for an already checked baseline name or tensor."""
    if isinstance(checked, torch.Tensor):
        return checked
    if checked == "zeros":
        return torch.zeros_like(x)
    if checked == "uniform":
        return torch.full_like(x, 0.25)
    return torch.stack([dinucleotide_shuffle(row, n=1, seed=seed)[0] for row in x])


def _check_references(method: str, x: torch.Tensor, options: dict) -> dict:
    """Check the options that need ``x`` (references, ISM's window); checked ones replace them."""
    options = dict(options)
    if method == "integrated_gradients" and "baseline" in options:
        options["baseline"] = check_reference(options["baseline"], x, "baseline")
    elif method == "deeplift" and options.get("references") is not None:
        options["references"] = check_reference(options["references"], x, "references")
    elif method == "ism":  # the window to mutate, against the length
        check_window(options.get("start"), options.get("end"), x.shape[-1])
    elif method == "deeplift_shap":
        checked = engine.check_shap_references(
            options.get("references"), options.get("n_references"), x
        )
        if checked is not None:
            options["references"] = checked
    return options


def _integrated_gradients(model, x, target, options):
    baseline = _reference(x, options.pop("baseline", "zeros"), options.pop("seed", 0))
    return_delta = options.pop("return_delta", False)
    scores = integrated_gradients(model, x, target, baseline, **options)
    if not return_delta:
        return scores
    with torch.no_grad():
        change = model(x)[:, target] - model(baseline)[:, target]
    return scores, scores.sum(dim=(1, 2)) - change


def _deeplift(model, x, target, method, options):
    if method == "deeplift":
        references = options.pop("references", None)
        reference = _reference(x, "zeros" if references is None else references, 0)
        return engine.deeplift_shap(model, x, target, reference[:, None], **options)
    return engine.deeplift_shap(model, x, target, engine.shap_references(x, options), **options)


def attribute(
    model: nn.Module,
    x: torch.Tensor,
    method: str,
    target: int = 0,
    **options: object,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Attribute the model's ``target`` output to each base of each input sequence.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(N, 4, L)`` one-hot DNA to ``(N, T)`` logits. A model in training mode is
        put in eval mode for the call and restored afterwards.
    x : torch.Tensor, shape (N, 4, L)
        One-hot sequences (finite floats).
    method : str
        One of ``METHODS`` (see the module docstring).
    target : int
        Which output (column of the model's output) to explain.
    **options
        Method options (all keyword-only, with defaults):

        - every method: ``batch_size`` (int >= 1), ``progress=True`` (a tqdm bar over
          the batches; False for none).
        - gradient methods: ``correct=False`` applies :func:`correct_gradients` to the
          gradient before anything multiplies it by the input.
        - ``"smoothgrad"``: ``n_samples=25``, ``noise=0.1`` (std of the Gaussian noise,
          > 0), ``seed=0``.
        - ``"integrated_gradients"``: ``baseline="zeros"`` (see :func:`make_baseline`),
          ``n_steps=50``, ``seed=0``, ``return_delta=False``.
        - ``"ism"``: ``fast="auto"`` (recompute only the changed windows where that is
          cheaper; True always, False never); ``start=None``, ``end=None`` (mutate only
          positions ``start .. end - 1``: the scores are then ``(N, 4, end - start)``);
          ``return_plan=False`` (True: ``(scores, plan)``, which path and why);
          ``batch_size=None`` picks a batch size for the path taken.
        - ``"deeplift"``: ``references`` (one reference: a tensor ``(4, L)`` or
          ``(N, 4, L)``, or a name as for :func:`make_baseline`, ``"shuffle"`` with seed
          0; None, the default, is all-zero).
        - ``"deeplift_shap"``: ``references`` (``(R, 4, L)`` shared by all sequences, or
          ``(N, R, 4, L)``), else ``n_references=20`` dinucleotide shuffles of each
          sequence with ``seed=0``.
        - both DeepLIFTs: ``hypothetical=False`` (True: scores for every base, before
          projection onto the observed one), ``return_delta=False``, ``warn=True``
          (warn when the summation-to-delta error is large).

        Flags must be bools, counts ints >= 1 and ``seed`` an int >= 0; every value is
        checked before any work.

        With ``return_delta=True`` the result is ``(scores, delta)``, ``delta`` of shape
        ``(N,)``: the sum of the scores minus the output change they explain
        (completeness / summation-to-delta error).

    Returns
    -------
    torch.Tensor, shape (N, 4, L)
        The scores (or ``(scores, delta)``).

    Raises
    ------
    TypeError
        For an option the method does not take, or an option value of the wrong kind
        (``hypothetical="no"``, ``n_samples=2.5``).
    ValueError
        For a wrong shape, a non-finite input, a target out of range, an unknown method,
        an option value out of range (``n_steps=0``), or (DeepLIFT) a model whose layers
        it has no rule for or that reuses an activation module.

    Taught in chapter 2.
    """
    check_choice(method, "method", METHODS)
    check_options(method, options, _OPTIONS[method])
    options = check_option_values(options, optional=_OPTIONAL.get(method, ()))
    model = check_model(model)
    x = check_tensor(x, "x", ndim=3)
    options = _check_references(method, x, options)
    with evaluating(model):
        target = check_target(target, n_outputs(model, x))
        if method == "saliency":
            return saliency(model, x, target, **options)
        if method == "grad_x_input":
            return grad_x_input(model, x, target, **options)
        if method == "smoothgrad":
            return smoothgrad(model, x, target, **options)
        if method == "ism":
            return ism(model, x, target, **options)
        if method == "integrated_gradients":
            return _integrated_gradients(model, x, target, options)
        return _deeplift(model, x, target, method, options)


def project(hypothetical: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Project hypothetical scores (every base) onto the observed bases: ``scores * x``.

    Taught in chapter 2.
    """
    return hypothetical * x


__all__ = [
    "BASELINES",
    "GRADIENT_METHODS",
    "METHODS",
    "attribute",
    "correct_gradients",
    "make_baseline",
    "project",
]
