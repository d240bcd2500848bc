"""Run an explorer's JavaScript under Node.js, so tests can check it against Python."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from genotutor.widgets._view import esm


def run_module(name: str, script: str, inputs: object, *, exports: str = "") -> object:
    """Run ``script`` (an ES module body) under ``node`` and return the JSON it prints.

    The script sees ``mod``, the explorer's module (``esm(name)``, the drawing helpers then
    ``js/<name>.js``, with ``export { <exports> }`` appended for top-level names it does
    not export itself), and ``input``, the JSON of ``inputs``; it must end by printing one
    JSON value. The calling test is skipped where ``node`` is not installed.
    """
    node = shutil.which("node")
    if node is None:
        pytest.skip("needs Node.js (node) to run the explorer's JavaScript")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        module = esm(name) + (f"\nexport {{ {exports} }};\n" if exports else "")
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
