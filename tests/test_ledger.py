"""The claims ledger (genotutor.studies.ledger): rows validated, written per chapter into
the build and collected."""

from __future__ import annotations

import json

import pytest

from genotutor.studies import ledger


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
