"""Execute book chapters outside the book build and report each one's time.

    python benchmarks/run_chapter.py book/01_sequence_to_function.md [more.md ...]
        [--repeat N] [--timeout S] [--cold] [--seed-offset K] [--threads T]
        [--keep-going] [--save DIR]

Each chapter (a MyST Markdown notebook) is converted with jupytext and executed with
nbclient in a fresh kernel, in the chapter's folder, as the book build does. ``--cold``
points GENOTUTOR_CACHE at an empty folder, so trained models are not reused.
``--seed-offset`` and ``--threads`` set ``GENOTUTOR_SEED_OFFSET`` and ``GENOTUTOR_THREADS``
for the kernel (a re-draw of every seed the book's studies use; torch's thread count).
``--keep-going`` turns every ``assert`` of the chapter into a recorded check and keeps
executing after a failing cell, so one run lists every assertion that fails (each printed
as ``FAILED ASSERTION``); without it a chapter stops at its first failure, as in the book.
``--save`` writes each executed notebook (``<chapter>.ipynb``) into a folder, for
``benchmarks/compare_outputs.py``. ``--repeat`` runs each chapter several times: the
widget-stall check runs a widget chapter 20 times and fails if any run exceeds the
timeout. Exit code 1 if any execution (or, with ``--keep-going``, any assertion) fails.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import tempfile
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

_RECORDER = """
_failed_assertions = []
def _check_assertion(passed, source, message=None):
    if not passed:
        _failed_assertions.append(source)
        print(f"FAILED ASSERTION: {source}" + (f" ({message})" if message else ""))
"""


class _SoftAsserts(ast.NodeTransformer):
    """Rewrites ``assert test, message`` as a call that records a failure and goes on."""

    def __init__(self, source: str) -> None:
        self.source = source

    def visit_Assert(self, node: ast.Assert) -> ast.Expr:  # noqa: N802 (ast's naming)
        text = ast.get_source_segment(self.source, node) or ast.unparse(node)
        call = ast.Call(
            func=ast.Name("_check_assertion", ast.Load()),
            args=[node.test, ast.Constant(" ".join(text.split())), node.msg or ast.Constant(None)],
            keywords=[],
        )
        return ast.copy_location(ast.Expr(call), node)


def soften(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with every assertion recorded instead of raised."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # IPython syntax: leave the cell as it is
            continue
        tree = ast.fix_missing_locations(_SoftAsserts(cell.source).visit(tree))
        cell.source = ast.unparse(tree)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(_RECORDER))
    return notebook


def failures(notebook: nbformat.NotebookNode) -> list[str]:
    """Failed assertions and errors, in the order the cells printed them."""
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append(f"ERROR {output['ename']}: {output['evalue']}"[:500])
            elif output.get("output_type") == "stream":
                lines = output.get("text", "").splitlines()
                found += [line[:500] for line in lines if line.startswith("FAILED ASSERTION")]
    return found


def execute(path: Path, timeout: int, *, keep_going: bool = False, save: Path | None = None):
    """Execute one chapter; its seconds and what failed (only with ``keep_going``)."""
    notebook = jupytext.read(path)
    if keep_going:
        notebook = soften(notebook)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        iopub_timeout=10,
        allow_errors=keep_going,
    )
    start = time.perf_counter()
    try:
        client.execute()
    finally:
        if save is not None:
            save.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, save / f"{path.stem}.ipynb")
    return time.perf_counter() - start, failures(notebook) if keep_going else []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("chapters", nargs="+", type=Path)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--timeout", type=int, default=300)
    parser.add_argument("--cold", action="store_true", help="use an empty model cache")
    parser.add_argument("--seed-offset", type=int, help="GENOTUTOR_SEED_OFFSET for the kernel")
    parser.add_argument("--threads", type=int, help="GENOTUTOR_THREADS for the kernel")
    parser.add_argument("--keep-going", action="store_true", help="list every failing assert")
    parser.add_argument("--save", type=Path, help="folder for the executed notebooks")
    args = parser.parse_args()
    if args.cold:
        os.environ["GENOTUTOR_CACHE"] = tempfile.mkdtemp(prefix="genotutor-cold-")
    if args.seed_offset is not None:
        os.environ["GENOTUTOR_SEED_OFFSET"] = str(args.seed_offset)
    if args.threads is not None:
        os.environ["GENOTUTOR_THREADS"] = str(args.threads)
    # The chapters' claims-ledger rows go beside the saved notebooks, else to a scratch
    # folder: never over the rows of the last book build.
    ledger = args.save / "ledger" if args.save else Path(tempfile.mkdtemp(prefix="ledger-"))
    os.environ.setdefault("GENOTUTOR_LEDGER_DIR", str(ledger))
    failed = 0
    for chapter in args.chapters:
        for run in range(1, args.repeat + 1):
            try:
                seconds, problems = execute(
                    chapter.resolve(), args.timeout, keep_going=args.keep_going, save=args.save
                )
                print(f"{chapter.name}\trun {run}\t{seconds:7.1f} s", flush=True)
                for problem in problems:
                    print(f"    {problem}", flush=True)
                failed += bool(problems)
            except Exception as error:  # report and go on: the summary counts failures
                failed += 1
                print(f"{chapter.name}\trun {run}\tFAILED: {type(error).__name__}: {error}"[:2000])
    print(f"{failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
