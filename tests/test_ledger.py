"""The claims ledger (genotutor.studies.ledger): intervals against their definitions, rows
validated, written and collected, and the page's rendering against the book's files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from genotutor.studies import ledger

BOOK = Path(__file__).resolve().parents[1] / "book"


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


def _row(claims: ledger.ChapterClaims, **changes):
    arguments = dict(
        sources="tseng2020fourier",
        claim="The prior stabilises attributions.",
        section="Does the prior help here?",
        verdict=ledger.REPRODUCES,
        measured=ledger.mean_interval([0.1, 0.2, 0.3], "gain"),
    )
    arguments.update(changes)
    return claims.record(**arguments)


@pytest.mark.parametrize(
    "changes, error, words",
    [
        ({"verdict": "holds"}, ValueError, "verdict"),
        ({"measured": None}, ValueError, "measured is required"),
        ({"measured": 0.3}, TypeError, "Measurement"),
        ({"verdict": ledger.NOT_TESTED, "measured": None}, ValueError, "why"),
        ({"sources": []}, ValueError, "sources"),
        ({"claim": " "}, TypeError, "claim"),
    ],
)
def test_record_validates_each_field(changes, error, words):
    with pytest.raises(error, match=words):
        _row(ledger.ChapterClaims(6), **changes)


def test_rows_round_trip_through_the_build(tmp_path, monkeypatch):
    monkeypatch.setenv(ledger.LEDGER_VARIABLE, str(tmp_path))
    claims = ledger.ChapterClaims(6)
    row = _row(claims)
    untested = _row(claims, verdict=ledger.NOT_TESTED, measured=None, why="no GPU here")
    path = claims.write()
    assert path == tmp_path / "ch06.json" and json.loads(path.read_text())["chapter"] == 6
    assert ledger.collect([6]) == [row, untested]
    with pytest.raises(FileNotFoundError, match=r"chapter\(s\) \[7\]"):
        ledger.collect([6, 7])
    with pytest.raises(ValueError, match="no claims"):
        ledger.ChapterClaims(7).write()


def test_render_links_each_row_to_a_real_section():
    claims = ledger.ChapterClaims(6)
    _row(claims)
    html = ledger.render(claims.claims, BOOK, BOOK / "references.bib")
    assert 'href="06_fourier_priors.html#does-the-prior-help-here"' in html
    assert "Tseng et al. (2020)" in html
    with pytest.raises(ValueError, match="no section"):
        ledger.render([_row(claims, section="Nowhere")], BOOK, BOOK / "references.bib")
    with pytest.raises(ValueError, match="not keys"):
        bad = ledger.ChapterClaims(6)
        ledger.render([_row(bad, sources="nobody2099")], BOOK, BOOK / "references.bib")
