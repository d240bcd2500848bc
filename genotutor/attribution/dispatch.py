"""The dispatcher behind :func:`genotutor.attribution.attribute`: the method table, the
options each method takes and their checks, and the split over an executor.

Taught in chapter 2.
"""

from __future__ import annotations

import copy
from concurrent.futures import Executor

import torch
from torch import nn

from genotutor.attribution import deeplift as engine
from genotutor.attribution._common import (
    ScoresAndDelta,
    batches,
    check_option,
    check_option_values,
    check_options,
    check_reference,
    evaluating,
    n_outputs,
)
from genotutor.attribution._common import reference_input as _reference
from genotutor.attribution.gradients import input_gradients, integrated_gradients, smoothgrad
from genotutor.attribution.ism import ScoresAndPlan, check_window, ism
from genotutor.parallel import run_tasks
from genotutor.sequences import check_choice, check_model, check_target, check_tensor
from genotutor.targets import Output, Target, TargetModel, model_and_column
from genotutor.validation import check_positive_int

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
    "ism": ("fast", "start", "end", "return_plan", "pointwise", *_COMMON),
    "integrated_gradients": ("correct", "baseline", "n_steps", "seed", "return_delta", *_COMMON),
    "deeplift": ("references", "hypothetical", "return_delta", "warn", "rules", "rule", *_COMMON),
    "deeplift_shap": (
        "references",
        "n_references",
        "seed",
        "hypothetical",
        "return_delta",
        "warn",
        "rules",
        "rule",
        *_COMMON,
    ),
}
# the methods that draw random numbers (noise, shuffled references), from their seed=
SEEDED_METHODS = tuple(method for method, options in _OPTIONS.items() if "seed" in options)
# options that may be None (their default): ISM picks its batch size and mutates every
# position, DeepLIFT's reference is all-zero, DeepLIFT-SHAP shuffles n_references=20 times
_OPTIONAL = {
    "ism": ("batch_size", "start", "end", "pointwise"),
    "deeplift": ("references", "rules"),
    "deeplift_shap": ("references", "n_references", "rules"),
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


def _on(value: object, device: torch.device) -> object:
    return value.to(device) if isinstance(value, torch.Tensor) else value


def _run_method(model, x, target, method, options):
    if method in ("saliency", "grad_x_input"):
        return input_gradients(model, x, target, times_input=method == "grad_x_input", **options)
    if method == "smoothgrad":
        return smoothgrad(model, x, target, **options)
    if method == "ism":  # the model itself, traced by the fast path, and what to explain
        if isinstance(model, TargetModel):
            return ism(model.model, x, output=model.output, target=model.target, **options)
        return ism(model, x, target=target, **options)
    if method == "integrated_gradients":
        return _integrated_gradients(model, x, target, options)
    return _deeplift(model, x, target, method, options)


def attribute(
    model: nn.Module,
    x: torch.Tensor,
    method: str,
    *,
    target: Target = 0,
    output: Output = None,
    device: object = None,
    progress: bool = True,
    executor: Executor | None = None,
    chunk_size: int = 256,
    **options: object,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Attribute one value of the model to each base of each input sequence.

    Parameters
    ----------
    model : torch.nn.Module
        Any model of ``(N, 4, L)`` one-hot DNA: one ``(N, T)`` tensor of logits, or a
        tuple, list or dict of outputs (pick one with ``output``). A model in training
        mode is put in eval mode for the call and restored afterwards.
    x : torch.Tensor, shape (N, 4, L)
        One-hot sequences (finite floats).
    method : str
        One of ``METHODS`` (see the module docstring).
    target : int, slice, sequence of int or callable
        What to explain (see :mod:`genotutor.targets`): a column of the output, the sum
        of several, or a callable mapping the selected output ``(N, ...)`` to ``(N,)``
        (e.g. a profile head's softmax-weighted logits, the weights held constant).
    output : int or str, optional
        Which element of a tuple/list (index) or dict (key) output to explain.
    device : str or torch.device, optional
        Where to run (``"cuda"``, ``"mps"``, ...); the model's own device by default. The
        model is put back on its device afterwards; the scores are on ``x``'s device.
    executor : concurrent.futures.Executor, optional
        Split ``x`` into chunks of ``chunk_size`` sequences and attribute each on the
        executor (a thread or process pool, or a Dask ``Client.get_executor()``). Every
        method's randomness is drawn per sequence from ``seed``, so the scores equal the
        serial run's however the work is split. Each task works on its own copy of the
        model.
    chunk_size : int
        Sequences per task with an ``executor``.
    progress : bool
        A tqdm bar over the batches (False for none).
    **options
        Method options (all keyword-only, with defaults):

        - every method: ``batch_size`` (int >= 1).
        - gradient methods: ``correct=False`` applies :func:`correct_gradients` to the
          gradient before anything multiplies it by the input.
        - ``"smoothgrad"``: ``n_samples=25``, ``noise=0.1`` (std of the Gaussian noise,
          > 0), ``seed=0``.
        - ``"integrated_gradients"``: ``baseline="zeros"`` (see :func:`make_baseline`),
          ``n_steps=50``, ``seed=0``, ``return_delta=False``.
        - ``"ism"``: ``fast="auto"`` (recompute only the changed windows where that is
          faster; True always, False never); ``start=None``, ``end=None`` (mutate only
          positions ``start .. end - 1``: the scores are then ``(N, 4, end - start)``);
          ``return_plan=False`` (True: a ``ScoresAndPlan`` ``(scores, plan)``, which path
          and why); ``batch_size=None`` picks a batch size for the path taken;
          ``pointwise=None`` (your own module types that act on each value alone, so that
          the fast path goes through them: ``pointwise=(MyActivation,)``).
        - ``"deeplift"``: ``references`` (one reference: a tensor ``(4, L)`` or
          ``(N, 4, L)``, or a name as for :func:`make_baseline`, ``"shuffle"`` with seed
          0; None, the default, is all-zero).
        - ``"deeplift_shap"``: ``references`` (``(R, 4, L)`` shared by all sequences, or
          ``(N, R, 4, L)``), else ``n_references=20`` dinucleotide shuffles of each
          sequence with ``seed=0``.
        - both DeepLIFTs: ``hypothetical=False`` (True: scores for every base, before
          projection onto the observed one), ``return_delta=False``, ``warn=True``
          (warn when the summation-to-delta error is large), ``rules=None`` (rules for
          your own layers: ``{ModuleType: "linear" | "nonlinear" | callable}``, see
          :func:`genotutor.attribution.deeplift.check_rules`; an entry wins over
          ``rule`` for its type), ``rule="rescale"`` (the rule for activations:
          ``"rescale"``, ``"reveal_cancel"`` or ``"genomics_default"``, RevealCancel
          after dense layers and Rescale after convolutions, as the authors' code; see
          :mod:`genotutor.attribution.reveal_cancel`).

        Flags must be bools, counts ints >= 1 and ``seed`` an int >= 0; every value is
        checked before any work.

        With ``return_delta=True`` the result is a :class:`ScoresAndDelta`
        ``(scores, delta)``, ``delta`` of shape ``(N,)``: the sum of the scores minus the
        output change they explain (completeness / summation-to-delta error).

    Returns
    -------
    torch.Tensor, shape (N, 4, L)
        The scores (or ``(scores, delta)``), on ``x``'s device.

    Raises
    ------
    TypeError
        For an option the method does not take, or an option value of the wrong kind
        (``hypothetical="no"``, ``n_samples=2.5``).
    ValueError
        For a wrong shape, a non-finite input, an ``output`` or ``target`` that does not
        fit the model's output, an unknown method, an option value out of range
        (``n_steps=0``), or (DeepLIFT) a model whose layers it has no rule for (pass
        ``rules=``) or that reuses an activation module.

    Taught in chapter 2 (``output=``, ``target=`` callables and ``device=`` in chapter 12).
    """
    check_choice(method, "method", METHODS)
    check_options(method, options, _OPTIONS[method])
    options["progress"] = progress
    if executor is not None:
        return _attribute_on(executor, check_positive_int(chunk_size, "chunk_size"),
                             (model, x, method, target, output, device, options))  # fmt: skip
    options = check_option_values(options, optional=_OPTIONAL.get(method, ()))
    model = check_model(model)
    x = check_tensor(x, "x", ndim=3)
    options = _check_references(method, x, options)
    if "rules" in options:
        options["rules"] = engine.check_rules(options["rules"])
    explained, column = model_and_column(model, output=output, target=target)
    with evaluating(explained, device) as here:
        inputs = x.to(here)
        options = {name: _on(value, here) for name, value in options.items()}
        column = check_target(column, n_outputs(explained, inputs))
        result = _run_method(explained, inputs, column, method, options)
    if isinstance(result, tuple):  # (scores, delta) or ISM's (scores, plan)
        scores, extra = (_on(part, x.device) for part in result)
        named = ScoresAndDelta if isinstance(extra, torch.Tensor) else ScoresAndPlan
        return named(scores, extra)
    return result.to(x.device)


_PER_SEQUENCE_NDIM = {"baseline": 3, "references": 3}  # (N, 4, L); DeepLIFT-SHAP: (N, R, 4, L)


def _chunk_options(method: str, options: dict, part: slice, n: int) -> dict:
    """The options for sequences ``part``: per-sequence references are split too."""
    chunked = dict(options)
    for name, ndim in _PER_SEQUENCE_NDIM.items():
        value = options.get(name)
        ndim = 4 if (method == "deeplift_shap" and name == "references") else ndim
        if isinstance(value, torch.Tensor) and value.ndim == ndim and len(value) == n:
            chunked[name] = value[part]
    return chunked


def _attribute_task(task: tuple) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """One chunk of :func:`attribute` with an executor (module level: workers unpickle it)."""
    model, x, method, target, output, device, options = task
    model = copy.deepcopy(model)  # its own copy: DeepLIFT's hooks and the mode switch are per model
    return attribute(model, x, method, target=target, output=output, device=device,
                     **{**options, "progress": False})  # fmt: skip


def _attribute_on(executor: Executor, chunk_size: int, call: tuple):
    model, x, method, target, output, device, options = call
    x = check_tensor(x, "x", ndim=3)
    parts = batches(len(x), chunk_size)
    tasks = [
        (
            model,
            x[part],
            method,
            target,
            output,
            device,
            _chunk_options(method, options, part, len(x)),
        )
        for part in parts
    ]
    progress = options.get("progress", True)
    results = run_tasks(_attribute_task, tasks, executor=executor, desc=method, progress=progress)
    if isinstance(results[0], tuple):  # (scores, delta), or ISM's (scores, the first plan)
        joined = tuple(
            torch.cat(pieces) if isinstance(pieces[0], torch.Tensor) else pieces[0]
            for pieces in zip(*results)
        )
        return (ScoresAndDelta if isinstance(joined[1], torch.Tensor) else ScoresAndPlan)(*joined)
    return torch.cat(results)


def project(hypothetical: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Project hypothetical scores (every base) onto the observed bases: ``scores * x``.

    Taught in chapter 2.
    """
    return hypothetical * x
