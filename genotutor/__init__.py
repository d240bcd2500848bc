"""genotutor: interpreting genomic deep-learning models, the package behind the book.

The names a reader uses most are here at the top level::

    import genotutor as gt

    x = gt.one_hot(["ACGT..."])                      # (N, 4, L) float32
    model = gt.Basset(x.shape[-1])
    result = gt.fit(model, (x_train, y_train), (x_valid, y_valid))
    scores = gt.attribute(model, x, "deeplift_shap")  # (N, 4, L)
    gt.logo(scores[0] * x[0])

Everything else lives in one module per concern (``genotutor.attribution``,
``genotutor.interpret``, ``genotutor.surrogate``, ``genotutor.distillation``,
``genotutor.spliceai`` ...); the book's own experiments are in ``genotutor.studies``.
Every public function names the chapter of the book that teaches it.
"""

from __future__ import annotations

__version__ = "0.1.0"

import genotutor.distillation as distillation
from genotutor.attribution import attribute, attribute_layer, correct_gradients, make_baseline
from genotutor.attribution.sanity import randomization_check
from genotutor.cache import memoize, train_or_load
from genotutor.distillation import distill, fidelity
from genotutor.evaluation import attribution_auprc, attribution_auroc, auroc, stability
from genotutor.interpret import discover_motifs, filters_to_pwms, global_importance, match_filters
from genotutor.models import Basset, DeepBind
from genotutor.motifs import get_motif, jaspar_motifs, match_motifs
from genotutor.plotting import logo
from genotutor.priors import fourier_prior_loss
from genotutor.sequences import (
    decode,
    dinucleotide_shuffle,
    mutate,
    one_hot,
    random_sequences,
    reverse_complement,
)
from genotutor.simulate import planted_motif_task
from genotutor.surrogate import explain_locus, fit_surrogate, mutagenesis_library
from genotutor.training import evaluating, fit, predict, train_cached

__all__ = [
    "Basset",
    "DeepBind",
    "__version__",
    "attribute",
    "attribute_layer",
    "attribution_auprc",
    "attribution_auroc",
    "auroc",
    "correct_gradients",
    "discover_motifs",
    "decode",
    "dinucleotide_shuffle",
    "distill",
    "distillation",
    "evaluating",
    "explain_locus",
    "fidelity",
    "filters_to_pwms",
    "fit",
    "fit_surrogate",
    "fourier_prior_loss",
    "get_motif",
    "global_importance",
    "jaspar_motifs",
    "match_motifs",
    "logo",
    "make_baseline",
    "match_filters",
    "memoize",
    "mutagenesis_library",
    "mutate",
    "one_hot",
    "planted_motif_task",
    "predict",
    "random_sequences",
    "randomization_check",
    "reverse_complement",
    "stability",
    "train_cached",
    "train_or_load",
]
