"""The scripts that check the book: run_chapter.py's --keep-going lists every failing
assertion, compare_outputs.py tells two executions apart only by what they computed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _chapter(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "chapter.md"
    header = "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n"
    header += "kernelspec:\n  name: python3\n  display_name: Python 3\n---\n\n"
    path.write_text(header + text)
    return path


def test_keep_going_lists_every_failing_assertion(tmp_path):
    run_chapter = _script("run_chapter")
    cell = "```{code-cell} ipython3\n%s\n```\n\n"
    text = cell % "x = 1\nassert x == 2, 'first'" + cell % "for k in range(2):\n    assert k < 0"
    text += cell % "print('after', x)\nassert x == 1"
    seconds, failures = run_chapter.execute(
        _chapter(tmp_path, text), 60, keep_going=True, save=tmp_path / "out"
    )
    assert seconds > 0
    assert failures == [
        "FAILED ASSERTION: assert x == 2, 'first' (first)",
        "FAILED ASSERTION: assert k < 0",
        "FAILED ASSERTION: assert k < 0",
    ]
    executed = nbformat.read(tmp_path / "out" / "chapter.ipynb", as_version=4)
    assert "after 1" in executed.cells[-1].outputs[0]["text"]  # it went on


def test_without_keep_going_the_first_failure_stops_the_chapter(tmp_path):
    run_chapter = _script("run_chapter")
    text = "```{code-cell} ipython3\nassert False\n```\n"
    with pytest.raises(Exception, match="AssertionError"):
        run_chapter.execute(_chapter(tmp_path, text), 60)


def _notebook(folder: Path, outputs: list[tuple[str, str | list[str], list[str]]]) -> None:
    """A chapter whose cells printed ``text`` (stdout; a list: flushed in those chunks),
    tagged as given."""
    cells = []
    for source, text, tags in outputs:
        cell = nbformat.v4.new_code_cell(source, metadata={"tags": tags})
        chunks = [text] if isinstance(text, str) else text
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=t) for t in chunks]
        cells.append(cell)
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / "01_chapter.ipynb")


def test_compare_outputs_ignores_timings_cache_messages_and_addresses(tmp_path):
    compare_outputs = _script("compare_outputs")
    _notebook(tmp_path / "a", [("a", "AUROC 0.912\ntrained now and cached\n", []),
                               ("b", "0.41 s\n", ["timing"]),
                               ("c", "<Legend at 0x7f01>\n", [])])  # fmt: skip
    _notebook(tmp_path / "b", [("a", "AUROC 0.912\nweights loaded from the cache\n", []),
                               ("b", "0.97 s\n", ["timing"]),
                               ("c", "<Legend at 0x7fff>\n", [])])  # fmt: skip
    assert compare_outputs.compare(tmp_path / "a", tmp_path / "b") == 0


def test_compare_outputs_finds_a_changed_number(tmp_path, capsys):
    compare_outputs = _script("compare_outputs")
    _notebook(tmp_path / "a", [("a", "AUROC 0.912\n", [])])
    _notebook(tmp_path / "b", [("a", "AUROC 0.913\n", [])])
    assert compare_outputs.compare(tmp_path / "a", tmp_path / "b") == 1
    assert "AUROC 0.913" in capsys.readouterr().out
    with pytest.raises(FileNotFoundError, match="no executed notebook"):
        compare_outputs.compare(tmp_path / "a", tmp_path / "empty")


def test_compare_outputs_joins_a_print_flushed_in_pieces(tmp_path):
    compare_outputs = _script("compare_outputs")
    _notebook(
        tmp_path / "a", [("a", "reversed: ['TTGC']\nnext 0.5\n", []), ("b", ["x 1", "\n"], [])]
    )
    _notebook(
        tmp_path / "b", [("a", ["reversed:", " ['TTGC']\nnext 0.5\n"], []), ("b", "x 1\n", [])]
    )
    assert compare_outputs.compare(tmp_path / "a", tmp_path / "b") == 0
    _notebook(
        tmp_path / "c", [("a", ["reversed:", " ['TTGC']\nnext 0.6\n"], []), ("b", "x 1\n", [])]
    )
    assert compare_outputs.compare(tmp_path / "a", tmp_path / "c") == 1
