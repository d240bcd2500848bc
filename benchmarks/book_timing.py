"""Print each chapter's execution time from the last book build, and the total.

    python benchmarks/book_timing.py [book/_build] [--budget SECONDS] [--markdown]

Reads the execution records that myst-nb keeps in the build's Sphinx environment
(``.doctrees/environment.pickle``), so the times are those of the build itself. A
chapter over ``--budget`` (default 150 s) or a total over 720 s is flagged; with
``--strict`` the exit code is then 1. For a cold-cache measurement, build with an empty model cache:
``GENOTUTOR_CACHE=$(mktemp -d) jupyter-book build book``.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

BOOK_BUDGET_S = 720.0


def execution_times(build: Path) -> dict[str, float]:
    """Seconds of notebook execution per document of the build at ``build``."""
    pickle_path = build / ".doctrees" / "environment.pickle"
    if not pickle_path.is_file():
        raise FileNotFoundError(f"no Sphinx environment at {pickle_path}: build the book first")
    with pickle_path.open("rb") as stream:
        env = pickle.load(stream)
    times = {}
    for docname, metadata in sorted(getattr(env, "nb_metadata", {}).items()):
        exec_data = metadata.get("exec_data") or {}
        if "runtime" in exec_data:
            times[docname] = float(exec_data["runtime"])
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build", nargs="?", type=Path, default=Path("book/_build"))
    parser.add_argument("--budget", type=float, default=150.0, help="per-chapter budget (s)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--strict", action="store_true", help="exit 1 when over budget")
    args = parser.parse_args()
    times = execution_times(args.build)
    total = sum(times.values())
    over = [doc for doc, seconds in times.items() if seconds > args.budget]
    if args.markdown:
        print("| chapter | seconds |\n| --- | ---: |")
        for doc, seconds in times.items():
            print(f"| {doc} | {seconds:.1f} |")
        print(f"| **total** | **{total:.1f}** |")
    else:
        for doc, seconds in times.items():
            flag = "  OVER BUDGET" if doc in over else ""
            print(f"{doc:40s} {seconds:7.1f} s{flag}")
        print(f"{'total':40s} {total:7.1f} s (budget {BOOK_BUDGET_S:.0f} s)")
    return 1 if args.strict and (over or total > BOOK_BUDGET_S) else 0


if __name__ == "__main__":
    sys.exit(main())
