"""Tests of the explorers' attribution tables: each against the library function it
repeats, called directly, and their bad inputs refused by name."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genotutor import priors
from genotutor.attribution import (
    GRADIENT_METHODS,
    attribute,
    attribution_table,
    attribution_tracks,
    mutation_table,
)
from genotutor.evaluation import attribution_auprc, attribution_auroc
from genotutor.models import DeepBind

METHODS = ("saliency", "ism", "deeplift_shap")


def _model(width: int = 7) -> DeepBind:
    torch.manual_seed(0)
    return DeepBind(filter_width=width).eval()


def _truth(n: int = 8, length: int = 50) -> torch.Tensor:
    truth = torch.zeros(n, length, dtype=torch.bool)
    truth[:, 10:20] = True
    truth[2] = False  # a sequence without planted positions: no AUROC for it
    return truth


@pytest.fixture(scope="module")
def table():
    from genotutor.sequences import random_sequences

    x = random_sequences(8, 50, seed=1)
    return x, attribution_table(
        _model(), x, truth=_truth(), methods=METHODS, seed=2, progress=False
    )


def test_attribution_table_is_attribute_called_directly(table):
    x, result = table
    model = _model()
    expected = {
        (m, c) for m in METHODS for c in (False, True) if c is False or m in GRADIENT_METHODS
    }
    assert set(result.scores) == expected and result.methods == METHODS
    for (method, correct), scores in result.scores.items():
        options = {"correct": True} if correct else {}
        if method == "deeplift_shap":
            options["seed"] = 2
        direct = attribute(model, x, method, progress=False, **options)
        assert scores.shape == x.shape
        assert torch.allclose(scores, direct, atol=1e-5), (method, correct)
    with torch.no_grad():
        assert torch.allclose(result.outputs, model(x)[:, 0], atol=1e-6)


def test_attribution_table_scores_each_sequence_against_its_truth(table):
    _, result = table
    scores, truth = result.scores["ism", False], _truth()
    for index in (0, 4):
        one = scores[index : index + 1], truth[index : index + 1]
        assert result.auroc["ism", False][index] == pytest.approx(attribution_auroc(*one).pooled)
        assert result.auprc["ism", False][index] == pytest.approx(attribution_auprc(*one).pooled)
    assert np.isnan(result.auroc["ism", False][2])
    assert set(result.auroc) == set(result.scores) == set(result.auprc)


def test_attribution_table_without_truth_has_no_scores(one_hot_batch):
    result = attribution_table(_model(), one_hot_batch, methods=("ism",), progress=False)
    assert result.auroc == {} and result.auprc == {} and result.target == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"target": 3}, "target"),
        ({"truth": "x"}, "truth"),
        ({"truth": torch.zeros(8, 49, dtype=torch.bool)}, "truth"),
        ({"methods": ("ism", "lime")}, "methods"),
        ({"methods": "ism"}, "methods"),
        ({"methods": ()}, "methods"),
        ({"methods": ("ism", "ism")}, "methods"),
        ({"seed": -1}, "seed"),
        ({"device": "nowhere"}, "device"),
        ({"progress": "no"}, "progress"),
    ],
)
def test_attribution_table_refuses_bad_options_by_name(one_hot_batch, options, message):
    with pytest.raises((TypeError, ValueError), match=message):
        attribution_table(_model(), one_hot_batch, **options)


def test_mutation_table_is_every_mutant_run_through_the_model(one_hot_batch):
    model = _model()
    result = mutation_table(model, one_hot_batch, progress=False)
    n, _, length = one_hot_batch.shape
    mutants = one_hot_batch[:, None, None].repeat(1, 4, length, 1, 1)  # (N, 4, L, 4, L)
    for base in range(4):
        for pos in range(length):
            mutants[:, base, pos, :, pos] = torch.nn.functional.one_hot(torch.tensor(base), 4)
    with torch.no_grad():
        brute = model(mutants.reshape(-1, 4, length))[:, 0].reshape(n, 4, length)
        assert torch.allclose(result.reference, model(one_hot_batch)[:, 0], atol=1e-6)
    assert result.outputs.shape == one_hot_batch.shape
    assert torch.allclose(result.outputs, brute, atol=1e-5)


def test_mutation_table_runs_on_a_device_and_restores_the_model(one_hot_batch):
    model = _model().train()
    result = mutation_table(model, one_hot_batch, device="cpu", progress=False)
    assert model.training  # mode restored
    direct = mutation_table(model.eval(), one_hot_batch, progress=False)
    assert torch.allclose(result.outputs, direct.outputs)


@pytest.mark.parametrize(
    ("options", "message"),
    [({"target": 1}, "target"), ({"device": 3}, "device"), ({"progress": 1}, "progress")],
)
def test_mutation_table_refuses_bad_options_by_name(one_hot_batch, options, message):
    with pytest.raises((TypeError, ValueError), match=message):
        mutation_table(_model(), one_hot_batch, **options)
    with pytest.raises(TypeError, match="model"):
        mutation_table("model", one_hot_batch)


def test_attribution_tracks_are_the_priors_track_of_each_sequence(one_hot_batch):
    models = {"a": _model(7), "b": _model(5)}
    tracks = attribution_tracks(models, one_hot_batch, batch_size=3, progress=False)
    assert list(tracks) == ["a", "b"]
    for name, model in models.items():
        assert tracks[name].shape == (8, 50) and tracks[name].dtype == torch.float32
        for i in (0, 7):
            alone = priors.attribution_track(model, one_hot_batch[i : i + 1])
            assert torch.allclose(tracks[name][i], alone[0], atol=1e-6)


@pytest.mark.parametrize(
    ("models", "options", "message"),
    [
        ({}, {}, "models must be a non-empty dict"),
        ({"a": "model"}, {}, r"models\['a'\] must be a torch.nn.Module"),
        (None, {"batch_size": 0}, "batch_size"),
        (None, {"device": "nowhere"}, "device"),
    ],
)
def test_attribution_tracks_refuse_bad_options_by_name(one_hot_batch, models, options, message):
    models = {"a": _model()} if models is None else models
    with pytest.raises((TypeError, ValueError), match=message):
        attribution_tracks(models, one_hot_batch, **options)
