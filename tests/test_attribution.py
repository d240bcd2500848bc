"""Tests of genotutor.attribution: oracles (brute force, autograd, tangermeme), exactness
of DeepLIFT through max-pooling, IG completeness, gradient correction, and error handling."""

from __future__ import annotations

import copy
import inspect
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from genotutor.attribution import METHODS, attribute, correct_gradients, make_baseline, project
from genotutor.evaluation import attribution_auroc
from genotutor.models import Basset, DeepBind, Exponential
from genotutor.motifs import get_motif
from genotutor.sequences import dinucleotide_shuffle, random_sequences
from genotutor.simulate import planted_motif_task


def _scaled(model: nn.Module, factor: float = 30.0) -> nn.Module:
    """Random-init nets output ~0.01; scale the last layer so differences are O(1)."""
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    with torch.no_grad():
        last.weight.mul_(factor)
    return model.eval()


def _models() -> dict[str, tuple[nn.Module, int]]:
    torch.manual_seed(0)
    custom = nn.Sequential(
        nn.Conv1d(4, 6, 5, padding="same", dilation=2),
        nn.BatchNorm1d(6),
        nn.ELU(),
        nn.AvgPool1d(3),
        nn.Conv1d(6, 5, 3),
        nn.Tanh(),
        nn.Flatten(),
        nn.Linear(5 * 29, 2),
    )
    with torch.no_grad():
        custom[1].running_mean.normal_()
        custom[1].running_var.uniform_(0.5, 2)
    return {
        "basset": (_scaled(Basset(71, filters=(8, 8, 8), pools=(3, 2, 5))), 71),
        "basset_exp": (
            _scaled(Basset(62, activation="exp", filters=(6, 6, 6), pools=(2, 2, 3))),
            62,
        ),
        "deepbind": (_scaled(DeepBind(2, n_filters=8)), 60),
        "custom": (_scaled(custom), 93),
    }


MODELS = _models()


def _brute_force_ism(model: nn.Module, x: torch.Tensor, target: int = 0) -> torch.Tensor:
    out = torch.zeros_like(x)
    with torch.no_grad():
        y0 = model(x)[:, target]
        for i in range(x.shape[-1]):
            mutants = x[:, None].repeat(1, 4, 1, 1)  # (N, base, 4, L)
            mutants[:, :, :, i] = torch.eye(4)
            out[:, :, i] = model(mutants.flatten(0, 1))[:, target].view(-1, 4) - y0[:, None]
    return out


@pytest.mark.parametrize("name", list(MODELS))
def test_ism_equals_brute_force(name):
    model, length = MODELS[name]
    x = random_sequences(2, length, seed=1)
    brute = _brute_force_ism(model, x)
    assert brute.abs().max() > 1e-2  # the test is not trivially passed by tiny outputs
    fast = attribute(model, x, "ism")
    slow = attribute(model, x, "ism", fast=False, batch_size=97)
    assert torch.allclose(fast, brute, atol=1e-5)
    assert torch.allclose(slow, brute, atol=1e-5)
    assert torch.all(fast[x == 1] == 0)


