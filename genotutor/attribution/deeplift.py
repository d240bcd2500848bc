"""DeepLIFT and DeepLIFT-SHAP with exact rules for activations and max-pooling.

DeepLIFT explains ``f(x) - f(r)``, the change of the output from a reference input ``r``, by
contributions that sum to it exactly (summation-to-delta). Linear layers pass differences
through unchanged; each nonlinearity gets a multiplier ``dy / dx`` between the input's
and the reference's activations (the Rescale rule; ``rule="reveal_cancel"`` and
``"genomics_default"``: :mod:`~genotutor.attribution.reveal_cancel`), and max-pooling
routes each window's change to the winning positions of both inputs (the rule of shap's
DeepExplainer and tangermeme). captum 0.9's DeepLift misses summation-to-delta where a supported
nonlinearity directly follows another, such as a max-pool after a ReLU (captum issue #1104:
the second reads a stale gradient); chapter 2 shows by how much, and that captum's
max-pool indexing bug (#1276) is not the cause there.

How the rules are applied: the references run first, without gradients, and each
activation or pooling module records what it saw. Then the inputs run with gradients, and
each of those modules returns its usual output plus a zero-valued term whose gradient is
the DeepLIFT multiplier; the input gradient of the target is then the product of
multipliers. Hooks are removed in ``finally``.

Taught in chapter 2.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import nn

from genotutor.attribution import reveal_cancel
from genotutor.attribution._common import ScoresAndDelta, batches, check_option, check_option_values
from genotutor.models import Exponential
from genotutor.progress import progress_bar
from genotutor.sequences import check_tensor, dinucleotide_shuffle

ACTIVATIONS = (
    nn.ReLU, nn.ELU, nn.LeakyReLU, nn.Sigmoid, nn.Tanh, nn.Softplus, nn.GELU, nn.SiLU,
    Exponential,
)  # fmt: skip
MAX_POOLS = (nn.MaxPool1d, nn.AdaptiveMaxPool1d)
LINEAR = (
    nn.Conv1d, nn.Linear, nn.BatchNorm1d, nn.Dropout, nn.Flatten, nn.Unflatten, nn.Identity,
    nn.AvgPool1d, nn.AdaptiveAvgPool1d, nn.ConstantPad1d, nn.ZeroPad1d,
)  # fmt: skip
_SMALL = 1e-6
N_REFERENCES = 20  # DeepLIFT-SHAP's default number of dinucleotide shuffles per sequence


def _activation_rule(module, x_in, x_out, r_in, r_out):
    """Rescale rule: multiplier ``(y - y_r) / (x - x_r)``, the derivative where x ~ x_r."""
    dx = x_in.detach() - r_in
    small = dx.abs() < _SMALL
    slope = (x_out.detach() - r_out) / torch.where(small, torch.ones_like(dx), dx)
    if bool(small.any()):
        slope = torch.where(
            small, reveal_cancel.derivative(module, x_in.detach(), x_out.detach()), slope
        )
    return x_out.detach() + (x_in - x_in.detach()) * slope


def _pool_indices(module: nn.Module, values: torch.Tensor) -> torch.Tensor:
    if isinstance(module, nn.AdaptiveMaxPool1d):
        return F.adaptive_max_pool1d(values, module.output_size, return_indices=True)[1]
    return F.max_pool1d(
        values, module.kernel_size, module.stride, module.padding, module.dilation,
        module.ceil_mode, return_indices=True,
    )[1]  # fmt: skip


def _maxpool_rule(module, x_in, x_out, r_in, r_out):
    """Max-pooling rule: each window's change, split at the larger of the two maxima.

    ``y - y_r = (max(y, y_r) - y_r) + (y - max(y, y_r))``: the first part goes to the input's
    winning position, the second to the reference's, each divided by that position's own
    change to give a multiplier (where the position does not change, the ordinary
    gradient). The parts add up to ``y - y_r`` exactly.
    """
    x_detached, y = x_in.detach(), x_out.detach()
    delta = x_detached - r_in
    x_index, r_index = _pool_indices(module, x_detached), _pool_indices(module, r_in)
    cross = torch.maximum(y, r_out)
    at_x, at_r = delta.gather(-1, x_index), delta.gather(-1, r_index)
    ones = torch.ones_like(at_x)
    coef_x = torch.where(at_x == 0, ones, (cross - r_out) / torch.where(at_x == 0, ones, at_x))
    coef_r = torch.where(at_r == 0, 0 * ones, (y - cross) / torch.where(at_r == 0, ones, at_r))
    zero = x_in - x_detached
    return y + coef_x * zero.gather(-1, x_index) + coef_r * zero.gather(-1, r_index)


RULE_KINDS = ("linear", "nonlinear")


def check_rules(rules: object) -> dict:
    """Validate ``rules``: ``{module type: "linear" | "nonlinear" | callable}`` (or None).

    - ``"linear"``: the module passes differences through (no hook), as convolutions do;
    - ``"nonlinear"``: the rescale rule for an elementwise module, multiplier
      ``(y - y_r) / (x - x_r)`` (its derivative where ``x`` is close to ``x_r``);
    - a callable ``rule(module, x, y, x_ref, y_ref) -> multiplier``, for an elementwise
      module: ``x``, ``y`` are its input and output on the sequences, ``x_ref``, ``y_ref``
      on the references (all of the shape of ``x``), and it returns the multiplier, a
      tensor of that shape, such that ``multiplier * (x - x_ref)`` is the output change
      it assigns to each input.

    Taught in chapter 12.
    """
    if rules is None:
        return {}
    if not isinstance(rules, dict):
        raise TypeError(
            'rules must be a dict {module type: "linear" | "nonlinear" | callable}; found '
            f"{type(rules).__name__}"
        )
    for kind, rule in rules.items():
        if not (isinstance(kind, type) and issubclass(kind, nn.Module)):
            raise TypeError(f"rules keys must be nn.Module subclasses; found {kind!r}")
        if not (callable(rule) or rule in RULE_KINDS):
            raise ValueError(
                f'rules[{kind.__name__}] must be "linear", "nonlinear" or a callable '
                f"rule(module, x, y, x_ref, y_ref) -> multiplier; found {rule!r}"
            )
    return dict(rules)


def _custom_rule(rule):
    """A user's multiplier function as a hook rule (elementwise modules)."""

    def apply(module, x_in, x_out, r_in, r_out):
        multiplier = rule(module, x_in.detach(), x_out.detach(), r_in, r_out)
        if not isinstance(multiplier, torch.Tensor) or multiplier.shape != x_in.shape:
            raise ValueError(
                f"the DeepLIFT rule for {type(module).__name__} must return a multiplier of "
                f"the input's shape {tuple(x_in.shape)}; it returned "
                f"{getattr(multiplier, 'shape', type(multiplier).__name__)}"
            )
        return x_out.detach() + (x_in - x_in.detach()) * multiplier

    return apply


