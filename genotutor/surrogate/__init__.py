"""SQUID-style surrogate models of genomic DNNs, in PyTorch (no TensorFlow).

Random mutagenesis libraries around one sequence (:func:`mutagenesis_library`), additive
and pairwise latent maps with a monotone global-epistasis nonlinearity and a noise
model (Gaussian, heteroscedastic Gaussian or skewed t: :func:`fit_surrogate`), fit
quality (log-likelihood, variational and predictive information), parameters as
logomaker-ready DataFrames in a chosen gauge, single-variant effects
(:func:`variant_effects`) and the whole loop on a DNN (:func:`explain_locus`; over a
grid of settings, :func:`surrogate_grid`). The model
family is MAVE-NN's (Tareen et al. 2022), as used by SQUID (Seitz et al. 2024).

Taught in chapter 8, "Surrogate models".
"""

from genotutor.surrogate.analysis import (
    LocusSurrogate,
    explain_loci,
    explain_locus,
    single_mutants,
    variant_effects,
)
from genotutor.surrogate.fit import Surrogate, check_labels, fit_surrogate
from genotutor.surrogate.gauge import GAUGES, fix_gauge, gauge_distribution
from genotutor.surrogate.grid import SurrogateGrid, surrogate_grid
from genotutor.surrogate.library import mutagenesis_library
from genotutor.surrogate.model import GPMAPS, NOISES, NONLINEARITIES, SurrogateNet

__all__ = [
    "GAUGES",
    "GPMAPS",
    "NOISES",
    "NONLINEARITIES",
    "LocusSurrogate",
    "Surrogate",
    "SurrogateGrid",
    "SurrogateNet",
    "check_labels",
    "explain_loci",
    "explain_locus",
    "fit_surrogate",
    "fix_gauge",
    "gauge_distribution",
    "mutagenesis_library",
    "single_mutants",
    "surrogate_grid",
    "variant_effects",
]
from genotutor.surrogate.consistency import (  # noqa: E402
    distances_from_mean,
    map_consistency,
    map_scales,
    motif_maps,
)
from genotutor.surrogate.information import knn_entropy, ksg_mutual_information  # noqa: E402
from genotutor.surrogate.noise import (  # noqa: E402
    NoiseModel,
    skewed_t_log_density,
    skewed_t_mode,
    skewed_t_quantile,
)

__all__ += [
    "NoiseModel",
    "knn_entropy",
    "ksg_mutual_information",
    "distances_from_mean",
    "map_consistency",
    "map_scales",
    "motif_maps",
    "skewed_t_log_density",
    "skewed_t_mode",
    "skewed_t_quantile",
]
