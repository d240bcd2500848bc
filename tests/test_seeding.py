"""No hidden state: every public function that draws random numbers takes them from its own
``seed=`` and leaves the caller's random state as it found it.

Each function below is called twice, each time after disturbing the global generators of
torch, NumPy and Python differently (and each time with an empty model cache, so what
trains, trains again): the two results must be identical, and the global state after each
call must be the state before it.
"""

from __future__ import annotations

import dataclasses
import functools
import random
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from genotutor import distillation, surrogate
from genotutor.attribution import attribute, attribute_layer, attribution_table, make_baseline
from genotutor.attribution.sanity import randomization_check, randomize_model
from genotutor.cache import train_or_load
from genotutor.models import DeepBind
from genotutor.seeding import seeded
from genotutor.sequences import dinucleotide_shuffle, random_sequences
from genotutor.simulate import (
    add_confounder,
    cooperative_task,
    long_range_task,
    planted_motif_task,
    split_indices,
)
from genotutor.splicing import (
    edit_feature,
    edit_table,
    plant_hairpin,
    reporter_sequences,
    simulate_splicing,
)
from genotutor.studies import attention as attention_study
from genotutor.studies import fourier_prior, limits, planted, profile_model
from genotutor.studies.splicing_teachers import genome_decoys, genome_splice_model, splicing_teacher
from genotutor.training import fit, train_cached

SMALL_TASK = {"n": 120, "length": 100, "seed": 0, "drivers": ["CTCF"]}
ONE_EPOCH = {"epochs": 1, "progress": False}
TWO_EPOCHS = {"epochs": 2}


def _model() -> nn.Module:
    with seeded(3):
        return DeepBind(n_filters=4, filter_width=7, hidden=4, dropout=0.3).eval()


def _x(n: int = 6, length: int = 40) -> torch.Tensor:
    return random_sequences(n, length, seed=5)


def _labels(x: torch.Tensor) -> torch.Tensor:
    return (x[:, 2].sum(-1, keepdim=True) > x.shape[-1] / 4).float()


def _fit() -> nn.Module:
    model, x = _model(), _x(40)
    fit(model, (x, _labels(x)), (x[:10], _labels(x[:10])), epochs=2, batch_size=8,
        progress=False)  # fmt: skip
    return model


def _train_cached():
    x = _x(40)
    return train_cached({"name": "t"}, _model_fresh, (x, _labels(x)), seed=2, **ONE_EPOCH)


def _model_fresh() -> nn.Module:  # default initialisation, from the seed train_or_load gives
    return DeepBind(n_filters=4, filter_width=7, hidden=4)


def _train_or_load():
    return train_or_load({"name": "u", "seed": 4}, _model_fresh, lambda model: None)


def _edit_table():
    exons = simulate_splicing(4, kind="random", seed=1)
    with seeded(1):
        model = DeepBind(n_filters=4, filter_width=7, hidden=4).eval()
    return edit_table({"m": model}, exons.x, positions=(30, 32), seed=2, progress=False)


def _patched(module, name: str, **options):
    """``module.name`` with smaller defaults, for the studies that train several models."""
    return functools.partial(getattr(module, name), **options)


def _seed_stability(monkeypatch):
    small = _patched(attention_study, "long_range_model", n=200, epochs=1)
    monkeypatch.setattr(attention_study, "long_range_model", small)
    return attention_study.seed_stability((0, 1), limit=10)


def _transparency_gap(monkeypatch):
    small = _patched(attention_study, "transparent_model", n=150, epochs=1)
    monkeypatch.setattr(attention_study, "transparent_model", small)
    return attention_study.transparency_gap((0, 1))


