"""The chapter-6 explorer: its tracks against the model, its JavaScript against genotutor.priors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from node_oracle import run_module

from genotutor import priors
from genotutor.attribution import attribution_tracks
from genotutor.models import DeepBind
from genotutor.widgets import PriorExplorer
from genotutor.widgets._view import unpack

# Every step of the prior for each case, in the browser's code.
_STEPS = """
const m = mod.priorMath;
const out = input.map(({ track, cutoff, softness, sigma }) => ({
  kernel: Array.from(m.gaussianKernel(sigma)),
  weights: Array.from(m.frequencyWeights(Math.floor(track.length / 2), cutoff, softness)),
  smoothed: Array.from(m.smoothTrack(track, sigma)),
  spectrum: Array.from(m.spectrum(track, sigma)),
  penalty: m.fourierPenalty(track, cutoff, softness, sigma),
  mass: m.highFrequencyMass(track, cutoff, 0),
  massSmoothed: m.highFrequencyMass(track, cutoff, sigma),
}));
console.log(JSON.stringify(out));
"""


def _python_steps(track: np.ndarray, cutoff: int, softness: float | None, sigma: float) -> dict:
    row = torch.from_numpy(track)[None]
    return {
        "kernel": priors.gaussian_kernel(sigma),
        "weights": priors.frequency_weights(
            len(track) // 2, freq_limit=cutoff, limit_softness=softness
        ),
        "smoothed": priors.smooth_track(row, smooth_sigma=sigma)[0],
        "spectrum": priors.spectrum(row, smooth_sigma=sigma)[0],
        "penalty": priors.fourier_penalty(
            row, freq_limit=cutoff, limit_softness=softness, smooth_sigma=sigma
        )[0],
        "mass": priors.high_frequency_mass(row, freq_limit=cutoff)[0],
        "massSmoothed": priors.high_frequency_mass(row, freq_limit=cutoff, smooth_sigma=sigma)[0],
    }


def _cases() -> list[dict]:
    rng = np.random.default_rng(0)
    settings = [(0.2, 3), (0.0, 0), (1.5, 1), (None, 2.5), (0.7, 8)]  # (softness, sigma)
    cases = []
    for length in (2, 3, 17, 50, 200, 1001):
        tracks = [
            np.abs(rng.normal(size=length)),  # noise
            np.exp(-0.5 * ((np.arange(length) - length / 2) / 4.0) ** 2),  # one bump
            rng.exponential(size=length) * (rng.random(length) < 0.1),  # sparse spikes
        ]
        half = length // 2
        for t, track in enumerate(tracks):
            for c, cutoff in enumerate(sorted({1, max(1, half // 3), half})):
                for softness, sigma in settings[t + c :: 2]:  # a few of the settings each
                    cases.append(
                        {"track": track, "cutoff": cutoff, "softness": softness, "sigma": sigma}
                    )
    # rows without a non-constant part: the zero sum and the constant track
    for track in (np.zeros(40), np.full(40, 0.3)):
        cases.append({"track": track, "cutoff": 5, "softness": 0.2, "sigma": 3})
    return cases


def test_the_browser_computes_each_step_as_genotutor_priors():
    """Oracle: the view's JavaScript (run by Node.js) against the library, on random tracks."""
    cases = _cases()
    inputs = [{**case, "track": case["track"].tolist()} for case in cases]
    results = run_module("priors", _STEPS, inputs)
    assert len(results) == len(cases)
    for case, got in zip(cases, results, strict=True):
        expected = _python_steps(case["track"], case["cutoff"], case["softness"], case["sigma"])
        for key, value in expected.items():
            np.testing.assert_allclose(
                np.asarray(got[key], dtype=float),
                np.asarray(value, dtype=float),
                rtol=1e-5,
                atol=1e-9,
                err_msg=f"{key} for L={len(case['track'])}, "
                f"{ {k: v for k, v in case.items() if k != 'track'} }",
            )


def test_the_browser_refuses_a_cutoff_past_half_the_length():
    script = """
const errors = [];
for (const cutoff of [0, 26, 2.5]) {
  try { mod.priorMath.fourierPenalty(input, cutoff, 0.2, 3); errors.push(null); }
  catch (error) { errors.push(error.message); }
}
console.log(JSON.stringify(errors));
"""
    errors = run_module("priors", script, [1.0] * 50)
    assert all(
        e is not None and "freq_limit must be an integer in [1, L // 2 = 25]" in e for e in errors
    )


# --------------------------------------------------------------------------- explorer
def _models() -> dict:
    torch.manual_seed(0)
    return {"a": DeepBind(filter_width=7).eval(), "b": DeepBind(filter_width=5).eval()}


