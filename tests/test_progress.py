"""One progress default: a bar on stderr with progress=True (the default), none with
progress=False, and a clear error for a value that is not a bool."""

from __future__ import annotations

import pytest
import torch

from genotutor.models import DeepBind
from genotutor.progress import progress_bar
from genotutor.sequences import random_sequences
from genotutor.surrogate import fit_surrogate
from genotutor.training import fit


def _fit(**options):
    torch.manual_seed(0)
    x = random_sequences(16, 30, seed=0)
    y = (torch.arange(16) % 2).float()[:, None]
    return fit(DeepBind(n_filters=2, filter_width=5, hidden=2), (x, y), epochs=2, **options)


def _surrogate(**options):
    x = random_sequences(40, 12, seed=1)
    return fit_surrogate(x, x[:, 0].sum(dim=1), epochs=2, **options)


@pytest.mark.parametrize(("run", "label"), [(_fit, "training"), (_surrogate, "surrogate")])
def test_bar_by_default_and_silent_on_request(run, label, capsys):
    run()
    assert label in capsys.readouterr().err
    run(progress=False)
    assert label not in capsys.readouterr().err


@pytest.mark.parametrize("run", [_fit, _surrogate])
def test_progress_must_be_a_bool(run):
    with pytest.raises(TypeError, match="progress must be True or False; found str 'yes'"):
        run(progress="yes")


def test_progress_bar_passes_items_through():
    assert list(progress_bar(range(3), desc="x", progress=False)) == [0, 1, 2]
