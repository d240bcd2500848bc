"""SpliceAI as a teacher in a fixed context (chapter 10): the HBB reporter, the cached
teacher, and the exon covariates.

The teacher is checked against an oracle, the plain computation on whole sequences
(``predict_sites``), with a small random SpliceAI-shaped network that needs no package;
one test repeats the check with the real weights when ``spliceai`` is installed.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from genotutor import spliceai, splicing
from genotutor.sequences import one_hot, random_sequences
from genotutor.spliceai import model as sai
from genotutor.spliceai import predict_sites
from genotutor.splicing import Layout, reporter_sequences
from genotutor.studies import spliceai_hbb as study

HAS_SPLICEAI = all(importlib.util.find_spec(n) is not None for n in ("spliceai", "h5py"))


def decode(x: torch.Tensor) -> str:
    """(4, L) one-hot -> string, N for all-zero columns."""
    letters = np.array(list("ACGT"))[x.argmax(dim=0).numpy()]
    letters[(x.sum(dim=0) == 0).numpy()] = "N"
    return "".join(letters)


@pytest.fixture(scope="module")
def small_model() -> sai.SpliceAI:
    """SpliceAI's kernels and dilations with 4 channels and random weights (context 2,500)."""
    torch.manual_seed(0)
    model = sai.SpliceAI(
        channels=4, kernel_sizes=(11, 11, 21, 41), dilations=(1, 4, 10, 25), skip_every=2
    )
    for module in model.modules():  # non-trivial batch-norm statistics
        if isinstance(module, torch.nn.BatchNorm1d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    return model.eval()


def full_sequences(reporter: spliceai.Reporter, inserts: torch.Tensor, region=None) -> torch.Tensor:
    """The whole context with each insert written over ``region`` of the reporter's insert."""
    lo, hi = region or (0, reporter.layout.length)
    x = reporter.context[None].repeat(len(inserts), 1, 1)
    x[..., reporter.start + lo : reporter.start + hi] = inserts
    return x


# ------------------------------------------------------------------ the HBB reporter
def test_hbb_reporter_layout_and_splice_sites():
    reporter = study.hbb_reporter(exon_length=70, flank=25)
    sequence = decode(reporter.context)
    gene = study.hbb_gene()
    assert len(sequence) == 10_000 + len(gene) - 223 + 70
    assert sequence[:5000] == "N" * 5000 and sequence[-5000:] == "N" * 5000
    assert sequence[5000 : reporter.start] == gene[: study.hbb_exon2()[0] - 25]
    layout = reporter.layout
    assert layout.length == 120 and layout.exon_start == 25 and layout.exon_length == 70
    # the acceptor's AG precedes the exon's first base; the donor's GT follows its last
    assert sequence[reporter.acceptor - 2 : reporter.acceptor] == "AG"
    assert sequence[reporter.donor + 1 : reporter.donor + 3] == "GT"
    assert reporter.donor - reporter.acceptor == 69
    assert decode(reporter.insert()[0]) == sequence[reporter.start : reporter.start + 120]


def test_natural_reporter_keeps_hbb_exon_2():
    reporter = study.hbb_reporter(exon_length=None)
    gene = study.hbb_gene()
    sequence = decode(reporter.context)
    assert sequence[5000:-5000] == gene  # HBB unchanged
    exon = sequence[reporter.acceptor : reporter.donor + 1]
    assert len(exon) == 223 and exon == gene[study.hbb_exon2()[0] : study.hbb_exon2()[1]]
    start, stop = reporter.layout.donor
    site = decode(reporter.insert()[0])[start:stop]
    assert site[3:5] == "GT" and site == exon[-3:] + gene[study.hbb_exon2()[1] :][:6]
    assert reporter.digest() != study.hbb_reporter().digest()


@pytest.mark.parametrize(
    "kwargs, match",
    [({"flank": 3}, "flank"), ({"flank": 500}, "flank"), ({"exon_length": 5}, "exon_length")],
)
def test_hbb_reporter_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        study.hbb_reporter(**kwargs)


# ------------------------------------------------------------------ the teacher
def test_teacher_equals_the_full_computation(small_model):
    reporter = study.hbb_reporter()
    inserts = reporter_sequences(5, layout=reporter.layout, seed=3)
    teacher = spliceai.ReporterTeacher(small_model, reporter, batch_size=2)
    sites = teacher.sites(inserts)
    full = predict_sites(
        small_model,
        full_sequences(reporter, inserts),
        [reporter.acceptor, reporter.donor],
        progress=False,
    )
    expected = torch.stack([full[:, 1, 0], full[:, 2, 1]], dim=1)
    assert sites.shape == (5, 2)
    assert torch.allclose(sites, expected, atol=1e-5)
    p = expected.mean(dim=1).clamp(1e-4, 1 - 1e-4)
    assert torch.allclose(teacher(inserts)[:, 0], torch.log(p / (1 - p)), atol=1e-4)


def test_teacher_on_a_sub_region_and_other_scores(small_model):
    reporter = study.hbb_reporter(exon_length=None)
    region = reporter.layout.donor
    sites9 = random_sequences(4, 9, seed=5)
    teacher = spliceai.ReporterTeacher(small_model, reporter, region=region, score="donor")
    full = predict_sites(
        small_model,
        full_sequences(reporter, sites9, region),
        [reporter.acceptor, reporter.donor],
        progress=False,
    )
    p = full[:, 2, 1].clamp(1e-4, 1 - 1e-4)
    assert torch.allclose(teacher(sites9)[:, 0], torch.log(p / (1 - p)), atol=1e-4)


def test_teacher_caches_in_memory_and_on_disk(small_model, monkeypatch):
    reporter = study.hbb_reporter()
    inserts = reporter_sequences(3, layout=reporter.layout, seed=4)
    first = spliceai.ReporterTeacher(small_model, reporter)
    calls = []
    compute = first._compute
    monkeypatch.setattr(first, "_compute", lambda x: calls.append(len(x)) or compute(x))
    doubled = torch.cat([inserts, inserts[:1]])  # a repeated sequence is computed once
    before = first.sites(doubled)
    assert calls == [3] and torch.equal(before[0], before[3])
    first.sites(inserts)
    assert calls == [3]  # from memory
    second = spliceai.ReporterTeacher(small_model, reporter)
    assert second.key == first.key

    def fail(x):
        raise AssertionError("recomputed although cached on disk")

    monkeypatch.setattr(second, "_compute", fail)
    assert torch.equal(second.sites(inserts), before[:3])


def test_teacher_rejects_bad_input(small_model):
    reporter = study.hbb_reporter()
    with pytest.raises(TypeError, match="model must be a SpliceAI"):
        spliceai.ReporterTeacher(torch.nn.Conv1d(4, 3, 1), reporter)
    with pytest.raises(TypeError, match="reporter must be a Reporter"):
        spliceai.ReporterTeacher(small_model, "HBB")
    with pytest.raises(ValueError, match="region"):
        spliceai.ReporterTeacher(small_model, reporter, region=(100, 130))
    with pytest.raises(ValueError, match="score"):
        spliceai.ReporterTeacher(small_model, reporter, score="branchpoint")
    teacher = spliceai.ReporterTeacher(small_model, reporter)
    with pytest.raises(ValueError, match="x must have length 120"):
        teacher(random_sequences(2, 100, seed=0))


def test_teacher_keeps_the_callers_mode_and_refuses_gradients(small_model):
    """Scoring switches the model to eval mode only for the call; a gradient method gets a
    clear error instead of autograd's, and ISM works."""
    from genotutor.attribution import attribute

    reporter = study.hbb_reporter()
    small_model.train()
    try:
        teacher = spliceai.ReporterTeacher(small_model, reporter)
        inserts = reporter_sequences(2, layout=reporter.layout, seed=5)
        sites = teacher.sites(inserts)
        assert small_model.training  # left as the caller had it
        positions = [reporter.acceptor, reporter.donor]
        full = predict_sites(small_model, full_sequences(reporter, inserts), positions)
        assert small_model.training
        expected = torch.stack([full[:, 1, 0], full[:, 2, 1]], dim=1)  # eval-mode oracle
        assert torch.allclose(sites, expected, atol=1e-5)
        with pytest.raises(TypeError, match="ReporterTeacher has no gradients.*ism"):
            attribute(teacher, inserts[:1], "saliency", progress=False)
        scores = attribute(teacher, inserts[:1, :, :], "ism", progress=False)
        assert scores.shape == inserts[:1].shape
    finally:
        small_model.eval()


@pytest.mark.slow
@pytest.mark.skipif(not HAS_SPLICEAI, reason="needs pip install --no-deps spliceai h5py")
def test_real_spliceai_scores_hbb_exon_2_and_matches_full_computation():
    from genotutor.spliceai import load_spliceai

    model = load_spliceai([1])
    natural = study.hbb_reporter(exon_length=None)
    assert spliceai.ReporterTeacher(model, natural).sites(natural.insert()).min() > 0.9
    reporter = study.hbb_reporter()
    inserts = reporter_sequences(2, layout=reporter.layout, seed=6)
    sites = spliceai.ReporterTeacher(model, reporter).sites(inserts)
    full = predict_sites(
        model,
        full_sequences(reporter, inserts),
        [reporter.acceptor, reporter.donor],
        progress=False,
    )
    assert torch.allclose(sites, torch.stack([full[:, 1, 0], full[:, 2, 1]], dim=1), atol=1e-5)


# ------------------------------------------------------------------ covariates
def test_exon_covariates_on_a_hand_made_exon():
    layout = Layout(upstream="TTTTTTAG", exon_length=15, downstream="GTAAGTTT")
    exon = "TAACGCGTAGTTCAG"  # codons TAA CGC GTA GTT CAG: one in-frame stop
    x = one_hot(layout.upstream + exon + layout.downstream)
    table = splicing.exon_covariates(x, layout)
    row = table.iloc[0]
    assert row["stops"] == 1  # TAG at exon position 7 is out of frame
    assert row["cpg"] == 2  # CG at 3 and 5; the body excludes the last 3 exon bases
    assert row["gc"] == pytest.approx(sum(b in "GC" for b in exon) / 15)
    assert row["GT"] == 2 and row["AG"] == 1  # GT at 6 and 9, AG at 8
    pwm = splicing.genome_donor_pwm()
    site = "CAG" + "GTAAGT"
    assert row["donor"] == pytest.approx(sum(pwm[i, "ACGT".index(b)] for i, b in enumerate(site)))
    with pytest.raises(ValueError, match="length"):
        splicing.exon_covariates(x[..., :-1], layout)
