"""Tests of genotutor.attribution.ism: the fast path (windows through whole traced graphs)
against a brute-force oracle (one forward pass per mutant) on CNNs, pooling with padding, a
dilated residual tower with a tuple output, a SpliceAI-shaped model, concatenated branches
and functional code; windows, batch invariance, the choice of path by timing, declared
pointwise modules, errors, tangermeme."""

from __future__ import annotations

import ast
import copy
import importlib
import time
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from genotutor.attribution import attribute
from genotutor.attribution.ism import ISMPlan, ism
from genotutor.models import Basset, DeepBind
from genotutor.sequences import random_sequences
from genotutor.spliceai.model import SpliceAI
from genotutor.targets import select as select_value


def brute_force(model, x, chosen=None, start=0, end=None, chunk=512):
    """The chosen value (``output=``, ``target=``) of every single-base mutant minus the
    sequence's, (N, 4, W): one forward pass per mutant."""
    chosen = {"target": 0} if chosen is None else chosen

    def select(raw):
        return select_value(raw, **chosen)

    end = x.shape[-1] if end is None else end
    n, alphabet, _ = x.shape
    rows = [
        (i, b, p)
        for i in range(n)
        for p in range(start, end)
        for b in range(alphabet)
        if x[i, b, p] != 1
    ]
    scores = torch.zeros(n, alphabet, end - start, dtype=x.dtype, device=x.device)
    with torch.no_grad():
        reference = select(model(x))
        for begin in range(0, len(rows), chunk):
            part = rows[begin : begin + chunk]
            mutants = x[[i for i, _, _ in part]].clone()
            for k, (_, b, p) in enumerate(part):
                mutants[k, :, p] = 0
                mutants[k, b, p] = 1
            out = select(model(mutants))
            for k, (i, b, p) in enumerate(part):
                scores[i, b, p - start] = out[k] - reference[i]
    return scores


def _scaled(model: nn.Module, factor: float = 30.0) -> nn.Module:
    """Random-init nets output ~0.01; scale the last layer so that differences are O(1)."""
    last = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv1d))][-1]
    with torch.no_grad():
        last.weight.mul_(factor)
    return model.eval()


