"""Check that two executions of the book printed the same numbers, chapter by chapter.

    python benchmarks/compare_outputs.py book/_build/jupyter_execute /tmp/second-run

Each argument is a folder of executed notebooks (``<chapter>.ipynb``): the book build's
``book/_build/jupyter_execute``, or a folder written by ``benchmarks/run_chapter.py
--save``. For every chapter found in both, the text the cells printed (stdout and the
``text/plain`` form of every result) is compared line by line, except:

- cells tagged ``timing`` (``:tags: [timing]`` in the chapter): they print this machine's
  seconds;
- lines that say whether a model came from the cache (a warm build loads what a cold one
  trained), and memory addresses in object reprs (``at 0x7f...``);
- widget outputs, figures and stderr (progress bars, warnings).

Exit code 1 if any chapter differs (the first differing lines are printed), 2 if the
folders share no chapter.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

import nbformat

CACHE_MESSAGE = re.compile(r"loaded from the cache|trained now and cached")
ADDRESS = re.compile(r"\bat 0x[0-9a-f]+")


def _output_texts(cell: dict) -> list[str]:
    """The texts a code cell printed, one per output, with consecutive stdout chunks joined
    (the kernel flushes a ``print`` in pieces whose boundaries vary run to run)."""
    texts, streaming = [], False
    for output in cell.get("outputs", []):
        text = ""
        kind = output.get("output_type")
        if kind == "stream" and output.get("name") == "stdout":
            text = output.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            if streaming:
                texts[-1] += text
            else:
                texts.append(text)
            streaming = True
            continue
        streaming = False
        if kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            if "application/vnd.jupyter.widget-view+json" not in data:
                text = data.get("text/plain", "")
        elif kind == "error":
            text = f"{output['ename']}: {output['evalue']}"
        texts.append("".join(text) if isinstance(text, list) else text)
    return texts


def printed_lines(path: Path) -> list[str]:
    """The lines a chapter printed, in order, without the parts that may differ."""
    notebook = nbformat.read(path, as_version=4)
    lines = []
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for index, cell in enumerate(code_cells):  # numbered among code cells: builds split text
        if "timing" in cell.get("metadata", {}).get("tags", []):
            continue
        for text in _output_texts(cell):
            kept = [line for line in text.splitlines() if not CACHE_MESSAGE.search(line)]
            lines += [f"[code cell {index}] {ADDRESS.sub('at 0x', line)}" for line in kept]
    return lines


def compare(first: Path, second: Path, *, context: int = 5) -> int:
    """Print the differences of every chapter in both folders; the number that differ."""
    names = sorted(
        {p.name for p in first.glob("*.ipynb")} & {p.name for p in second.glob("*.ipynb")}
    )
    if not names:
        raise FileNotFoundError(f"no executed notebook is in both {first} and {second}")
    differing = 0
    for name in names:
        a, b = printed_lines(first / name), printed_lines(second / name)
        if a == b:
            print(f"{name}: the same ({len(a)} lines)")
            continue
        differing += 1
        diff = list(
            difflib.unified_diff(a, b, str(first / name), str(second / name), n=0, lineterm="")
        )
        print(f"{name}: DIFFERENT ({sum(line[:1] in '+-' for line in diff[2:])} lines)")
        print("\n".join(diff[: 2 + 4 * context]))
    return differing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    args = parser.parse_args()
    try:
        differing = compare(args.first, args.second)
    except FileNotFoundError as error:
        print(error)
        return 2
    print(f"{differing} chapter(s) differ")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
