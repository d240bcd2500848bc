"""k-nearest-neighbour estimates of entropy and mutual information, as MAVE-NN makes them.

MAVE-NN (``mavenn/src/entropy.py`` and its copy of NPEET, ``mavenn/src/_npeet.py``)
scores a fitted model by

- its *predictive information* ``I_pred = I[y; phi]``, estimated on test data with the
  Kraskov-Stoegbauer-Grassberger (KSG) estimator: ``k = 5`` neighbours in the joint
  space under the max-norm, no rescaling of either variable, ``phi`` blurred by Gaussian
  noise of 0.01 of its standard deviation and both variables by uniform noise of
  ``1e-5`` (to break ties);
- its *variational information* ``I_var = H[y] - E[-log2 p(y | phi)]``, with ``H[y]``
  from the Kozachenko-Leonenko estimator (``k = 7``, at most 10,000 values, ``y`` blurred
  by 0.01 of its standard deviation): an affine function of the log-likelihood, and a
  lower bound of ``I_pred`` when the noise model is wrong.

Both report a standard error from 25 random halves of the data:
``sd(estimates on halves) / sqrt(2)``. The functions here follow those recipes (the
random draws are seeded here; MAVE-NN's are not).

Taught in chapter 8, "Surrogate models".
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.special import digamma

from genotutor.validation import as_array, check_number, check_positive_int

TIE_NOISE = 1e-5  # NPEET's add_noise


def _count_within(values: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """For each i, the number of j (i included) with ``|values_j - values_i| < radius_i``.

    The radius is shrunk by a relative 1e-10 so that the point that sets it (at exactly
    that distance) is left out despite rounding in ``values +/- radius``; NPEET subtracts
    1e-15 for the same reason."""
    radius = radius * (1.0 - 1e-10)
    ordered = np.sort(values)
    above = np.searchsorted(ordered, values + radius, side="left")
    below = np.searchsorted(ordered, values - radius, side="right")
    return above - below


def _ksg(x: np.ndarray, y: np.ndarray, k: int) -> float:
    """KSG estimator 1 (NPEET's ``mi`` with ``alpha=0``), in bits."""
    from scipy.spatial import cKDTree

    points = np.c_[x, y]
    radius = cKDTree(points).query(points, k=k + 1, p=np.inf)[0][:, k]
    n_x, n_y = _count_within(x, radius), _count_within(y, radius)
    nats = digamma(k) + digamma(len(x)) - digamma(n_x).mean() - digamma(n_y).mean()
    return float(nats / math.log(2))


def _kl_entropy(x: np.ndarray, k: int) -> float:
    """Kozachenko-Leonenko estimator of a 1-D differential entropy (NPEET's ``entropy``),
    in bits."""
    ordered = np.sort(x)
    n = len(ordered)
    # the k-th neighbour of a point is among the k nearest on either side in sorted order
    index = np.arange(n)
    gaps = np.full((n, 2 * k), np.inf)
    for j in range(1, k + 1):
        gaps[j:, j - 1] = ordered[j:] - ordered[:-j]  # to the j-th point on the left
        gaps[:-j, k + j - 1] = ordered[j:] - ordered[:-j]  # to the j-th point on the right
    radius = np.sort(gaps, axis=1)[index, k - 1]
    nats = digamma(n) - digamma(k) + math.log(2) + np.log(radius).mean()
    return float(nats / math.log(2))


def _check(values: object, name: str, neighbours: int, subsamples: int) -> np.ndarray:
    array = as_array(values, name, ndim=1)
    check_positive_int(subsamples, "subsamples", minimum=2)
    if len(array) // 2 <= neighbours:
        raise ValueError(
            f"{name} has {len(array)} values; the standard error needs halves of more than "
            f"neighbours={neighbours} values (at least {2 * neighbours + 2})"
        )
    return array


def ksg_mutual_information(
    x: torch.Tensor | np.ndarray,
    y: torch.Tensor | np.ndarray,
    *,
    neighbours: int = 5,
    fuzz: float = 0.01,
    subsamples: int = 25,
    seed: int = 0,
) -> tuple[float, float]:
    """Mutual information ``I[x; y]`` of two continuous variables and its standard error.

    MAVE-NN's ``I_predictive`` for GE models (``mavenn/src/model.py`` calling
    ``mi_continuous`` of ``mavenn/src/entropy.py``): ``x`` gets Gaussian noise of ``fuzz``
    times its standard deviation, both get uniform noise of ``1e-5``, and the KSG
    estimator (``neighbours`` nearest neighbours, max-norm, no rescaling) runs on all
    points and on ``subsamples`` random halves; the error is ``sd(halves) / sqrt(2)``.

    Parameters
    ----------
    x, y : tensor or array, shape (N,)
        Paired values (for a surrogate: ``phi`` and the measurements ``y``).
    neighbours : int
        ``k`` of the estimator (MAVE-NN: 5).
    fuzz : float
        Noise added to ``x``, in units of its standard deviation (MAVE-NN: 0.01).
    subsamples : int
        Random halves for the standard error (MAVE-NN: 25).
    seed : int
        Seeds the noise and the halves.

    Returns
    -------
    (float, float)
        The estimate and its standard error, in bits.

    Taught in chapter 8.
    """
    neighbours = check_positive_int(neighbours, "neighbours")
    x = _check(x, "x", neighbours, subsamples)
    y = _check(y, "y", neighbours, subsamples)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length; found {len(x)} and {len(y)}")
    fuzz = check_number(fuzz, "fuzz", minimum=0.0)
    rng = np.random.default_rng(seed)
    x = x + fuzz * x.std(ddof=1) * rng.standard_normal(len(x))
    x = x + TIE_NOISE * rng.random(len(x))
    y = y + TIE_NOISE * rng.random(len(y))
    estimate = _ksg(x, y, neighbours)
    halves = [rng.choice(len(x), size=len(x) // 2, replace=False) for _ in range(subsamples)]
    spread = np.std([_ksg(x[h], y[h], neighbours) for h in halves], ddof=1)
    return estimate, float(spread / math.sqrt(2))


def knn_entropy(
    values: object,
    *,
    neighbours: int = 7,
    fuzz: float = 0.01,
    max_values: int = 10_000,
    subsamples: int = 25,
    seed: int = 0,
) -> tuple[float, float]:
    """Differential entropy ``H[y]`` of a continuous variable and its standard error.

    MAVE-NN's ``H_y`` of ``I_variational`` (``mavenn/src/model.py`` calling
    ``entropy_continuous`` of ``mavenn/src/entropy.py``): at most ``max_values`` values
    drawn without replacement, Gaussian noise of ``fuzz`` standard deviations and uniform
    noise of ``1e-5`` added, then the Kozachenko-Leonenko estimator with ``neighbours``
    neighbours on all of them and on ``subsamples`` random halves.

    Parameters
    ----------
    values : tensor or array, shape (N,)
    neighbours : int
        ``k`` of the estimator (MAVE-NN: 7).
    fuzz : float
        Noise in units of the standard deviation (MAVE-NN: 0.01).
    max_values : int
        Subsample size above which values are drawn (MAVE-NN: 10,000).
    subsamples : int
        Random halves for the standard error (MAVE-NN: 25).
    seed : int

    Returns
    -------
    (float, float)
        The entropy and its standard error, in bits (for ``y`` in its own units).

    Taught in chapter 8.
    """
    neighbours = check_positive_int(neighbours, "neighbours")
    max_values = check_positive_int(max_values, "max_values", minimum=2 * neighbours + 2)
    values = _check(values, "values", neighbours, subsamples)
    fuzz = check_number(fuzz, "fuzz", minimum=0.0)
    rng = np.random.default_rng(seed)
    if len(values) > max_values:
        values = rng.choice(values, size=max_values, replace=False)
    values = values + fuzz * values.std(ddof=1) * rng.standard_normal(len(values))
    values = values + TIE_NOISE * rng.random(len(values))
    estimate = _kl_entropy(values, neighbours)
    halves = [
        rng.choice(len(values), size=len(values) // 2, replace=False) for _ in range(subsamples)
    ]
    spread = np.std([_kl_entropy(values[h], neighbours) for h in halves], ddof=1)
    return estimate, float(spread / math.sqrt(2))
