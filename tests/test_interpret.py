"""genotutor.interpret (chapters 3 and 5), the cooperative and confounded tasks, and the
filter explorer: oracles from hand-built models whose answers are known exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from tiny_models import detector
from torch import nn

from genotutor import interpret, motifs
from genotutor.models import Basset, DeepBind
from genotutor.motifs import get_motif
from genotutor.sequences import decode, one_hot, random_sequences
from genotutor.simulate import add_confounder, cooperative_task, planted_motif_task

CTCF = get_motif("CTCF")


def _with_sites(n: int, length: int, text: str, seed: int = 0) -> tuple[torch.Tensor, list[int]]:
    x = random_sequences(n, length, seed=seed)
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, length - len(text), size=n).tolist()
    for i, start in enumerate(starts):
        x[i, :, start : start + len(text)] = one_hot(text)[0]
    return x, starts


# --------------------------------------------------------------------------- filters
def test_filter_pwm_of_a_consensus_detector_is_the_consensus():
    model = detector([CTCF.consensus])
    x, _ = _with_sites(60, 80, CTCF.consensus)
    pwms = interpret.filters_to_pwms(model, x, threshold=0.9, progress=False)
    assert pwms.probs.shape == (1, 4, 15)
    assert decode(torch.tensor(pwms.probs[0])[None])[0] == CTCF.consensus
    assert pwms.n_sites[0] >= 60  # every planted site passes


def test_filter_pwm_counts_agree_with_brute_force(one_hot_batch):
    torch.manual_seed(3)
    model = Basset(50, filters=(6, 4, 4), widths=(7, 3, 3), pools=(2, 2, 2)).eval()
    threshold = 0.6
    pwms = interpret.filters_to_pwms(model, one_hot_batch, threshold=threshold, progress=False)
    scores = interpret.filter_activations(model, one_hot_batch)
    padded = nn.functional.pad(one_hot_batch, (3, 3))
    for f in range(6):
        best = float(scores[:, f].max())
        counts = np.zeros((4, 7))
        for n in range(len(one_hot_batch)):
            for i in range(scores.shape[-1]):
                if scores[n, f, i] >= threshold * best:
                    counts += padded[n, :, i : i + 7].numpy()
        np.testing.assert_allclose(pwms.counts[f], counts)


def test_filter_sites_are_thresholded_on_the_activation_not_the_convolution(one_hot_batch):
    """Koo lab's rule: exp(z) >= t * max exp(z), i.e. z >= z_max + ln t (not z >= t z_max)."""
    torch.manual_seed(2)
    model = DeepBind(n_filters=3, filter_width=7, activation="exp").eval()
    threshold = 0.5
    pwms = interpret.filters_to_pwms(model, one_hot_batch, threshold=threshold, progress=False)
    z = interpret.filter_activations(model, one_hot_batch)
    assert torch.allclose(interpret.filter_activations(model, one_hot_batch, activated=True),
                          torch.exp(z))  # fmt: skip
    z_max = z.amax(dim=(0, 2))
    expected = (z >= z_max[None, :, None] + np.log(threshold)).sum(dim=(0, 2))
    assert pwms.n_sites.tolist() == expected.tolist()
    on_scores = (z >= threshold * z_max[None, :, None]).sum(dim=(0, 2))
    assert pwms.n_sites.tolist() != on_scores.tolist()  # the two rules differ here


def test_lower_threshold_aligns_more_sites(one_hot_batch):
    torch.manual_seed(1)
    model = DeepBind(n_filters=4, filter_width=7).eval()
    strict = interpret.filters_to_pwms(model, one_hot_batch, threshold=0.9, progress=False)
    loose = interpret.filters_to_pwms(model, one_hot_batch, threshold=0.3, progress=False)
    assert (loose.n_sites >= strict.n_sites).all()


def test_match_filters_names_the_planted_detectors():
    names = ["CTCF", "SPI1", "CEBPB"]
    model = detector([get_motif(n).consensus for n in names])
    x = torch.cat(
        [_with_sites(40, 80, get_motif(n).consensus, seed=i)[0] for i, n in enumerate(names)]
    )
    table = interpret.match_filters(
        interpret.filters_to_pwms(model, x, threshold=0.8, progress=False)
    )
    assert list(table["match"]) == names
    assert (table["score"] > 0.8).all()


def _untrained_pwms(seed: int, x: torch.Tensor) -> interpret.FilterPWMs:
    torch.manual_seed(seed)
    return interpret.filters_to_pwms(DeepBind(n_filters=6, filter_width=9).eval(), x,
                                     progress=False)  # fmt: skip