def test_ism_fast_path_is_taken_for_cnns_and_skipped_otherwise():
    _, plan = attribute(MODELS["basset"][0], random_sequences(2, 71, seed=0), "ism", fast=True,
                        return_plan=True, progress=False)  # fmt: skip
    assert plan.path == "fast"
    strided = nn.Sequential(
        nn.Conv1d(4, 4, 5, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(192, 1)
    ).eval()
    x = random_sequences(2, 100, seed=0)
    brute = _brute_force_ism(strided, x)
    scores, plan = attribute(strided, x, "ism", fast=True, return_plan=True, progress=False)
    assert plan.path == "fast" and torch.allclose(scores, brute, atol=1e-5)
    dense = nn.Sequential(nn.Flatten(), nn.Linear(400, 1)).eval()  # no local layer at all
    scores, plan = attribute(dense, x, "ism", fast="auto", return_plan=True, progress=False)
    assert plan.path == "full" and torch.allclose(scores, _brute_force_ism(dense, x), atol=1e-5)


def test_ism_second_target():
    model, length = MODELS["deepbind"]
    x = random_sequences(2, length, seed=4)
    assert torch.allclose(attribute(model, x, "ism", target=1), _brute_force_ism(model, x, 1),
                          atol=1e-5)  # fmt: skip


def test_saliency_and_grad_x_input_match_autograd():
    model, length = MODELS["basset"]
    x = random_sequences(4, length, seed=2)
    leaf = x.clone().requires_grad_()
    (grad,) = torch.autograd.grad(model(leaf)[:, 0].sum(), leaf)
    assert torch.allclose(attribute(model, x, "saliency"), grad, atol=1e-6)
    assert torch.allclose(attribute(model, x, "grad_x_input"), grad * x, atol=1e-6)
    corrected = attribute(model, x, "grad_x_input", correct=True)
    assert torch.allclose(corrected, x * correct_gradients(grad), atol=1e-6)


def test_smoothgrad_is_seeded():
    model, length = MODELS["basset"]
    x = random_sequences(2, length, seed=2)
    a = attribute(model, x, "smoothgrad", n_samples=8, seed=1)
    b = attribute(model, x, "smoothgrad", n_samples=8, seed=1)
    c = attribute(model, x, "smoothgrad", n_samples=8, seed=2)
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


@pytest.mark.parametrize("baseline", ["zeros", "shuffle", "uniform"])
def test_integrated_gradients_completeness(baseline):
    # a smooth model (ELU, tanh, average pooling): the path integral converges quickly
    model, length = MODELS["custom"]
    x = random_sequences(4, length, seed=3)
    scores, delta = attribute(
        model, x, "integrated_gradients", baseline=baseline, n_steps=100, return_delta=True
    )
    base = make_baseline(x, baseline)
    with torch.no_grad():
        change = model(x)[:, 0] - model(base)[:, 0]
    assert torch.allclose(scores.sum(dim=(1, 2)) - change, delta, atol=1e-5)
    assert torch.all(delta.abs() < 0.01 * change.abs())


def test_integrated_gradients_error_shrinks_with_steps_on_relu_max_pool_net():
    # ReLU + max-pooling is piecewise linear: the integrand jumps, convergence is slow
    model, length = MODELS["basset"]
    x = random_sequences(4, length, seed=3)
    coarse = attribute(model, x, "integrated_gradients", n_steps=10, return_delta=True)[1]
    fine = attribute(model, x, "integrated_gradients", n_steps=100, return_delta=True)[1]
    assert fine.abs().mean() < coarse.abs().mean()


@pytest.mark.parametrize("name", ["basset", "basset_exp", "deepbind", "custom"])
def test_deeplift_summation_to_delta_through_max_pooling(name):
    model, length = MODELS[name]
    x = random_sequences(4, length, seed=5)
    for method, options in (("deeplift", {}), ("deeplift_shap", {"n_references": 6})):
        scores, delta = attribute(model, x, method, return_delta=True, **options)
        assert delta.abs().max() < 1e-5
    references = torch.stack([dinucleotide_shuffle(row, n=6, seed=0) for row in x])
    with torch.no_grad():
        change = model(x)[:, 0] - model(references.flatten(0, 1))[:, 0].view(4, 6).mean(dim=1)
    assert change.abs().max() > 1e-2
    assert torch.allclose(scores.sum(dim=(1, 2)), change, atol=1e-5)


def test_deeplift_shap_projection_and_shared_references():
    model, length = MODELS["basset"]
    x = random_sequences(3, length, seed=6)
    shared = dinucleotide_shuffle(x[0], n=5, seed=1)
    hyp = attribute(model, x, "deeplift_shap", references=shared, hypothetical=True)
    observed = attribute(model, x, "deeplift_shap", references=shared)
    assert torch.allclose(project(hyp, x), observed)
    assert torch.all(observed[x == 0] == 0)
    expanded = shared[None].expand(3, -1, -1, -1)
    assert torch.allclose(attribute(model, x, "deeplift_shap", references=expanded), observed)
    one = attribute(model, x, "deeplift", references=shared[0])
    assert torch.allclose(attribute(model, x, "deeplift_shap", references=shared[:1]), one)


def _tangermeme(model: nn.Module, x: torch.Tensor, references: torch.Tensor, **options):
    """tangermeme 1.6's DeepLIFT-SHAP with per-sequence references ``(N, R, 4, L)``."""
    pytest.importorskip("tangermeme")
    from tangermeme.deep_lift_shap import _nonlinear, deep_lift_shap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return deep_lift_shap(
            model,
            x,
            references=references,
            device="cpu",
            additional_nonlinear_ops={Exponential: _nonlinear},
            **options,
        )


def _assert_same_scores(ours: torch.Tensor, theirs: torch.Tensor, atol: float = 1e-5) -> None:
    """Equal values (not only correlated ones), on scores large enough to matter."""
    assert ours.abs().max() > 1e-2
    difference = float((ours - theirs).abs().max())
    assert difference < atol, f"largest difference {difference:.3g}"


@pytest.mark.parametrize("name", ["basset", "basset_exp", "custom"])
def test_deeplift_shap_agrees_with_tangermeme(name):
    model, length = MODELS[name]
    x = random_sequences(4, length, seed=7)
    shared = dinucleotide_shuffle(x[1], n=8, seed=2)
    expanded = shared[None].expand(4, -1, -1, -1)
    for hypothetical in (False, True):
        ours = attribute(
            model, x, "deeplift_shap", references=shared, hypothetical=hypothetical, progress=False
        )
        _assert_same_scores(ours, _tangermeme(model, x, expanded, hypothetical=hypothetical))


def test_deeplift_global_max_pool_agrees_with_tangermeme_on_the_equivalent_max_pool():
    # tangermeme 1.6 has no rule for AdaptiveMaxPool1d and treats it as linear (it warns
    # that its deltas are too high); on the same model with the equivalent MaxPool1d the
    # two implementations agree, and only ours sums to delta on the original
    model, length = MODELS["deepbind"]
    x = random_sequences(4, length, seed=7)
    shared = dinucleotide_shuffle(x[1], n=8, seed=2)
    ours, delta = attribute(
        model, x, "deeplift_shap", references=shared, return_delta=True, progress=False
    )
    assert delta.abs().max() < 1e-5
    equivalent = copy.deepcopy(model)
    equivalent.pool = nn.MaxPool1d(length - model.conv.kernel_size[0] + 1)
    with torch.no_grad():
        assert torch.allclose(equivalent(x), model(x))
    _assert_same_scores(ours, _tangermeme(equivalent, x, shared[None].expand(4, -1, -1, -1)))


def _with_output_scale(model: nn.Module, length: int, factor: float = 30.0) -> nn.Module:
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 4, length))
    return _scaled(model, factor)