def _explorer(one_hot_batch):
    truth = torch.zeros(one_hot_batch.shape[0], one_hot_batch.shape[-1], dtype=torch.bool)
    truth[:, 10:20] = True
    tracks = attribution_tracks(_models(), one_hot_batch, progress=False)
    return PriorExplorer(tracks, truth=truth, freq_limit=10)


def test_each_control_moves_the_view(one_hot_batch):
    explorer = _explorer(one_hot_batch)
    seen = {tuple(explorer.numbers().values())}
    for control, value in [("sequence", 3), ("cutoff", 4), ("softness", 1.5), ("sigma", 0)]:
        getattr(explorer, control).value = value
        assert getattr(explorer.view, control) == value
        seen.add(tuple(explorer.numbers().values()))
    assert len(seen) == 5


def test_the_tracks_in_the_table_match_the_model(one_hot_batch):
    """Brute force: each sequence's track computed alone, as the prior computes it."""
    explorer = _explorer(one_hot_batch)
    table = unpack(explorer.view.data["tracks"])
    assert table.shape == (2, *one_hot_batch.shape[::2])
    assert explorer.view.data["names"] == ["a", "b"]
    for m, name in enumerate(["a", "b"]):
        for i in (0, 5):
            alone = priors.attribution_track(_models()[name], one_hot_batch[i : i + 1])
            assert torch.allclose(torch.from_numpy(table[m, i].copy()), alone[0], atol=1e-6)
    truth = unpack(explorer.view.data["truth"])
    assert truth.dtype == np.uint8 and truth[:, 10:20].all() and truth.sum() == 10 * len(truth)


def test_the_numbers_shown_are_the_penalty_and_the_mass(one_hot_batch):
    explorer = _explorer(one_hot_batch)
    explorer.sequence.value, explorer.cutoff.value, explorer.softness.value = 2, 6, 0.5
    track = priors.attribution_track(_models()["a"], one_hot_batch[2:3]).double()
    penalty, mass = explorer.numbers()["a"]
    expected = priors.fourier_penalty(track, freq_limit=6, limit_softness=0.5, smooth_sigma=3.0)
    assert abs(penalty - expected.item()) < 1e-6
    assert abs(mass - priors.high_frequency_mass(track, freq_limit=6).item()) < 1e-6


def test_the_browser_shows_the_numbers_of_the_python_side(one_hot_batch):
    """The view's state decoded and computed on by its JavaScript, against numbers()."""
    explorer = _explorer(one_hot_batch)
    explorer.sequence.value, explorer.cutoff.value = 4, 7
    explorer.softness.value, explorer.sigma.value = 0.35, 2
    view = explorer.view
    script = """
const tracks = mod.decode(input.data.tracks);
const out = input.data.names.map((_, i) => {
  const track = Float64Array.from(mod.row(tracks, i, input.sequence));
  return [mod.priorMath.fourierPenalty(track, input.cutoff, input.softness, input.sigma),
          mod.priorMath.highFrequencyMass(track, input.cutoff, 0)];
});
console.log(JSON.stringify(out));
"""
    state = {
        "data": view.data,
        **{k: getattr(view, k) for k in ("sequence", "cutoff", "softness", "sigma")},
    }
    shown = run_module("priors", script, state, exports="decode, row")
    assert np.allclose(shown, list(explorer.numbers().values()), rtol=1e-5, atol=1e-9)


def test_the_view_state_keeps_its_keys(one_hot_batch):
    view = _explorer(one_hot_batch).view
    assert set(view.data) == {"names", "tracks", "truth"}
    assert {"sequence", "cutoff", "softness", "sigma"} <= set(view.trait_names())


@pytest.mark.parametrize(
    ("tracks", "options", "error", "message"),
    [
        ({}, {}, TypeError, "tracks must be a non-empty dict"),
        ({"a": "track"}, {}, TypeError, r"tracks\['a'\] must be a float tensor"),
        ({"a": torch.zeros(8, 50), "b": torch.zeros(8, 49)}, {}, ValueError, r"tracks\['b'\]"),
        (None, {"truth": torch.zeros(8, 49, dtype=torch.bool)}, ValueError, "truth must have"),
        (None, {"truth": torch.zeros(8, 50)}, TypeError, "truth must be a bool tensor"),
        (None, {"freq_limit": 0}, ValueError, "freq_limit must be >= 1"),
        (None, {"limit_softness": -1}, ValueError, "limit_softness"),
        (None, {"smooth_sigma": 1.5}, TypeError, "smooth_sigma"),
    ],
)
def test_bad_options_are_refused_by_name(tracks, options, error, message):
    tracks = {"a": torch.zeros(8, 50)} if tracks is None else tracks
    with pytest.raises(error, match=message):
        PriorExplorer(tracks, **options)
