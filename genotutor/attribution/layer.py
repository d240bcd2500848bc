"""Neuron-level attribution: the contribution of each unit of a hidden layer to the output.

:func:`attribute` explains the output by the input bases. :func:`attribute_layer` asks the
same question one layer up: how much does each unit of ``layer`` (each filter at each
position of a convolution, each neuron of a dense layer) contribute to the target? The
DeepLIFT methods answer with DeepLIFT's multipliers at the layer's output, captured while
the rule-modified backward pass of :mod:`genotutor.attribution.deeplift` goes through it:

    contribution of unit u = (a_u(x) - a_u(r)) * m_u,

where ``a`` is the layer's output and ``m_u`` the DeepLIFT multiplier of the target with
respect to ``a_u``. The rules of every layer *above* ``layer`` make these contributions sum
to ``f(x) - f(r)`` (summation-to-delta at that layer), exactly wherever :func:`attribute`'s
DeepLIFT is exact; DeepLIFT-SHAP averages them over references. ``"gradient_x_activation"``
is the plain-gradient counterpart, ``a_u(x) * df/da_u``, which sums to nothing in particular.

Taught in chapter 3 (neuron-level contributions, after the DeepLIFT talk).
"""

from __future__ import annotations

import torch
from torch import nn

from genotutor.attribution import deeplift as engine
from genotutor.attribution._common import (
    ScoresAndDelta,
    batches,
    check_option,
    check_reference,
    evaluating,
    n_outputs,
    reference_input,
)
from genotutor.progress import progress_bar
from genotutor.targets import Output, Target, model_and_column
from genotutor.validation import (
    check_bool,
    check_choice,
    check_model,
    check_positive_int,
    check_target,
    check_tensor,
    describe,
)

LAYER_METHODS = ("deeplift_shap", "deeplift", "gradient_x_activation")
_REFERENCE_OPTIONS = ("references", "n_references", "seed", "rules", "rule", "return_delta")


def resolve_layer(model: nn.Module, layer: object) -> tuple[str, nn.Module]:
    """``(name, module)`` of ``layer``, a submodule of ``model`` or its dotted name.

    Raises
    ------
    TypeError
        If ``layer`` is neither a string nor an ``nn.Module``.
    ValueError
        If no submodule of ``model`` has that name, or the module is not part of ``model``.

    Taught in chapter 3.
    """
    names = [name for name, _ in model.named_modules() if name]
    shown = ", ".join(map(repr, names[:25])) + (", ..." if len(names) > 25 else "")
    if isinstance(layer, str):
        modules = dict(model.named_modules())
        if layer not in modules:
            raise ValueError(
                f"layer must name a submodule of model; found layer={layer!r}, and the "
                f"model's submodules are {shown or 'none'}"
            )
        return layer, modules[layer]
    if isinstance(layer, nn.Module):
        for name, module in model.named_modules():
            if module is layer:
                return name, module
        raise ValueError(
            f"layer must be a submodule of model (the module object itself, or its name); "
            f"found a {type(layer).__name__} that is not part of the model, whose "
            f"submodules are {shown or 'none'}"
        )
    raise TypeError(
        f"layer must be a submodule of model or its name (a str); found {describe(layer)}"
    )


class _Tap:
    """A forward hook on the layer: records its output, or (``"apply"``) replaces it by a
    leaf tensor of the same value whose gradient is the multiplier at the layer."""

    def __init__(self, layer: nn.Module, name: str, tracker=None) -> None:
        self.name = name or "(the model itself)"
        self.tracker = tracker  # RevealCancel's splits, which must follow the leaf
        self.start("record")
        self.handle = layer.register_forward_hook(self._hook)

    def start(self, mode: str) -> None:
        self.mode, self.calls, self.value = mode, 0, None

    def _hook(self, module, args, output):
        self.calls += 1
        if self.calls > 1:
            raise ValueError(
                f"layer {self.name!r} is called more than once in one forward pass; its "
                "units have no single activation to attribute to (use a separate module)"
            )
        if not isinstance(output, torch.Tensor):
            raise TypeError(
                f"layer {self.name!r} must return one tensor to attribute to its units; it "
                f"returned {describe(output)}"
            )
        self.value = output.detach()
        if self.mode == "record":
            return None
        self.value = self.value.clone().requires_grad_()
        if self.tracker is not None:
            self.tracker.alias(output, self.value)
        return self.value

    def finish(self) -> torch.Tensor:
        if self.calls == 0:
            raise ValueError(
                f"layer {self.name!r} was not called when the model ran; pick a layer "
                "that forward uses"
            )
        return self.value

    def remove(self) -> None:
        self.handle.remove()