# name -> call (a function of pytest's monkeypatch, or of nothing)
CALLS: dict[str, Callable] = {
    # genotutor.sequences, genotutor.simulate
    "random_sequences": lambda: random_sequences(3, 20, seed=1),
    "dinucleotide_shuffle": lambda: dinucleotide_shuffle(_x(), n=2, seed=1),
    "planted_motif_task": lambda: planted_motif_task(30, 80, seed=1),
    "cooperative_task": lambda: cooperative_task(30, 80, seed=1),
    "long_range_task": lambda: long_range_task(30, 200, seed=1),
    "add_confounder": lambda: add_confounder(planted_motif_task(30, 80), seed=1),
    "split_indices": lambda: split_indices(50, valid=0.2, test=0.2, seed=1),
    # genotutor.training, genotutor.cache
    "fit": _fit,
    "train_cached": _train_cached,
    "train_or_load": _train_or_load,
    # genotutor.attribution, genotutor.evaluation
    "attribute smoothgrad": lambda: attribute(
        _model(), _x(), "smoothgrad", n_samples=3, seed=1, progress=False
    ),  # fmt: skip
    "attribute integrated_gradients": lambda: attribute(
        _model(),
        _x(),
        "integrated_gradients",
        baseline="shuffle",
        n_steps=4,
        seed=1,
        progress=False,
    ),  # fmt: skip
    "attribute deeplift_shap": lambda: attribute(
        _model(), _x(), "deeplift_shap", n_references=3, seed=1, progress=False
    ),  # fmt: skip
    "attribute_layer": lambda: attribute_layer(
        _model(), _x(), "conv", n_references=3, seed=1, progress=False
    ),  # fmt: skip
    "make_baseline": lambda: make_baseline(_x(), "shuffle", seed=1),
    "randomize_model": lambda: randomize_model(_model(), seed=1),
    "randomization_check": lambda: randomization_check(_model(), _x(), "grad_x_input", seed=1),
    # genotutor.surrogate
    "mutagenesis_library": lambda: surrogate.mutagenesis_library(_x()[0], 20, seed=1),
    "fit_surrogate": lambda: surrogate.fit_surrogate(
        surrogate.mutagenesis_library(_x()[0], 60, seed=1),
        torch.arange(60.0),
        epochs=3,
        noise="skewed_t",
        seed=1,
        progress=False,
    ),  # fmt: skip
    "explain_locus": lambda: surrogate.explain_locus(
        _model(), _x()[0], n=60, window=(10, 20), epochs=2, seed=1, progress=False
    ),  # fmt: skip
    "explain_loci": lambda: surrogate.explain_loci(
        _model(), _x()[:2], windows=(10, 20), n=60, epochs=2, seed=1, progress=False
    ),  # fmt: skip
    "knn_entropy": lambda: surrogate.knn_entropy(np.linspace(0, 1, 50), subsamples=3, seed=1),
    "ksg_mutual_information": lambda: surrogate.ksg_mutual_information(
        np.linspace(0, 1, 50), np.linspace(0, 1, 50) ** 2, subsamples=3, seed=1
    ),  # fmt: skip
    # genotutor.splicing, genotutor.distillation
    "simulate_splicing": lambda: simulate_splicing(20, seed=1),
    "reporter_sequences": lambda: reporter_sequences(5, seed=1),
    "edit_feature": lambda: edit_feature(reporter_sequences(5), "cpg", "add", seed=1),
    "plant_hairpin": lambda: plant_hairpin(reporter_sequences(5), seed=1),
    "genome_decoys": lambda: genome_decoys(5, seed=1),
    "splicing_teacher": lambda: splicing_teacher(n=100, data_seed=1, seed=1, **ONE_EPOCH),
    "genome_splice_model": lambda: genome_splice_model(
        n_sites=200, data_seed=1, seed=1, **ONE_EPOCH
    ),  # fmt: skip
    "distill neural_basis": lambda: distillation.distill(
        _model(), _x(40), epochs=2, seed=1, progress=False
    ),  # fmt: skip
    "distill additive": lambda: distillation.distill(
        _model(), _x(40), student="additive", epochs=2, seed=1, progress=False
    ),  # fmt: skip
    "confounder_effect": lambda: distillation.confounder_effect(
        _model(), reporter_sequences(5), feature="cpg", seed=1
    ),  # fmt: skip
    # the studies
    "planted_task_model": lambda: planted.planted_task_model(n=120, length=100, **ONE_EPOCH),
    "cooperative_task_model": lambda: planted.cooperative_task_model(n=120, **ONE_EPOCH),
    "confounded_task_model": lambda: planted.confounded_task_model(n=120, **ONE_EPOCH),
    "dropout_model": lambda: limits.dropout_model(0.3, task=SMALL_TASK, **ONE_EPOCH),
    "deep_model": lambda: limits.deep_model(True, depth=2, task=SMALL_TASK, **ONE_EPOCH),
    "gradient_norms": lambda: limits.gradient_norms((2,), n_sequences=4, length=40, seeds=(0, 1)),
    "long_range_model": lambda: attention_study.long_range_model(n=200, epochs=1),
    "correlated_values": lambda: attention_study.correlated_values(4, 4, 0.5, seed=1),
    "conditioning_table": lambda: attention_study.conditioning_table((0.0, 0.9), n_draws=2),
    "seed_stability": _seed_stability,
    "transparent_model": lambda: attention_study.transparent_model(
        "transparent", cooperative=True, n=150, epochs=1
    ),
    "transparency_gap": _transparency_gap,
    "prior_experiment": lambda: fourier_prior.prior_experiment(
        train_sizes=(40,), seeds=(0, 1), n=200, epochs=1, min_epoch_size=40, progress=False
    ),
    "profile_task": lambda: profile_model.profile_task(50, 100, seed=1),
    "profile_model": lambda: profile_model.profile_model(n=100, **ONE_EPOCH),
    # the explorers' tables that draw
    "attribution_table": lambda: attribution_table(
        _model(), _x(3), methods=("smoothgrad", "deeplift_shap"), seed=1, progress=False
    ),
    "surrogate_grid": lambda: surrogate.surrogate_grid(
        _model(), _x(1), window=10, rates=(0.1,), sizes=(60,), fit_options=TWO_EPOCHS, seed=1
    ),
    "edit_table": _edit_table,
}


