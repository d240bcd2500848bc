"""Execute book chapters outside the book build and report each one's time.

    python benchmarks/run_chapter.py book/01_sequence_to_function.md [more.md ...]
        [--repeat N] [--timeout S] [--cold]

Each chapter (a MyST Markdown notebook) is converted with jupytext and executed with
nbclient in a fresh kernel, in the chapter's folder, as the book build does. ``--cold``
points GENOTUTOR_CACHE at an empty folder, so trained models are not reused. ``--repeat``
runs each chapter several times: the widget-stall check runs a widget chapter 20 times
and fails if any run exceeds the timeout. Exit code 1 if any execution fails.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import jupytext
from nbclient import NotebookClient


def execute(path: Path, timeout: int) -> float:
    notebook = jupytext.read(path)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        iopub_timeout=10,
    )
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("chapters", nargs="+", type=Path)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--timeout", type=int, default=300)
    parser.add_argument("--cold", action="store_true", help="use an empty model cache")
    args = parser.parse_args()
    if args.cold:
        os.environ["GENOTUTOR_CACHE"] = tempfile.mkdtemp(prefix="genotutor-cold-")
    failures = 0
    for chapter in args.chapters:
        for run in range(1, args.repeat + 1):
            try:
                seconds = execute(chapter.resolve(), args.timeout)
                print(f"{chapter.name}\trun {run}\t{seconds:7.1f} s", flush=True)
            except Exception as error:  # report and go on: the summary counts failures
                failures += 1
                print(f"{chapter.name}\trun {run}\tFAILED: {type(error).__name__}: {error}"[:2000])
    print(f"{failures} failed", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