def _multiplier(y: torch.Tensor, leaf: torch.Tensor) -> torch.Tensor:
    """d sum(y) / d leaf (zero where the target does not depend on the layer)."""
    if not y.requires_grad:
        return torch.zeros_like(leaf)
    (grad,) = torch.autograd.grad(y.sum(), leaf, allow_unused=True)
    return torch.zeros_like(leaf) if grad is None else grad


def _deeplift_layer(model, x, target, references, layer, name, rules, options):
    """``(scores, change)``: contributions averaged over references, mean f(x) - f(r).
    ``options``: ``rule``, ``batch_size``, ``progress``."""
    batch_size, progress = options["batch_size"], options["progress"]
    n, r = references.shape[:2]
    flat = references.reshape(n * r, *x.shape[1:])
    wide = torch.float32 if x.device.type == "mps" else torch.float64
    total, change = None, torch.zeros(n, dtype=wide, device=x.device)
    hooks = engine._Rules(model, rules, options["rule"])  # first: the tap sees rule outputs
    tap = _Tap(layer, name, hooks.tracker)
    try:
        parts = batches(n * r, batch_size)
        for part in progress_bar(parts, desc="layer DeepLIFT", progress=progress):
            seq = torch.arange(part.start, part.stop, device=x.device) // r
            hooks.start("record")
            tap.start("record")
            with torch.no_grad():
                y_ref = model(flat[part])[:, target]
            a_ref = tap.finish()
            hooks.start("apply")
            tap.start("apply")
            with torch.enable_grad():
                y = model(x[seq])[:, target]
                leaf = tap.finish()
                contribution = (leaf.detach() - a_ref) * _multiplier(y, leaf)
            if total is None:
                total = torch.zeros((n, *contribution.shape[1:]), dtype=wide, device=x.device)
            total.index_add_(0, seq, contribution.to(wide))
            change.index_add_(0, seq, (y.detach() - y_ref).to(wide))
    finally:
        hooks.remove()
        tap.remove()
    return total / r, change / r


def _gradient_x_activation(model, x, target, layer, name, batch_size, progress):
    tap = _Tap(layer, name)
    parts = []
    try:
        for part in progress_bar(batches(len(x), batch_size), desc="layer grad", progress=progress):
            tap.start("apply")
            with torch.enable_grad():
                y = model(x[part])[:, target]
                leaf = tap.finish()
                parts.append(leaf.detach() * _multiplier(y, leaf))
    finally:
        tap.remove()
    return torch.cat(parts)


def _check_method_options(method: str, given: dict) -> None:
    """Reject options that ``method`` does not take (given = the non-default ones)."""
    takes = {
        "deeplift": ("references", "seed", "rules", "rule", "return_delta"),
        "deeplift_shap": _REFERENCE_OPTIONS,
        "gradient_x_activation": (),
    }[method]
    unknown = [name for name in _REFERENCE_OPTIONS if name in given and name not in takes]
    if unknown:
        raise TypeError(
            f"method {method!r} does not take {', '.join(map(repr, unknown))} "
            f"(found {', '.join(f'{k}={given[k]!r}' for k in unknown)[:200]}); it takes "
            f"{', '.join(map(repr, takes)) or 'no reference options'}"
        )


def _references(method, x, references, n_references, seed) -> torch.Tensor:
    """``(N, R, 4, L)`` references of the DeepLIFT methods."""
    if method == "deeplift":
        checked = "zeros" if references is None else check_reference(references, x, "references")
        return reference_input(x, checked, seed)[:, None]
    options = {"references": references, "n_references": n_references, "seed": seed}
    return engine.shap_references(x, options)