def test_match_thresholds_are_the_best_null_score_per_motif(one_hot_batch):
    database = {name: get_motif(name) for name in ("CTCF", "CREB1", "SPI1")}
    nulls = [_untrained_pwms(seed, one_hot_batch) for seed in (0, 1)]
    thresholds = interpret.match_thresholds(nulls, database=database, min_sites=1)
    kept = [q for pwms in nulls for i, q in pwms.trimmed().items() if pwms.n_sites[i] >= 1]
    for name, motif in database.items():  # brute force: every null filter against the motif
        best = max(motifs.motif_similarity(q, motif).score for q in kept)
        assert thresholds[name] == pytest.approx(best)
    single = interpret.match_thresholds(nulls[0], database=database, min_sites=1)
    assert (single <= thresholds + 1e-12).all()  # more null filters, a higher bar


def test_match_filters_marks_scores_above_the_null(one_hot_batch):
    names = ["CTCF", "SPI1", "CEBPB"]
    model = detector([get_motif(n).consensus for n in names])
    x = torch.cat(
        [_with_sites(40, 80, get_motif(n).consensus, seed=i)[0] for i, n in enumerate(names)]
    )
    pwms = interpret.filters_to_pwms(model, x, threshold=0.8, progress=False)
    null = interpret.match_thresholds(_untrained_pwms(0, x))
    table = interpret.match_filters(pwms, thresholds=null)
    assert (table["threshold"] == null.reindex(table["match"]).to_numpy()).all()
    assert (table["above_null"] == (table["score"] > table["threshold"])).all()
    assert table["above_null"].all()  # consensus detectors beat random filters


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda pwms: interpret.match_thresholds([]), ValueError, "null_pwms is empty"),
        (lambda pwms: interpret.match_thresholds("CTCF"), TypeError, "pwms must be a FilterPWMs"),
        (lambda pwms: interpret.match_filters(pwms, thresholds={"CTCF": 0.5}), TypeError,
         "thresholds must be a pandas Series"),
        (lambda pwms: interpret.match_filters(pwms, thresholds=pd.Series({"NRF1": 0.5})),
         ValueError, "no value for the matched motifs"),
    ],
)  # fmt: skip
def test_match_thresholds_refuse_bad_input(one_hot_batch, call, error, words):
    with pytest.raises(error, match=words):
        call(_untrained_pwms(0, one_hot_batch))


def test_rescaled_filter_leaves_the_function_unchanged(one_hot_batch):
    torch.manual_seed(0)
    for model in (
        Basset(50, filters=(8, 4, 4), widths=(7, 3, 3), pools=(2, 2, 2)).eval(),
        DeepBind(n_filters=8, filter_width=7).eval(),
    ):
        scaled = interpret.rescale_filter(model, 2, 10.0)
        with torch.no_grad():
            torch.testing.assert_close(
                scaled(one_hot_batch), model(one_hot_batch), atol=1e-4, rtol=1e-4
            )
        assert torch.allclose(scaled.first_conv.weight[2], 10 * model.first_conv.weight[2])
        assert torch.equal(scaled.first_conv.weight[3], model.first_conv.weight[3])


@pytest.mark.parametrize(
    ("args", "words"),
    [((2, -1.0), "factor must be"), ((99, 2.0), "index must be"), ((2, float("nan")), "factor")],
)
def test_rescale_filter_rejects_bad_arguments(args, words):
    with pytest.raises(ValueError, match=words):
        interpret.rescale_filter(DeepBind(n_filters=8).eval(), *args)


def test_rescale_filter_refuses_batch_norm():
    with pytest.raises(ValueError, match="batch norm"):
        interpret.rescale_filter(Basset(200, activation="exp").eval(), 0, 2.0)


def test_filters_need_a_first_conv(one_hot_batch):
    with pytest.raises(TypeError, match="first_conv"):
        interpret.filters_to_pwms(nn.Sequential(nn.Flatten()), one_hot_batch, progress=False)
    with pytest.raises(ValueError, match="threshold"):
        interpret.filters_to_pwms(DeepBind(), one_hot_batch, threshold=0.0, progress=False)
    with pytest.raises(ValueError, match="scores must be one of"):
        interpret.filters_to_pwms(DeepBind(), one_hot_batch, scores="relu", progress=False)


