"""The claims ledger: each chapter records the claims of its sources that it tests, with what
it measured, and the book's "Claims ledger" page collects them.

A chapter makes a :class:`ChapterClaims`, records one row per claim with
:meth:`ChapterClaims.record` (the measurement comes from one of :func:`mean_interval`,
:func:`bootstrap_interval`, :func:`hypothesis_test`, :func:`worst_case_error` or
:func:`count_interval`, all computed from the chapter's own results, never typed), shows its
rows at its end and writes them (:meth:`ChapterClaims.write`) as ``chNN.json`` into
:func:`ledger_directory`. The ledger page reads every chapter's file with :func:`collect`.

A row without a measurement is allowed only for the verdict "not tested here", and must then
say why. A claim that holds exactly (completeness, summation-to-delta) reports its
worst-case error.

Taught in the claims ledger page; every chapter records its rows.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from genotutor.studies.measures import (
    CONFIDENCE,
    DOES_NOT,
    NOT_TESTED,
    PARTLY,
    REPRODUCES,
    VERDICTS,
    Measurement,
    bootstrap_interval,
    bootstrap_statistic,
    check_text,
    count_interval,
    directional_verdict,
    hypothesis_test,
    mean_interval,
    verdict,
    worst_case_error,
)
from genotutor.studies.settings import seed_offset, thread_count
from genotutor.validation import check_choice, check_positive_int

__all__ = [
    "CONFIDENCE",
    "ChapterClaims",
    "Claim",
    "DOES_NOT",
    "Measurement",
    "NOT_TESTED",
    "PARTLY",
    "REPRODUCES",
    "VERDICTS",
    "bootstrap_interval",
    "bootstrap_statistic",
    "check_text",
    "claims_frame",
    "collect",
    "count_interval",
    "directional_verdict",
    "hypothesis_test",
    "ledger_directory",
    "mean_interval",
    "verdict",
    "worst_case_error",
]
LEDGER_VARIABLE = "GENOTUTOR_LEDGER_DIR"


@dataclass(frozen=True)
class Claim:
    """One row of the ledger."""

    chapter: int
    section: str
    sources: tuple[str, ...]
    claim: str
    verdict: str
    measured: Measurement | None
    departure: str = ""
    why: str = ""

    @property
    def measured_text(self) -> str:
        return "" if self.measured is None else str(self.measured)


@dataclass
class ChapterClaims:
    """The rows one chapter records; see the module's docstring.

    Examples
    --------
    >>> claims = ChapterClaims(7)
    >>> row = claims.record(
    ...     sources="tseng2020fourier", claim="The prior makes attributions consistent.",
    ...     section="Does the prior help here?", verdict=REPRODUCES,
    ...     measured=mean_interval([0.1, 0.2, 0.15], "gain in consistency"))
    """

    chapter: int
    claims: list[Claim] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.chapter = check_positive_int(self.chapter, "chapter")

    def record(
        self,
        *,
        sources: str | Sequence[str],
        claim: str,
        section: str,
        verdict: str,
        measured: Measurement | None = None,
        departure: str = "",
        why: str = "",
    ) -> Claim:
        """Add one row: the source's bibliography key(s), its claim in one line, the heading
        of the section that tests it, the verdict (one of :data:`VERDICTS`), the measurement
        (required unless the verdict is "not tested here"), the departure that matters most
        and, for a claim not tested or not reproduced, why."""
        keys = (sources,) if isinstance(sources, str) else tuple(sources)
        if not keys:
            raise ValueError("sources must name at least one bibliography key; found none")
        keys = tuple(check_text(key, "sources") for key in keys)
        verdict = check_choice(verdict, "verdict", VERDICTS)
        if measured is None and verdict != NOT_TESTED:
            raise ValueError(f"measured is required for the verdict {verdict!r}; found None")
        if measured is not None and not isinstance(measured, Measurement):
            raise TypeError(f"measured must be a Measurement; found {type(measured).__name__}")
        if verdict == NOT_TESTED and not why.strip():
            raise ValueError("why must say why a claim is not tested here; found ''")
        row = Claim(
            self.chapter,
            check_text(section, "section"),
            keys,
            check_text(claim, "claim"),
            verdict,
            measured,
            departure.strip(),
            why.strip(),
        )
        self.claims.append(row)
        return row

    def frame(self) -> pd.DataFrame:
        """The rows as a table: source, claim, section, measured, verdict, departure."""
        return claims_frame(self.claims)

    def __repr__(self) -> str:
        lines = [f"Claims of chapter {self.chapter} ({len(self.claims)}):"]
        lines += [f"- {row.claim} [{row.verdict}] {row.measured_text}" for row in self.claims]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The rows as an HTML table (a chapter ends by showing them)."""
        import html

        head = "".join(f"<th>{h}</th>" for h in ("Claim", "Measured", "Verdict", "Departure"))
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(text)}</td>"
                for text in (
                    row.claim,
                    row.measured_text or "-",
                    row.verdict + (f" ({row.why})" if row.why else ""),
                    row.departure or "-",
                )
            )
            + "</tr>"
            for row in self.claims
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"

    def write(self, directory: str | Path | None = None) -> Path:
        """Write the rows to ``chNN.json`` in ``directory`` (default :func:`ledger_directory`)
        and return the path; the draw and thread count that made them go with them."""
        if not self.claims:
            raise ValueError(f"chapter {self.chapter} recorded no claims; nothing to write")
        folder = ledger_directory() if directory is None else Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"ch{self.chapter:02d}.json"
        record = {
            "chapter": self.chapter,
            "seed_offset": seed_offset(),
            "threads": thread_count(),
            "claims": [asdict(row) for row in self.claims],
        }
        path.write_text(json.dumps(record, indent=1))
        return path


