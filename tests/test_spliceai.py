"""SpliceAI in PyTorch: architecture, weight loading, and agreement with the Keras original.

The oracle is ``tests/fixtures/spliceai_keras_outputs.npz``, made by
``benchmarks/spliceai_fixture.py`` running the original Keras models. Tests that need the
``spliceai`` package (its weights) skip when it is not installed; the architecture tests and
the missing-package error test run without it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from genotutor.sequences import one_hot, random_sequences
from genotutor.spliceai import model as sai
from genotutor.spliceai import weights as saw
from genotutor.spliceai.context import ContextSpliceAI

FIXTURE = Path(__file__).parent / "fixtures" / "spliceai_keras_outputs.npz"
HAS_SPLICEAI = (
    importlib.util.find_spec("spliceai") is not None
    and importlib.util.find_spec("h5py") is not None
)
needs_spliceai = pytest.mark.skipif(
    not HAS_SPLICEAI, reason="needs the spliceai package: pip install --no-deps spliceai h5py"
)


# ------------------------------------------------------------------ without the package
def test_missing_package_gives_clear_error(monkeypatch):
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name == "spliceai" else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(ModuleNotFoundError, match=r"pip install --no-deps spliceai") as info:
        saw.load_spliceai()
    assert "'spliceai' package" in str(info.value)
    assert info.value.name == "spliceai"


@pytest.mark.parametrize("ensemble", [[], [0], [6], [1, 2.0], "12", [True]])
def test_bad_ensemble_is_rejected(ensemble):
    with pytest.raises((ValueError, TypeError), match="ensemble"):
        saw.load_spliceai(ensemble)


def test_bad_padding_and_short_input_are_rejected():
    with pytest.raises(ValueError, match="padding"):
        sai.SpliceAI(padding="causal")
    model = sai.SpliceAI(kernel_sizes=(3,), dilations=(1,)).eval()
    with pytest.raises(ValueError, match=r"x must be longer than .* context of 4 nt"):
        model(torch.zeros(1, 4, 4))


def test_architecture_matches_spliceai_10k():
    model = sai.SpliceAI()
    assert model.context == 10_000  # 5,000 nt each side (Jaganathan et al. 2019)
    assert len(model.units) == 16
    assert [u.conv1.kernel_size[0] for u in model.units] == [11] * 8 + [21] * 4 + [41] * 4
    assert [u.conv1.dilation[0] for u in model.units] == [1] * 4 + [4] * 4 + [10] * 4 + [25] * 4
    assert {u.conv1.out_channels for u in model.units} == {32}
    assert model.skip_after == (3, 7, 11, 15)
    # the published model has about 0.70 M parameters
    assert sum(p.numel() for p in model.parameters()) == 696_739


@pytest.mark.slow
def test_output_shape_and_receptive_field():
    """Output j depends on input positions j .. j + 10000 and on nothing else."""
    torch.manual_seed(0)
    model = sai.SpliceAI(channels=2).double().eval()  # SpliceAI-10k's kernels, cheaper
    for module in model.modules():  # positive weights: every ReLU passes, every path counts
        if isinstance(module, torch.nn.Conv1d):
            torch.nn.init.uniform_(module.weight, 0.5, 1.0)
            torch.nn.init.constant_(module.bias, 0.1)
    x = random_sequences(2, 10_000 + 2, seed=3).double().requires_grad_(True)
    y = model.logits(x)
    assert y.shape == (2, 3, 2)
    torch.testing.assert_close(model(x).sum(dim=1).detach(), torch.ones(2, 2).double())
    # the gradient of output 0 of sequence 0 and output 1 of sequence 1, far below float32's
    # range at the edges (a product of 33 weights), hence float64
    (y[0, 1, 0] + y[1, 1, 1]).backward()
    support = (x.grad.abs().sum(dim=1) > 0).numpy()
    assert support[0, :10_001].all() and not support[0, 10_001:].any()
    assert support[1, 1:].all() and not support[1, 0]


def test_valid_and_same_padding_agree():
    """Unpadded convolutions give the Keras model's zero-padded, cropped outputs."""
    torch.manual_seed(1)
    kwargs = {"channels": 8, "kernel_sizes": (3, 5, 3), "dilations": (1, 2, 4), "skip_every": 2}
    model = sai.SpliceAI(**kwargs)
    for module in model.modules():  # non-trivial batch-norm statistics
        if isinstance(module, torch.nn.BatchNorm1d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    model.eval()
    x = random_sequences(4, model.context + 30, seed=2)
    with torch.inference_mode():
        valid = model(x)
        model.padding = "same"
        same = model(x)
    assert valid.shape == (4, 3, 30)
    torch.testing.assert_close(valid, same, rtol=0, atol=1e-6)


def test_predict_sites_equals_full_prediction():
    torch.manual_seed(3)
    model = sai.SpliceAI(channels=8, kernel_sizes=(3, 5), dilations=(1, 3)).eval()
    x = random_sequences(5, model.context + 40, seed=5)
    flank = model.context // 2
    positions = [flank + 3, flank + 17, flank + 39]
    with torch.inference_mode():
        full = model(x)[..., [3, 17, 39]]
    sites = sai.predict_sites(model, x, positions, batch_size=2, progress=False)
    assert sites.shape == (5, 3, 3)
    torch.testing.assert_close(sites, full, rtol=0, atol=1e-6)
    model.train()
    sai.predict_sites(model, x, positions[:1], progress=False)
    assert model.training  # the mode is restored
    with pytest.raises(ValueError, match=r"positions .* found \[2\]"):
        sai.predict_sites(model, x, [2, flank], progress=False)


def _small_model(seed: int) -> sai.SpliceAI:
    """A SpliceAI-shaped network with a short context and non-trivial batch norm."""
    torch.manual_seed(seed)
    kwargs = {"channels": 8, "kernel_sizes": (3, 5, 3, 5, 3), "dilations": (1, 2, 4, 8, 3)}
    model = sai.SpliceAI(**kwargs, skip_every=2)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm1d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    return model.eval()


@pytest.mark.parametrize(
    ("region", "positions"),
    [
        ((156, 196), [156, 195]),  # an exon's first and last base
        ((156, 196), [66, 346]),  # outputs the insert barely reaches
        ((106, 146), [56, 61]),  # the insert partly outside the needed window
        ((16, 56), [59]),  # the insert starts in the left context
    ],
)
def test_context_spliceai_equals_full_computation(region, positions):
    members = [_small_model(4), _small_model(5)]
    ensemble = sai.SpliceAIEnsemble(members)
    flank = members[0].context // 2
    context = random_sequences(1, members[0].context + 300, seed=0)[0]
    inserts = random_sequences(6, region[1] - region[0], seed=1)
    full = context.repeat(6, 1, 1)
    full[:, :, region[0] : region[1]] = inserts
    with torch.inference_mode():
        expected = ensemble(full)[..., [p - flank for p in positions]]
        got = ContextSpliceAI(ensemble, context, region, positions)(inserts)
    assert got.shape == (6, 3, len(positions))
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)


