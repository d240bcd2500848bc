"""The motif explorer: a view over TF-MoDISco patterns, their matches and instances that
computes nothing; its tables are checked against what it was given, and its logo lookup
is run in the browser's code."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from node_oracle import run_module

from genotutor.interpret.modisco import Pattern
from genotutor.sequences import random_sequences
from genotutor.widgets import MotifExplorer
from genotutor.widgets._view import unpack


def _pattern(name: str, width: int, seed: int) -> Pattern:
    rng = np.random.default_rng(seed)
    cwm = rng.normal(size=(4, width))
    pwm = rng.dirichlet(np.ones(4), size=width).T
    seqlets = pd.DataFrame({"sequence": [0, 1], "start": [3, 5], "end": [3 + width, 5 + width],
                            "strand": ["+", "-"]})  # fmt: skip
    return Pattern(name, cwm, cwm, pwm, seqlets)


@pytest.fixture
def inputs():
    patterns = [_pattern("pos_0", 8, 0), _pattern("pos_1", 5, 1)]
    matches = pd.DataFrame({
        "query": ["pos_0", "pos_0", "pos_1"], "target_id": ["MA1", "MA2", "MA3"],
        "target_name": ["A", "B", "C"], "p_value": [1e-9, 1e-5, 1e-3],
        "q_value": [1e-7, 1e-3, 0.5]})  # fmt: skip
    x = random_sequences(3, 30, seed=2)
    contributions = torch.randn(3, 4, 30, generator=torch.Generator().manual_seed(0)) * x
    instances = pd.DataFrame({"motif": ["pos_0", "pos_1", "pos_0"], "sequence": [0, 0, 2],
                              "start": [2, 20, 7], "end": [10, 25, 15],
                              "strand": ["+", "-", "+"]})  # fmt: skip
    return patterns, matches, contributions, x, instances


def test_the_tables_are_what_it_was_given(inputs):
    patterns, matches, contributions, x, instances = inputs
    explorer = MotifExplorer(*inputs, labels=["a", "b", "c"])
    data = explorer.view.data
    cwms = unpack(data["cwms"])
    assert cwms.shape == (2, 4, 8)
    np.testing.assert_allclose(cwms[1, :, :5], patterns[1].cwm, rtol=1e-6)
    assert (cwms[1, :, 5:] == 0).all()
    assert list(unpack(data["widths"])) == [8, 5]
    np.testing.assert_allclose(unpack(data["contributions"]), contributions.sum(dim=1), rtol=1e-6)
    assert (unpack(data["bases"]) == x.argmax(dim=1).numpy()).all()
    hits = unpack(data["hits"])
    assert hits.tolist() == [[0, 2, 10, 0], [0, 20, 25, 1], [2, 7, 15, 0]]
    assert data["matches"][0].startswith("A (MA1, q = 1.0e-07); B (MA2")
    assert data["labels"] == ["a", "b", "c"]


def test_controls_drive_the_view(inputs):
    explorer = MotifExplorer(*inputs)
    pattern, sequence = explorer.controls
    assert list(pattern.options) == ["pos_0", "pos_1"] and (sequence.min, sequence.max) == (0, 2)
    pattern.value, sequence.value = "pos_1", 2
    assert (explorer.view.pattern, explorer.view.sequence) == (1, 2)


def test_bad_inputs_are_refused_by_name(inputs):
    patterns, matches, contributions, x, instances = inputs
    with pytest.raises(TypeError, match="patterns must be a non-empty list"):
        MotifExplorer([], matches, contributions, x, instances)
    with pytest.raises(ValueError, match="matches must be a DataFrame"):
        MotifExplorer(patterns, matches.drop(columns="q_value"), contributions, x, instances)
    with pytest.raises(ValueError, match="instances must be a DataFrame"):
        MotifExplorer(patterns, matches, contributions, x, instances.drop(columns="end"))
    with pytest.raises(ValueError, match="contributions must have the shape of x"):
        MotifExplorer(patterns, matches, contributions[:2], x, instances)
    with pytest.raises(ValueError, match="labels must be 3 strings"):
        MotifExplorer(*inputs, labels=["a"])


def test_the_browser_unpads_each_cwm(inputs):
    """The view's logo lookup, run by Node.js, gives back each pattern's own CWM."""
    patterns = inputs[0]
    data = MotifExplorer(*inputs).view.data
    script = """
const out = [0, 1].map((k) => {
  const l = mod.patternLogo(input, k);
  return [l.width, Array.from(l.values)];
});
console.log(JSON.stringify(out));
"""
    found = run_module("motifs", script, data, exports="patternLogo")
    for (width, values), pattern in zip(found, patterns):
        assert width == pattern.width
        np.testing.assert_allclose(np.array(values).reshape(4, width), pattern.cwm, rtol=1e-6)