def ledger_directory() -> Path:
    """Where chapters write their rows: ``GENOTUTOR_LEDGER_DIR``, else ``_build/ledger``
    under the working directory (the book's folder while the book builds)."""
    text = os.environ.get(LEDGER_VARIABLE, "").strip()
    return Path(text) if text else Path("_build") / "ledger"


def claims_frame(claims: Sequence[Claim]) -> pd.DataFrame:
    """A table of ``claims``, one row each."""
    return pd.DataFrame(
        {
            "chapter": [row.chapter for row in claims],
            "section": [row.section for row in claims],
            "source": [", ".join(row.sources) for row in claims],
            "claim": [row.claim for row in claims],
            "measured": [row.measured_text for row in claims],
            "verdict": [row.verdict for row in claims],
            "departure": [row.departure for row in claims],
            "why": [row.why for row in claims],
        }
    )


def _claim_from_dict(record: dict) -> Claim:
    measured = record.get("measured")
    return Claim(
        chapter=record["chapter"],
        section=record["section"],
        sources=tuple(record["sources"]),
        claim=record["claim"],
        verdict=record["verdict"],
        measured=None if measured is None else Measurement(**measured),
        departure=record.get("departure", ""),
        why=record.get("why", ""),
    )


def collect(chapters: Sequence[int], directory: str | Path | None = None) -> list[Claim]:
    """Read the rows every chapter in ``chapters`` wrote into ``directory`` (default
    :func:`ledger_directory`); a chapter without its file is an error that names it."""
    folder = ledger_directory() if directory is None else Path(directory)
    missing = [c for c in chapters if not (folder / f"ch{c:02d}.json").is_file()]
    if missing:
        raise FileNotFoundError(
            f"no ledger rows for chapter(s) {missing} in {folder}: execute those chapters "
            "first (the book build runs them before this page)"
        )
    claims = []
    for chapter in chapters:
        record = json.loads((folder / f"ch{chapter:02d}.json").read_text())
        claims.extend(_claim_from_dict(row) for row in record["claims"])
    return claims
