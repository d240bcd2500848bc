from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from genotutor import plotting


def test_to_logo_frame_layout(one_hot_batch):
    frame = plotting.to_logo_frame(one_hot_batch[0], start=10)
    assert list(frame.columns) == ["A", "C", "G", "T"]
    assert frame.shape == (50, 4) and frame.index[0] == 10
    assert np.array_equal(frame.to_numpy(), one_hot_batch[0].numpy().T)
    assert plotting.to_logo_frame(one_hot_batch[:1]).shape == (50, 4)


def test_to_logo_frame_refuses_a_batch(one_hot_batch):
    with pytest.raises(ValueError, match=r"\(4, L\)"):
        plotting.to_logo_frame(one_hot_batch)


def test_logo_draws_letters_and_truth(one_hot_batch):
    truth = torch.zeros(50, dtype=torch.bool)
    truth[5:12] = True
    drawn = plotting.logo(one_hot_batch[0], truth=truth, title="t")
    ax = drawn.ax
    assert len(ax.patches) >= 1  # the shaded truth span
    assert len(drawn.glyph_df.stack().dropna()) >= 50
    plt.close("all")


def test_pipeline_draws_one_box_per_stage_and_one_label_per_arrow():
    import matplotlib

    matplotlib.use("Agg")
    from genotutor.plotting import pipeline

    ax = pipeline(["a", "b", "c"], links=["x", "y"], title="t")
    texts = [t.get_text() for t in ax.texts]
    assert [t for t in texts if t] == ["a", "b", "x", "c", "y"]  # boxes and arrow labels
    assert texts.count("") == 2  # one arrow (an empty annotation) between each pair
    for bad, message in (([], "stages must be"), (["a", 1], "stages must be")):
        with pytest.raises(ValueError, match=message):
            pipeline(bad)
    with pytest.raises(ValueError, match="links must be 1 strings"):
        pipeline(["a", "b"], links=["x", "y"])