# --------------------------------------------------------------------------- GIA
class _Linear(nn.Module):
    """f(x) = sum of W * x: the effect of an insertion is known in closed form."""

    def __init__(self, length: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(
            torch.randn(4, length, generator=torch.Generator().manual_seed(0))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * self.weight).sum(dim=(1, 2))[:, None]


class _Grammar(nn.Module):
    """y = [A] + [B] + 2 [B starts exactly gap bases after A ends], from exact matches."""

    def __init__(self, a: str, b: str, gap: int) -> None:
        super().__init__()
        self.a, self.b, self.gap = one_hot(a)[0], one_hot(b)[0], gap

    def _hits(self, x: torch.Tensor, pattern: torch.Tensor) -> torch.Tensor:
        scores = nn.functional.conv1d(x, pattern[None])[:, 0]
        return scores >= pattern.shape[1] - 0.5  # (N, L - w + 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hit_a, hit_b = self._hits(x, self.a), self._hits(x, self.b)
        shift = self.a.shape[1] + self.gap
        paired = hit_a[:, : hit_b.shape[1] - shift] & hit_b[:, shift:]
        return (hit_a.any(1).float() + hit_b.any(1).float() + 2 * paired.any(1).float())[:, None]


def test_embed_writes_the_pattern_and_leaves_background_alone(one_hot_batch):
    out = interpret.insert_motifs(one_hot_batch, ["CTCF", "ACGT"], [5, 30], strands=["-", "+"])
    assert all(s[5:20] == decode(one_hot(CTCF.consensus).flip(1, 2))[0] for s in decode(out))
    assert all(s[30:34] == "ACGT" for s in decode(out))
    torch.testing.assert_close(out[:, :, 20:30], one_hot_batch[:, :, 20:30])
    assert not torch.equal(out, one_hot_batch)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"insert": "CTCF", "positions": 45}, "positions must be in"),
        ({"insert": ["CTCF", "SP1"], "positions": [0]}, "one entry per insert"),
        ({"insert": "NOT_A_MOTIF", "positions": 0}, "motif must be one of"),
        ({"insert": "CTCF", "positions": 0, "strands": "x"}, "strands"),
    ],
)
def test_embed_rejects_bad_arguments(one_hot_batch, kwargs, words):
    with pytest.raises(ValueError, match=words):
        interpret.insert_motifs(one_hot_batch, **kwargs)


def test_global_importance_of_a_linear_model_is_exact(one_hot_batch):
    model = _Linear(50)
    result = interpret.global_importance(model, one_hot_batch, insert="ACGTAC", positions=10)
    pattern = one_hot("ACGTAC")[0]
    expected = (
        ((pattern[None] - one_hot_batch[:, :, 10:16]) * model.weight[:, 10:16]).sum((1, 2)).detach()
    )
    torch.testing.assert_close(result.effects, expected)
    assert result.effect == pytest.approx(float(expected.mean()), abs=1e-5)


def test_spacing_curve_finds_the_cooperative_gap_of_a_known_grammar():
    background = random_sequences(20, 60, seed=2)
    model = _Grammar("CACCTG", "AGATAA", gap=7)
    curve = interpret.spacing_curve(
        model, background, first="CACCTG", second="AGATAA", spacings=range(12), progress=False
    )
    assert int(curve.loc[curve["cooperativity"].idxmax(), "spacing"]) == 7
    peak = curve.set_index("spacing")["cooperativity"]
    assert peak[7] > 1.5 and (peak.drop(7).abs() < 0.5).all()
    assert curve["first"].iloc[0] > 0.5


def test_spacing_curve_sem_of_cooperativity_is_over_backgrounds():
    background = random_sequences(30, 60, seed=4)
    model = _Grammar("CACCTG", "AGATAA", gap=3)
    curve = interpret.spacing_curve(
        model,
        background,
        first="CACCTG",
        second="AGATAA",
        spacings=[3],
        position=10,
        progress=False,
    )
    before = model(background)[:, 0].detach()
    first = interpret.insert_motifs(background, "CACCTG", 10)
    second = interpret.insert_motifs(background, "AGATAA", 19)
    both = interpret.insert_motifs(background, ["CACCTG", "AGATAA"], [10, 19])
    per_background = (model(both) - model(first) - model(second))[:, 0].detach() + before
    expected = float(per_background.std() / np.sqrt(30))
    assert curve["sem_cooperativity"].iloc[0] == pytest.approx(expected, rel=1e-5, abs=1e-7)
    assert curve["cooperativity"].iloc[0] == pytest.approx(float(per_background.mean()), abs=1e-5)


