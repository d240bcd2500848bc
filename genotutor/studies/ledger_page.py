"""The claims ledger's page: which chapters record claims, and the rows as one HTML table,
each linked to the section of its chapter that tests it (headings checked), sources named
from the book's BibTeX file.

Taught in the claims ledger page.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from genotutor.studies.ledger import Claim, check_text


def section_anchor(section: str) -> str:
    """The HTML id Sphinx gives a section with this heading (docutils' ``make_id``)."""
    from docutils.nodes import make_id

    return make_id(check_text(section, "section"))


def chapter_pages(book: str | Path) -> dict[int, Path]:
    """The book's chapter files (``NN_*.md``) by number."""
    return {int(path.name[:2]): path for path in sorted(Path(book).glob("[0-9][0-9]_*.md"))}


def recording_chapters(book: str | Path) -> list[int]:
    """The chapters of the book in ``book`` that record claims (their source makes a
    :class:`ChapterClaims`): the ones whose rows the ledger page must find."""
    return [n for n, path in chapter_pages(book).items() if "ChapterClaims(" in path.read_text()]


def check_sections(claims: Sequence[Claim], book: str | Path) -> None:
    """Raise if a row names a chapter or a section heading its chapter does not have."""
    pages = chapter_pages(book)
    for row in claims:
        if row.chapter not in pages:
            raise ValueError(f"row {row.claim!r} names chapter {row.chapter}; none in {book}")
        headings = {
            line.lstrip("#").strip()
            for line in pages[row.chapter].read_text().splitlines()
            if line.startswith("#") and line.lstrip("#").startswith(" ")
        }
        if row.section not in headings:
            raise ValueError(
                f"chapter {row.chapter} has no section {row.section!r} (row {row.claim!r})"
            )


def source_labels(bib: str | Path) -> dict[str, str]:
    """ "First author et al. (year)" for every entry of the BibTeX file ``bib``."""
    from pybtex.database import parse_file

    labels = {}
    for key, entry in parse_file(str(bib)).entries.items():
        people = entry.persons.get("author", [])
        last = " ".join(people[0].last_names).replace("{", "").replace("}", "") if people else key
        many = len(people) > 2 or any(str(p) == "others" for p in people)
        two = len(people) == 2 and str(people[1]) != "others"
        name = f"{last} et al." if many else last
        if two:
            name += " and " + " ".join(people[1].last_names)
        labels[key] = f"{name} ({entry.fields.get('year', 'n.d.')})"
    return labels


def render(claims: Sequence[Claim], book: str | Path, bib: str | Path) -> str:
    """The ledger as an HTML table, one row per claim, grouped by source, each linking to
    the section that tests it."""
    check_sections(claims, book)
    labels = source_labels(bib)
    unknown = sorted({k for row in claims for k in row.sources} - set(labels))
    if unknown:
        raise ValueError(f"sources {unknown} are not keys of {bib}")
    pages = chapter_pages(book)
    rows = []
    for row in sorted(claims, key=lambda r: (labels[r.sources[0]], r.chapter)):
        link = f"{pages[row.chapter].stem}.html#{section_anchor(row.section)}"
        cells = [
            "; ".join(labels[k] for k in row.sources),
            row.claim,
            f'<a href="{link}">{row.chapter}: {html.escape(row.section)}</a>',
            row.measured_text or "-",
            row.verdict + (f" ({row.why})" if row.why else ""),
            row.departure or "-",
        ]
        escaped = [c if i == 2 else html.escape(c) for i, c in enumerate(cells)]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in escaped) + "</tr>")
    head = "".join(
        f"<th>{h}</th>"
        for h in ("Source", "Claim", "Chapter: section", "Measured", "Verdict", "Departure")
    )
    table = '<table class="claims-ledger" style="font-size: 0.85em">'
    return f"{table}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
