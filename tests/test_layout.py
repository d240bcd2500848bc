"""The package's shape: the library apart from the book's studies, small modules, and a
top-level API whose every name says which chapter teaches it."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import genotutor

PACKAGE = Path(genotutor.__file__).resolve().parent
MAX_LINES = 420  # "split a module when it passes ~400 lines"
# modules allowed more room, with the reason their docstring gives
LONGER = {"attribution/_ism_graph.py": 650}  # tracing and the op rules: one concept


def _modules():
    return sorted(PACKAGE.rglob("*.py"))


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_library_never_imports_the_studies():
    offenders = []
    for path in _modules():
        part = path.relative_to(PACKAGE).parts[0]
        if part in ("studies", "widgets"):
            continue
        if any(name.startswith("genotutor.studies") for name in _imported(path)):
            offenders.append(str(path.relative_to(PACKAGE)))
    assert not offenders, f"library modules importing genotutor.studies: {offenders}"


def test_no_module_is_over_the_size_limit():
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text().splitlines()) for p in _modules()}
    assert max(sizes.values()) > 100  # the scan reads real files
    too_long = {name: n for name, n in sizes.items() if n > LONGER.get(name, MAX_LINES)}
    assert not too_long, f"split these modules: {too_long}"


def test_top_level_names_resolve_and_name_their_chapter():
    assert "attribute" in genotutor.__all__ and "one_hot" in genotutor.__all__
    unnamed = []
    for name in genotutor.__all__:
        value = getattr(genotutor, name)  # raises if a listed name is missing
        if inspect.isfunction(value) or inspect.isclass(value):
            doc = inspect.getdoc(value) or ""
            module_doc = inspect.getdoc(inspect.getmodule(value)) or ""
            if not re.search(r"[Tt]aught in chapter \d", doc + module_doc):
                unnamed.append(name)
    assert not unnamed, f"no chapter named in the docstrings of {unnamed}"


def test_distillation_is_a_plain_package_and_distill_its_function():
    import types

    import genotutor.distillation.core as core

    assert type(genotutor.distillation) is types.ModuleType  # no callable-module trick
    assert genotutor.distill is core.distill is genotutor.distillation.distill
