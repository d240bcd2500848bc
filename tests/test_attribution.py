"""Tests of genotutor.attribution: oracles (brute force, autograd, tangermeme), exactness
of DeepLIFT through max-pooling, IG completeness, gradient correction, and error handling."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from genotutor.attribution import METHODS, attribute, correct_gradients, make_baseline, project
from genotutor.attribution.ism import local_plan
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
    assert local_plan(MODELS["basset"][0], 71) is not None
    strided = nn.Sequential(
        nn.Conv1d(4, 4, 5, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(192, 1)
    )
    assert local_plan(strided.eval(), 100) is None
    x = random_sequences(2, 100, seed=0)
    assert torch.allclose(
        attribute(strided, x, "ism"), _brute_force_ism(strided.eval(), x), atol=1e-5
    )


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
    references = dinucleotide_shuffle(x, n=6, seed=0)
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


@pytest.mark.parametrize("name", ["basset", "basset_exp"])
def test_deeplift_shap_agrees_with_tangermeme(name):
    pytest.importorskip("tangermeme")
    from tangermeme.deep_lift_shap import _nonlinear, deep_lift_shap

    model, length = MODELS[name]
    x = random_sequences(4, length, seed=7)
    shared = dinucleotide_shuffle(x[1], n=8, seed=2)
    ours = attribute(model, x, "deeplift_shap", references=shared)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = deep_lift_shap(
            model,
            x,
            references=shared[None].expand(4, -1, -1, -1),
            device="cpu",
            additional_nonlinear_ops={Exponential: _nonlinear},
        )
    for a, b in zip(ours, theirs, strict=True):
        assert np.corrcoef(a.flatten().numpy(), b.flatten().numpy())[0, 1] >= 0.999


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