def _overlapping_pools() -> nn.Module:
    torch.manual_seed(1)
    return _with_output_scale(
        nn.Sequential(
            nn.Conv1d(4, 8, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool1d(4, 2),  # windows overlap: a position can win two of them
            nn.Conv1d(8, 8, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool1d(4, 2),
            nn.Flatten(),
            nn.Linear(8 * 10, 2),
        ),
        46,
    )


class _Residual(nn.Module):
    """GELU / SiLU activations and a residual addition ``h + block(h)``, every activation
    its own module."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv1d(4, 8, 5, padding=2)
        self.stem_act = nn.GELU()
        self.conv1 = nn.Conv1d(8, 8, 3, padding=1)
        self.act1 = nn.SiLU()
        self.conv2 = nn.Conv1d(8, 8, 3, padding=1)
        self.act2 = nn.GELU(approximate="tanh")
        self.pool = nn.MaxPool1d(4, 2)
        self.flatten = nn.Flatten()
        self.linear = nn.Linear(8 * 22, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem_act(self.stem(x))
        h = h + self.conv2(self.act1(self.conv1(h)))
        return self.linear(self.flatten(self.pool(self.act2(h))))


def _residual() -> nn.Module:
    torch.manual_seed(2)
    return _with_output_scale(_Residual(), 46)


@pytest.mark.parametrize("build", [_overlapping_pools, _residual], ids=["overlap", "residual"])
def test_deeplift_shap_overlapping_pools_and_residual_gelu_silu(build):
    model = build()
    x = random_sequences(4, 46, seed=8)
    references = torch.stack([dinucleotide_shuffle(row, n=6, seed=3) for row in x])
    for target in (0, 1):
        ours, delta = attribute(
            model, x, "deeplift_shap", target=target, references=references,
            return_delta=True, progress=False,
        )  # fmt: skip
        with torch.no_grad():
            change = model(x)[:, target] - model(references.flatten(0, 1))[:, target].view(
                4, 6
            ).mean(dim=1)
        assert change.abs().min() > 1e-2
        assert torch.allclose(ours.sum(dim=(1, 2)), change, atol=1e-5)
        assert delta.abs().max() < 1e-5
        _assert_same_scores(ours, _tangermeme(model, x, references, target=target))


def test_deeplift_shap_references_split_across_batches_equal_one_batch():
    model, length = MODELS["basset"]
    x = random_sequences(3, length, seed=9)
    whole = attribute(model, x, "deeplift_shap", n_references=7, batch_size=21, progress=False,
                      return_delta=True, hypothetical=True)  # fmt: skip
    for batch_size in (1, 3, 5):  # smaller than R = 7 and not a divisor: batches straddle
        split = attribute(model, x, "deeplift_shap", n_references=7, batch_size=batch_size,
                          progress=False, return_delta=True, hypothetical=True)  # fmt: skip
        assert torch.allclose(split[0], whole[0], atol=1e-6)
        assert torch.allclose(split[1], whole[1], atol=1e-6)


BATCH_OPTIONS = {
    "saliency": ({}, {"batch_size": 2}),
    "grad_x_input": ({}, {"batch_size": 3}),
    "smoothgrad": ({"n_samples": 6}, {"n_samples": 6, "batch_size": 4}),
    "ism": ({}, {"batch_size": 97}),
    "integrated_gradients": ({"baseline": "shuffle"}, {"baseline": "shuffle", "batch_size": 7}),
    "deeplift": ({"references": "shuffle"}, {"references": "shuffle", "batch_size": 2}),
    "deeplift_shap": ({}, {"batch_size": 7}),
}


@pytest.mark.parametrize("method", METHODS)
def test_every_method_is_batch_invariant(method):
    # a sequence's scores depend neither on the other sequences of the call nor on the
    # batch size (seeded noise and shuffles are drawn per sequence, not per batch)
    assert set(BATCH_OPTIONS) == set(METHODS)
    model, length = MODELS["basset"]
    x = random_sequences(5, length, seed=10)
    default, small_batches = BATCH_OPTIONS[method]
    together = attribute(model, x, method, progress=False, **default)
    assert together.abs().max() > 1e-3
    alone = torch.cat(
        [attribute(model, x[i : i + 1], method, progress=False, **default) for i in range(5)]
    )
    assert torch.allclose(alone, together, atol=1e-6, rtol=1e-4)
    batched = attribute(model, x, method, progress=False, **small_batches)
    assert torch.allclose(batched, together, atol=1e-6, rtol=1e-4)


class _Cubic(nn.Module):
    """``f(x) = sum(x^3) / 3``: its gradient is ``x^2``, so SmoothGrad's expectation is
    ``x^2 + noise^2``, the noise variance read off directly."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x**3).sum(dim=(1, 2))[:, None] / 3


@pytest.mark.parametrize("noise", [0.2, 0.5, 1.5])
def test_smoothgrad_noise_is_the_standard_deviation_of_the_input_noise(noise):
    x = random_sequences(2, 100, seed=11)
    scores = attribute(_Cubic(), x, "smoothgrad", n_samples=400, noise=noise, progress=False)
    variance = float((scores - x**2).mean())  # the 2 x mean(e) terms average out
    assert variance == pytest.approx(noise**2, rel=0.05)
    # and it is noise that is averaged over: the plain gradient is x^2 exactly
    assert torch.allclose(attribute(_Cubic(), x, "saliency", progress=False), x**2)


def _planted_filter_model(off_simplex: float, seed: int = 0) -> tuple[nn.Module, object]:
    """A one-layer CNN whose filters are the planted motif's centred log-odds (both
    strands), softplus, average pooling, plus an off-simplex component (equal on all four
    bases) of size ``off_simplex``. On one-hot inputs that component only shifts each
    filter by a constant, which the bias undoes: the function is the same."""
    motif = get_motif("CEBPB")
    task = planted_motif_task(120, 80, drivers=("CEBPB",), decoys=(), max_drivers=1, seed=seed)
    log_odds = torch.tensor(np.log(motif.probs / 0.25), dtype=torch.float32)
    log_odds = log_odds - log_odds.mean(dim=0, keepdim=True)
    model = nn.Sequential(
        nn.Conv1d(4, 2, motif.width),
        nn.Softplus(),
        nn.AdaptiveAvgPool1d(1),
        nn.Flatten(),
        nn.Linear(2, 1),
    )
    noise = off_simplex * torch.randn(2, motif.width, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        model[0].weight.copy_(torch.stack([log_odds, log_odds.flip(0, 1)]) + noise[:, None, :])
        model[0].bias.copy_(-8.0 - noise.sum(dim=1))
        model[4].weight.fill_(1.0)
        model[4].bias.zero_()
    return model.eval(), task


def test_gradient_correction_removes_only_the_off_simplex_part():
    clean, task = _planted_filter_model(0.0)
    noisy, _ = _planted_filter_model(6.0)
    x = task.x[task.y[:, 0] == 1]
    with torch.no_grad():
        assert torch.allclose(clean(x), noisy(x), atol=1e-5)  # same function on one-hot DNA
    # centred filters: nothing to remove, grad x input unchanged by the correction
    assert torch.allclose(
        attribute(clean, x, "grad_x_input", correct=True), attribute(clean, x, "grad_x_input")
    )
    # the correction undoes exactly the off-simplex component
    assert torch.allclose(
        attribute(noisy, x, "saliency", correct=True), attribute(clean, x, "saliency"), atol=1e-5
    )
    grads = attribute(noisy, x, "saliency")
    corrected = correct_gradients(grads)
    assert torch.allclose(corrected.mean(dim=1), torch.zeros(1), atol=1e-6)
    assert torch.allclose(correct_gradients(corrected), corrected, atol=1e-6)
    assert torch.allclose(corrected[:, 0] - corrected[:, 2], grads[:, 0] - grads[:, 2], atol=1e-5)
    mask = task.mask[task.y[:, 0] == 1]
    before = attribution_auroc(attribute(noisy, x, "grad_x_input"), mask).pooled
    after = attribution_auroc(attribute(noisy, x, "grad_x_input", correct=True), mask).pooled
    clean_auroc = attribution_auroc(attribute(clean, x, "grad_x_input"), mask).pooled
    assert after > before + 0.05
    assert after == pytest.approx(clean_auroc, abs=1e-3)


class _SharedReLU(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(4, 4, 3, padding=1)
        self.conv2 = nn.Conv1d(4, 4, 3, padding=1)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool1d(2)
        self.flatten = nn.Flatten()
        self.linear = nn.Linear(4 * 10, 1)

    def forward(self, x):
        h = self.relu(self.conv2(self.relu(self.conv1(x))))
        return self.linear(self.flatten(self.pool(h)))


def _hook_count(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._backward_hooks) for m in model.modules())


def test_shared_relu_is_a_clear_error_and_state_is_restored():
    model = _SharedReLU().train()
    x = random_sequences(2, 20, seed=0)
    with pytest.raises(ValueError, match="more than once"):
        attribute(model, x, "deeplift")
    assert model.training
    assert _hook_count(model) == 0
    model.relu2 = model.relu  # the same module registered under a second name
    with pytest.raises(ValueError, match="reuses one ReLU"):
        attribute(model, x, "deeplift_shap", n_references=2)
    assert model.training and _hook_count(model) == 0


def test_unsupported_layer_and_training_mode_restored():
    model = nn.Sequential(nn.Conv1d(4, 2, 3), nn.Softmax(dim=1), nn.Flatten(), nn.Linear(36, 1))
    x = random_sequences(2, 20, seed=0)
    with pytest.raises(ValueError, match="no rule for module '1' of type Softmax"):
        attribute(model.train(), x, "deeplift")
    assert model.training
    for method in METHODS:
        if method in ("deeplift", "deeplift_shap"):
            continue
        attribute(model, x, method)
        assert model.training


@pytest.mark.parametrize(
    ("x", "options", "error", "message"),
    [
        (torch.zeros(2, 3, 20), {}, ValueError, "4 channels"),
        (torch.zeros(4, 20), {}, ValueError, r"shape \(N, 4, L\)"),
        (torch.full((2, 4, 20), float("nan")), {}, ValueError, "NaN"),
        (torch.zeros(2, 4, 20, dtype=torch.long), {}, TypeError, "floating-point"),
        (random_sequences(2, 20), {"target": 3}, ValueError, r"target must be in \[0, 0\]"),
        (random_sequences(2, 20), {"method": "lime"}, ValueError, "method must be one of"),
        (random_sequences(2, 20), {"bogus": 1}, TypeError, "unexpected option"),
        (random_sequences(2, 20), {"method": "deeplift_shap", "references": torch.zeros(3, 4, 9)},
         ValueError, r"references must have shape"),
        (random_sequences(2, 20), {"method": "integrated_gradients", "baseline": "ones"},
         ValueError, "baseline must be one of"),
    ],
)  # fmt: skip
def test_bad_inputs_raise_clear_errors(x, options, error, message):
    model = nn.Sequential(nn.Conv1d(4, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(36, 1))
    options = dict(options)
    method = options.pop("method", "saliency")
    with pytest.raises(error, match=message):
        attribute(model, x, method, **options)


# Every option of every method: values that must work, and values that must fail with one
# exception type (TypeError: wrong kind; ValueError: right kind, out of range) and a
# message naming the option, what was found and what was expected.
_TABLE_X = random_sequences(2, 12, seed=0)
_BOOLS = [True, False, np.bool_(True)]
_COUNT_BAD = [
    (0, ValueError, [">= 1", "found 0"]),
    (-3, ValueError, [">= 1", "found -3"]),
    (2.5, TypeError, ["must be an integer", "float 2.5"]),
    ("4", TypeError, ["must be an integer", "'4'"]),
    (True, TypeError, ["must be an integer", "bool True"]),
    (None, TypeError, ["must be an integer", "None"]),
]
_FLAG_BAD = [
    ("no", TypeError, ["must be True or False", "'no'"]),
    (1, TypeError, ["must be True or False", "int 1"]),
    (None, TypeError, ["must be True or False", "None"]),
]
_SEED_BAD = [
    (-1, ValueError, [">= 0", "found -1"]),
    (1.5, TypeError, ["must be an integer", "float 1.5"]),
    (None, TypeError, ["must be an integer", "None"]),
]
_NOISE_BAD = [
    (0, ValueError, ["(0, inf]", "found 0"]),
    (-0.1, ValueError, ["(0, inf]", "found -0.1"]),
    (float("nan"), ValueError, ["finite"]),
    ("0.1", TypeError, ["must be a number", "'0.1'"]),
    (True, TypeError, ["must be a number", "bool True"]),
]
_REFERENCE_BAD = [
    ("ones", ValueError, ["must be one of 'zeros', 'uniform', 'shuffle'", "'ones'"]),
    (0, TypeError, ["must be a torch.Tensor", "int 0"]),
    (torch.zeros(4, 7), ValueError, ["shape (4, 12)", "found (4, 7)"]),
    (torch.zeros(3, 4, 12), ValueError, ["(2, 4, 12)", "found (3, 4, 12)"]),
    (torch.zeros(2, 4, 12, dtype=torch.long), TypeError, ["floating-point", "torch.int64"]),
    (torch.full((4, 12), float("nan")), ValueError, ["NaN"]),
]
_SHAP_REFERENCE_BAD = [
    ([[0.0] * 12] * 4, TypeError, ["must be a torch.Tensor", "list"]),
    (torch.zeros(3, 4, 9), ValueError, ["(R, 4, 12)", "found (3, 4, 9)"]),
    (torch.zeros(3, 3, 4, 12), ValueError, ["(2, R, 4, 12)", "found (3, 3, 4, 12)"]),
    (torch.zeros(4, 12), ValueError, ["found shape (4, 12)"]),
    (torch.zeros(3, 4, 12, dtype=torch.long), TypeError, ["floating-point"]),
]
_RULES_GOOD = [None, {}, {nn.Softplus: "nonlinear"}, {nn.ReLU: "nonlinear"}, {nn.Flatten: "linear"}]
_RULES_BAD = [
    ("relu", TypeError, ["rules must be a dict", "str"]),
    ({nn.ReLU: "cubic"}, ValueError, ["rules[ReLU]", '"linear", "nonlinear"', "'cubic'"]),
    ({"ReLU": "linear"}, TypeError, ["nn.Module subclasses", "'ReLU'"]),
]
_RULE_GOOD = ("rule", ["rescale", "reveal_cancel", "genomics_default"])
_RULE_BAD = [
    ("rule", "RevealCancel", ValueError, ["rule must be one of", "'RevealCancel'"]),
    ("rule", None, ValueError, ["rule must be one of", "None"]),
    ("rule", 1, ValueError, ["rule must be one of", "found 1"]),
]
_COMMON_GOOD = [("batch_size", [1, 3, np.int64(2), 10_000]), ("progress", [True, False])]
_COMMON_BAD = [("batch_size", *case) for case in _COUNT_BAD] + [
    ("progress", *case) for case in _FLAG_BAD
]
_SHUFFLES = dinucleotide_shuffle(_TABLE_X[0], n=3, seed=1)
OPTION_GOOD = {
    "saliency": [("correct", _BOOLS), *_COMMON_GOOD],
    "grad_x_input": [("correct", _BOOLS), *_COMMON_GOOD],
    "smoothgrad": [
        ("correct", _BOOLS),
        ("n_samples", [1, 3, np.int64(2)]),
        ("noise", [0.05, 1, np.float32(0.2)]),
        ("seed", [0, 7, np.int64(3)]),
        *_COMMON_GOOD,
    ],
    "ism": [
        ("fast", [*_BOOLS, "auto"]),
        ("start", [None, 0, 5, np.int64(11)]),
        ("end", [None, 1, 12, np.int64(6)]),
        ("return_plan", _BOOLS),
        ("pointwise", [None, (nn.ReLU,), [nn.Tanh]]),
        ("batch_size", [None, 1, 7, 10_000]),
        ("progress", [True, False]),
    ],
    "integrated_gradients": [
        ("correct", _BOOLS),
        ("baseline", ["zeros", "uniform", "shuffle", torch.zeros(4, 12),
                      torch.full((2, 4, 12), 0.25, dtype=torch.float64)]),
        ("n_steps", [1, 2, np.int32(5)]),
        ("seed", [0, 5]),
        ("return_delta", _BOOLS),
        *_COMMON_GOOD,
    ],
    "deeplift": [
        ("references", [None, "zeros", "uniform", "shuffle", torch.zeros(4, 12), _SHUFFLES[:2]]),
        ("hypothetical", _BOOLS),
        ("return_delta", _BOOLS),
        ("warn", _BOOLS),
        ("rules", _RULES_GOOD),
        _RULE_GOOD,
        *_COMMON_GOOD,
    ],
    "deeplift_shap": [
        ("references", [None, _SHUFFLES, _SHUFFLES[None].expand(2, -1, -1, -1)]),
        ("n_references", [None, 1, np.int64(3)]),
        ("seed", [0, 4]),
        ("hypothetical", _BOOLS),
        ("return_delta", _BOOLS),
        ("warn", _BOOLS),
        ("rules", _RULES_GOOD),
        _RULE_GOOD,
        *_COMMON_GOOD,
    ],
}  # fmt: skip
OPTION_BAD = {
    "saliency": [*(("correct", *c) for c in _FLAG_BAD), *_COMMON_BAD],
    "grad_x_input": [*(("correct", *c) for c in _FLAG_BAD), *_COMMON_BAD],
    "smoothgrad": [
        *(("correct", *c) for c in _FLAG_BAD),
        *(("n_samples", *c) for c in _COUNT_BAD),
        *(("noise", *c) for c in _NOISE_BAD),
        *(("seed", *c) for c in _SEED_BAD),
        *_COMMON_BAD,
    ],
    "ism": [
        *(("fast", *c) for c in _FLAG_BAD),
        ("fast", "Auto", TypeError, ["'auto'", "'Auto'"]),
        *(("start", *c) for c in _SEED_BAD if c[0] is not None),
        ("start", 12, ValueError, ["< the sequence length 12", "found 12"]),
        *(("end", *c) for c in _COUNT_BAD if c[0] is not None),
        ("end", 13, ValueError, ["<= the sequence length 12", "found 13"]),
        *(("return_plan", *c) for c in _FLAG_BAD),
        ("pointwise", 3, TypeError, ["tuple of module types", "int 3"]),
        ("pointwise", (nn.ReLU, "relu"), TypeError, ["str 'relu'"]),
        *(("batch_size", *c) for c in _COUNT_BAD if c[0] is not None),
        *(("progress", *c) for c in _FLAG_BAD),
    ],
    "integrated_gradients": [
        *(("correct", *c) for c in _FLAG_BAD),
        *(("baseline", *c) for c in _REFERENCE_BAD),
        *(("n_steps", *c) for c in _COUNT_BAD),
        *(("seed", *c) for c in _SEED_BAD),
        *(("return_delta", *c) for c in _FLAG_BAD),
        *_COMMON_BAD,
    ],
    "deeplift": [
        *(("references", *c) for c in _REFERENCE_BAD),
        *(("hypothetical", *c) for c in _FLAG_BAD),
        *(("return_delta", *c) for c in _FLAG_BAD),
        *(("warn", *c) for c in _FLAG_BAD),
        *(("rules", *c) for c in _RULES_BAD),
        *_RULE_BAD,
        *_COMMON_BAD,
    ],
    "deeplift_shap": [
        *(("references", *c) for c in _SHAP_REFERENCE_BAD),
        *(("n_references", *c) for c in _COUNT_BAD if c[0] is not None),
        *(("seed", *c) for c in _SEED_BAD),
        *(("hypothetical", *c) for c in _FLAG_BAD),
        *(("return_delta", *c) for c in _FLAG_BAD),
        *(("warn", *c) for c in _FLAG_BAD),
        *(("rules", *c) for c in _RULES_BAD),
        *_RULE_BAD,
        *_COMMON_BAD,
    ],
}


def _table_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv1d(4, 2, 3), nn.ReLU(), nn.MaxPool1d(2), nn.Flatten(), nn.Linear(10, 1)
    ).eval()


def test_the_option_tables_cover_every_option_of_every_method():
    from genotutor.attribution.dispatch import _OPTIONS

    assert set(OPTION_GOOD) == set(OPTION_BAD) == set(METHODS)
    for method in METHODS:
        assert {name for name, _ in OPTION_GOOD[method]} == set(_OPTIONS[method]), method
        assert {case[0] for case in OPTION_BAD[method]} == set(_OPTIONS[method]), method


@pytest.mark.parametrize(
    ("method", "option", "value"),
    [(m, o, v) for m, rows in OPTION_GOOD.items() for o, values in rows for v in values],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_good_option_values_work(method, option, value):
    options = {option: value}
    if option != "progress":
        options["progress"] = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DeepLIFT's delta warning is not the point here
        result = attribute(_table_model(), _TABLE_X, method, **options)
    scores = result[0] if isinstance(result, tuple) else result
    assert isinstance(result, tuple) == (option in ("return_delta", "return_plan") and bool(value))
    length = _TABLE_X.shape[-1]
    if option in ("start", "end") and value is not None:  # ISM scores the window alone
        length = length - value if option == "start" else value
    assert scores.shape == (*_TABLE_X.shape[:2], length) and bool(torch.isfinite(scores).all())


@pytest.mark.parametrize(
    ("method", "option", "value", "error", "words"),
    [(m, *case) for m, cases in OPTION_BAD.items() for case in cases],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_option_values_raise_before_any_work(method, option, value, error, words):
    calls = []
    model = _table_model()
    model.register_forward_hook(lambda *_: calls.append(1))
    with pytest.raises(error) as info:
        attribute(model, _TABLE_X, method, **{option: value})
    assert info.type is error  # exactly this type, not a subclass of it
    message = str(info.value)
    for word in [option, *words]:
        assert word in message, f"{word!r} not in {message!r}"
    assert calls == [], "the model ran before the options were checked"


def test_deeplift_shap_rejects_references_with_n_references():
    with pytest.raises(ValueError, match="either references or n_references"):
        attribute(_table_model(), _TABLE_X, "deeplift_shap", references=_SHUFFLES, n_references=3)


@pytest.mark.parametrize(
    ("bad", "error"), [(torch.zeros(4, 7), ValueError), (3, TypeError), ("ones", ValueError)]
)
def test_deeplift_reference_errors_name_references_not_baseline(bad, error):
    with pytest.raises(error) as info:
        attribute(_table_model(), _TABLE_X, "deeplift", references=bad)
    assert "references" in str(info.value)
    assert "baseline" not in str(info.value)


@pytest.mark.parametrize("method", METHODS)
def test_progress_bar_by_default_and_silent_with_progress_false(method, capsys):
    model, x = _table_model(), _TABLE_X
    attribute(model, x, method, progress=False)
    assert capsys.readouterr().err == ""
    attribute(model, x, method)
    assert "%|" in capsys.readouterr().err  # a tqdm bar


def test_method_functions_show_progress_by_default():
    from genotutor.attribution.deeplift import deeplift_shap
    from genotutor.attribution.gradients import input_gradients, integrated_gradients, smoothgrad
    from genotutor.attribution.ism import ism

    for function in (input_gradients, smoothgrad, integrated_gradients, ism, deeplift_shap):
        assert inspect.signature(function).parameters["progress"].default is True, function


def test_make_baseline_checks_its_arguments():
    x = random_sequences(2, 12, seed=0)
    with pytest.raises(ValueError, match="seed must be >= 0; found -1"):
        make_baseline(x, "shuffle", seed=-1)
    with pytest.raises(TypeError, match="baseline must be a torch.Tensor; found int 0"):
        make_baseline(x, 0)
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        make_baseline(x.numpy(), "zeros")
    shuffled = make_baseline(x, "shuffle", seed=3)
    assert torch.equal(shuffled[1:], make_baseline(x[1:], "shuffle", seed=3))
    assert torch.equal(shuffled.sum(dim=2), x.sum(dim=2))  # same composition


def test_warning_for_functional_nonlinearity():
    class Functional(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv1d(4, 4, 3)
            self.linear = nn.Linear(4 * 18, 1)

        def forward(self, x):
            return self.linear(torch.relu(self.conv(x)).flatten(1)) * 30

    x = random_sequences(3, 20, seed=0)
    with pytest.warns(RuntimeWarning, match="summation-to-delta"):
        attribute(Functional(), x, "deeplift_shap", n_references=3)


@pytest.mark.parametrize("window", [(0, 71), (10, 30), (70, 71)])
def test_ism_window_equals_the_same_window_of_full_ism(window):
    model, length = MODELS["basset"]
    x = random_sequences(3, length, seed=2)
    full = attribute(model, x, "ism", progress=False)
    part = attribute(model, x, "ism", start=window[0], end=window[1], progress=False)
    assert part.shape == (3, 4, window[1] - window[0])
    torch.testing.assert_close(part, full[..., window[0] : window[1]], atol=1e-5, rtol=0)


@pytest.mark.parametrize("method", METHODS)
def test_attribute_on_a_thread_pool_equals_the_serial_run(method):
    from concurrent.futures import ThreadPoolExecutor

    model, length = MODELS["basset"]
    x = random_sequences(7, length, seed=3)
    options = {"progress": False}
    if method == "deeplift":
        options["references"] = dinucleotide_shuffle(x, n=1, seed=5)[:, 0]  # one per sequence
    serial = attribute(model, x, method, **options)
    with ThreadPoolExecutor(2) as pool:
        pooled = attribute(model, x, method, executor=pool, chunk_size=3, **options)
    torch.testing.assert_close(pooled, serial, atol=1e-6, rtol=1e-5)
