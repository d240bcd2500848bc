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


def test_extra_loss_weight_scales_the_penalty(small_task):
    """Weight w on a penalty P trains exactly as weight 1 on w * P; weight 0 as no penalty."""

    def penalty(model, x, y):
        return sum(p.pow(2).sum() for p in model.parameters())

    def scaled(model, x, y):
        return 0.5 * penalty(model, x, y)

    weighted, result = _train(small_task, seed=0, extra_loss=penalty, extra_loss_weight=0.5)
    by_hand, _ = _train(small_task, seed=0, extra_loss=scaled, extra_loss_weight=1.0)
    zero, _ = _train(small_task, seed=0, extra_loss=penalty, extra_loss_weight=0.0)
    plain, _ = _train(small_task, seed=0)
    for a, b in zip(weighted.parameters(), by_hand.parameters()):
        torch.testing.assert_close(a, b)
    for a, b in zip(zero.parameters(), plain.parameters()):
        torch.testing.assert_close(a, b)
    assert any(not torch.allclose(a, b) for a, b in zip(weighted.parameters(), plain.parameters()))
    # the history reports the unweighted penalty
    assert (result.history["extra_loss"] > 0).all()


def test_without_validation_the_last_epoch_is_kept_and_reported(small_task):
    train, _, _ = small_task
    torch.manual_seed(0)
    model = DeepBind(n_filters=8, filter_width=11, hidden=8)
    result = fit(model, (train.x, train.y), None, epochs=6, lr=1.0, progress=False)
    losses = result.history.train_loss
    # the case that matters: the last epoch is not the one with the lowest training loss
    assert int(result.history.epoch[losses.idxmin()]) != 6
    assert result.best_epoch == 6 == len(result.history)


def test_train_cached_keys_on_the_fit_options(small_task):
    from genotutor.training import train_cached

    train, valid, _ = small_task

    def build():
        return DeepBind(n_filters=4, filter_width=7, hidden=4)

    pairs = ((train.x, train.y), (valid.x, valid.y))
    first = train_cached({"name": "t"}, build, *pairs, epochs=2, progress=False)
    again = train_cached({"name": "t"}, build, *pairs, epochs=2, progress=False)
    other = train_cached({"name": "t"}, build, *pairs, epochs=2, lr=3e-3, progress=False)
    assert not first.from_cache and again.from_cache and not other.from_cache
    assert first.best_epoch == again.best_epoch and 1 <= first.best_epoch <= 2
    for a, b in zip(first.model.parameters(), again.model.parameters()):
        assert torch.equal(a, b)
    assert any(
        not torch.equal(a, b) for a, b in zip(first.model.parameters(), other.model.parameters())
    )


def test_evaluating_restores_the_mode_after_an_error():
    from genotutor.training import evaluating

    model = DeepBind().train()
    with pytest.raises(RuntimeError, match="inside"):
        with evaluating(model):
            assert not model.training
            raise RuntimeError("inside")
    assert model.training


class _TwoHeads(torch.nn.Module):
    """A model that returns a tuple or a dict: a profile (N, 1, L) and counts (N, 2)."""

    def __init__(self, as_dict: bool = False) -> None:
        super().__init__()
        self.conv = torch.nn.Conv1d(4, 1, 3, padding=1)
        self.as_dict = as_dict

    def forward(self, x):
        profile = self.conv(x)
        counts = torch.stack([profile.sum((1, 2)), profile.amax((1, 2))], dim=1)
        return {"profile": profile, "counts": counts} if self.as_dict else (profile, counts)


@pytest.mark.parametrize("batch_size", [1, 2, 7])
def test_predict_is_the_model_in_batches_whatever_it_returns(one_hot_batch, batch_size):
    torch.manual_seed(0)
    model = _TwoHeads().eval()
    with torch.no_grad():
        profile, counts = model(one_hot_batch)
    raw = predict(model, one_hot_batch, batch_size=batch_size, progress=False)
    assert isinstance(raw, tuple) and len(raw) == 2
    torch.testing.assert_close(raw[1], counts)
    picked = predict(model, one_hot_batch, output=1, batch_size=batch_size, progress=False)
    torch.testing.assert_close(picked, counts)
    summed = predict(model, one_hot_batch, output=1, target=[0, 1], batch_size=batch_size)
    torch.testing.assert_close(summed, counts.sum(1))
    called = predict(model, one_hot_batch, output=0, target=lambda p: p.sum((1, 2)))
    torch.testing.assert_close(called, profile.sum((1, 2)))
    keyed = predict(_TwoHeads(as_dict=True).eval(), one_hot_batch, batch_size=batch_size)
    assert set(keyed) == {"profile", "counts"} and keyed["profile"].shape == profile.shape


def test_predict_refuses_bad_output_target_and_progress(one_hot_batch):
    model = _TwoHeads().eval()
    with pytest.raises(ValueError, match="output"):
        predict(model, one_hot_batch, output=5)
    with pytest.raises(ValueError, match="target"):
        predict(model, one_hot_batch, output=1, target=9)
    with pytest.raises(TypeError, match="target"):
        predict(model, one_hot_batch, output=1, target="counts")
    with pytest.raises(TypeError, match="progress"):
        predict(model, one_hot_batch, progress="no")