def conv_pool_cnn(length: int, channels: int = 8) -> nn.Module:
    """Conv-ReLU-maxpool twice and a dense head."""
    return nn.Sequential(
        nn.Conv1d(4, channels, 9, padding=4),
        nn.ReLU(),
        nn.MaxPool1d(4),
        nn.Conv1d(channels, channels, 5, padding="same"),
        nn.ReLU(),
        nn.MaxPool1d(4),
        nn.Flatten(),
        nn.Linear(channels * (length // 16), 2),
    )


def overlapping_pools() -> nn.Module:
    """Pools with kernel 4, stride 2 and padding (max and average), dilated max pooling."""
    return nn.Sequential(
        nn.Conv1d(4, 6, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool1d(4, 2, padding=1),
        nn.Conv1d(6, 5, 3, dilation=2),
        nn.ELU(),
        nn.AvgPool1d(4, 2, padding=2),
        nn.MaxPool1d(3, 1, padding=1, dilation=2, ceil_mode=True),
        nn.Flatten(),
        nn.Linear(5 * 9, 2),
    )


class Tower(nn.Module):
    """BPNet-shaped: a stem, dilated residual blocks, a profile head and a counts head."""

    def __init__(self, channels: int = 8, blocks: int = 6, profile_width: int = 25) -> None:
        super().__init__()
        self.stem = nn.Conv1d(4, channels, 21, padding=10)
        self.stem_relu = nn.ReLU()
        self.convs = nn.ModuleList(
            nn.Conv1d(channels, channels, 3, padding=2**i, dilation=2**i) for i in range(blocks)
        )
        self.relus = nn.ModuleList(nn.ReLU() for _ in range(blocks))
        self.profile = nn.Conv1d(channels, 2, profile_width, padding=profile_width // 2)
        self.counts = nn.Linear(channels, 1)

    def forward(self, x):
        h = self.stem_relu(self.stem(x))
        for conv, relu in zip(self.convs, self.relus, strict=True):
            h = h + relu(conv(h))
        return self.profile(h), self.counts(h.mean(dim=2))


class Counts(nn.Module):
    """The tower's counts head alone, as an (N, 1) output."""

    def __init__(self, tower: Tower) -> None:
        super().__init__()
        self.tower = tower

    def forward(self, x):
        return self.tower(x)[1]


def profile_target(profile):
    """BPNet's profile explanation: logits weighted by their detached softmax, summed."""
    logits = profile.flatten(1)
    return (torch.softmax(logits, dim=1).detach() * logits).sum(dim=1)


class DictTower(Tower):
    """The tower with its heads in a dict, the input cast with ``.float()`` first."""

    def forward(self, x):
        profile, counts = super().forward(x.float())
        return {"profile": profile, "counts": counts}


class Branches(nn.Module):
    """Two convolution branches of different widths concatenated along the channels."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv1d(4, 3, 5, padding=2)
        self.b = nn.Conv1d(4, 2, 9, padding="same")
        self.conv = nn.Conv1d(5, 4, 3)
        self.head = nn.Linear(4 * 38, 2)

    def forward(self, x):
        h = torch.cat([torch.relu(self.a(x)), torch.sigmoid(self.b(x))], dim=1)
        return self.head(torch.flatten(self.conv(h) * 2.0, 1))


class Functional(nn.Module):
    """Functional code: F.conv1d, F.pad, narrow, channel slices, channel softmax, view."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(6, 4, 7) * 0.5)
        self.bias = nn.Parameter(torch.randn(6))
        self.bn = nn.BatchNorm1d(6)
        self.drop = nn.Dropout(0.3)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv1d(3, 4, 3, stride=2)
        self.head = nn.Linear(4 * 21, 1)

    def forward(self, x):
        h = self.relu(self.drop(self.bn(F.conv1d(x, self.weight, self.bias, padding=3))))
        h = F.pad(h, (2, 1), value=0.5).narrow(2, 1, 46)[:, 1:4]
        h = torch.softmax(-0.5 * h, dim=1) + F.max_pool1d(h, 3, 1, 1)
        h = self.conv(h[..., 2:])
        return self.head(h.view(h.size(0), -1))


class Reductions(nn.Module):
    """Strided pooling, then sums with ``keepdim`` over channels and length, an adaptive
    average pool, and a flatten into a linear layer: the nodes computed from the change."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(4, 6, 7, padding=3)
        self.pool = nn.MaxPool1d(3)
        self.average = nn.AdaptiveAvgPool1d(1)
        self.head = nn.Linear(6 * 20, 2)

    def forward(self, x):
        h = self.pool(torch.relu(self.conv(x)))
        total = h.sum(dim=(1, 2), keepdim=True).flatten(1)
        return self.head(h.flatten(1)) + total + self.average(h).flatten(1)[:, :2]


def _functional() -> nn.Module:
    model = Functional()
    with torch.no_grad():
        model.bn.running_mean.normal_()
        model.bn.running_var.uniform_(0.5, 2)
    return _scaled(model)


def _tower() -> nn.Module:
    model = _scaled(Tower())
    with torch.no_grad():
        model.profile.weight.mul_(10.0)
    return model


def _spliceai() -> nn.Module:
    model = SpliceAI(
        channels=4, kernel_sizes=(11, 11, 21, 41), dilations=(1, 4, 10, 25), skip_every=2
    )
    return model.eval()


SPLICEAI = {"target": lambda p: p[:, 1, 5:25].sum(dim=1)}  # acceptor, some positions


torch.manual_seed(0)
MODELS = {  # name: (model, length, what to explain: output= and target=)
    "basset": (_scaled(Basset(96, filters=(8, 8, 8), pools=(2, 2, 3))), 96, {"target": 0}),
    "deepbind": (_scaled(DeepBind(2, n_filters=8)), 60, {"target": 0}),
    "conv_pool_cnn": (_scaled(conv_pool_cnn(128)), 128, {"target": 0}),
    "overlapping_pools": (_scaled(overlapping_pools()), 50, {"target": 0}),
    "tower_profile": (_tower(), 300, {"output": 0, "target": profile_target}),
    "tower_counts": (_tower(), 300, {"output": 1, "target": 0}),
    "dict_tower": (
        _scaled(DictTower(blocks=3)),
        120,
        {"output": "profile", "target": lambda p: p[:, 1, 40:80].sum(1)},
    ),
    "branches": (_scaled(Branches()), 40, {"target": 1}),
    "functional": (_functional(), 48, {"target": 0}),
    "reductions": (_scaled(Reductions()), 60, {"target": 1}),
}


def test_layout_keys_group_positions_whose_reads_lie_alike():
    """Positions with one key have one offset in every read (so one slice writes a batch's
    windows), and after stride-4 pools the keys cycle with the position."""
    from genotutor.attribution._ism_graph import EXAMPLE_BATCH, trace
    from genotutor.attribution._ism_plan import make_plan

    model, length, _ = MODELS["conv_pool_cnn"]
    example = random_sequences(1, length, seed=0).expand(EXAMPLE_BATCH, -1, -1).clone()
    plan = make_plan(trace(model, example), 0, length, ())
    keys = plan.layout_keys()
    assert keys.shape == (length,)
    reads = plan.gathered()
    assert reads and not any(r.equals_window for r in reads)
    assert any(len(set(r.offsets)) > 1 for r in reads)  # the offsets do vary
    for key in set(keys.tolist()):
        for read in reads:
            assert len(set(read.offsets[keys == key].tolist())) == 1
    inner = keys[32:96]  # away from the edges the layout repeats every 16 positions
    assert len(set(inner.tolist())) <= 16 and all(inner[:-16] == inner[16:])


@pytest.mark.parametrize("name", list(MODELS))
def test_fast_path_equals_brute_force(name):
    model, length, chosen = MODELS[name]
    x = random_sequences(2, length, seed=1)
    brute = brute_force(model, x, chosen)
    assert brute.abs().max() > 1e-2  # the test is not passed trivially by tiny outputs
    scores, plan = ism(model, x, **chosen, fast=True, progress=False, return_plan=True)
    assert plan.path == "fast" and plan.windowed > 0
    assert torch.allclose(scores, brute, atol=1e-5)
    assert torch.all(scores[x == 1] == 0)


def test_tower_windows_run_through_every_residual_block():
    model, length, chosen = MODELS["tower_profile"]
    x = random_sequences(1, length, seed=0)
    _, plan = ism(model, x, **chosen, fast=True, progress=False, return_plan=True)
    assert set(plan.stops) == {"output", "mean"}  # the profile is returned, the counts pooled


@pytest.mark.parametrize(
    ("start", "end", "dtype"),
    [(1255, 1285, torch.float32), (20, 50, torch.float64), (2490, 2520, torch.float64)],
)
def test_spliceai_shaped_model(start, end, dtype):
    # near the ends a base reaches the output through few paths: effects of ~1e-6 that
    # only float64 resolves, so the windows clipped at the ends are checked in float64
    model = _spliceai().to(dtype)
    x = random_sequences(1, 2540, seed=3).to(dtype)
    brute = brute_force(model, x, SPLICEAI, start, end)
    tolerance = 1e-5 if dtype == torch.float32 else 1e-12
    assert brute.abs().max() > 100 * tolerance
    scores, plan = ism(
        model, x, **SPLICEAI, start=start, end=end, fast=True, progress=False, return_plan=True
    )
    assert plan.path == "fast" and scores.shape == (1, 4, end - start)
    assert torch.allclose(scores, brute, atol=tolerance)


def test_windows_equal_the_same_positions_of_full_ism():
    model, length, chosen = MODELS["tower_profile"]
    x = random_sequences(2, length, seed=2)
    full = ism(model, x, **chosen, fast=True, progress=False)
    for start, end in [(0, 1), (0, 40), (130, 171), (299, 300), (17, 300)]:
        part = ism(model, x, **chosen, start=start, end=end, fast=True, progress=False)
        assert part.shape == (2, 4, end - start)
        assert torch.allclose(part, full[..., start:end], atol=1e-5)
        slow = ism(model, x, **chosen, start=start, end=end, fast=False, progress=False)
        assert torch.allclose(slow, full[..., start:end], atol=1e-5)


@pytest.mark.parametrize("name", ["basset", "tower_counts", "functional"])
def test_batch_invariance(name):
    model, length, chosen = MODELS[name]
    x = random_sequences(3, length, seed=4)
    window = {"start": length // 2 - 6, "end": length // 2 + 6}  # a batch size of 1 is slow
    results = [
        ism(model, x, **chosen, fast=True, batch_size=b, progress=False, **window)
        for b in (None, 7, 1)
    ]
    for other in results[1:]:  # float rounding differs with the batch size, nothing else
        assert torch.allclose(other, results[0], atol=1e-5)
    one = ism(model, x[1:2], **chosen, fast=True, progress=False, **window)
    assert torch.allclose(one, results[0][1:2], atol=1e-5)  # not mixed with other sequences


@pytest.mark.parametrize("name", ["basset", "tower_profile", "branches"])
def test_fast_true_false_and_auto_agree(name, monkeypatch):
    engine = importlib.import_module("genotutor.attribution.ism")
    monkeypatch.setattr(engine, "SMALL_JOB_SECONDS", 0.0)  # plan even this small job
    model, length, chosen = MODELS[name]
    x = random_sequences(2, length, seed=5)
    fast = ism(model, x, **chosen, fast=True, progress=False)
    slow = ism(model, x, **chosen, fast=False, progress=False)
    auto, plan = ism(model, x, **chosen, progress=False, return_plan=True)
    assert plan.path in ("fast", "full") and set(plan.seconds) == {"fast", "full"}
    assert torch.allclose(fast, slow, atol=1e-5) and torch.allclose(auto, slow, atol=1e-5)


def test_target_and_output_as_every_method_takes_them():
    model, length, _ = MODELS["deepbind"]
    x = random_sequences(2, length, seed=6)
    both = ism(model, x, target=[0, 1], fast=True, progress=False)  # the sum of two columns
    assert torch.allclose(both, brute_force(model, x, {"target": [0, 1]}), atol=1e-5)
    tower, length, _ = MODELS["dict_tower"]
    x = random_sequences(1, length, seed=6)
    chosen = {"output": "counts", "target": 0}
    scores = attribute(tower, x, "ism", **chosen, fast=True, progress=False)
    assert torch.allclose(scores, brute_force(tower, x, chosen), atol=1e-5)


def test_plan_reports_the_path_and_why(monkeypatch):
    engine = importlib.import_module("genotutor.attribution.ism")
    model, length, _ = MODELS["basset"]
    x = random_sequences(1, length, seed=6)
    monkeypatch.setattr(engine, "SMALL_JOB_SECONDS", 1e9)
    _, plan = ism(model, x, progress=False, return_plan=True)
    assert isinstance(plan, ISMPlan) and plan.path == "full" and "small job" in plan.reason
    _, plan = ism(model, x, fast=False, progress=False, return_plan=True)
    assert plan.path == "full" and plan.reason == "fast=False"
    _, plan = ism(model, x, fast=True, progress=False, return_plan=True)
    assert plan.path == "fast" and plan.stops and plan.seconds is None
    assert plan.window_macs > 0
    monkeypatch.setattr(engine, "SMALL_JOB_SECONDS", 0.0)
    scores, plan = ism(model, x, progress=False, return_plan=True, batch_size=16)
    assert plan.path in ("fast", "full") and set(plan.seconds) == {"fast", "full"}
    assert "timed" in plan.reason
    assert torch.allclose(scores, brute_force(model, x), atol=1e-5)


def test_auto_takes_the_path_that_times_faster(monkeypatch):
    """No estimate of the work: the timed batches decide, both ways, and both are exact."""
    engine = importlib.import_module("genotutor.attribution.ism")
    run = importlib.import_module("genotutor.attribution._ism_run")
    monkeypatch.setattr(engine, "SMALL_JOB_SECONDS", 0.0)
    model, length, chosen = MODELS["tower_counts"]
    x = random_sequences(1, length, seed=7)
    brute = brute_force(model, x, chosen)
    outputs = run.FastRunner.outputs

    def slow_outputs(*args, **kwargs):
        time.sleep(1.0)  # far slower per mutant than a forward pass of 16, even on a busy machine
        return outputs(*args, **kwargs)

    monkeypatch.setattr(run.FastRunner, "outputs", slow_outputs)
    scores, plan = ism(model, x, **chosen, batch_size=16, progress=False, return_plan=True)
    assert plan.path == "full" and plan.seconds["fast"] > plan.seconds["full"]
    assert torch.allclose(scores, brute, atol=1e-5)
    monkeypatch.setattr(run.FastRunner, "outputs", outputs)
    slowed = copy.deepcopy(model)
    forward = slowed.forward

    def slow_forward(x):  # the traced graph does not see the sleep, the full path does
        time.sleep(0.2)
        return forward(x)

    slowed.forward = slow_forward
    scores, plan = ism(slowed, x, **chosen, progress=False, return_plan=True)
    assert plan.path == "fast" and plan.seconds["fast"] < plan.seconds["full"]
    assert torch.allclose(scores, brute, atol=1e-5)


class Leaky(nn.Module):
    """A leaky ReLU of one's own: elementwise, but ``x > 0`` has no window rule."""

    def forward(self, x):
        return torch.where(x > 0, x, 0.1 * x)


class Capped(nn.Module):
    """``min(x, 3)`` only where some value passes 3: elementwise (the cap changes nothing
    elsewhere), but its control flow depends on the values, so it does not trace."""

    def forward(self, x):
        if bool((x > 3).any()):
            x = x.clamp(max=3.0)
        return x


def _with_activation(activation: nn.Module) -> nn.Module:
    torch.manual_seed(1)
    return _scaled(
        nn.Sequential(
            nn.Conv1d(4, 6, 7, padding=3),
            activation,
            nn.MaxPool1d(2),
            nn.Conv1d(6, 6, 5, padding=2),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(6 * 20, 1),
        )
    )


def test_declared_pointwise_modules_keep_the_windows():
    x = random_sequences(2, 40, seed=8)
    model = _with_activation(Leaky())
    brute = brute_force(model, x)
    _, plan = ism(model, x, fast=True, progress=False, return_plan=True)
    assert plan.stops == ("gt", "where")  # inside Leaky: no rule for them, in full
    scores, plan = ism(model, x, fast=True, pointwise=(Leaky,), progress=False, return_plan=True)
    assert plan.stops == ("_5",) and torch.allclose(scores, brute, atol=1e-5)
    capped = _with_activation(Capped())
    brute = brute_force(capped, x)
    with pytest.raises(ValueError, match="control flow depends on the input's values"):
        ism(capped, x, fast=True, progress=False)
    scores, plan = ism(capped, x, fast=True, pointwise=[Capped], progress=False, return_plan=True)
    assert plan.stops == ("_5",) and torch.allclose(scores, brute, atol=1e-5)


def test_genotutors_exponential_takes_the_fast_path_without_a_declaration():
    model = _scaled(Basset(96, filters=(8, 8, 8), pools=(2, 2, 3), activation="exp"))
    x = random_sequences(2, 96, seed=9)
    scores, plan = ism(model, x, fast=True, progress=False, return_plan=True)
    assert plan.stops == ("head_0",) and torch.allclose(scores, brute_force(model, x), atol=1e-5)


def test_the_engine_imports_no_model():
    """The engine knows layers by torch's types and its callers' declarations alone."""
    folder = Path(importlib.import_module("genotutor.attribution").__file__).parent
    for path in [folder / "ism.py", *folder.glob("_ism_*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("genotutor.models"), path.name


def test_progress_bar_names_the_path(capsys):
    model, length, _ = MODELS["basset"]
    ism(model, random_sequences(1, length, seed=0), fast=True)
    assert "ISM (fast to" in capsys.readouterr().err


class Recurrent(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(4, 3, batch_first=True)
        self.head = nn.Linear(3, 1)

    def forward(self, x):
        return self.head(self.lstm(x.transpose(1, 2))[0][:, -1])


class ValueBranch(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(4, 2, 3)

    def forward(self, x):
        h = self.conv(x)
        if x.max() > 0.5:  # control flow on the input's values: one branch would be traced
            h = -h
        return h.mean(dim=2)


class Sliced(nn.Module):
    """Calls a slice of its nn.Sequential, a module made in forward that torch.fx refuses."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv1d(4, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(36, 1))

    def forward(self, x):
        return self.body[1:](self.body[0](x))


@pytest.mark.parametrize(
    ("model", "words"),
    [
        (Recurrent(), ["fast=True", "no convolution or pooling"]),
        (ValueBranch(), ["fast=True", "control flow depends on the input's values"]),
        (Sliced(), ["fast=True", "a module that is not one of its submodules (Sequential"]),
    ],
)
def test_fast_true_on_an_unplannable_model_raises(model, words, monkeypatch):
    x = random_sequences(2, 20, seed=0)
    with pytest.raises(ValueError) as info:
        ism(model.eval(), x, fast=True, progress=False)
    for word in words:
        assert word in str(info.value)
    engine = importlib.import_module("genotutor.attribution.ism")
    monkeypatch.setattr(engine, "SMALL_JOB_SECONDS", 0.0)  # try to plan even this small job
    scores, plan = ism(model.eval(), x, fast="auto", progress=False, return_plan=True)
    assert plan.path == "full" and plan.reason.startswith("no fast path")
    assert torch.allclose(scores, brute_force(model, x), atol=1e-5)


class Stateful(nn.Module):
    """Each call scales the output by the number of calls so far: no graph reproduces it."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(4, 2, 3)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.conv(x).mean(dim=2) * self.calls


def test_a_graph_that_does_not_reproduce_the_model_is_refused(monkeypatch):
    engine = importlib.import_module("genotutor.attribution.ism")
    x = random_sequences(2, 30, seed=0)
    with pytest.raises(ValueError, match="does not reproduce the model's output"):
        ism(Stateful().eval(), x, fast=True, progress=False)
    monkeypatch.setattr(engine, "SMALL_JOB_SECONDS", 0.0)
    _, plan = ism(Stateful().eval(), x, progress=False, return_plan=True, batch_size=16)
    assert plan.path == "full" and "does not reproduce" in plan.reason


def test_positions_of_an_n_column_get_all_four_bases():
    model, length, chosen = MODELS["conv_pool_cnn"]
    x = random_sequences(1, length, seed=7)
    x[0, :, 40] = 0.0  # an N
    scores = ism(model, x, **chosen, fast=True, progress=False)
    assert torch.allclose(scores, brute_force(model, x, chosen), atol=1e-5)
    assert torch.all(scores[0, :, 40] != 0)


def test_errors_name_the_argument():
    model, length, _ = MODELS["basset"]
    x = random_sequences(1, length, seed=0)
    with pytest.raises(ValueError, match="end must be <= the sequence length 96; found 97"):
        ism(model, x, end=97)
    with pytest.raises(ValueError, match="start must be < end; found start=5, end=5"):
        ism(model, x, start=5, end=5)
    with pytest.raises(TypeError, match="fast must be True or False \\(or 'auto'\\)"):
        ism(model, x, fast="yes")
    with pytest.raises(ValueError, match="a callable target must map .* to shape \\(1,\\)"):
        ism(model, x, target=lambda raw: raw.sum())
    with pytest.raises(TypeError, match="target must be an int"):
        ism(model, x, target="first")
    with pytest.raises(ValueError, match="pass output="):
        ism(MODELS["tower_counts"][0], random_sequences(1, 300, seed=0))
    with pytest.raises(TypeError, match="pointwise must be a tuple of module types"):
        ism(model, x, pointwise=Leaky)  # a type, not a tuple of them
    with pytest.raises(TypeError, match="pointwise must .*; found str 'relu'"):
        ism(model, x, pointwise=(nn.ReLU, "relu"))
    with pytest.raises(TypeError, match="pointwise must .*; found int 3"):
        ism(model, x, pointwise=3)


def test_attribute_passes_the_window_and_plan():
    model, length, _ = MODELS["basset"]
    x = random_sequences(2, length, seed=8)
    scores, plan = attribute(
        model, x, "ism", start=10, end=30, fast=True, return_plan=True, progress=False
    )
    assert scores.shape == (2, 4, 20) and plan.path == "fast"
    assert torch.allclose(scores, brute_force(model, x, None, 10, 30), atol=1e-5)
    with pytest.raises(ValueError, match="start must be < end"):
        attribute(model, x, "ism", start=30, end=10)


def test_matches_tangermeme_on_basset():
    from tangermeme.saturation_mutagenesis import saturation_mutagenesis

    model, length, _ = MODELS["basset"]
    x = random_sequences(3, length, seed=9)
    ours = ism(model, x, fast=True, progress=False)
    y0, y_hat = saturation_mutagenesis(
        model, x, batch_size=64, raw_outputs=True, device="cpu", verbose=False
    )
    theirs = y_hat[..., 0] - y0[:, None, None, 0]  # 0 at the observed bases, as ours
    assert (ours - theirs).abs().max() < 1e-4


@pytest.fixture
def exact_cuda():
    """float32 convolutions and matrix products on the GPU without TF32 rounding."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


@pytest.mark.cuda
@pytest.mark.parametrize("name", ["basset", "tower_profile", "functional", "overlapping_pools"])
def test_fast_path_on_cuda(name, exact_cuda):
    model, length, chosen = MODELS[name]
    x = random_sequences(2, length, seed=1)
    brute = brute_force(model, x, chosen)
    gpu_model = copy.deepcopy(model).cuda()
    scores, plan = ism(gpu_model, x.cuda(), **chosen, fast=True, progress=False, return_plan=True)
    assert scores.device.type == "cuda" and plan.path == "fast"
    assert torch.allclose(scores.cpu(), brute, atol=1e-5)
    auto = ism(gpu_model, x.cuda(), **chosen, progress=False)
    assert torch.allclose(auto.cpu(), brute, atol=1e-5)


@pytest.mark.cuda
def test_spliceai_windows_and_batches_on_cuda(exact_cuda):
    model = _spliceai().cuda()
    x = random_sequences(2, 2540, seed=3).cuda()
    options = {**SPLICEAI, "start": 1255, "end": 1285, "progress": False}
    scores = ism(model, x, fast=True, **options)
    slow = ism(model, x, fast=False, **options)
    small = ism(model, x, fast=True, batch_size=7, **options)
    assert torch.allclose(scores, slow, atol=1e-5) and torch.allclose(small, slow, atol=1e-5)
