"""Chapter plumbing: link API docstrings to chapters, and tell readers how to run live.

- Each API docstring's "Taught in chapter N" gets a link to that chapter's page
  (chapters are the book's ``NN_*.md`` files).
- Each chapter page gets, under its title, a note on downloading it as a notebook and
  running it live, so its explorer computes.
"""

from __future__ import annotations

import re
from pathlib import Path

from sphinx.application import Sphinx

PATTERN = re.compile(r"[Cc]hapter (\d+)")


def _chapter_docnames(srcdir: Path) -> dict[int, str]:
    names = {}
    for path in sorted(srcdir.glob("[0-9][0-9]_*.md")):
        names[int(path.name[:2])] = path.stem
    return names


def _add_links(app: Sphinx, what: str, name: str, obj: object, options, lines: list[str]) -> None:
    text = " ".join(lines)
    if "aught in" not in text:
        return
    chapters = _chapter_docnames(Path(app.srcdir))
    found = sorted({int(n) for n in PATTERN.findall(text) if int(n) in chapters})
    if found:
        links = ", ".join(f":doc:`chapter {n} <{chapters[n]}>`" for n in found)
        lines.extend(["", f"*Taught in* {links}."])


RUN_LIVE = """
```{note}
**Run this chapter live.** Download it as a notebook (the download button at the top of
the page offers `.ipynb`) and open it in Jupyter with genotutor installed: after
`make test` has set up `.venv`, run `.venv/bin/pip install jupyterlab` and
`.venv/bin/jupyter lab`. On this static page the explorers show the state they were built
in; in a live kernel they compute. See {doc}`instructors` for more.
```
"""


def _add_run_live_note(app: Sphinx, docname: str, source: list[str]) -> None:
    if not re.match(r"\d\d_", docname):
        return
    text = source[0]
    title = re.search(r"^# .*$", text, re.M)
    if title:
        source[0] = text[: title.end()] + "\n" + RUN_LIVE + text[title.end() :]


def setup(app: Sphinx) -> dict:
    app.connect("autodoc-process-docstring", _add_links)
    app.connect("source-read", _add_run_live_note)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
