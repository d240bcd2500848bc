"""Distillation of splicing models into interpretable students, and the probes that show
what a teacher learned from the reference genome: confounders and blind spots.

Students (:class:`AdditiveStudent`, :class:`NeuralBasisStudent`) are fitted to a teacher's
outputs by :func:`distill`; :func:`fidelity` scores the fit on held-out sequences;
:func:`confounder_effect` moves one feature (CpG, in-frame stops, a motif) while the true
code stays put; :func:`blind_spot_table` compares models with the truth or with
measurements on several sets of sequences.

The package itself is callable: ``genotutor.distill(teacher, x, ...)`` is
:func:`genotutor.distill.distill`, so ``import genotutor`` gives the function under the
name a reader expects while ``genotutor.distill.fidelity`` and the rest stay reachable.

Taught in chapter 9, "Distilling a splicing model", after Liu, Zhang and Regev (2025).
"""

import sys
import types

from genotutor.distill.core import (
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
from genotutor.distill.probes import confounder_effect, confounder_table
from genotutor.distill.readout import filter_consensus, filter_report, plot_student
from genotutor.distill.students import AdditiveStudent, NeuralBasisStudent, position_encoding

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


class _CallablePackage(types.ModuleType):
    """This package, callable as :func:`distill`."""

    def __call__(self, *args, **kwargs):
        return distill(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
