"""The claims ledger's page (genotutor.studies.ledger_page): which chapters record, links
to real sections, sources named from the bibliography."""

from __future__ import annotations

from pathlib import Path

import pytest

from genotutor.studies import ledger, ledger_page

BOOK = Path(__file__).resolve().parents[1] / "book"


def test_recording_chapters_are_those_that_make_rows(tmp_path):
    (tmp_path / "01_a.md").write_text("claims = ledger.ChapterClaims(1)")
    (tmp_path / "02_b.md").write_text("no rows here")
    assert ledger_page.recording_chapters(tmp_path) == [1]
    assert 6 in ledger_page.recording_chapters(BOOK)


def test_render_links_each_row_to_a_real_section(ledger_row):
    claims = ledger.ChapterClaims(7)
    ledger_row(claims)
    html = ledger_page.render(claims.claims, BOOK, BOOK / "references.bib")
    assert 'href="07_fourier_priors.html#does-the-prior-help-here"' in html
    assert "Tseng et al. (2020)" in html
    with pytest.raises(ValueError, match="no section"):
        ledger_page.render([ledger_row(claims, section="Nowhere")], BOOK, BOOK / "references.bib")
    with pytest.raises(ValueError, match="not keys"):
        bad = ledger.ChapterClaims(7)
        ledger_page.render([ledger_row(bad, sources="nobody2099")], BOOK, BOOK / "references.bib")
