"""The claims ledger (genotutor.studies.ledger): rows validated, written per chapter into
the build and collected."""

from __future__ import annotations

import json

import pytest

from genotutor.studies import ledger


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
def test_record_validates_each_field(changes, error, words, ledger_row):
    with pytest.raises(error, match=words):
        ledger_row(ledger.ChapterClaims(6), **changes)


def test_rows_round_trip_through_the_build(tmp_path, monkeypatch, ledger_row):
    monkeypatch.setenv(ledger.LEDGER_VARIABLE, str(tmp_path))
    claims = ledger.ChapterClaims(6)
    row = ledger_row(claims)
    untested = ledger_row(claims, verdict=ledger.NOT_TESTED, measured=None, why="no GPU here")
    path = claims.write()
    assert path == tmp_path / "ch06.json" and json.loads(path.read_text())["chapter"] == 6
    assert ledger.collect([6]) == [row, untested]
    with pytest.raises(FileNotFoundError, match=r"chapter\(s\) \[7\]"):
        ledger.collect([6, 7])
    with pytest.raises(ValueError, match="no claims"):
        ledger.ChapterClaims(7).write()
