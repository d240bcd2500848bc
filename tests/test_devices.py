"""Device handling: a model runs where it lives (or on ``device=``) and is put back, with
its mode, also after an error. The CUDA tests run where a GPU is available."""

from __future__ import annotations

import pytest
import torch

from genotutor import training
from genotutor.models import DeepBind
from genotutor.sequences import random_sequences
from genotutor.validation import check_device

cuda = pytest.mark.cuda  # skipped without a GPU (conftest.py)


class _Recorder(torch.nn.Linear):
    """A module that records where it is asked to move (without moving)."""

    def __init__(self) -> None:
        super().__init__(2, 1)
        self.moves: list[torch.device] = []

    def to(self, *args, **kwargs):
        self.moves.append(torch.device(args[0]))
        return self


def test_running_moves_and_restores(monkeypatch):
    model = _Recorder().train()
    monkeypatch.setattr(training, "check_device", lambda device: torch.device(device))
    with pytest.raises(RuntimeError, match="inside"):
        with training.on_device(model, "cuda:3") as here:
            assert here == torch.device("cuda:3") and not model.training
            raise RuntimeError("inside")
    assert model.moves == [torch.device("cuda:3"), torch.device("cpu")]
    assert model.training


def test_running_leaves_a_model_in_place_by_default():
    model = _Recorder()
    with training.on_device(model) as here:
        assert here == torch.device("cpu")
    with training.on_device(model, "cpu"):
        pass
    assert model.moves == []


@pytest.mark.parametrize(
    ("device", "error", "words"),
    [
        (3, TypeError, ["device", "int"]),
        ("gpu", ValueError, ["device", "'gpu'"]),
        ("xla", ValueError, ["device", "cpu, cuda or mps"]),
    ],
)
def test_check_device_refuses(device, error, words):
    with pytest.raises(error) as info:
        check_device(device)
    assert all(word in str(info.value) for word in words)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message without a GPU")
def test_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="CUDA is not available"):
        check_device("cuda")


@cuda
def test_fit_and_predict_on_the_gpu_return_to_the_cpu():
    torch.manual_seed(0)
    x = random_sequences(64, 40, seed=0)
    y = (x[:, 0].sum(dim=1) > 10).float()[:, None]
    model = DeepBind(n_filters=4, filter_width=5, hidden=4)
    training.fit(model, (x, y), epochs=2, device="cuda", progress=False)
    assert training.model_device(model).type == "cpu"
    on_gpu = training.predict(model, x, device="cuda")
    assert on_gpu.device.type == "cpu"
    torch.testing.assert_close(on_gpu, training.predict(model, x), atol=1e-5, rtol=1e-5)


@cuda
def test_a_model_on_the_gpu_stays_there():
    model = DeepBind(n_filters=4, filter_width=5, hidden=4).cuda()
    x = random_sequences(8, 40, seed=0)
    out = training.predict(model, x)
    assert out.device.type == "cpu" and training.model_device(model).type == "cuda"
