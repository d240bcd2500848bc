"""Measurements and verdicts of the claims ledger (genotutor.studies.measures): each
interval against its definition or a second formula, bad input refused."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from genotutor.studies import ledger


def test_mean_interval_is_the_t_interval_and_covers_the_mean():
    values = [0.1, 0.3, 0.2, 0.25, 0.15]
    m = ledger.mean_interval(values, "gain")
    low, high = stats.t.interval(0.95, 4, loc=np.mean(values), scale=stats.sem(values))
    assert m.estimate == pytest.approx(0.2) and m.n == 5
    assert (m.low, m.high) == pytest.approx((low, high))
    assert "[" in str(m) and "over 5 seeds" in str(m)


def test_mean_interval_coverage_is_near_95_percent():
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(2000):
        m = ledger.mean_interval(rng.normal(1.0, 2.0, 6), "x")
        hits += m.low <= 1.0 <= m.high
    assert 0.93 < hits / 2000 < 0.97


def test_bootstrap_interval_is_seeded_and_brackets_the_mean():
    values = np.random.default_rng(1).normal(size=200)
    a = ledger.bootstrap_interval(values, "x", seed=3)
    b = ledger.bootstrap_interval(values, "x", seed=3)
    assert a == b and a.low < values.mean() < a.high
    # the percentile interval of a mean is close to the normal one for n = 200
    half = 1.96 * values.std(ddof=1) / np.sqrt(200)
    assert (a.high - a.low) / 2 == pytest.approx(half, rel=0.15)


def test_count_interval_is_wilson():
    m = ledger.count_interval(3, 3, "held")
    assert m.estimate == 1.0 and m.high == 1.0 and m.low == pytest.approx(0.4385, abs=1e-3)
    assert "3/3 seeds" in str(m)


def test_hypothesis_test_and_worst_error_format():
    w = stats.wilcoxon([0.1, 0.2, 0.3, 0.15, 0.05, 0.4], alternative="greater")
    m = ledger.hypothesis_test("Wilcoxon signed-rank", w.statistic, w.pvalue, 6, "gain")
    assert m.p_value == pytest.approx(w.pvalue) and "n = 6" in str(m)
    e = ledger.worst_case_error([1e-7, -3e-6], "sum minus delta", over="sequences")
    assert e.estimate == pytest.approx(3e-6) and e.n == 2


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: ledger.mean_interval([1.0], "x"), ValueError),
        (lambda: ledger.mean_interval([1.0, np.nan], "x"), ValueError),
        (lambda: ledger.mean_interval([1.0, 2.0], ""), TypeError),
        (lambda: ledger.count_interval(4, 3, "x"), ValueError),
        (lambda: ledger.hypothesis_test("t", 1.0, 1.5, 3, "x"), ValueError),
        (lambda: ledger.bootstrap_interval([1.0, 2.0], "x", resamples=10), ValueError),
        (lambda: ledger.verdict(1), TypeError),
        (lambda: ledger.ChapterClaims(0), ValueError),
    ],
)
def test_bad_measurements_are_refused(call, error):
    with pytest.raises(error):
        call()


def test_directional_verdict_reads_the_interval_then_the_draws():
    strong = [0.5, 0.6, 0.55, 0.52]
    assert ledger.directional_verdict(ledger.mean_interval(strong, "x"), strong, above=0) == (
        ledger.REPRODUCES
    )
    every = [0.01, 0.5, 0.02]  # every seed above, the t interval on 2 df is not
    m = ledger.mean_interval(every, "x")
    assert m.low < 0 and ledger.directional_verdict(m, every, above=0) == ledger.PARTLY
    mixed = [-0.1, 0.2, 0.05]
    m = ledger.mean_interval(mixed, "x")
    assert ledger.directional_verdict(m, mixed, above=0) == ledger.DOES_NOT
    assert ledger.directional_verdict(m, mixed, below=0.5) == ledger.REPRODUCES
    with pytest.raises(ValueError, match="exactly one"):
        ledger.directional_verdict(m, mixed)
    with pytest.raises(ValueError, match="interval"):
        ledger.directional_verdict(ledger.worst_case_error([1.0], "x", over="y"), [1.0], above=0)


def test_bootstrap_statistic_resamples_rows_together():
    rng = np.random.default_rng(2)
    x = rng.normal(size=300)
    y = x + rng.normal(size=300)

    def r(a, b):
        return np.corrcoef(a, b)[0, 1]

    m = ledger.bootstrap_statistic(r, [x, y], "r", seed=1)
    assert m.estimate == pytest.approx(r(x, y)) and m.low < m.estimate < m.high
    # Fisher's interval for r, as a check of the width
    z, se = np.arctanh(m.estimate), 1 / np.sqrt(297)
    assert (m.low, m.high) == pytest.approx(
        (np.tanh(z - 1.96 * se), np.tanh(z + 1.96 * se)), abs=0.03
    )
    with pytest.raises(ValueError, match="one length"):
        ledger.bootstrap_statistic(r, [x, y[:10]], "r")
