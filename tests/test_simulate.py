from __future__ import annotations

import numpy as np
import pytest
import torch

from genotutor import simulate
from genotutor.motifs import get_motif
from genotutor.sequences import decode


@pytest.fixture(scope="module")
def task():
    return simulate.planted_motif_task(300, 150, seed=5)


def test_masks_match_planted_driver_sites(task):
    expected = torch.zeros_like(task.mask)
    for row in task.sites.itertuples():
        if row.role == "driver":
            expected[row.sequence, row.start : row.end] = True
    assert torch.equal(task.mask, expected)


def test_labels_follow_the_planted_rule(task):
    has_driver = np.zeros(len(task), dtype=bool)
    has_driver[task.sites.loc[task.sites.role == "driver", "sequence"].to_numpy()] = True
    assert np.array_equal(task.y[:, 0].numpy() == 1, has_driver)
    assert not task.mask[task.y[:, 0] == 0].any()


def test_planted_sites_are_motif_instances(task):
    """Every planted site scores far above background under its own motif's PWM."""
    text = decode(task.x)
    pairs = str.maketrans("ACGT", "TGCA")
    for row in task.sites.head(60).itertuples():
        motif = get_motif(row.motif)
        site = text[row.sequence][row.start : row.end]
        if row.strand == "-":
            site = site.translate(pairs)[::-1]
        log_odds = sum(np.log(motif.probs["ACGT".index(b), j] / 0.25) for j, b in enumerate(site))
        assert log_odds > 0


def test_sites_do_not_overlap(task):
    for _, rows in task.sites.groupby("sequence"):
        rows = rows.sort_values("start")
        assert (rows["start"].to_numpy()[1:] >= rows["end"].to_numpy()[:-1]).all()


def test_same_seed_same_task():
    a = simulate.planted_motif_task(50, 120, seed=9)
    b = simulate.planted_motif_task(50, 120, seed=9)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y) and a.sites.equals(b.sites)


def test_split_partitions_and_renumbers(task):
    train, valid, test = task.split(valid=0.2, test=0.1, seed=0)
    assert len(train) + len(valid) + len(test) == len(task)
    for part in (train, valid, test):
        for row in part.sites.itertuples():
            if row.role == "driver":
                assert part.mask[row.sequence, row.start : row.end].all()


def test_subset_takes_a_mask_or_repeated_rows_with_their_sites(task):
    """A boolean mask selects rows (never rows 0 and 1); a repeated row brings its sites
    twice, each renumbered to its new place."""
    mask = task.y[:, 0] == 1
    positives = task.subset(mask)
    assert len(positives) == int(mask.sum()) and bool((positives.y == 1).all())
    first = int(task.sites["sequence"].iloc[0])
    twice = task.subset([first, first])
    own = task.sites[task.sites["sequence"] == first].drop(columns="sequence")
    for new in (0, 1):
        mine = twice.sites[twice.sites["sequence"] == new].drop(columns="sequence")
        assert mine.reset_index(drop=True).equals(own.reset_index(drop=True))
        assert torch.equal(twice.mask[new], task.mask[first])
    with pytest.raises(ValueError, match="from 0 to"):
        task.subset([-1])


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"drivers": ("NOPE",)}, ["motif must be one of", "NOPE"]),
        ({"decoy_rate": 1.5}, ["decoy_rate", "[0, 1]"]),
        ({"length": 20}, ["too short"]),
        ({"n": 0}, ["n must be >= 1"]),
    ],
)
def test_bad_arguments(kwargs, words):
    args = {"n": 10, "length": 150, **kwargs}
    with pytest.raises(ValueError) as info:
        simulate.planted_motif_task(**args)
    for word in words:
        assert word in str(info.value)


def test_insert_motif_checks_bounds():
    codes = np.zeros(30, dtype=np.int64)
    with pytest.raises(ValueError, match="start must be in"):
        simulate.insert_motif(codes, get_motif("CTCF"), 20, rng=np.random.default_rng(0))