def _user_rule(module: nn.Module, rules: dict):
    """The user's rule for ``module`` (the most specific type wins), or None."""
    for kind in type(module).__mro__:
        if kind in rules:
            return rules[kind]
    return None


class _Rules:
    """Forward hooks that record reference activations, then apply DeepLIFT's rules."""

    def __init__(self, model: nn.Module, rules: dict | None = None, rule: str = "rescale") -> None:
        self.names: dict[int, str] = {}
        self.rules: dict[int, object] = {}
        user = check_rules(rules)
        self.rule = reveal_cancel.check_rule(rule)  # RevealCancel's splits: see reveal_cancel.py
        self.tracker = None if self.rule == "rescale" else reveal_cancel.SplitTracker()
        for name, module in model.named_modules(remove_duplicate=False):
            if next(module.children(), None) is not None:
                continue
            rule = _user_rule(module, user)
            if (
                rule is None
                and self.tracker
                and isinstance(module, reveal_cancel.SPLIT_SOURCES + reveal_cancel.PASS_THROUGH)
            ):
                self._register(name, module, "split")
                continue
            if rule == "linear" or (rule is None and isinstance(module, LINEAR)):
                continue
            if rule is None and not isinstance(module, ACTIVATIONS + MAX_POOLS):
                raise ValueError(
                    f"DeepLIFT has no rule for module {name!r} of type "
                    f"{type(module).__name__}; pass one with rules={{"
                    f'{type(module).__name__}: "linear" | "nonlinear" | callable}} (see '
                    f"genotutor.attribution.deeplift.check_rules). Built in: "
                    + ", ".join(t.__name__ for t in ACTIVATIONS + MAX_POOLS + LINEAR)
                )
            self._register(name, module, rule)
        self.mode = "record"
        self.records: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self.calls: set[int] = set()
        modules = {id(m): m for m in model.modules() if id(m) in self.names}
        self.handles = [m.register_forward_hook(self._hook) for m in modules.values()]

    def _register(self, name: str, module: nn.Module, rule: object) -> None:
        if id(module) in self.names:
            raise ValueError(
                f"model reuses one {type(module).__name__} module as "
                f"{self.names[id(module)]!r} and {name!r}; DeepLIFT needs a separate "
                "module for every layer (captum silently returns wrong scores then)"
            )
        if getattr(module, "inplace", False):
            raise ValueError(
                f"module {name!r} ({module}) is in-place; DeepLIFT needs its input "
                "kept, so build it with inplace=False"
            )
        self.names[id(module)] = name
        if callable(rule):
            self.rules[id(module)] = _custom_rule(rule)
        elif rule == "split":
            self.rules[id(module)] = "split"
        elif rule is None and self.tracker and isinstance(module, ACTIVATIONS):
            self.rules[id(module)] = self._reveal_or_rescale
        elif rule == "nonlinear" or isinstance(module, ACTIVATIONS):
            self.rules[id(module)] = _activation_rule
        else:
            self.rules[id(module)] = _maxpool_rule

    def start(self, mode: str) -> None:
        self.mode = mode
        self.calls.clear()
        if self.tracker is not None:
            self.tracker.start()

    def _reveal_or_rescale(self, module, x_in, x_out, r_in, r_out):
        split = self.tracker.find(x_in)
        if reveal_cancel.chosen_rule(self.rule, split, self.names[id(module)], module) == "rescale":
            return _activation_rule(module, x_in, x_out, r_in, r_out)
        return reveal_cancel.reveal_cancel_rule(module, split, r_in, x_out)

    def _hook(self, module, args, output):
        key = id(module)
        if key in self.calls:
            raise ValueError(
                f"module {self.names[key]!r} ({type(module).__name__}) is called more than once "
                "in one forward pass; DeepLIFT needs a separate module for every layer "
                "(captum silently returns wrong scores for such a model)"
            )
        self.calls.add(key)
        if self.rules[key] == "split":
            if self.mode == "record":
                self.tracker.record(module, args[0])
            else:
                self.tracker.apply(module, args[0], output)
            return None
        if self.mode == "record":
            self.records[key] = (args[0].detach(), output.detach())
            return None
        r_in, r_out = self.records.pop(key)
        return self.rules[key](module, args[0], output, r_in, r_out)

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.records.clear()


