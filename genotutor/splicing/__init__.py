"""Splicing: a simulator with a known splicing code, its features, and teacher models.

SpliceAI itself (the port, its weights, context reuse, reporters) is
:mod:`genotutor.spliceai`.

Taught in chapter 9, "Distilling a splicing model" (exon covariates in chapter 10).
"""

from genotutor.splicing.code import exon_covariates
from genotutor.splicing.features import FEATURES, count_feature, edit_feature
from genotutor.splicing.simulator import (
    Layout,
    SplicingCode,
    SplicingSet,
    TruthModel,
    genome_5ss,
    genome_donor_pwm,
    plant_hairpin,
    reporter_sequences,
    simulate_splicing,
)
from genotutor.splicing.teachers import (
    GenomeTeacher,
    SpliceSiteNet,
    Teacher,
    genome_decoys,
    genome_splice_model,
    splicing_cnn,
    splicing_teacher,
)

__all__ = [
    "FEATURES",
    "GenomeTeacher",
    "Layout",
    "SpliceSiteNet",
    "SplicingCode",
    "SplicingSet",
    "Teacher",
    "TruthModel",
    "count_feature",
    "edit_feature",
    "exon_covariates",
    "genome_5ss",
    "genome_decoys",
    "genome_donor_pwm",
    "genome_splice_model",
    "plant_hairpin",
    "reporter_sequences",
    "simulate_splicing",
    "splicing_cnn",
    "splicing_teacher",
]
