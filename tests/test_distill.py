"""Distillation, fidelity, confounder probes and the blind-spot table."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from genotutor.distillation import (
    AdditiveStudent,
    NeuralBasisStudent,
    agreement,
    blind_spot_table,
    confounder_effect,
    confounder_table,
    distill,
    fidelity,
    filter_report,
    kl_logits,
    plot_student,
)
from genotutor.sequences import random_sequences
from genotutor.splicing import Layout, TruthModel, count_feature, reporter_sequences

LAYOUT = Layout()
REGION = {"region": LAYOUT.body, "frame": LAYOUT.exon_start}


@pytest.fixture(autouse=True)
def one_thread():
    """Small models train faster on one thread (and far faster on a busy machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _additive_teacher(length: int, seed: int = 0) -> AdditiveStudent:
    torch.manual_seed(seed)
    teacher = AdditiveStudent(length)
    with torch.no_grad():
        teacher.theta.normal_()
        teacher.bias.fill_(0.5)
    return teacher.eval()


class CpGCounter(nn.Module):
    """A model that adds ``weight`` per CpG in the exon body."""

    def __init__(self, weight: float = 0.7) -> None:
        super().__init__()
        self.weight = weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.weight * count_feature(x, "cpg", region=LAYOUT.body)[:, None]


def test_additive_student_recovers_an_additive_teacher():
    teacher = _additive_teacher(20)
    x = random_sequences(1500, 20, seed=0)
    result = distill(teacher, x, student="additive", epochs=60, lr=2e-2, patience=8, progress=False)
    held_out = random_sequences(500, 20, seed=1)
    score = fidelity(result.student, teacher, held_out)
    assert score["pearson"] >= 0.99 and score["r2"] >= 0.97
    again = distill(teacher, x, student="additive", epochs=60, lr=2e-2, patience=8, progress=False)
    assert again.from_cache and not result.from_cache


def _trained_looking_student(seed: int = 0) -> NeuralBasisStudent:
    """A student with random (not near-zero) weights and batch statistics, in eval mode."""
    torch.manual_seed(seed)
    student = NeuralBasisStudent(30, n_filters=3, width=4)
    with torch.no_grad():
        for parameter in student.parameters():
            parameter.normal_(0, 0.5)
        student.norm.running_mean.normal_()
        student.norm.running_var.uniform_(0.5, 2.0)
    return student.eval()


def test_the_student_is_its_readout_of_the_summed_contributions():
    student = _trained_looking_student()
    x = random_sequences(16, 30, seed=3)
    with torch.no_grad():
        summed = student.contributions(x).sum(dim=(1, 2))[:, None]
        assert torch.allclose(student(x), student.readout(summed), atol=1e-6)
        # the readout depends on the scalar alone: equal sums, equal outputs
        assert student.readout(summed[:1].repeat(4, 1)).unique().numel() == 1


def test_changing_one_filter_changes_only_its_contributions():
    student = _trained_looking_student()
    x = random_sequences(16, 30, seed=4)
    with torch.no_grad():
        before = student.contributions(x)
        student.conv.weight[1].add_(torch.randn_like(student.conv.weight[1]))
        student.conv.bias[1] += 0.3
        student.norm.running_mean[1] += 0.5
        student.shape_weight[1].add_(0.2)
        after = student.contributions(x)
    assert torch.equal(before[:, [0, 2]], after[:, [0, 2]])
    assert not torch.allclose(before[:, 1], after[:, 1])


@pytest.mark.slow
def test_a_neural_basis_student_recovers_an_additive_teacher():
    """Width-1 filters see one base each; the shared bases, with the position features,
    must learn each base's weight at each position."""
    teacher = _additive_teacher(20)
    x = random_sequences(1500, 20, seed=0)
    options = {"n_filters": 4, "width": 1, "tuner_hidden": 0, "basis_hidden": 64}
    result = distill(teacher, x, student="neural_basis", student_options=options,
                     epochs=100, lr=1e-2, patience=10, progress=False)  # fmt: skip
    score = fidelity(result.student, teacher, random_sequences(500, 20, seed=1))
    assert score["pearson"] >= 0.99


def test_students_have_the_documented_shapes():
    x = random_sequences(5, 30, seed=0)
    pair = AdditiveStudent(30, max_distance=2)
    assert pair(x).shape == (5, 1) and len(pair.pairs) == 2
    student = NeuralBasisStudent(30, n_filters=3, width=4)
    assert student(x).shape == (5, 1)
    assert student.contributions(x).shape == (5, 3, 27)
    assert student.shape_function(0, [0.0, 1.0], [0, 1, 2]).shape == (3, 2)
    fig = plot_student(student)
    assert len(fig.axes) == 6
    plt.close(fig)
    report = filter_report(student, x, pd.DataFrame({"gc": x[:, 1:3].sum(dim=(1, 2)).numpy()}))
    assert list(report.columns) == ["consensus", "sd", "gc"] and len(report) == 3


def test_kl_logits_is_zero_at_agreement_and_positive_elsewhere():
    t = torch.tensor([[-2.0], [0.0], [3.0]])
    assert kl_logits(t, t).abs().item() < 1e-6
    assert kl_logits(t + 1.0, t).item() > 0
    # the Bernoulli KL by hand for one pair
    p, q = torch.sigmoid(torch.tensor(0.5)), torch.sigmoid(torch.tensor(-1.0))
    by_hand = p * torch.log(p / q) + (1 - p) * torch.log((1 - p) / (1 - q))
    assert kl_logits(torch.tensor([[-1.0]]), torch.tensor([[0.5]])).item() == pytest.approx(
        by_hand.item(), abs=1e-6
    )


def test_pairwise_student_fits_a_pairwise_teacher_better_than_additive():
    teacher = AdditiveStudent(12, max_distance=1)
    with torch.no_grad():
        teacher.pairs[0].normal_(std=1.0)
    x, held_out = random_sequences(1500, 12, seed=2), random_sequences(400, 12, seed=3)
    options = {"epochs": 40, "lr": 2e-2, "patience": 6, "progress": False}
    additive = distill(teacher, x, student="additive", **options).student
    pairwise = distill(teacher, x, student="pairwise", **options).student
    assert fidelity(pairwise, teacher, held_out)["pearson"] > 0.95
    assert fidelity(pairwise, teacher, held_out)["r2"] > fidelity(additive, teacher, held_out)["r2"]


def test_probe_reports_zero_for_a_model_that_ignores_the_feature():
    x = reporter_sequences(150, seed=1)
    blind = AdditiveStudent(LAYOUT.length)
    with torch.no_grad():  # weights only outside the edited exon body
        blind.theta[:, : LAYOUT.exon_start].normal_()
        blind.theta[:, LAYOUT.exon_stop - 3 :].normal_()
    for feature in ("cpg", "stop"):
        table = confounder_effect(blind, x, feature=feature, **REGION)
        assert (table["n"] > 0).all()
        assert table["effect"].abs().max() < 1e-5
    truth = TruthModel()
    table = confounder_effect(truth, x, feature="cpg", truth=truth, **REGION)
    assert table["effect"].abs().max() < 1e-5 and table["truth_effect"].abs().max() < 1e-5


def test_probe_measures_a_model_that_uses_the_feature():
    x = reporter_sequences(150, seed=2)
    table = confounder_effect(CpGCounter(0.7), x, feature="cpg", n_sites=2, **REGION)
    added = table.loc["add"]
    expected = 0.7 * (added["features_after"] - added["features_before"])
    assert added["effect"] == pytest.approx(expected, rel=1e-4)
    assert table.loc["remove", "effect"] < 0 and table.loc["remove", "features_after"] == 0
    both = confounder_table({"counter": CpGCounter(), "truth": TruthModel()}, x, **REGION)
    assert list(both.columns) == ["counter", "truth"] and both.shape == (4, 2)


def test_agreement_and_blind_spot_table():
    x = reporter_sequences(60, seed=0)
    truth = TruthModel()
    y = truth(x)[:, 0]
    table = blind_spot_table({"truth": truth}, {"random": (x, y)}, metric="r2")
    assert table.loc["truth", "random"] == pytest.approx(1.0)
    scores = agreement(2 * y + 1, y)
    assert scores["pearson"] == pytest.approx(1.0) and scores["spearman"] == pytest.approx(1.0)
    assert scores["r2"] < 1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: distill("model", random_sequences(20, 10)), "teacher must be"),
        (
            lambda: distill(_additive_teacher(10), random_sequences(20, 10), student="tree"),
            "student",
        ),
        (lambda: distill(_additive_teacher(10), torch.zeros(20, 10)), "sequences must have"),
        (lambda: agreement([1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0]), "expected equal"),
        (lambda: agreement([1.0, float("nan"), 3.0], [1.0, 2.0, 3.0]), "NaN"),
        (lambda: confounder_effect(TruthModel(), reporter_sequences(3), feature="gc"), "feature"),
        (lambda: blind_spot_table({}, {}), "models must be"),
        (lambda: plot_student(AdditiveStudent(5)), "NeuralBasisStudent"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_a_neural_basis_student_starts_at_the_teachers_mean_output():
    """distill() starts the student's readout at the mean of the teacher's values; with a
    learning rate too small to move it, the student's offset stays there."""
    teacher = _additive_teacher(12)
    x = random_sequences(200, 12, seed=5)
    result = distill(teacher, x, student="neural_basis", epochs=1, lr=1e-12, progress=False,
                     student_options={"width": 3})  # fmt: skip
    train = np.setdiff1d(np.arange(len(x)), result.valid_index)
    with torch.no_grad():
        mean = float(teacher(x[torch.as_tensor(train)]).mean())
    assert abs(float(result.student.offset.detach()) - mean) < 1e-4


def test_fidelity_on_the_probability_scale_is_agreement_after_a_sigmoid():
    teacher = _additive_teacher(20, seed=3)
    student = _additive_teacher(20, seed=4)
    with torch.no_grad():  # a student that agrees in part: half the teacher's weights
        student.theta.mul_(0.5).add_(0.5 * teacher.theta)
    x = random_sequences(300, 20, seed=2)
    with torch.no_grad():
        s, t = student(x)[:, 0], teacher(x)[:, 0]
    on_logits = fidelity(student, teacher, x)
    on_probabilities = fidelity(student, teacher, x, scale="probability")
    assert on_logits == pytest.approx({**agreement(s, t), "n": 300}, abs=1e-6)
    expected = agreement(torch.sigmoid(s), torch.sigmoid(t))
    assert on_probabilities == pytest.approx({**expected, "n": 300}, abs=1e-6)
    # a sigmoid is monotone: the ranks, and so Spearman's rho, do not change
    assert on_probabilities["spearman"] == pytest.approx(on_logits["spearman"], abs=1e-9)
    assert on_probabilities["pearson"] != on_logits["pearson"]
    with pytest.raises(ValueError, match="scale"):
        fidelity(student, teacher, x, scale="psi")


def test_excess_correlation_drop_against_a_hand_computation():
    from genotutor.distillation import excess_correlation_drop

    rng = np.random.default_rng(5)
    measured = rng.normal(size=400)
    subset = np.arange(400) % 3 == 0
    control = measured + rng.normal(scale=0.5, size=400)
    scores = measured + rng.normal(scale=0.5, size=400) * np.where(subset, 4.0, 1.0)

    def r(values, keep):
        return np.corrcoef(values[keep], measured[keep])[0, 1]

    expected = (r(scores, ~subset) - r(scores, subset)) - (r(control, ~subset) - r(control, subset))
    assert excess_correlation_drop(scores, control, measured, subset) == pytest.approx(expected)
    assert expected > 0.2  # noisier on the subset: a drop beyond the control's
    assert excess_correlation_drop(control, control, measured, subset) == 0.0
    with pytest.raises(ValueError, match="boolean subset"):
        excess_correlation_drop(scores, control, measured, subset.astype(int))
    with pytest.raises(ValueError, match="at least 3"):
        excess_correlation_drop(scores, control, measured, np.arange(400) < 2)
