"""The book's build is strict: a cell that raises fails it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parent.parent / "book"
PAGE = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
# Scratch

```{code-cell} ipython3
print("before")
```

```{code-cell} ipython3
CELL
```
"""


def _build_scratch(tmp_path: Path, cell: str) -> subprocess.CompletedProcess:
    book = tmp_path / "book"
    book.mkdir()
    shutil.copy(BOOK / "_config.yml", book)
    shutil.copy(BOOK / "references.bib", book)
    shutil.copytree(BOOK / "_ext", book / "_ext")
    (book / "_toc.yml").write_text("format: jb-book\nroot: scratch\n")
    (book / "scratch.md").write_text(PAGE.replace("CELL", cell))
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    return subprocess.run(
        [str(jupyter_book), "build", str(book), "-W", "--keep-going"],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_a_failing_cell_fails_the_build(tmp_path):
    result = _build_scratch(tmp_path, 'raise RuntimeError("deliberate")')
    assert result.returncode != 0
    assert "deliberate" in result.stdout + result.stderr


@pytest.mark.slow
def test_a_clean_scratch_page_builds(tmp_path):
    result = _build_scratch(tmp_path, 'print("fine")')
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


EXPLORER_CELL = """import torch
from genotutor import widgets
from genotutor.attribution import mutation_table
from genotutor.models import DeepBind
from genotutor.sequences import random_sequences

torch.manual_seed(0)
x = random_sequences(3, 30, seed=0)
widgets.MutationExplorer(mutation_table(DeepBind(filter_width=7).eval(), x), x)"""


@pytest.mark.slow
def test_a_page_with_an_explorer_builds_without_npm(tmp_path):
    """The scratch book has no _widgets_js folder (what `make book` makes with npm): the
    strict build still passes, the page keeps the explorer's state (its table and module)
    and loads the widget manager from the CDN, and anywidget's front end is at the root."""
    result = _build_scratch(tmp_path, EXPLORER_CELL)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    html = tmp_path / "book" / "_build" / "html"
    page = (html / "scratch.html").read_text()
    assert "genotutor.widgets.mutation.MutationView" in page
    assert "cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager" in page
    assert 'define(["@jupyter-widgets/base"]' in (html / "anywidget.js").read_text()
