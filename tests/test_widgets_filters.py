"""Tests of the chapter-3 filter explorer: a view over filter_table."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny_models import detector

from genotutor import interpret, motifs
from genotutor.interpret import filter_table
from genotutor.models import DeepBind
from genotutor.motifs import get_motif
from genotutor.sequences import one_hot, random_sequences
from genotutor.widgets import FilterExplorer
from genotutor.widgets._view import unpack

CTCF = get_motif("CTCF")


def _inputs() -> tuple[DeepBind, torch.Tensor, torch.Tensor]:
    x = random_sequences(20, 80, seed=0)
    starts = np.random.default_rng(0).integers(0, 80 - len(CTCF.consensus), size=20)
    truth = torch.zeros(20, 80, dtype=torch.bool)
    for i, start in enumerate(starts.tolist()):
        x[i, :, start : start + len(CTCF.consensus)] = one_hot(CTCF.consensus)[0]
        truth[i, start : start + len(CTCF.consensus)] = True
    return detector([CTCF.consensus, get_motif("SPI1").consensus]), x, truth


def _explorer(n_tracks: int = 100) -> FilterExplorer:
    model, x, truth = _inputs()
    return FilterExplorer(filter_table(model, x, n_tracks=n_tracks, progress=False), x,
                          truth=truth)  # fmt: skip


def test_controls_move_the_view():
    explorer = _explorer()
    assert explorer.best_match()[0] == "CTCF"
    explorer.filter.value = 1
    assert explorer.view.filter == 1 and explorer.best_match()[0] == "SPI1"
    explorer.sequence.value = 5
    assert explorer.view.sequence == 5


def test_the_view_draws_the_table():
    model, x, _ = _inputs()
    explorer = _explorer(n_tracks=8)
    data = explorer.view.data
    assert set(data) == {"pwms", "n_sites", "matches", "tracks", "centre", "truth"}
    pwms = interpret.filters_to_pwms(model, x, progress=False)
    assert (unpack(data["n_sites"]) == pwms.n_sites).all()
    tracks = interpret.filter_activations(model, x[:8], activated=True)  # what is thresholded
    assert np.allclose(unpack(data["tracks"]), tracks.numpy())
    assert unpack(data["truth"]).shape == (8, 80) and explorer.sequence.max == 7
    assert len(explorer.activations) == 8
    # logo heights in bits: each probability times its column's information content
    for heights, probs in zip(unpack(data["pwms"]), pwms.probs, strict=True):
        assert np.allclose(heights, probs * motifs.information_content(probs), atol=1e-5)
    table = interpret.match_filters(pwms, min_sites=0)
    for index, match in enumerate(data["matches"]):
        row = table.loc[index]
        expected = (row["match"], row["strand"], row["offset"])
        assert (match["name"], match["strand"], match["offset"]) == expected
        assert match["score"] == pytest.approx(row["score"])
        probs = get_motif(row["match"]).probs
        probs = probs if row["strand"] == "+" else probs[::-1, ::-1]
        bits = probs * motifs.information_content(probs)
        assert np.allclose(unpack(match["logo"]), bits, atol=1e-5)
    assert data["centre"] == 7  # width 15, no padding: score i is of the window x[i : i + 15]
    assert {"filter", "sequence"} <= set(explorer.view.trait_names())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"truth": "x"}, "truth"),
        ({"truth": torch.zeros(3, 80, dtype=torch.bool)}, "truth"),
        ({"table": "pwms"}, "table must be a FilterTable"),
        ({"x": random_sequences(2, 80, seed=0)}, "x must hold the table's sequences"),
    ],
)
def test_bad_options_are_refused_by_name(options, message):
    model, x, _ = _inputs()
    arguments = {"table": filter_table(model, x, n_tracks=5, progress=False), "x": x, **options}
    with pytest.raises((TypeError, ValueError), match=message):
        FilterExplorer(arguments.pop("table"), arguments.pop("x"), **arguments)
