"""The teachers: the synthetic CNN and the genome 5' splice-site model."""

from __future__ import annotations

import pytest
import torch

from genotutor.evaluation import auroc
from genotutor.splicing import genome_5ss
from genotutor.studies.splicing_teachers import (
    SpliceSiteNet,
    genome_decoys,
    genome_splice_model,
    splicing_teacher,
)
from genotutor.training import predict


@pytest.fixture(autouse=True)
def one_thread():
    """Small models train faster on one thread (and far faster on a busy machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_decoys_have_the_genome_form_and_c_share():
    decoys = genome_decoys(4000, seed=0)
    assert decoys.shape == (4000, 4, 9)
    assert bool((decoys[:, 2, 3] == 1).all())  # G at +1
    assert bool((decoys[:, 1, 4] + decoys[:, 3, 4] == 1).all())  # C or T at +2
    table = genome_5ss()
    share = table.loc[table["sequence"].str[4] == "C", "count"].sum() / table["count"].sum()
    assert float(decoys[:, 1, 4].mean()) == pytest.approx(share, abs=0.01)


def test_genome_model_tells_sites_from_decoys_and_is_cached():
    first = genome_splice_model(n_sites=2000, epochs=3, progress=False)
    x, y = first.valid
    assert auroc(y, predict(first.model, x)[:, 0]) > 0.85
    again = genome_splice_model(n_sites=2000, epochs=3, progress=False)
    assert again.from_cache and not first.from_cache
    with pytest.raises(ValueError, match="length 9"):
        SpliceSiteNet()(torch.zeros(2, 4, 10))


def test_synthetic_teacher_learns_the_reference_labels():
    teacher = splicing_teacher(n=400, epochs=3, progress=False)
    pred = predict(teacher.model, teacher.test.x)[:, 0]
    r = torch.corrcoef(torch.stack([pred, teacher.test.label]))[0, 1]
    assert r > 0.5
    assert len(teacher.train) + len(teacher.valid) + len(teacher.test) == 400


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: splicing_teacher(kind="genome"), "kind must be one of"),
        (lambda: splicing_teacher(n=10), "n must be >= 50"),
        (lambda: genome_decoys(0), "n must be >= 1"),
        (lambda: genome_splice_model(n_sites=5), "n_sites must be >= 20"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
