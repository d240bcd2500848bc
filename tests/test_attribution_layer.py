"""Tests of genotutor.attribution.attribute_layer: exactness on a linear head, summation-
to-delta at every layer, agreement with autograd and captum, batch invariance, errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import genotutor
from genotutor.attribution import LAYER_METHODS, attribute, attribute_layer
from genotutor.models import Basset, DeepBind
from genotutor.sequences import dinucleotide_shuffle, random_sequences


def _scaled(model: nn.Module, factor: float = 30.0) -> nn.Module:
    """Random-init nets output ~0.01; scale the last layer so differences are O(1)."""
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    with torch.no_grad():
        last.weight.mul_(factor)
    return model.eval()


def _small_net(length: int = 40) -> nn.Sequential:
    torch.manual_seed(0)
    return _scaled(
        nn.Sequential(
            nn.Conv1d(4, 6, 7, padding=3),
            nn.ReLU(),
            nn.MaxPool1d(4),
            nn.Flatten(),
            nn.Linear(6 * (length // 4), 5),
            nn.ReLU(),
            nn.Linear(5, 2),
        )
    )


def _models() -> dict[str, tuple[nn.Module, int]]:
    torch.manual_seed(1)
    return {
        "small": (_small_net(40), 40),
        "basset": (_scaled(Basset(71, 2, filters=(8, 8, 8), pools=(3, 2, 5))), 71),
        "deepbind": (_scaled(DeepBind(2, n_filters=8)), 60),
    }


MODELS = _models()
LAYERS = [(name, layer) for name, (m, _) in MODELS.items() for layer, _ in m.named_modules()]


def test_exact_on_a_linear_head():
    """For model = head(features(x)), head linear, the contributions of the head's inputs
    are w * (a(x) - mean_r a(r)) exactly."""
    torch.manual_seed(2)
    features = nn.Sequential(nn.Conv1d(4, 3, 5), nn.ReLU(), nn.AdaptiveMaxPool1d(1), nn.Flatten())
    head = nn.Linear(3, 2)
    model = nn.Sequential(features, head).eval()
    x = random_sequences(4, 30, seed=3)
    refs = dinucleotide_shuffle(x, n=5, seed=4)  # (N, R, 4, L)
    scores = attribute_layer(model, x, features, target=1, references=refs, progress=False)
    with torch.no_grad():
        a = features(x)
        a_ref = features(refs.flatten(0, 1)).view(4, 5, 3).mean(1)
    expected = head.weight[1].detach() * (a - a_ref)
    assert scores.shape == (4, 3)
    assert (a - a_ref).abs().max() > 1e-2  # not trivially zero
    torch.testing.assert_close(scores, expected, atol=1e-6, rtol=1e-5)
    single = attribute_layer(model, x, "0", "deeplift", target=1, references=refs[:, 0],
                             progress=False)  # fmt: skip
    with torch.no_grad():
        expected_one = head.weight[1] * (a - features(refs[:, 0]))
    torch.testing.assert_close(single, expected_one, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("method", ["deeplift", "deeplift_shap"])
@pytest.mark.parametrize(("model_name", "layer"), LAYERS)
def test_summation_to_delta_at_every_layer(model_name, layer, method):
    model, length = MODELS[model_name]
    x = random_sequences(3, length, seed=5)
    options = {"n_references": 4} if method == "deeplift_shap" else {"references": "shuffle"}
    scores, delta = attribute_layer(
        model, x, layer, method, target=1, return_delta=True, progress=False, **options
    )
    with torch.no_grad():
        y = model(x)[:, 1]
        if method == "deeplift_shap":
            refs = torch.stack([dinucleotide_shuffle(row, n=4, seed=0) for row in x])
            y_ref = model(refs.flatten(0, 1))[:, 1].view(3, 4).mean(1)
            expected_shape = (3, *_output_shape(model, layer, x)[1:])
        else:
            refs = torch.stack([dinucleotide_shuffle(row, n=1, seed=0)[0] for row in x])
            y_ref = model(refs)[:, 1]
            expected_shape = (3, *_output_shape(model, layer, x)[1:])
    change = y - y_ref
    assert change.abs().max() > 0.05  # the outputs differ enough to test anything
    assert scores.shape == expected_shape
    torch.testing.assert_close(scores.flatten(1).sum(1), change, atol=1e-5, rtol=1e-5)
    assert delta.abs().max() < 1e-5


def _output_shape(model, layer, x):
    module = dict(model.named_modules())[layer]
    seen = []
    handle = module.register_forward_hook(lambda m, a, out: seen.append(out.shape))
    try:
        with torch.no_grad():
            model(x)
    finally:
        handle.remove()
    return seen[0]


def test_input_layer_total_equals_input_attribution_total():
    model, length = MODELS["basset"]
    x = random_sequences(3, length, seed=6)
    at_conv = attribute_layer(model, x, "body.0", n_references=5, progress=False)
    at_input = attribute(model, x, "deeplift_shap", n_references=5, progress=False)
    torch.testing.assert_close(at_conv.sum((1, 2)), at_input.sum((1, 2)), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("layer", ["0", "1", "2", "4", "5"])
def test_gradient_x_activation_equals_autograd(layer):
    model, length = MODELS["small"]
    x = random_sequences(4, length, seed=7)
    cut = int(layer) + 1
    front, back = model[:cut], model[cut:]
    with torch.enable_grad():
        a = front(x).detach().requires_grad_()
        (grad,) = torch.autograd.grad(back(a)[:, 0].sum(), a)
    scores = attribute_layer(model, x, layer, "gradient_x_activation", progress=False)
    assert (grad * a).abs().max() > 1e-3
    torch.testing.assert_close(scores, (grad * a).detach(), atol=1e-6, rtol=1e-5)


def test_agrees_with_captum_layer_deeplift_without_max_pooling():
    """captum's LayerDeepLift is exact for ReLU/linear nets (its bug is in max-pooling)."""
    from captum.attr import LayerDeepLift

    torch.manual_seed(8)
    model = _scaled(nn.Sequential(nn.Conv1d(4, 5, 5), nn.ReLU(), nn.AvgPool1d(4),
                                  nn.Flatten(), nn.Linear(5 * 9, 4), nn.ReLU(),
                                  nn.Linear(4, 1)))  # fmt: skip
    x = random_sequences(3, 40, seed=9)
    ref = dinucleotide_shuffle(x, n=1, seed=1)[:, 0]
    for layer in ("1", "4", "5"):
        ours = attribute_layer(model, x, layer, "deeplift", references=ref, progress=False)
        theirs = LayerDeepLift(model, dict(model.named_modules())[layer]).attribute(
            x, baselines=ref, target=0
        )
        torch.testing.assert_close(ours, theirs.detach(), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("method", LAYER_METHODS)
def test_batch_invariance(method):
    model, length = MODELS["basset"]
    x = random_sequences(5, length, seed=10)
    options = {"n_references": 3} if method == "deeplift_shap" else {}
    whole = attribute_layer(model, x, "body.1", method, progress=False, **options)
    pieces = torch.cat(
        [attribute_layer(model, x[i : i + 2], "body.1", method, progress=False, **options)
         for i in range(0, 5, 2)]
    )  # fmt: skip
    small_batches = attribute_layer(model, x, "body.1", method, batch_size=2, progress=False,
                                    **options)  # fmt: skip
    torch.testing.assert_close(pieces, whole, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(small_batches, whole, atol=1e-6, rtol=1e-5)


def test_output_and_callable_target_and_mode_restored():
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = _small_net(40)

        def forward(self, x):
            y = self.net(x)
            return {"a": y[:, :1], "b": y}

    model = TwoHeads().train()
    x = random_sequences(3, 40, seed=11)
    scores, delta = attribute_layer(model, x, "net.5", output="b", target=lambda y: y.sum(1),
                                    n_references=3, return_delta=True, progress=False)  # fmt: skip
    assert scores.shape == (3, 5) and delta.abs().max() < 1e-5
    assert model.training  # restored
    with torch.no_grad():
        plain_net = model.net.eval()
        same = attribute_layer(plain_net, x, "5", target=[0, 1], n_references=3, progress=False)
    torch.testing.assert_close(scores, same, atol=1e-6, rtol=1e-5)


def test_top_level_and_taught_in_chapter_3():
    assert genotutor.attribute_layer is attribute_layer
    assert "Taught in chapter 3" in attribute_layer.__doc__


@pytest.mark.parametrize(
    ("layer", "options", "error", "words"),
    [
        ("nope", {}, ValueError, "layer must name a submodule"),
        (nn.ReLU(), {}, ValueError, "layer must be a submodule"),
        (3, {}, TypeError, "layer must be"),
        ("1", {"method": "lrp"}, ValueError, "method must be one of"),
        (
            "1",
            {"method": "gradient_x_activation", "references": "zeros"},
            TypeError,
            "does not take 'references'",
        ),
        (
            "1",
            {"method": "gradient_x_activation", "return_delta": True},
            TypeError,
            "does not take 'return_delta'",
        ),
        ("1", {"method": "deeplift", "n_references": 3}, TypeError, "'n_references'"),
        ("1", {"n_references": 0}, ValueError, "n_references"),
        ("1", {"n_references": 2.5}, TypeError, "n_references"),
        ("1", {"seed": -1}, ValueError, "seed"),
        ("1", {"batch_size": 0}, ValueError, "batch_size"),
        ("1", {"return_delta": "yes"}, TypeError, "return_delta"),
        ("1", {"warn": 1}, TypeError, "warn"),
        ("1", {"progress": None}, TypeError, "progress"),
        ("1", {"target": 7}, ValueError, "target"),
        ("1", {"output": 0}, ValueError, "output"),
        ("1", {"method": "deeplift", "references": "ones"}, ValueError, "references"),
        ("1", {"references": torch.zeros(2, 4, 39)}, ValueError, "references"),
        ("1", {"rules": {nn.ReLU: "maybe"}}, ValueError, "rules"),
    ],  # fmt: skip
)
def test_bad_arguments_name_the_argument(layer, options, error, words):
    model, length = MODELS["small"]
    x = random_sequences(2, length, seed=12)
    options = {"progress": False} | options
    with pytest.raises(error, match=words):
        attribute_layer(model, x, layer, **options)


def test_bad_x_and_model():
    model, length = MODELS["small"]
    with pytest.raises(ValueError, match="x must have shape"):
        attribute_layer(model, torch.zeros(4, length), "1")
    with pytest.raises(TypeError, match="model"):
        attribute_layer("model", random_sequences(1, length), "1")


def test_a_layer_called_twice_or_never_is_a_clear_error():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(4, 4, 3, padding=1)
            self.unused = nn.Linear(3, 3)
            self.out = nn.Linear(4, 1)

        def forward(self, x):
            return self.out(self.conv(self.conv(x)).mean(-1))

    x = random_sequences(2, 20, seed=13)
    with pytest.raises(ValueError, match="called more than once"):
        attribute_layer(Twice(), x, "conv", progress=False)
    with pytest.raises(ValueError, match="was not called"):
        attribute_layer(Twice(), x, "unused", "gradient_x_activation", progress=False)
