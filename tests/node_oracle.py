"""Run an explorer's JavaScript under Node.js, so tests can check it against Python."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from genotutor.widgets._view import esm


def run_module(name: str, script: str, inputs: object, *, exports: str = "") -> object:
    """Run ``script`` (an ES module body) under ``node`` and return the JSON it prints.

    The script sees ``mod``, the explorer's module as the page gets it (``esm(name)``:
    ``js/<name>.js`` with the helpers it imports from ``js/plot.js`` bundled in), with
    ``export { <exports> }`` appended for those of ``exports`` (top-level names: its own,
    or helpers it imports) that it does not export itself; and ``input``, the JSON of
    ``inputs``. It must end by printing one JSON value. The calling test is skipped where
    ``node`` is not installed.
    """
    node = shutil.which("node")
    if node is None:
        pytest.skip("needs Node.js (node) to run the explorer's JavaScript")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        module = esm(name)
        wanted = [e.strip() for e in exports.split(",") if e.strip()]
        extra = [e for e in wanted if e not in _exported(module)]
        module += f"\nexport {{ {', '.join(extra)} }};\n" if extra else ""
        (root / "module.mjs").write_text(module)
        (root / "input.json").write_text(json.dumps(inputs))
        driver = (
            'import { readFileSync } from "node:fs";\n'
            'import * as mod from "./module.mjs";\n'
            'const input = JSON.parse(readFileSync("./input.json", "utf8"));\n' + script
        )
        (root / "driver.mjs").write_text(driver)
        done = subprocess.run(
            [node, "driver.mjs"], cwd=root, capture_output=True, text=True, timeout=120
        )
    if done.returncode != 0:
        raise AssertionError(f"node failed:\n{done.stderr}")
    return json.loads(done.stdout)


def _exported(module: str) -> set[str]:
    """The names an ES module exports by ``export function|const|... NAME`` or
    ``export { a, b as c }`` (not re-exports, which a bundle from esm() cannot hold)."""
    names = set(re.findall(r"^export\s+(?:async\s+)?(?:function\*?|const|let|var|class)\s+([\w$]+)",
                           module, re.MULTILINE))  # fmt: skip
    for group in re.findall(r"^export\s*\{([^}]*)\}", module, re.MULTILINE):
        names |= {spec.split(" as ")[-1].strip() for spec in group.split(",") if spec.strip()}
    return names
