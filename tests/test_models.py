from __future__ import annotations

import pytest
from torch import nn

from genotutor.models import Basset, DeepBind, Exponential


@pytest.mark.parametrize("activation", ["relu", "exp"])
def test_shapes(activation, one_hot_batch):
    assert DeepBind(3, activation=activation)(one_hot_batch).shape == (8, 3)
    assert Basset(50, 2, pools=(2, 2, 2), activation=activation)(one_hot_batch).shape == (8, 2)


def test_every_nonlinearity_is_its_own_module():
    """Hook-based attribution needs one module per use: no module object appears twice."""
    for model in (DeepBind(), Basset(200), Basset(200, activation="exp")):
        seen = [id(m) for m in model.modules() if isinstance(m, (nn.ReLU, Exponential))]
        assert len(seen) == len(set(seen)) >= 2


def test_first_conv_is_the_motif_layer():
    model = Basset(200, filters=(12, 8, 8))
    assert model.first_conv.in_channels == 4 and model.first_conv.out_channels == 12


def test_exp_activation_gets_first_layer_batch_norm():
    kinds = [type(m) for m in Basset(200, activation="exp").body]
    assert kinds[:3] == [nn.Conv1d, nn.BatchNorm1d, Exponential]
    assert nn.BatchNorm1d not in [type(m) for m in Basset(200).body]


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: Basset(200, widths=(18, 7, 5)), ["odd"]),
        (lambda: Basset(10), ["too short"]),
        (lambda: DeepBind(activation="tanh"), ["activation must be one of"]),
        (lambda: Basset(200, filters=(8, 8)), ["one entry per block"]),
    ],
)
def test_bad_architectures(build, words):
    with pytest.raises(ValueError) as info:
        build()
    for word in words:
        assert word in str(info.value)