def test_context_spliceai_rejects_bad_input():
    model = _small_model(6)
    context = random_sequences(1, model.context + 300, seed=0)[0]
    with pytest.raises(ValueError, match="region"):
        ContextSpliceAI(model, context, (50, 10), [100])
    with pytest.raises(ValueError, match="positions"):
        ContextSpliceAI(model, context, (100, 140), [3])
    with pytest.raises(TypeError, match="model must be a SpliceAI"):
        ContextSpliceAI(torch.nn.Linear(2, 2), context, (100, 140), [100])
    scorer = ContextSpliceAI(model, context, (100, 140), [100])
    with pytest.raises(ValueError, match="x must have length 40"):
        scorer(random_sequences(2, 41, seed=0))
    with pytest.raises(ValueError, match="outside the window"):
        ContextSpliceAI(model, context, (300, 340), [100])(random_sequences(2, 40, seed=0))


def test_ensemble_averages_probabilities():
    torch.manual_seed(2)
    members = [sai.SpliceAI(channels=4, kernel_sizes=(3,), dilations=(1,)).eval() for _ in "ab"]
    ensemble = sai.SpliceAIEnsemble(members)
    x = random_sequences(2, 12, seed=4)
    with torch.inference_mode():
        torch.testing.assert_close(ensemble(x), (members[0](x) + members[1](x)) / 2)
    ensemble.padding = "same"
    assert {m.padding for m in members} == {"same"}
    with pytest.raises(ValueError, match="at least one"):
        sai.SpliceAIEnsemble([])


