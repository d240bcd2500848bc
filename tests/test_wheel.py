"""Packaging. The wheel is complete: built from the repository and installed elsewhere,
genotutor finds its shipped data (MPSA, the JASPAR table, the HBB gene) without the
repository. The ``test`` extra holds every oracle the tests would otherwise skip without."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# What the build reads: the package, its data folder and the project's metadata.
BUILD_INPUTS = ("pyproject.toml", "README.md", "genotutor", "data")
DATA_FILES = ("README.md", "hbb_KU350152.1.txt", "jaspar_subset.tsv", "mpsa_data.csv.gz")

PROBE = """
import json
import genotutor
from genotutor import datasets
from genotutor.motifs import jaspar_motifs
from genotutor.studies.spliceai_hbb import hbb_gene

print(json.dumps({
    "package": genotutor.__file__,
    "data": str(datasets.data_dir()),
    "mpsa": len(datasets.load_mpsa()),
    "motifs": sorted(jaspar_motifs()),
    "hbb": len(hbb_gene()),
}))
"""


def _run(*args: object, cwd: Path | None = None, env: dict | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the repository's build inputs (so that the build
    leaves no build/ or egg-info folder in the checkout)."""
    source = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in BUILD_INPUTS:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=ignore)
        else:
            shutil.copy(REPO / name, source / name)
    out = tmp_path_factory.mktemp("wheels")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", out, source)  # fmt: skip
    (built,) = out.glob("genotutor-*.whl")
    return built


def test_wheel_holds_every_module_and_the_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    package = REPO / "genotutor"
    modules = {p.relative_to(REPO).as_posix() for p in package.rglob("*.py")}
    modules |= {p.relative_to(REPO).as_posix() for p in package.rglob("widgets/js/*.js")}
    assert modules - names == set()
    assert {f"genotutor/data/{name}" for name in DATA_FILES} - names == set()


def test_installed_wheel_reads_its_own_data(wheel, tmp_path):
    target = tmp_path / "site"
    _run(sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", target, wheel)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "GENOTUTOR_DATA"}
    env["PYTHONPATH"] = str(target)  # numpy, pandas, torch still come from site-packages
    found = json.loads(_run(sys.executable, "-c", PROBE, cwd=elsewhere, env=env))
    # the installed copy was imported, not the checkout (nor an editable install of it)
    assert Path(found["package"]).is_relative_to(target)
    assert Path(found["data"]) == target / "genotutor" / "data"
    assert found["mpsa"] == 30483
    assert len(found["motifs"]) == 22 and "CTCF" in found["motifs"]
    assert found["hbb"] == 2031


def _names(requirements: list[str]) -> set[str]:
    return {
        re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements
    }


def test_test_extra_holds_every_oracle_the_tests_skip_without():
    """``pip install .[test]`` must run every oracle test, not skip it. (SpliceAI's weights,
    which pull in TensorFlow, are installed apart: see the ``spliceai`` extra.)"""
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    offered = _names(project["dependencies"]) | _names(project["optional-dependencies"]["test"])
    skipped = set()
    for path in (REPO / "tests").glob("test_*.py"):
        skipped |= set(re.findall(r"importorskip\(\s*[\"']([\w.]+)[\"']", path.read_text()))
    skipped = {m for m in skipped if m.split(".")[0] not in sys.stdlib_module_names}
    assert "tangermeme" in skipped  # the scan works
    distributions = importlib.metadata.packages_distributions()
    for module in sorted(skipped):
        found = _names(distributions.get(module.split(".")[0], []))
        if not found:
            pytest.skip(f"{module} is not installed, so its distribution is unknown here")
        assert found & offered, f"{module} (from {sorted(found)}) is not in the test extra"
