"""`make lab`: JupyterLab opens a chapter as a notebook on a double-click, explorers live.

Starts the server as the Makefile's `lab` target does (its settings folder, the book as
the root), with no browser, and asks it what a double-click would do.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TOKEN = "genotutor-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_makefile_starts_lab_with_the_repositorys_settings():
    makefile = (REPO / "Makefile").read_text()
    recipe = re.search(r"^lab:.*\n\t(.+)$", makefile, flags=re.M).group(1)
    assert "--notebook-dir=book" in recipe
    assert "--LabApp.app_settings_dir=$(CURDIR)/jupyter" in recipe
    assert "--allow-root" in makefile  # as root (containers), JupyterLab refuses to start


@pytest.fixture(scope="module")
def lab():
    pytest.importorskip("jupyterlab")
    port = _free_port()
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
        "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}",
        "--notebook-dir=book", f"--LabApp.app_settings_dir={REPO / 'jupyter'}",
    ]  # fmt: skip
    if os.geteuid() == 0:  # CI and containers run as root; JupyterLab refuses it otherwise
        command.append("--allow-root")
    server = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start within 60 s")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def _get(url: str) -> dict:
    sep = "&" if "?" in url else "?"
    with urllib.request.urlopen(f"{url}{sep}token={TOKEN}", timeout=30) as response:
        return json.load(response)


def test_a_double_click_opens_a_chapter_as_a_notebook(lab):
    settings = _get(f"{lab}/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
    # The server applies overrides.json to the schema's defaults; a reader's own settings
    # ("settings") would still win over them.
    viewers = settings["schema"]["properties"]["defaultViewers"]["default"]
    assert viewers.get("markdown") == "Jupytext Notebook"
    assert viewers.get("myst") == "Jupytext Notebook"


def test_the_server_reads_a_chapter_as_a_notebook_with_code_cells(lab):
    chapter = _get(f"{lab}/api/contents/01_sequence_to_function.md?type=notebook&content=1")
    assert chapter["type"] == "notebook"
    kinds = {cell["cell_type"] for cell in chapter["content"]["cells"]}
    assert {"code", "markdown"} <= kinds


def test_the_explorers_front_ends_are_installed(lab):
    """The widget manager and anywidget's front end are there, so explorers are live."""
    page = urllib.request.urlopen(f"{lab}/lab?token={TOKEN}", timeout=30).read().decode()
    federated = json.loads(re.search(r'"federated_extensions":\s*(\[.*?\])', page).group(1))
    names = {extension["name"] for extension in federated}
    assert {"anywidget", "@jupyter-widgets/jupyterlab-manager", "jupyterlab-jupytext"} <= names
