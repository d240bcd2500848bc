"""Noise models ``p(y | y_hat)`` of a surrogate: Gaussian and Jones-Faddy skewed t.

Written after MAVE-NN 1.1's measurement-process layers
(``mavenn/src/layers/measurement_process_layers.py``: ``GaussianNoiseModelLayer`` and
``SkewedTNoiseModelLayer``), the noise models SQUID fits (its default is
``noise='SkewedT', noise_order=2``). Everything here works on the *standardised* scale
of ``y`` (``(y - mean) / sd`` of the training labels), as MAVE-NN does, so the polynomial
coefficients are of order one whatever the units of ``y``.

- ``"gaussian"``: ``y ~ Normal(y_hat, sigma)``, ``log sigma`` a constant.
- ``"heteroscedastic"``: the same with ``log sigma`` a quadratic polynomial of ``y_hat``
  (MAVE-NN's ``Gaussian`` noise with ``noise_order=2``).
- ``"skewed_t"``: ``y = y_hat + s (t - t_mode(a, b))`` with ``t`` drawn from the skewed
  t distribution of Jones and Faddy (2003) with shapes ``a, b > 0``; ``log a``, ``log b``
  and ``log s`` are each quadratic polynomials of ``y_hat``. ``y_hat`` is the *mode* of
  ``p(y | y_hat)`` (MAVE-NN's convention), ``a > b`` skews to the right, ``a = b`` is
  Student's t with ``2a`` degrees of freedom and scale ``s``.

Taught in chapter 8, "Surrogate models".
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from genotutor.validation import as_array, check_choice

NOISES = ("gaussian", "heteroscedastic", "skewed_t")
#: order of the polynomials in y_hat for each noise model (SQUID's noise_order=2)
NOISE_ORDER = {"gaussian": 0, "heteroscedastic": 2, "skewed_t": 2}
#: MAVE-NN clips a and b at 0.01; we also cap them (a = b = 8100 is Gaussian to 1e-4)
SHAPE_LOG_RANGE = (math.log(0.01), 9.0)
SCALE_LOG_RANGE = (-7.0, 5.0)


def _log_density(t: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Jones-Faddy log density of standard ``t`` (no checks), written to stay accurate in
    the tails: ``1 +/- t / r = (r +/- t) / r`` with ``r = sqrt(a + b + t^2)``, and the
    smaller of ``r +/- t`` computed as ``(a + b) / (r + |t|)``."""
    ab = a + b
    r = torch.sqrt(ab + t**2)
    big = r + t.abs()
    small = ab / big
    log_plus = torch.where(t >= 0, big, small).log()  # log(r + t)
    log_minus = torch.where(t >= 0, small, big).log()  # log(r - t)
    log_beta = torch.lgamma(a) + torch.lgamma(b) - torch.lgamma(ab)
    return (
        (a + 0.5) * log_plus
        + (b + 0.5) * log_minus
        - (ab + 1.0) * r.log()
        - (ab - 1.0) * math.log(2.0)
        - 0.5 * ab.log()
        - log_beta
    )


def _mode(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b) * torch.sqrt(a + b) / torch.sqrt((2 * a + 1) * (2 * b + 1))


def _shapes(a: object, b: object) -> tuple[torch.Tensor, torch.Tensor]:
    tensors = []
    for value, name in ((a, "a"), (b, "b")):
        array = as_array(value, name)
        if (array <= 0).any():
            raise ValueError(f"{name} must be > 0 (a shape of the skewed t); found {array.min()}")
        tensors.append(torch.as_tensor(array, dtype=torch.float64))
    return tensors[0], tensors[1]


def skewed_t_log_density(t: object, a: object, b: object) -> torch.Tensor:
    """Log density of the Jones-Faddy skewed t distribution at ``t``.

    ``log f(t) = (a + 1/2) log(1 + u) + (b + 1/2) log(1 - u) - log C``, with
    ``u = t / sqrt(a + b + t^2)`` and ``C = 2^(a + b - 1) B(a, b) sqrt(a + b)``: the
    density MAVE-NN's ``SkewedTNoiseModelLayer.compute_nlls`` uses
    (``mavenn/src/layers/measurement_process_layers.py``).

    Parameters
    ----------
    t : tensor or array, any shape
        Points (standard variable: no location or scale).
    a, b : tensor, array or float, broadcastable to ``t``
        Shapes, > 0. ``a > b`` skews to the right; ``a = b`` is Student's t with ``2a``
        degrees of freedom.

    Returns
    -------
    torch.Tensor, float64, the broadcast shape of ``t``, ``a`` and ``b``

    Taught in chapter 8.
    """
    points = torch.as_tensor(as_array(t, "t"), dtype=torch.float64)
    a, b = _shapes(a, b)
    return _log_density(points, a, b)


