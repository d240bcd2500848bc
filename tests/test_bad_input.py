"""Bad input, everywhere: a table of wrong calls over the public API. Each must raise a
clear error naming the argument (or follow documented handling), never a traceback from
deep inside torch, and never lose the user's cached results."""

from __future__ import annotations

import pytest
import torch

from genotutor import attribution, cache, evaluation, plotting, sequences, simulate, training
from genotutor.models import DeepBind

GOOD = sequences.random_sequences(3, 40, seed=0)


def _model(train: bool = False) -> torch.nn.Module:
    torch.manual_seed(0)
    model = DeepBind(n_filters=4, filter_width=5, hidden=4)
    return model.train(train)


NAN = GOOD.clone()
NAN[0, 0, 0] = float("nan")

CASES = [
    # (call, exception, words the message must contain)
    (lambda: sequences.one_hot(["ACGT", "ACGTA"]), ValueError, ["ragged"]),
    (lambda: sequences.one_hot(["ACGU"]), ValueError, ["'U'", "A, C, G, T"]),
    (lambda: sequences.decode(torch.zeros(2, 3, 4)), ValueError, ["x", "4 channels"]),
    (lambda: sequences.reverse_complement(GOOD.long()), TypeError, ["x", "floating-point"]),
    (lambda: sequences.dinucleotide_shuffle(NAN), ValueError, ["x", "NaN"]),
    (lambda: sequences.random_sequences(0, 10), ValueError, ["n", ">= 1"]),
    (lambda: sequences.random_sequences(2, 10, gc=1.5), ValueError, ["gc", "(0, 1)"]),
    (lambda: simulate.planted_motif_task(10, 100, drivers=()), ValueError, ["drivers"]),
    (lambda: training.predict(_model(), GOOD[:, :, :, None]), ValueError, ["x", "shape"]),
    (lambda: training.predict("model", GOOD), TypeError, ["model", "torch.nn.Module"]),
    (lambda: training.fit(_model(), (GOOD, torch.zeros(2, 1))), ValueError, ["3 sequences but 2"]),
    (lambda: evaluation.auroc([1, 1], [0.2, 0.3]), ValueError, ["both classes"]),
    (lambda: evaluation.auroc([1, 0], [0.2, float("nan")]), ValueError, ["scores", "NaN"]),
    (lambda: evaluation.auroc([1, 0, 1], [0.2, 0.1]), ValueError, ["same size"]),
    (lambda: plotting.to_logo_frame(torch.zeros(5, 10)), ValueError, ["(4, L)"]),
    (lambda: attribution.attribute(_model(), GOOD, "lime"), ValueError, ["method", "saliency"]),
    (lambda: attribution.attribute(_model(), GOOD[0], "saliency"), ValueError, ["x", "(N, 4, L)"]),
    (lambda: attribution.attribute(_model(), NAN, "ism"), ValueError, ["x", "NaN"]),
    (lambda: attribution.attribute(_model(), GOOD[:0], "ism"), ValueError, ["x", "empty"]),
    (
        lambda: attribution.attribute(_model(), GOOD, "ism", target=3),
        ValueError,
        ["target", "[0, 0]"],
    ),
    (lambda: attribution.attribute(_model(), GOOD, "ism", target=-1), ValueError, ["target"]),
    (lambda: attribution.attribute(_model(), GOOD, "saliency", steps=3), TypeError, ["steps"]),
    (lambda: training.predict(_model(), GOOD, device="gpu"), ValueError, ["device", "'gpu'"]),
    (
        lambda: attribution.attribute("model", GOOD, "saliency"),
        TypeError,
        ["model", "torch.nn.Module"],
    ),
    # every option's value is checked, by kind (TypeError) and range (ValueError)
    (
        lambda: attribution.attribute(_model(), GOOD, "integrated_gradients", n_steps=0),
        ValueError,
        ["n_steps", ">= 1", "found 0"],
    ),
    (
        lambda: attribution.attribute(_model(), GOOD, "smoothgrad", n_samples=0),
        ValueError,
        ["n_samples", ">= 1", "found 0"],
    ),
    (
        lambda: attribution.attribute(_model(), GOOD, "smoothgrad", n_samples=2.5),
        TypeError,
        ["n_samples", "integer", "2.5"],
    ),
    (
        lambda: attribution.attribute(_model(), GOOD, "smoothgrad", noise=0),
        ValueError,
        ["noise", "(0, inf]", "found 0"],
    ),
    (
        lambda: attribution.attribute(_model(), GOOD, "deeplift", hypothetical="no"),
        TypeError,
        ["hypothetical", "True or False", "'no'"],
    ),
    (
        lambda: attribution.attribute(_model(), GOOD, "ism", batch_size=0),
        ValueError,
        ["batch_size", ">= 1", "found 0"],
    ),
    (
        lambda: attribution.attribute(_model(), GOOD, "ism", fast="yes"),
        TypeError,
        ["fast", "True or False", "'yes'"],
    ),
    (
        lambda: attribution.attribute(_model(), GOOD, "saliency", progress=1),
        TypeError,
        ["progress", "True or False", "int 1"],
    ),
    (
        lambda: attribution.attribute(_model(), GOOD, "deeplift_shap", n_references=0),
        ValueError,
        ["n_references", ">= 1", "found 0"],
    ),
    (
        lambda: attribution.attribute(_model(), GOOD, "deeplift_shap", seed=-1),
        ValueError,
        ["seed", ">= 0", "found -1"],
    ),
    (
        lambda: attribution.attribute(_model(), GOOD, "deeplift", references=torch.zeros(4, 7)),
        ValueError,
        ["references", "(4, 40)", "found (4, 7)"],
    ),
    (
        lambda: attribution.attribute(_model(), GOOD, "integrated_gradients", baseline=0),
        TypeError,
        ["baseline", "torch.Tensor", "int 0"],
    ),
    (lambda: cache.entry_path({"f": lambda: 0}), TypeError, ["JSON"]),
]


@pytest.mark.parametrize(("call", "error", "words"), CASES, ids=range(len(CASES)))
def test_bad_input_gets_a_clear_error(call, error, words):
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


def test_lower_case_and_n_documented_behaviour():
    assert torch.equal(sequences.one_hot("acgt"), sequences.one_hot("ACGT"))
    with pytest.raises(ValueError, match="unknown='zeros'"):
        sequences.one_hot("ACNT")
    assert sequences.one_hot("ACNT", unknown="zeros")[0, :, 2].sum() == 0


def test_a_model_in_training_mode_is_restored_after_attribution():
    model = _model(train=True)
    for method in ("saliency", "ism", "deeplift_shap"):
        attribution.attribute(model, GOOD, method)
        assert model.training, method
    with pytest.raises(ValueError):
        attribution.attribute(model, GOOD, "ism", target=5)
    assert model.training


def test_corrupt_cache_file_is_reported_and_others_survive(isolated_cache):
    kept = cache.memoize({"name": "kept"}, lambda: {"v": torch.ones(3)})
    path = cache.entry_path({"name": "broken"}, kind="result")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x80garbage")
    with pytest.warns(UserWarning, match="unreadable"):
        fresh = cache.memoize({"name": "broken"}, lambda: {"v": torch.zeros(3)})
    assert torch.equal(fresh["v"], torch.zeros(3))
    assert torch.equal(
        cache.memoize({"name": "kept"}, lambda: {"v": torch.zeros(3)})["v"], kept["v"]
    )