# ------------------------------------------------------------------ with the real weights
@pytest.fixture(scope="module")
def spliceai_models():
    return saw.load_spliceai()


@pytest.fixture(scope="module")
def keras():
    return np.load(FIXTURE)


@needs_spliceai
def test_weights_load_with_right_count_and_dtype(spliceai_models):
    assert len(spliceai_models.members) == 5
    assert not spliceai_models.training
    for member in spliceai_models.members:
        params = list(member.parameters())
        assert sum(p.numel() for p in params) == 696_739
        assert {p.dtype for p in params} == {torch.float32}
        assert all(bool(torch.isfinite(p).all()) for p in params)
        bn = member.units[0].bn1
        assert not torch.allclose(bn.running_var, torch.ones_like(bn.running_var))
    # five different trained models, not five copies
    first = [m.conv_out.weight for m in spliceai_models.members]
    assert not torch.allclose(first[0], first[1])
    single = saw.load_spliceai([3])
    torch.testing.assert_close(
        single.members[0].conv_in.weight, spliceai_models.members[2].conv_in.weight
    )


@pytest.fixture(scope="module")
def hbb_port(spliceai_models, keras):
    """Each member's probabilities on the HBB gene, shape (5, L, 3) like the fixture."""
    x = one_hot(str(keras["hbb_sequence"]), unknown="zeros")
    with torch.inference_mode():
        return np.stack([m(x)[0].T.numpy() for m in spliceai_models.members])


@needs_spliceai
@pytest.mark.slow
def test_port_matches_keras_on_all_five_models(spliceai_models, keras, hbb_port):
    assert np.abs(hbb_port - keras["hbb_probs"]).max() < 1e-5
    # random sequences (one with a run of N) through model 1 in "valid" and "same" modes
    x = one_hot(list(keras["random_sequences"]), unknown="zeros")
    model = spliceai_models.members[0]
    with torch.inference_mode():
        valid = model(x).permute(0, 2, 1).numpy()
    assert np.abs(valid - keras["random_probs"][0]).max() < 1e-5


@needs_spliceai
@pytest.mark.slow
def test_hbb_splice_sites_score_high(keras, hbb_port):
    """Published behaviour: the ensemble finds HBB's four splice sites (GenBank KU350152.1)."""
    gene = str(keras["hbb_sequence"])[sai.FLANK : -sai.FLANK]
    # SpliceAI marks the last exonic base as the donor and the first exonic base as the acceptor
    donors = [gene.index("GGGCAGGTTGGT") + 5, gene.index("CTTCAGGGTGAGT") + 6]
    acceptors = [gene.index("CCCTTAGGCTGCT") + 7, gene.index("CCCACAGCTCCTGG") + 7]
    assert donors[1] - acceptors[0] + 1 == 223  # exon 2 of HBB
    probs = hbb_port.mean(axis=0)  # the ensemble, (L, 3)
    for column, sites in ((1, acceptors), (2, donors)):
        top_two = np.sort(np.argsort(probs[:, column])[-2:])
        assert top_two.tolist() == sites  # the two real sites score highest ...
        assert probs[sites, column].min() > 0.9  # ... and high
        assert np.median(probs[:, column]) < 0.01  # while most positions score near zero
