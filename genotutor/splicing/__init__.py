"""Splicing: a simulator with a known splicing code and its features (chapter 9's teachers
are a study: :mod:`genotutor.studies.splicing_teachers`).

SpliceAI itself (the port, its weights, context reuse, reporters) is
:mod:`genotutor.spliceai`.

Every edit the explorer of chapters 9 and 10 offers, run through several models:
:func:`edit_table` (:mod:`genotutor.splicing.edits`).

Taught in chapter 9, "Distilling a splicing model" (exon covariates in chapter 10).
"""

from genotutor.splicing.code import exon_covariates
from genotutor.splicing.edits import EDITS, EditTable, edit_table
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

__all__ = [
    "EDITS",
    "EditTable",
    "edit_table",
    "FEATURES",
    "Layout",
    "SplicingCode",
    "SplicingSet",
    "TruthModel",
    "count_feature",
    "edit_feature",
    "exon_covariates",
    "genome_5ss",
    "genome_donor_pwm",
    "plant_hairpin",
    "reporter_sequences",
    "simulate_splicing",
]