def _disturb(k: int) -> None:
    torch.manual_seed(1000 + k)
    torch.rand(3)
    np.random.seed(2000 + k)  # noqa: NPY002 (the legacy global state is what we check)
    np.random.rand(3)  # noqa: NPY002
    random.seed(3000 + k)


def _global_state() -> tuple:
    numpy_state = np.random.get_state()  # noqa: NPY002
    return torch.get_rng_state().clone(), numpy_state, random.getstate()


def _assert_same_state(before: tuple, after: tuple, name: str) -> None:
    assert torch.equal(before[0], after[0]), f"{name} changed torch's global random state"
    assert (
        before[1][0] == after[1][0]
        and np.array_equal(before[1][1], after[1][1])
        and (before[1][2:] == after[1][2:])
    ), f"{name} changed NumPy's global random state"
    assert before[2] == after[2], f"{name} changed Python's global random state"


def _assert_same(a: object, b: object, where: str) -> None:
    """Recursive identity of two results: tensors, arrays, frames, modules, dataclasses..."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, torch.Tensor):
        torch.testing.assert_close(a, b, rtol=0, atol=0, equal_nan=True, msg=where)
    elif isinstance(a, np.ndarray):
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), where
    elif isinstance(a, (pd.DataFrame, pd.Series)):
        assert a.shape == b.shape and a.equals(b), where
    elif isinstance(a, nn.Module):
        _assert_same(a.state_dict(), b.state_dict(), where)
    elif dataclasses.is_dataclass(a):
        for field in dataclasses.fields(a):
            if field.name != "from_cache":
                _assert_same(
                    getattr(a, field.name), getattr(b, field.name), f"{where}.{field.name}"
                )
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    elif hasattr(a, "__dict__") and not isinstance(a, type):
        _assert_same(vars(a), vars(b), where)
    else:
        assert a == b, where


@pytest.mark.parametrize("name", sorted(CALLS))
def test_seeded_and_leaves_the_global_state_alone(name, tmp_path, monkeypatch):
    call = CALLS[name]
    results = []
    for k in range(2):
        monkeypatch.setenv("GENOTUTOR_CACHE", str(tmp_path / f"cache-{k}"))  # train again
        _disturb(k)
        before = _global_state()
        result = call(monkeypatch) if call.__code__.co_argcount else call()
        _assert_same_state(before, _global_state(), name)
        results.append(result)
    _assert_same(results[0], results[1], name)


def test_seeded_restores_the_state_and_seeds_the_block():
    _disturb(0)
    before = _global_state()
    with seeded(7):
        first = torch.rand(4)
    _assert_same_state(before, _global_state(), "seeded")
    with seeded(7):
        assert torch.equal(torch.rand(4), first)
    with seeded(8):
        assert not torch.equal(torch.rand(4), first)


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (1.5, TypeError), ("0", TypeError)])
def test_seeded_refuses_a_bad_seed(bad, error):
    with pytest.raises(error, match="seed"):
        with seeded(bad):
            pass


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_seeded_forks_the_device_generator():
    torch.cuda.manual_seed(11)
    before = torch.cuda.get_rng_state()
    with seeded(7, "cuda"):
        first = torch.rand(4, device="cuda")
    assert torch.equal(torch.cuda.get_rng_state(), before)
    with seeded(7, "cuda"):
        assert torch.equal(torch.rand(4, device="cuda"), first)