def check_shap_references(
    references: object, n_references: object, x: torch.Tensor
) -> torch.Tensor | None:
    """Check the ``references`` and ``n_references`` options of DeepLIFT-SHAP against ``x``.

    Parameters
    ----------
    references : torch.Tensor, shape (R, 4, L) or (N, R, 4, L), or None
        Shared or per-sequence references; None for dinucleotide shuffles.
    n_references : int or None
        Shuffles per sequence (>= 1); only without ``references``.
    x : torch.Tensor, shape (N, 4, L)
        The (already checked) input.

    Returns
    -------
    torch.Tensor, shape (N, R, 4, L), or None
        The references in ``x``'s dtype (shared ones expanded), or None when they are to
        be shuffles.

    Raises
    ------
    TypeError
        If ``references`` is not a floating-point tensor or ``n_references`` not an int.
    ValueError
        For a shape that does not match ``x``, ``n_references < 1``, or both options.
    """
    if n_references is not None:
        check_option("n_references", n_references)
    if references is None:
        return None
    if n_references is not None:
        raise ValueError(
            "pass either references or n_references, not both; found references of shape "
            f"{tuple(getattr(references, 'shape', ()))} and n_references={n_references!r}"
        )
    check_tensor(references, "references", ndim=(3, 4))
    if references.ndim == 3:
        if tuple(references.shape[1:]) != tuple(x.shape[1:]):
            raise ValueError(
                f"references must have shape (R, {x.shape[1]}, {x.shape[2]}) to match x; "
                f"found {tuple(references.shape)}"
            )
        return references.to(x.dtype)[None].expand(len(x), -1, -1, -1)
    if references.shape[0] != len(x) or tuple(references.shape[2:]) != tuple(x.shape[1:]):
        raise ValueError(
            f"references must have shape (R, 4, L) or (N, R, 4, L) = ({len(x)}, R, "
            f"{x.shape[1]}, {x.shape[2]}); found {tuple(references.shape)}"
        )
    return references.to(x.dtype)


def shap_references(x: torch.Tensor, options: dict) -> torch.Tensor:
    """DeepLIFT-SHAP references ``(N, R, 4, L)`` from the ``references``, ``n_references``
    and ``seed`` options (which it removes from ``options``).

    Default: ``N_REFERENCES`` (20) dinucleotide shuffles of each sequence. Each sequence is
    shuffled with its own generator seeded by ``seed``, so its references (and scores) do
    not depend on the other sequences in ``x``. ``references`` of shape ``(R, 4, L)`` are
    shared by all sequences.

    Taught in chapter 2.
    """
    references = options.pop("references", None)
    n_references = options.pop("n_references", None)
    seed = check_option("seed", options.pop("seed", 0))
    checked = check_shap_references(references, n_references, x)
    if checked is not None:
        return checked
    n = N_REFERENCES if n_references is None else n_references
    return torch.stack([dinucleotide_shuffle(row, n=n, seed=seed) for row in x])


