"""Exercise hygiene: every exercise in the book has exactly one solution, and solution
code is executed by the build (code cells in gated solutions), never a dead code block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parent.parent / "book"
CHAPTERS = sorted(p for p in BOOK.glob("*.md") if p.name[0].isdigit())
EXERCISE = re.compile(r"```+\{exercise\}[^\n]*\n:label:\s*(\S+)")
SOLUTION = re.compile(r"```+\{solution(?:-start)?\}\s+(\S+)")
GATED = re.compile(r"```\{solution-start\}.*?```\{solution-end\}", re.S)
SIMPLE = re.compile(r"(`{3,})\{solution\}.*?\n\1\s*\n", re.S)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_exercise_has_one_solution(chapter):
    text = chapter.read_text()
    exercises = EXERCISE.findall(text)
    solutions = SOLUTION.findall(text)
    assert exercises, f"{chapter.name} has no exercise"
    assert sorted(exercises) == sorted(solutions), (exercises, solutions)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_solution_code_runs_in_the_build(chapter):
    text = chapter.read_text()
    blocks = [m.group(0) for m in SIMPLE.finditer(text)] + GATED.findall(text)
    for body in blocks:
        assert "```python" not in body, f"{chapter.name}: solution code in a non-executed block"


def test_the_checker_sees_dead_solution_code():
    dead = "````{solution} ex\n:class: dropdown\n\n```python\nx = 1\n```\n````\n"
    assert any("```python" in m.group(0) for m in SIMPLE.finditer(dead.replace("\\n", "\n")))
