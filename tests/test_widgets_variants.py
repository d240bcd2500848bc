"""The variant explorer: a view over SpliceAI tracks that computes nothing; its table is
the tracks, its lookup (position and base -> variant) is checked in the browser's code."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from node_oracle import run_module

from genotutor.sequences import ALPHABET
from genotutor.spliceai import SpliceAI
from genotutor.variants import delta_scores, spliceai_tracks
from genotutor.widgets import VariantExplorer
from genotutor.widgets._view import unpack

SEQUENCE = "".join(np.random.default_rng(4).choice(list(ALPHABET), 50))


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(2)
    return SpliceAI(channels=4, kernel_sizes=(3,), dilations=(2,)).eval()


def _grid(start: int, stop: int) -> pd.DataFrame:
    return pd.DataFrame(
        [{"position": p, "ref": SEQUENCE[p], "alt": b}
         for p in range(start, stop) for b in ALPHABET if b != SEQUENCE[p]]
    )  # fmt: skip


def test_grid_tracks_give_a_position_and_a_base(model):
    table = _grid(10, 16)
    tracks = spliceai_tracks(model, SEQUENCE, table, distance=6, progress=False)
    explorer = VariantExplorer(tracks, position_labels=[f"p{i}" for i in range(6)])
    slider, base = explorer.controls
    assert explorer.view.data["position_labels"] == [f"p{i}" for i in range(6)]
    assert (slider.min, slider.max) == (0, 5)
    assert list(base.options) == list(ALPHABET)
    data = explorer.view.data
    np.testing.assert_array_equal(unpack(data["reference"]), tracks.reference[:, 1:])
    np.testing.assert_array_equal(unpack(data["alternative"]), tracks.alternative[:, 1:])
    np.testing.assert_allclose(unpack(data["deltas"])[:, 2], delta_scores(tracks)["donor_gain"],
                               rtol=1e-6)  # fmt: skip
    rows = unpack(data["rows"])
    for i, (position, ref, alt) in enumerate(table[["position", "ref", "alt"]].itertuples(False)):
        assert rows[position - 10, ALPHABET.index(alt)] == i
        assert rows[position - 10, ALPHABET.index(ref)] == -1
    slider.value, base.value = 2, "T"
    assert (explorer.view.position, explorer.view.base) == (2, 3)


def test_other_variants_give_a_list(model):
    table = pd.DataFrame({"position": [5, 20, 30], "ref": [SEQUENCE[5], SEQUENCE[20:23],
                          SEQUENCE[30]], "alt": ["A" if SEQUENCE[5] != "A" else "C",
                          SEQUENCE[20], SEQUENCE[30] + "GG"]})  # fmt: skip
    tracks = spliceai_tracks(model, SEQUENCE, table, distance=4, progress=False)
    explorer = VariantExplorer(tracks, labels=["one", "two", "three"])
    (dropdown,) = explorer.controls
    assert list(dropdown.options) == ["one", "two", "three"]
    dropdown.value = "three"
    assert explorer.view.variant == 2
    assert "rows" not in explorer.view.data


def test_bad_inputs_are_refused_by_name(model):
    tracks = spliceai_tracks(model, SEQUENCE, _grid(3, 5), distance=3, progress=False)
    with pytest.raises(TypeError, match="tracks must come from spliceai_tracks"):
        VariantExplorer({"reference": None})
    with pytest.raises(ValueError, match="labels must be 6 strings"):
        VariantExplorer(tracks, labels=["a"])
    with pytest.raises(ValueError, match="position_labels must be 2 strings"):
        VariantExplorer(tracks, position_labels=["-1", 2])


def test_the_browser_looks_up_the_chosen_variant(model):
    """The view's lookup, run by Node.js: every position and base -> the variant's row
    (or the reference), as the Python table says."""
    table = _grid(20, 24)
    tracks = spliceai_tracks(model, SEQUENCE, table, distance=3, progress=False)
    data = VariantExplorer(tracks).view.data
    script = """
const out = [];
for (let p = 0; p < 4; p++) for (let b = 0; b < 4; b++) {
  const model = { get: (name) => ({ data: input, position: p, base: b, variant: 0 })[name] };
  out.push(mod.chosenVariant(model, input).index);
}
console.log(JSON.stringify(out));
"""
    found = run_module("variants", script, data, exports="chosenVariant")
    expected = unpack(data["rows"]).reshape(-1).tolist()
    assert found == expected