def attribute_layer(
    model: nn.Module,
    x: torch.Tensor,
    layer: nn.Module | str,
    method: str = "deeplift_shap",
    *,
    target: Target = 0,
    references: torch.Tensor | str | None = None,
    n_references: int | None = None,
    seed: int = 0,
    output: Output = None,
    device: object = None,
    rules: dict | None = None,
    rule: str = "rescale",
    return_delta: bool = False,
    warn: bool = True,
    batch_size: int = 512,
    progress: bool = True,
) -> torch.Tensor | ScoresAndDelta:
    """Attribute one value of the model to each unit of one of its layers.

    Parameters
    ----------
    model : torch.nn.Module
        Any model of ``(N, 4, L)`` one-hot DNA, as for :func:`attribute` (put in eval mode
        for the call, its mode and device restored afterwards).
    x : torch.Tensor, shape (N, 4, L)
        One-hot sequences.
    layer : torch.nn.Module or str
        A submodule of ``model`` (the object, or its name in ``model.named_modules()``,
        e.g. ``"body.2"``) that returns one tensor and is called once per forward pass.
    method : {"deeplift_shap", "deeplift", "gradient_x_activation"}
        DeepLIFT contributions ``(a(x) - a(r)) * m`` averaged over several references per
        sequence, the same from one reference, or ``a(x) * df/da`` (autograd).
    target : int, slice, sequence of int or callable
        What to explain (see :mod:`genotutor.targets`).
    references : torch.Tensor or str, optional
        ``"deeplift_shap"``: ``(R, 4, L)`` shared or ``(N, R, 4, L)`` per sequence; by
        default ``n_references`` dinucleotide shuffles of each sequence. ``"deeplift"``:
        one reference, ``(4, L)``, ``(N, 4, L)`` or a name of
        :func:`genotutor.attribution.make_baseline` (``"zeros"``, the default,
        ``"uniform"``, ``"shuffle"``).
    n_references : int, optional
        Shuffles per sequence for ``"deeplift_shap"`` (20 by default).
    seed : int
        Seed of the shuffles; each sequence has its own generator, so its
        scores do not depend on the other sequences in ``x``.
    output : int or str, optional
        Which element of a tuple, list or dict output to explain.
    device : str or torch.device, optional
        Where to run (the model's own device by default); the scores are on ``x``'s device.
    rules : dict, optional
        DeepLIFT rules for your own module types, as for :func:`attribute`.
    rule : {"rescale", "reveal_cancel", "genomics_default"}
        DeepLIFT methods: the rule for activations, as for :func:`attribute`.
    return_delta : bool
        DeepLIFT methods: also return, per sequence, the sum of the contributions minus
        the mean of ``f(x) - f(r)`` over the references (the summation-to-delta error).
    warn : bool
        DeepLIFT methods: warn when that error is large.
    batch_size : int
        Sequence-reference pairs (or sequences) per batch.
    progress : bool
        Show a tqdm bar over the batches.

    Returns
    -------
    torch.Tensor, shape (N, *layer output shape)
        One score per unit of the layer's output for each sequence: ``(N, C, L')`` for a
        convolution or a pooling layer, ``(N, H)`` for a dense one. With
        ``return_delta=True``, a :class:`ScoresAndDelta` ``(scores, delta)`` with
        ``delta`` of shape ``(N,)``.

    Raises
    ------
    TypeError
        For an argument of the wrong kind, or an option the method does not take
        (``references`` with ``"gradient_x_activation"``).
    ValueError
        For an unknown method, a ``layer`` that is not part of ``model`` (or not called,
        or called twice), a wrong shape, or an ``output``/``target`` that does not fit.

    Examples
    --------
    >>> from genotutor.models import DeepBind
    >>> from genotutor.sequences import random_sequences
    >>> model = DeepBind(n_filters=8).eval()
    >>> x = random_sequences(3, 60, seed=0)
    >>> attribute_layer(model, x, "pool", n_references=4, progress=False).shape
    torch.Size([3, 8, 1])

    Taught in chapter 3.
    """
    check_choice(method, "method", LAYER_METHODS)
    model = check_model(model)
    x = check_tensor(x, "x", ndim=3)
    name, module = resolve_layer(model, layer)
    defaults = {"references": None, "n_references": None, "seed": 0, "rules": None}
    values = {"references": references, "n_references": n_references, "seed": seed,
              "rules": rules, "return_delta": return_delta}  # fmt: skip
    given = {k: v for k, v in values.items() if v is not defaults.get(k, False)}
    if not (isinstance(rule, str) and rule == "rescale"):
        given["rule"] = rule
    _check_method_options(method, given)
    rule = check_option("rule", rule)
    return_delta, warn = check_bool(return_delta, "return_delta"), check_bool(warn, "warn")
    batch_size = check_positive_int(batch_size, "batch_size")
    progress = check_bool(progress, "progress")
    check_option("seed", seed)
    rules = engine.check_rules(rules)
    if method != "gradient_x_activation":
        refs = _references(method, x, references, n_references, seed)
    explained, column = model_and_column(model, output=output, target=target)
    with evaluating(explained, device) as here:
        inputs = x.to(here)
        column = check_target(column, n_outputs(explained, inputs))
        if method == "gradient_x_activation":
            args = (explained, inputs, column, module, name, batch_size, progress)
            return _gradient_x_activation(*args).to(x.device)
        options = {"rule": rule, "batch_size": batch_size, "progress": progress}
        scores, change = _deeplift_layer(explained, inputs, column, refs.to(here), module, name,
                                         rules, options)  # fmt: skip
    delta = scores.flatten(1).sum(1) - change
    if warn:
        engine._warn_if_inexact(delta, change)
    scores = scores.to(x.dtype).to(x.device)
    return ScoresAndDelta(scores, delta.to(x.dtype).to(x.device)) if return_delta else scores
