"""Input attributions: one entry point, :func:`attribute`, for every method of chapter 2
(and :func:`attribute_layer` for the units of a hidden layer, chapter 3).

``attribute(model, x, method, target=0, **options)`` takes one-hot sequences ``(N, 4, L)``
and returns scores of the same shape. Gradient methods run through captum; ISM and
DeepLIFT / DeepLIFT-SHAP are genotutor's own (captum 0.9's DeepLIFT gets max-pooling
wrong, see :mod:`genotutor.attribution.deeplift`), tested against brute force and
tangermeme.

==========================  =========================================================
method                      scores
==========================  =========================================================
``"saliency"``              gradient of the target logit, every base
``"grad_x_input"``          gradient times input (observed base only)
``"smoothgrad"``            gradient averaged over noisy inputs, every base
``"ism"``                   ``f(x with b at i) - f(x)``, every base (0 at observed)
``"integrated_gradients"``  ``(x - baseline)`` times the path-averaged gradient
``"deeplift"``              DeepLIFT from one reference, projected on observed bases
``"deeplift_shap"``         DeepLIFT averaged over dinucleotide-shuffled references
==========================  =========================================================

The explorers' tables (:mod:`genotutor.attribution.tables`): :func:`attribution_table`,
:func:`mutation_table` (chapter 1) and :func:`attribution_tracks` (chapter 7).

Taught in chapter 2.
"""

from __future__ import annotations

from genotutor.attribution._common import BASELINES, ScoresAndDelta
from genotutor.attribution.dispatch import (
    GRADIENT_METHODS,
    METHODS,
    SEEDED_METHODS,
    attribute,
    make_baseline,
    project,
)
from genotutor.attribution.gradients import correct_gradients
from genotutor.attribution.layer import LAYER_METHODS, attribute_layer
from genotutor.attribution.sanity import randomization_check, randomize_model
from genotutor.attribution.tables import (
    AttributionTable,
    MutationTable,
    attribution_table,
    attribution_tracks,
    mutation_table,
)

__all__ = [
    "AttributionTable",
    "MutationTable",
    "attribution_table",
    "attribution_tracks",
    "mutation_table",
    "BASELINES",
    "GRADIENT_METHODS",
    "LAYER_METHODS",
    "METHODS",
    "SEEDED_METHODS",
    "ScoresAndDelta",
    "attribute",
    "attribute_layer",
    "correct_gradients",
    "make_baseline",
    "randomization_check",
    "randomize_model",
    "project",
]
