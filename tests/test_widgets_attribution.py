"""Tests of the chapter-2 attribution explorer: its table against the library, its controls."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genotutor.attribution import GRADIENT_METHODS, METHODS, attribute, attribution_table
from genotutor.evaluation import attribution_auprc, attribution_auroc
from genotutor.models import DeepBind
from genotutor.widgets import AttributionExplorer
from genotutor.widgets._view import unpack


def _truth(n: int = 8, length: int = 50) -> torch.Tensor:
    truth = torch.zeros(n, length, dtype=torch.bool)
    truth[:, 10:20] = True
    truth[2] = False  # a sequence without planted positions: no AUROC for it
    return truth


def _model() -> DeepBind:
    torch.manual_seed(0)
    return DeepBind(filter_width=7).eval()


@pytest.fixture(scope="module")
def explorer():
    from genotutor.sequences import random_sequences

    x = random_sequences(8, 50, seed=1)
    table = attribution_table(_model(), x, truth=_truth(), progress=False)
    return AttributionExplorer(table, x, truth=_truth(), window=30)


def _view_map(explorer, key: str, index: int) -> torch.Tensor:
    """The (4, L) map the browser rebuilds from the view's table."""
    packed = explorer.view.data["scores"][key]
    values = torch.from_numpy(unpack(packed).copy())[index]
    if not packed["observed"]:
        return values
    bases = explorer.x[index].argmax(0)
    return torch.nn.functional.one_hot(bases, 4).T * values


@pytest.mark.parametrize(
    ("method", "correct"),
    [
        ("saliency", True),
        ("grad_x_input", False),
        ("ism", False),
        ("deeplift_shap", False),
        ("integrated_gradients", True),
    ],
)
def test_table_equals_attribute_called_directly(explorer, method, correct):
    options = {"correct": True} if correct else {}
    key = f"{method}+correct" if correct else method
    for index in (0, 5):
        one = explorer.x[index : index + 1]
        direct = attribute(_model(), one, method, progress=False, **options)[0]
        assert torch.allclose(explorer.table.scores[method, correct][index], direct, atol=1e-5)
        assert torch.allclose(_view_map(explorer, key, index), direct, atol=1e-5)


def test_every_entry_is_in_the_view(explorer):
    expected = {m for m in METHODS} | {f"{m}+correct" for m in GRADIENT_METHODS}
    assert set(explorer.view.data["scores"]) == expected
    assert explorer.view.data["scores"]["grad_x_input"]["observed"]  # sent as (N, L)
    assert not explorer.view.data["scores"]["saliency"]["observed"]  # every base: (N, 4, L)
    with torch.no_grad():
        direct = _model()(explorer.x)[:, 0]
    assert np.allclose(unpack(explorer.view.data["outputs"]), direct.numpy(), atol=1e-6)


def test_auroc_and_auprc_are_each_sequences_pooled_score(explorer):
    scores, truth = explorer.table.scores["ism", False], explorer.truth
    for index in (0, 4):
        one = scores[index : index + 1], truth[index : index + 1]
        auroc, auprc = explorer.table.auroc["ism", False], explorer.table.auprc["ism", False]
        assert auroc[index] == pytest.approx(attribution_auroc(*one).pooled)
        assert auprc[index] == pytest.approx(attribution_auprc(*one).pooled)
    assert np.isnan(explorer.table.auroc["ism", False][2])  # no planted position in sequence 2
    view = unpack(explorer.view.data["auroc"]["ism"])
    assert np.allclose(view, explorer.table.auroc["ism", False], equal_nan=True)
    explorer.sequence.value, explorer.method.value = 4, "ism"
    assert explorer.shown()["auroc"] == pytest.approx(explorer.table.auroc["ism", False][4])


def test_each_control_moves_the_view(explorer):
    explorer.sequence.value, explorer.method.value, explorer.correct.value = 0, "saliency", False
    explorer.start.value = 0
    seen = {explorer.scores().sum().item()}
    explorer.method.value = "grad_x_input"
    assert explorer.view.method == list(explorer.methods).index("grad_x_input")
    seen.add(explorer.scores().sum().item())
    explorer.correct.value = True
    assert explorer.view.correct and explorer.entry() == ("grad_x_input", True)
    seen.add(explorer.scores().sum().item())
    explorer.sequence.value = 5
    assert explorer.view.sequence == 5
    seen.add(explorer.scores().sum().item())
    assert len(seen) == 4
    explorer.start.value = 20
    assert explorer.view.start == 20
    explorer.method.value = "ism"  # no correction for ISM: the plain map, whatever the box
    assert explorer.entry() == ("ism", False)
    assert explorer.shown()["output"] == pytest.approx(float(explorer.outputs[5]))


def test_fewer_methods(one_hot_batch):
    table = attribution_table(_model(), one_hot_batch, methods=("ism", "saliency"), progress=False)
    explorer = AttributionExplorer(table, one_hot_batch)
    assert set(explorer.view.data["scores"]) == {"ism", "saliency", "saliency+correct"}
    assert explorer.view.data["methods"] == ["ism", "saliency"]
    assert "auroc" not in explorer.view.data and "auroc" not in explorer.shown()


def test_the_view_state_keeps_its_keys(explorer):
    """What js/attribution.js reads: the data's keys and the controls' traits."""
    keys = {"bases", "outputs", "methods", "gradient", "scores", "window", "truth", "auroc",
            "auprc"}  # fmt: skip
    assert set(explorer.view.data) == keys
    assert {"sequence", "method", "correct", "start"} <= set(explorer.view.trait_names())
    assert unpack(explorer.view.data["bases"]).dtype == np.uint8
    assert unpack(explorer.view.data["truth"]).shape == (8, 50)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"window": 0}, "window"),
        ({"truth": "x"}, "truth"),
        ({"truth": torch.zeros(8, 49, dtype=torch.bool)}, "truth"),
        ({"truth": torch.zeros(8, 50, dtype=torch.bool)}, "truth is given but table has no"),
        ({"table": "scores"}, "table must be an AttributionTable"),
        ({"x": torch.zeros(3, 4, 50)}, "table's scores"),
    ],
)
def test_bad_options_are_refused_by_name(one_hot_batch, options, message):
    table = attribution_table(_model(), one_hot_batch, methods=("saliency",), progress=False)
    arguments = {"table": table, "x": one_hot_batch, **options}
    with pytest.raises((TypeError, ValueError), match=message):
        AttributionExplorer(arguments.pop("table"), arguments.pop("x"), **arguments)
