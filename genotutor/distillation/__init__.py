"""Distillation of splicing models into interpretable students, and the probes that show
what a teacher learned from the reference genome: confounders and blind spots.

Students (:class:`AdditiveStudent`, :class:`NeuralBasisStudent`) are fitted to a teacher's
outputs by :func:`distill`; :func:`fidelity` scores the fit on held-out sequences;
:func:`confounder_effect` moves one feature (CpG, in-frame stops, a motif) while the true
code stays put; :func:`blind_spot_table` compares models with the truth or with
measurements on several sets of sequences.

``genotutor.distill`` is this package's :func:`distill`, the function.

Taught in chapter 9, "Distilling a splicing model", after Liu, Zhang and Regev (2025).
"""

from genotutor.distillation.core import (
    LOSSES,
    METRICS,
    STUDENTS,
    Distilled,
    agreement,
    blind_spot_table,
    build_student,
    distill,
    excess_correlation_drop,
    fidelity,
    kl_logits,
    model_digest,
)
from genotutor.distillation.probes import confounder_effect, confounder_table
from genotutor.distillation.readout import filter_consensus, filter_report, plot_student
from genotutor.distillation.students import AdditiveStudent, NeuralBasisStudent, position_encoding

__all__ = [
    "LOSSES",
    "METRICS",
    "STUDENTS",
    "AdditiveStudent",
    "Distilled",
    "NeuralBasisStudent",
    "agreement",
    "blind_spot_table",
    "build_student",
    "confounder_effect",
    "confounder_table",
    "distill",
    "excess_correlation_drop",
    "fidelity",
    "kl_logits",
    "filter_consensus",
    "filter_report",
    "model_digest",
    "plot_student",
    "position_encoding",
]
