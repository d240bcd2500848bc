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
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from genotutor.studies.settings import seed_offset, thread_count
from genotutor.validation import check_choice, check_positive_int

LEDGER_VARIABLE = "GENOTUTOR_LEDGER_DIR"
REPRODUCES = "reproduces"
PARTLY = "partly reproduces"
DOES_NOT = "does not reproduce at this scale"
NOT_TESTED = "not tested here"
VERDICTS = (REPRODUCES, PARTLY, DOES_NOT, NOT_TESTED)
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Measurement:
    """What a chapter measured for one claim.

    ``kind`` is "mean" (a mean with its t interval), "bootstrap" (a mean with a percentile
    bootstrap interval), "test" (a statistic and its p value), "worst error" (the largest
    deviation from an exact property) or "count" (a fraction with its Wilson interval). ``n``
    counts ``over`` (seeds, sequences, loci...).
    """

    kind: str
    what: str
    n: int
    over: str
    estimate: float | None = None
    low: float | None = None
    high: float | None = None
    statistic: float | None = None
    p_value: float | None = None
    test: str | None = None

    def __str__(self) -> str:
        if self.kind == "test":
            effect = "" if self.estimate is None else f"{_fmt(self.estimate)}; "
            return (
                f"{self.what}: {effect}{self.test} statistic {_fmt(self.statistic)}, "
                f"p = {self.p_value:.2g}, n = {self.n} {self.over}"
            )
        if self.kind == "worst error":
            return f"{self.what}: worst |error| {self.estimate:.2g} over {self.n} {self.over}"
        if self.kind == "count":
            hits = round(self.estimate * self.n)
            return (
                f"{self.what}: {hits}/{self.n} {self.over} "
                f"(95 % interval {self.low:.2f}-{self.high:.2f})"
            )
        return (
            f"{self.what}: {_fmt(self.estimate)} [{_fmt(self.low)}, {_fmt(self.high)}], "
            f"{'mean' if self.kind == 'mean' else 'bootstrap mean'} over {self.n} {self.over}"
        )


def _fmt(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return str(value)
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"


def _finite_values(values: object, name: str, minimum: int) -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    if array.size < minimum:
        raise ValueError(f"{name} needs at least {minimum} values; found {array.size}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite; found {array[~np.isfinite(array)][:3]}")
    return array


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{name} must be a non-empty string; found {value!r}")
    return value.strip()


def mean_interval(values: Sequence[float], what: str, *, over: str = "seeds") -> Measurement:
    """The mean of ``values`` (one per seed, say) with its 95 % Student-t interval.

    Parameters
    ----------
    values : sequence of float, length n >= 2
        One value per independent draw.
    what : str
        What the values are, e.g. "AUROC gain with the prior".
    over : str
        What was drawn: "seeds", "loci"...
    """
    array = _finite_values(values, "values", 2)
    mean = float(array.mean())
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, array.size - 1) * stats.sem(array))
    return Measurement("mean", _text(what, "what"), array.size, _text(over, "over"),
                       mean, mean - half, mean + half)  # fmt: skip