def skewed_t_mode(a: object, b: object) -> torch.Tensor:
    """Mode of the Jones-Faddy skewed t: ``(a - b) sqrt(a + b) / sqrt((2a + 1)(2b + 1))``.

    Parameters
    ----------
    a, b : tensor, array or float
        Shapes, > 0.

    Returns
    -------
    torch.Tensor, float64, their broadcast shape

    Taught in chapter 8.
    """
    return _mode(*_shapes(a, b))


def skewed_t_quantile(q: object, a: object, b: object) -> np.ndarray:
    """Quantiles of the Jones-Faddy skewed t (standard variable).

    ``B = (1 + u) / 2`` is Beta(a, b), so the ``q`` quantile is
    ``t_q = (2 x - 1) sqrt(a + b) / (2 sqrt(x (1 - x)))`` with ``x`` the ``q`` quantile of
    Beta(a, b) (as in MAVE-NN's ``t_quantile``).

    Parameters
    ----------
    q : array or float in (0, 1)
    a, b : array or float, broadcastable to ``q``; > 0

    Returns
    -------
    numpy.ndarray, float64, the broadcast shape

    Taught in chapter 8.
    """
    from scipy.special import betaincinv

    levels = as_array(q, "q")
    if ((levels <= 0) | (levels >= 1)).any():
        raise ValueError(f"q must be in (0, 1); found values from {levels.min()} to {levels.max()}")
    a, b = (x.numpy() for x in _shapes(a, b))
    x = betaincinv(a, b, levels)
    return (2 * x - 1) * np.sqrt(a + b) / (2 * np.sqrt(x * (1 - x)))


class NoiseModel(nn.Module):
    """``p(y | y_hat)`` on the standardised scale, with parameters polynomial in ``y_hat``.

    Parameters
    ----------
    kind : {"gaussian", "heteroscedastic", "skewed_t"}
        See the module docstring; the polynomial order is :data:`NOISE_ORDER` ``[kind]``.

    Taught in chapter 8.
    """

    def __init__(self, kind: str):
        super().__init__()
        self.kind = check_choice(kind, "noise", NOISES)
        terms = NOISE_ORDER[kind] + 1
        if kind == "skewed_t":
            # a = b = 2 (Student's t, 4 degrees of freedom) and s = 1 to start
            self.w_a = nn.Parameter(torch.tensor([math.log(2.0)] + [0.0] * (terms - 1)))
            self.w_b = nn.Parameter(torch.tensor([math.log(2.0)] + [0.0] * (terms - 1)))
            self.w_s = nn.Parameter(torch.zeros(terms))
        else:
            self.w_s = nn.Parameter(torch.zeros(terms))  # log sigma

    @staticmethod
    def _polynomial(y_hat: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        powers = torch.stack([y_hat**k for k in range(len(weights))], dim=-1)
        return powers @ weights.to(y_hat.dtype)

    def parameters_at(self, y_hat: torch.Tensor) -> dict[str, torch.Tensor]:
        """The noise parameters at each ``y_hat`` (standardised, shape (N,)): ``s`` (the
        Gaussian's sigma or the skewed t's scale) and, for ``"skewed_t"``, ``a`` and ``b``;
        float64, shape (N,)."""
        y_hat = y_hat.double()
        low, high = SCALE_LOG_RANGE
        out = {"s": self._polynomial(y_hat, self.w_s).clamp(low, high).exp()}
        if self.kind == "skewed_t":
            low, high = SHAPE_LOG_RANGE
            out["a"] = self._polynomial(y_hat, self.w_a).clamp(low, high).exp()
            out["b"] = self._polynomial(y_hat, self.w_b).clamp(low, high).exp()
        return out

    def log_likelihood(self, y: torch.Tensor, y_hat: torch.Tensor) -> torch.Tensor:
        """``log p(y | y_hat)`` in nats per unit of standardised ``y``; shapes (N,) -> (N,).

        Computed in float64 (the log-gamma terms of large shapes cancel) and returned in
        the dtype of ``y_hat``.
        """
        params = self.parameters_at(y_hat)
        residual = (y.double() - y_hat.double()) / params["s"]
        if self.kind == "skewed_t":
            a, b = params["a"], params["b"]
            log_p = _log_density(_mode(a, b) + residual, a, b)
        else:
            log_p = -0.5 * residual**2 - 0.5 * math.log(2 * math.pi)
        return (log_p - params["s"].log()).to(y_hat.dtype)

    @torch.no_grad()
    def quantile(self, y_hat: torch.Tensor, q: float) -> torch.Tensor:
        """The ``q`` quantile of ``p(y | y_hat)`` (standardised scale); shape (N,) -> (N,)."""
        params = self.parameters_at(y_hat)
        if self.kind == "skewed_t":
            a, b = params["a"], params["b"]
            t_q = torch.from_numpy(skewed_t_quantile(np.full(len(y_hat), q), a, b))
            offset = t_q - _mode(a, b)
        else:
            z = float(torch.special.ndtri(torch.tensor(q, dtype=torch.float64)))
            offset = torch.full_like(params["s"], z)
        return (y_hat.double() + params["s"] * offset).to(y_hat.dtype)