def deeplift_shap(
    model: nn.Module,
    x: torch.Tensor,
    target: int,
    references: torch.Tensor,
    *,
    hypothetical: bool = False,
    return_delta: bool = False,
    warn: bool = True,
    rules: dict | None = None,
    rule: str = "rescale",
    batch_size: int = 512,
    progress: bool = True,
) -> torch.Tensor | ScoresAndDelta:
    """DeepLIFT from each reference, averaged over references (DeepLIFT-SHAP).

    Parameters
    ----------
    model : torch.nn.Module
        In eval mode; every leaf module an activation, a max-pool or a linear layer.
    x : torch.Tensor, shape (N, 4, L)
    target : int
    references : torch.Tensor, shape (N, R, 4, L)
        ``R`` references for each sequence (one for plain DeepLIFT).
    hypothetical : bool
        Return hypothetical contributions of every base (``m_b - sum_c r_c m_c``, averaged
        over references) instead of projecting them onto the observed bases.
    return_delta : bool
        Also return the summation-to-delta error per sequence: the sum of the projected
        scores minus the mean of ``f(x) - f(r)`` over the references.
    warn : bool
        Warn when that error is large (an operation outside any module, such as
        ``torch.relu`` called in ``forward``, is then being treated as linear).
    rules : dict, optional
        Rules for module types DeepLIFT does not know, or overrides: see
        :func:`check_rules`. An entry wins over ``rule`` for its module type.
    rule : {"rescale", "reveal_cancel", "genomics_default"}
        The rule for activations: see :mod:`genotutor.attribution.reveal_cancel`.
    batch_size : int
        Sequence-reference pairs per batch.
    progress : bool
        Show a tqdm bar over the batches.

    Returns
    -------
    torch.Tensor, shape (N, 4, L), or a :class:`ScoresAndDelta` (``.scores``, and
    ``.delta`` of shape (N,))

    Taught in chapter 2.
    """
    check_option_values(
        {"hypothetical": hypothetical, "return_delta": return_delta, "warn": warn,
         "batch_size": batch_size, "progress": progress}
    )  # fmt: skip
    check_tensor(references, "references", ndim=4)
    references = check_shap_references(references, None, x)
    n, r = references.shape[:2]
    flat = references.reshape(n * r, *x.shape[1:])
    wide = torch.float32 if x.device.type == "mps" else torch.float64  # MPS has no float64
    total = torch.zeros_like(x, dtype=wide)
    change = torch.zeros(n, dtype=wide, device=x.device)
    hooks = _Rules(model, rules, rule)
    try:
        for part in progress_bar(batches(n * r, batch_size), desc="DeepLIFT", progress=progress):
            seq = torch.arange(part.start, part.stop, device=x.device) // r
            ref, xs = flat[part], x[seq]
            hooks.start("record")
            with torch.no_grad():
                y_ref = model(ref)[:, target]
            hooks.start("apply")
            leaf = xs.clone().requires_grad_()
            with torch.enable_grad():
                y = model(leaf)[:, target]
                (multipliers,) = torch.autograd.grad(y.sum(), leaf)
            hyp = multipliers - (ref * multipliers).sum(dim=1, keepdim=True)
            total.index_add_(0, seq, hyp.to(wide))
            change.index_add_(0, seq, (y.detach() - y_ref).to(wide))
    finally:
        hooks.remove()
    hyp = (total / r).to(x.dtype)
    projected = hyp * x
    delta = (projected.to(wide).sum(dim=(1, 2)) - change / r).to(x.dtype)
    if warn:
        _warn_if_inexact(delta, change / r)
    scores = hyp if hypothetical else projected
    return ScoresAndDelta(scores, delta) if return_delta else scores


def _warn_if_inexact(delta: torch.Tensor, change: torch.Tensor) -> None:
    worst = int(torch.argmax(delta.abs() - 1e-2 * change.abs().float()))
    if float(delta[worst].abs()) > 1e-4 + 1e-2 * float(change[worst].abs()):
        warnings.warn(
            f"DeepLIFT summation-to-delta error {float(delta[worst]):.3g} for sequence {worst} "
            f"(output change {float(change[worst]):.3g}): part of the model has no DeepLIFT "
            "rule and was treated as linear (a nonlinearity called as a function in forward?)",
            RuntimeWarning,
            stacklevel=3,
        )
