from __future__ import annotations

import pytest
import torch

from genotutor.models import DeepBind
from genotutor.simulate import planted_motif_task
from genotutor.training import fit, predict


@pytest.fixture(scope="module")
def small_task():
    return planted_motif_task(400, 120, seed=2).split(seed=0)


def _train(small_task, seed, **kwargs):
    train, valid, _ = small_task
    torch.manual_seed(0)
    model = DeepBind(n_filters=8, filter_width=11, hidden=8)
    result = fit(
        model, (train.x, train.y), (valid.x, valid.y), epochs=3, seed=seed, progress=False, **kwargs
    )
    return model, result


def test_same_seed_gives_identical_weights(small_task):
    a, _ = _train(small_task, seed=4)
    b, _ = _train(small_task, seed=4)
    c, _ = _train(small_task, seed=5)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    assert any(not torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters()))


def test_history_and_eval_mode(small_task):
    model, result = _train(small_task, seed=0)
    assert list(result.history.columns) == ["epoch", "train_loss", "valid_loss"]
    assert 1 <= result.best_epoch <= 3
    assert not model.training


def test_training_lowers_the_loss(small_task):
    train, valid, _ = small_task
    torch.manual_seed(0)
    model = DeepBind(n_filters=8, filter_width=11, hidden=8)
    result = fit(model, (train.x, train.y), None, epochs=6, lr=3e-3, progress=False)
    assert result.history.train_loss.iloc[-1] < result.history.train_loss.iloc[0]


def test_extra_loss_is_called_and_weighted(small_task):
    calls = []

    def penalty(model, x, y):
        calls.append(len(x))
        return sum(p.pow(2).sum() for p in model.parameters())

    _, result = _train(small_task, seed=0, extra_loss=penalty, extra_loss_weight=0.5)
    assert calls and "extra_loss" in result.history.columns


def test_predict_restores_training_mode(one_hot_batch):
    model = DeepBind()
    model.train()
    out = predict(model, one_hot_batch)
    assert out.shape == (8, 1) and model.training


@pytest.mark.parametrize(
    ("train", "error", "words"),
    [
        ((torch.zeros(4, 4, 20), torch.zeros(5, 1)), ValueError, ["4 sequences but 5 labels"]),
        ((torch.zeros(4, 4, 20),), TypeError, ["pair (x, y)"]),
        ((torch.zeros(4, 20), torch.zeros(4, 1)), ValueError, ["train[0]", "shape"]),
    ],
)
def test_fit_rejects_bad_data(train, error, words):
    with pytest.raises(error) as info:
        fit(DeepBind(filter_width=5), train, progress=False)
    for word in words:
        assert word in str(info.value)


def test_fit_rejects_unknown_loss():
    with pytest.raises(ValueError, match="loss must be one of"):
        fit(
            DeepBind(filter_width=5),
            (torch.zeros(4, 4, 20), torch.zeros(4, 1)),
            loss="hinge",
            progress=False,
        )