def bootstrap_interval(
    values: Sequence[float],
    what: str,
    *,
    over: str = "sequences",
    resamples: int = 2000,
    seed: int = 0,
) -> Measurement:
    """The mean of ``values`` with a 95 % percentile bootstrap interval (``resamples``
    resamples drawn from ``numpy.random.default_rng(seed)``)."""
    array = _finite_values(values, "values", 2)
    resamples = check_positive_int(resamples, "resamples", minimum=100)
    rng = np.random.default_rng(check_positive_int(seed, "seed", minimum=0))
    means = array[rng.integers(0, array.size, (resamples, array.size))].mean(axis=1)
    low, high = np.quantile(means, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
    return Measurement("bootstrap", _text(what, "what"), array.size, _text(over, "over"),
                       float(array.mean()), float(low), float(high))  # fmt: skip


def hypothesis_test(
    test: str,
    statistic: float,
    p_value: float,
    n: int,
    what: str,
    *,
    over: str = "sequences",
    effect: float | None = None,
) -> Measurement:
    """A hypothesis test's result: its name, statistic, p value and ``n`` (with the effect
    it tests, e.g. a median difference, where there is one)."""
    values = _finite_values([statistic, p_value], "statistic and p_value", 2)
    if not 0 <= values[1] <= 1:
        raise ValueError(f"p_value must lie in [0, 1]; found {p_value}")
    if effect is not None:
        effect = float(_finite_values([effect], "effect", 1)[0])
    return Measurement("test", _text(what, "what"), check_positive_int(n, "n"),
                       _text(over, "over"), effect, statistic=float(values[0]),
                       p_value=float(values[1]), test=_text(test, "test"))  # fmt: skip


def worst_case_error(errors: Sequence[float], what: str, *, over: str) -> Measurement:
    """The largest absolute deviation among ``errors`` from a property that holds exactly."""
    array = np.abs(_finite_values(errors, "errors", 1))
    return Measurement("worst error", _text(what, "what"), array.size, _text(over, "over"),
                       float(array.max()))  # fmt: skip


def count_interval(hits: int, n: int, what: str, *, over: str = "seeds") -> Measurement:
    """``hits`` of ``n`` draws where something held, with the 95 % Wilson interval."""
    n = check_positive_int(n, "n")
    hits = check_positive_int(hits, "hits", minimum=0)
    if hits > n:
        raise ValueError(f"hits must be at most n = {n}; found {hits}")
    z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))
    share = hits / n
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Measurement("count", _text(what, "what"), n, _text(over, "over"), share,
                       max(0.0, centre - half), min(1.0, centre + half))  # fmt: skip


def verdict(holds: bool, *, partly: bool = False) -> str:
    """The verdict for a claim whose test the chapter computed: "reproduces" when ``holds``,
    "partly reproduces" when only ``partly``, else "does not reproduce at this scale"."""
    if not isinstance(holds, bool | np.bool_) or not isinstance(partly, bool | np.bool_):
        raise TypeError(f"holds and partly must be booleans; found {holds!r}, {partly!r}")
    return REPRODUCES if holds else PARTLY if partly else DOES_NOT


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
    >>> claims = ChapterClaims(6)
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
        keys = tuple(_text(key, "sources") for key in keys)
        verdict = check_choice(verdict, "verdict", VERDICTS)
        if measured is None and verdict != NOT_TESTED:
            raise ValueError(f"measured is required for the verdict {verdict!r}; found None")
        if measured is not None and not isinstance(measured, Measurement):
            raise TypeError(f"measured must be a Measurement; found {type(measured).__name__}")
        if verdict == NOT_TESTED and not why.strip():
            raise ValueError("why must say why a claim is not tested here; found ''")
        row = Claim(self.chapter, _text(section, "section"), keys, _text(claim, "claim"),
                    verdict, measured, departure.strip(), why.strip())  # fmt: skip
        self.claims.append(row)
        return row

    def frame(self) -> pd.DataFrame:
        """The rows as a table: source, claim, section, measured, verdict, departure."""
        return claims_frame(self.claims)

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


def section_anchor(section: str) -> str:
    """The HTML id Sphinx gives a section with this heading (docutils' ``make_id``)."""
    from docutils.nodes import make_id

    return make_id(_text(section, "section"))


def chapter_pages(book: str | Path) -> dict[int, Path]:
    """The book's chapter files (``NN_*.md``) by number."""
    return {int(path.name[:2]): path for path in sorted(Path(book).glob("[0-9][0-9]_*.md"))}


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
    import html

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
    return (
        '<table class="claims-ledger"><thead><tr>' + head + "</tr></thead><tbody>"
        + "".join(rows) + "</tbody></table>"
    )  # fmt: skip