# --------------------------------------------------------------------------- tasks
def test_cooperative_labels_follow_the_planted_rule():
    task = cooperative_task(400, 120, spacing=6, effects=(1.0, 0.5, 2.0), noise=0.0, seed=3)
    for i in range(len(task)):
        sites = task.sites[task.sites["sequence"] == i]
        layout = sites["layout"].iloc[0] if len(sites) else "none"
        expected = {"none": 0.0, "first": 1.0, "second": 0.5, "pair": 3.5, "misspaced": 1.5}[layout]
        assert float(task.y[i, 0]) == pytest.approx(expected)
        if layout in ("pair", "misspaced"):
            first, second = sites.iloc[0], sites.iloc[1]
            gap = second["start"] - first["end"]
            assert (gap == 6) if layout == "pair" else abs(gap - 6) >= 3
        for row in sites.itertuples():
            assert task.mask[i, row.start : row.end].all()
    assert int(task.mask.sum()) == int((task.sites["end"] - task.sites["start"]).sum())


def test_cooperative_task_is_seeded_and_checks_arguments():
    a, b = cooperative_task(50, 120, seed=1), cooperative_task(50, 120, seed=1)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    with pytest.raises(ValueError, match="spacing"):
        cooperative_task(50, 120, spacing=30, max_spacing=20)
    with pytest.raises(ValueError, match="too short"):
        cooperative_task(50, 30)


def test_confounder_tracks_the_label_but_not_the_truth():
    task = planted_motif_task(600, 200, seed=0)
    confounded = add_confounder(task, "NRF1", rate_positive=0.9, rate_negative=0.1, seed=0)
    carried = np.zeros(len(task), dtype=bool)
    rows = confounded.sites[confounded.sites["role"] == "confounder"]
    carried[rows["sequence"].to_numpy()] = True
    labels = task.y[:, 0].numpy() == 1
    assert carried[labels].mean() > 0.8 and carried[~labels].mean() < 0.2
    assert torch.equal(confounded.mask, task.mask) and torch.equal(confounded.y, task.y)
    occupied = np.zeros((len(task), 200), dtype=int)
    for row in confounded.sites.itertuples():
        occupied[row.sequence, row.start : row.end] += 1
    assert occupied.max() == 1  # the confounder never overwrites a planted motif
    with pytest.raises(ValueError, match="binary"):
        add_confounder(cooperative_task(50, 120))


# --------------------------------------------------------------------------- seqlets
def _planted_scores(n: int = 60) -> tuple[torch.Tensor, torch.Tensor, pd.DataFrame]:
    """Sequences carrying CTCF or SPI1 (either strand); scores = x on the motif, noise elsewhere."""
    rng = np.random.default_rng(0)
    x = random_sequences(n, 100, seed=0)
    mask = torch.zeros(n, 100)
    truth = []
    for i in range(n):
        motif = get_motif("CTCF" if i % 2 == 0 else "SPI1")
        pattern = one_hot(motif.consensus)[0]
        strand = "-" if rng.random() < 0.5 else "+"
        start = int(rng.integers(10, 70))
        x[i, :, start : start + motif.width] = pattern if strand == "+" else pattern.flip(0, 1)
        mask[i, start : start + motif.width] = 1
        truth.append((i, motif.name, start, strand))
    noise = 0.05 * torch.randn(n, 4, 100, generator=torch.Generator().manual_seed(0))
    scores = x * (mask[:, None] + noise)
    return x, scores, pd.DataFrame(truth, columns=["sequence", "motif", "start", "strand"])


def test_seqlets_land_on_the_planted_sites():
    x, scores, truth = _planted_scores()
    seqlets = interpret.extract_seqlets(
        scores, x, width=10, flank=3, quantile=0.9, max_per_sequence=1
    )
    assert len(seqlets) == len(x)
    merged = seqlets.merge(truth, on="sequence")
    core = merged["start_x"] + 3
    assert ((core >= merged["start_y"] - 1) & (core <= merged["start_y"] + 7)).all()
    assert seqlets["score"].is_monotonic_decreasing


def test_seqlet_functions_check_their_input(one_hot_batch):
    with pytest.raises(ValueError, match="shape of x"):
        interpret.extract_seqlets(one_hot_batch[:, :, :10], one_hot_batch)
    with pytest.raises(ValueError, match="quantile"):
        interpret.extract_seqlets(one_hot_batch, one_hot_batch, quantile=1.5)


# The filter explorer's tests are in tests/test_widgets_filters.py; its table's in
# tests/test_interpret_tables.py.


def test_ablated_filters_are_silent(one_hot_batch):
    torch.manual_seed(0)
    model = DeepBind(n_filters=6, filter_width=7).eval()
    ablated = interpret.ablate_filters(model, [1, 4])
    scores = interpret.filter_activations(ablated, one_hot_batch)
    assert (scores[:, [1, 4]] == 0).all()
    torch.testing.assert_close(
        scores[:, 0], interpret.filter_activations(model, one_hot_batch)[:, 0]
    )
    with pytest.raises(ValueError, match="indices must be in"):
        interpret.ablate_filters(model, [6])
