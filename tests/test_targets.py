"""Any output, any target: a two-head model (profile and counts, as a tuple) explained
through ``output=`` and ``target=`` gives what a hand-written single-output wrapper gives."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from genotutor import targets
from genotutor.distillation import distill
from genotutor.interpret import global_importance
from genotutor.sequences import random_sequences
from genotutor.surrogate import explain_locus


class TwoHeads(nn.Module):
    """A tiny BPNet-like model: a profile head (N, 2, L) and a counts head (N, 2)."""

    def __init__(self, length: int = 30) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv1d(4, 8, 5, padding=2)
        self.relu = nn.ReLU()
        self.profile = nn.Conv1d(8, 2, 1)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.flat = nn.Flatten()
        self.counts = nn.Linear(8, 2)

    def forward(self, x):
        h = self.relu(self.conv(x))
        return self.profile(h), self.counts(self.flat(self.pool(h)))


def profile_score(profile: torch.Tensor) -> torch.Tensor:
    """BPNet's profile score: logits weighted by their softmax, weights held constant."""
    flat = profile.flatten(1)
    return (flat * torch.softmax(flat, dim=1).detach()).sum(dim=1)


class ProfileWrapper(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return profile_score(self.model(x)[0])[:, None]


class CountsSum(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)[1].sum(dim=1, keepdim=True)


@pytest.fixture(scope="module")
def model():
    return TwoHeads().eval()


@pytest.fixture(scope="module")
def x():
    return random_sequences(6, 30, seed=0)


def test_select_forms(model, x):
    profile, counts = model(x)
    torch.testing.assert_close(targets.select((profile, counts), output=1, target=0), counts[:, 0])
    torch.testing.assert_close(
        targets.select((profile, counts), output=1, target=slice(0, 2)), counts.sum(dim=1)
    )
    torch.testing.assert_close(
        targets.select({"c": counts}, output="c", target=[1, 0]), counts.sum(dim=1)
    )
    torch.testing.assert_close(
        targets.select((profile, counts), output=0, target=profile_score), profile_score(profile)
    )


@pytest.mark.parametrize(
    ("output", "target", "error", "words"),
    [
        (None, 0, ValueError, ["tuple of 2 outputs", "output="]),
        (2, 0, ValueError, ["output must be in [0, 1]"]),
        (0, 0, ValueError, ["target=0", "(6, 2, 30)", "output=", "callable"]),
        (1, 2, ValueError, ["target must be in [0, 1]"]),
        (1, slice(5, 9), ValueError, ["selects no column"]),
        (1, "counts", TypeError, ["target must be an int", "callable"]),
        (0, lambda p: p.sum(dim=2), ValueError, ["callable target", "(6,)", "(6, 2)"]),
    ],
)
def test_select_errors_name_output_and_target(model, x, output, target, error, words):
    with pytest.raises(error) as info:
        targets.select(model(x), output=output, target=target)
    assert all(word in str(info.value) for word in words), str(info.value)


def test_a_single_tensor_refuses_output(x):
    with pytest.raises(ValueError, match="leave output=None"):
        targets.select(torch.zeros(6, 3), output=0)


def test_global_importance_through_output_and_a_callable_target(model, x):
    wrapped = ProfileWrapper(model)
    ours = global_importance(model, x, insert="GATA", positions=10, output=0, target=profile_score)
    oracle = global_importance(wrapped, x, insert="GATA", positions=10)
    torch.testing.assert_close(ours.effects, oracle.effects, atol=1e-5, rtol=1e-5)
    summed = global_importance(model, x, insert="GATA", positions=10, output=1, target=slice(0, 2))
    by_hand = global_importance(CountsSum(model), x, insert="GATA", positions=10)
    torch.testing.assert_close(summed.effects, by_hand.effects, atol=1e-5, rtol=1e-5)


def test_surrogate_and_distillation_through_output(model):
    locus = random_sequences(1, 30, seed=3)[0]
    ours = explain_locus(model, locus, n=200, output=1, target=[0, 1], epochs=3, progress=False)
    oracle = explain_locus(CountsSum(model), locus, n=200, epochs=3, progress=False)
    torch.testing.assert_close(ours.y, oracle.y, atol=1e-5, rtol=1e-5)
    x = random_sequences(60, 30, seed=4)
    student = distill(model, x, student="additive", output=0, target=profile_score, epochs=2,
                      progress=False)  # fmt: skip
    again = distill(ProfileWrapper(model), x, student="additive", epochs=2, progress=False)
    for a, b in zip(student.student.parameters(), again.student.parameters()):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


# --------------------------------------------------------------------------- attribute
from genotutor.attribution import METHODS, attribute  # noqa: E402

_QUIET = {"progress": False}


@pytest.mark.filterwarnings("ignore:DeepLIFT summation")  # softmax weights: not linear
@pytest.mark.parametrize("method", METHODS)
def test_attribute_through_output_and_a_callable_target_equals_a_wrapper(model, x, method):
    ours = attribute(model, x, method, target=profile_score, output=0, **_QUIET)
    oracle = attribute(ProfileWrapper(model), x, method, **_QUIET)
    torch.testing.assert_close(ours, oracle, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("method", METHODS)
def test_a_slice_target_is_the_sum_of_its_columns(model, x, method):
    both = attribute(model, x, method, target=slice(0, 2), output=1, **_QUIET)
    first = attribute(model, x, method, target=0, output=1, **_QUIET)
    second = attribute(model, x, method, target=1, output=1, **_QUIET)
    torch.testing.assert_close(both, first + second, atol=1e-5, rtol=1e-5)


def test_attribute_names_output_for_a_tuple_model(model, x):
    with pytest.raises(ValueError, match="Pass output= to pick one element"):
        attribute(model, x, "saliency", **_QUIET)
    with pytest.raises(ValueError, match="target=0 takes columns of an \\(N, T\\) output"):
        attribute(model, x, "saliency", output=0, **_QUIET)


class Swish(nn.Module):
    """An elementwise module DeepLIFT has no built-in rule for."""

    def forward(self, h):
        return h * torch.sigmoid(h)


def _swish_model():
    torch.manual_seed(1)
    return nn.Sequential(
        nn.Conv1d(4, 6, 5), Swish(), nn.MaxPool1d(2), nn.Flatten(), nn.Linear(6 * 13, 1)
    ).eval()


def test_deeplift_rules_for_a_custom_elementwise_module(x):
    model = _swish_model()
    with pytest.raises(ValueError, match='rules=\\{Swish: "linear" \\| "nonlinear"'):
        attribute(model, x, "deeplift_shap", **_QUIET)

    def rescale(module, h, y, h_ref, y_ref):
        delta = h - h_ref
        safe = torch.where(delta.abs() < 1e-6, torch.ones_like(delta), delta)
        slope = torch.sigmoid(h) * (1 + h * (1 - torch.sigmoid(h)))  # the derivative
        return torch.where(delta.abs() < 1e-6, slope, (y - y_ref) / safe)

    scores, delta = attribute(model, x, "deeplift_shap", rules={Swish: "nonlinear"},
                              return_delta=True, **_QUIET)  # fmt: skip
    assert delta.abs().max() < 1e-4
    by_hand, delta_hand = attribute(model, x, "deeplift_shap", rules={Swish: rescale},
                                    return_delta=True, **_QUIET)  # fmt: skip
    assert delta_hand.abs().max() < 1e-4
    torch.testing.assert_close(scores, by_hand, atol=1e-5, rtol=1e-4)
    # "linear" is accepted too, and then summation-to-delta visibly fails
    with pytest.warns(RuntimeWarning, match="summation-to-delta"):
        attribute(model, x, "deeplift_shap", rules={Swish: "linear"}, **_QUIET)


def test_a_callable_rule_must_return_the_input_shape(x):
    with pytest.raises(ValueError, match="must return a multiplier of the input's shape"):
        attribute(_swish_model(), x, "deeplift", rules={Swish: lambda *args: 1.0}, **_QUIET)


def test_attribute_restores_mode_after_an_error(model, x):
    model.train()
    try:
        with pytest.raises(ValueError):
            attribute(model, x, "saliency", output=5, **_QUIET)
        assert model.training
    finally:
        model.eval()


@pytest.mark.cuda
@pytest.mark.parametrize("method", METHODS)
def test_attribute_on_cuda_equals_the_cpu(model, x, method):
    cpu = attribute(model, x, method, target=profile_score, output=0, **_QUIET)
    gpu = attribute(model, x, method, target=profile_score, output=0, device="cuda", **_QUIET)
    assert gpu.device == x.device and next(model.parameters()).device.type == "cpu"
    torch.testing.assert_close(gpu, cpu, atol=1e-4, rtol=1e-4)
