"""Additive and pairwise surrogate models with a global-epistasis output, in PyTorch.

The model family of MAVE-NN (Tareen et al. 2022), which SQUID (Seitz et al. 2024) fits to
a DNN's predictions on a mutagenesis library:

- a genotype-phenotype map to a latent phenotype ``phi``: additive,
  ``phi = theta_0 + sum_lc theta_lc x_lc``, or pairwise, which adds
  ``sum_{l < l'} theta_{lc,l'c'} x_lc x_l'c'``;
- a global-epistasis (GE) nonlinearity ``y_hat = a + sum_k b_k tanh(c_k phi + d_k)``
  with ``b_k, c_k >= 0``, so that ``y_hat`` never decreases with ``phi`` (or a linear
  output ``y_hat = a + b phi``, ``b >= 0``);
- a noise model ``p(y | y_hat)`` (:mod:`genotutor.surrogate.noise`): Gaussian with a
  constant width (``"gaussian"``), Gaussian with ``log sigma`` quadratic in ``y_hat``
  (``"heteroscedastic"``), or MAVE-NN's skewed t with shapes and scale quadratic in
  ``y_hat`` (``"skewed_t"``, SQUID's default).

Taught in chapter 8.
"""

from __future__ import annotations

import torch
from torch import nn

from genotutor.surrogate.noise import NOISES, NoiseModel

GPMAPS = ("additive", "pairwise")
NONLINEARITIES = ("ge", "linear")
__all__ = ["GPMAPS", "NOISES", "NONLINEARITIES", "SurrogateNet", "flatten"]


def flatten(x: torch.Tensor) -> torch.Tensor:
    """``(N, 4, L)`` one-hot -> ``(N, 4 L)`` features in position-major order (l * 4 + c)."""
    return x.transpose(1, 2).reshape(len(x), -1)


class SurrogateNet(nn.Module):
    """The latent map, the nonlinearity and the noise model as one module.

    Internally ``y`` is standardised (``y_mean``, ``y_scale`` buffers), so the GE and
    noise parameters are of order one whatever the DNN's output scale.

    Parameters
    ----------
    length : int
        Sequence length L.
    gpmap, nonlinearity, noise : str
        See the module docstring.
    hidden : int
        Number of tanh units K of the GE nonlinearity (50 in MAVE-NN and SQUID).

    Taught in chapter 8.
    """

    def __init__(self, length: int, gpmap: str, nonlinearity: str, noise: str, hidden: int):
        super().__init__()
        self.length, self.gpmap, self.nonlinearity, self.noise = length, gpmap, nonlinearity, noise
        features = 4 * length
        self.theta_0 = nn.Parameter(torch.zeros(()))
        self.theta = nn.Parameter(torch.zeros(features))
        if gpmap == "pairwise":
            self.pairs = nn.Parameter(torch.zeros(features, features))
            block = torch.triu(torch.ones(length, length), diagonal=1)
            self.register_buffer("pair_mask", block.repeat_interleave(4, 0).repeat_interleave(4, 1))
        hidden = hidden if nonlinearity == "ge" else 1
        self.a = nn.Parameter(torch.zeros(()))
        self.b = nn.Parameter(torch.full((hidden,), 1.0 / hidden))
        self.c = nn.Parameter(torch.ones(hidden))
        spread = torch.linspace(-2.5, 2.5, hidden) if hidden > 1 else torch.zeros(1)
        self.d = nn.Parameter(spread)
        self.noise_model = NoiseModel(noise)
        self.register_buffer("y_mean", torch.zeros(()))
        self.register_buffer("y_scale", torch.ones(()))

    def latent(self, features: torch.Tensor) -> torch.Tensor:
        """``(N, 4L)`` features -> ``(N,)`` latent phenotype phi."""
        phi = self.theta_0 + features @ self.theta
        if self.gpmap == "pairwise":
            phi = phi + ((features @ (self.pairs * self.pair_mask)) * features).sum(dim=1)
        return phi

    def shape(self, phi: torch.Tensor) -> torch.Tensor:
        """The nonlinearity on the standardised scale: ``(N,)`` phi -> ``(N,)``."""
        if self.nonlinearity == "linear":
            return self.a + self.b[0] * phi
        return self.a + torch.tanh(phi[:, None] * self.c + self.d) @ self.b

    def output(self, phi: torch.Tensor) -> torch.Tensor:
        """``(N,)`` phi -> ``(N,)`` y_hat on the scale of the data."""
        return self.y_mean + self.y_scale * self.shape(phi)

    def log_likelihood(self, features: torch.Tensor, y_standard: torch.Tensor) -> torch.Tensor:
        """``(N, 4L)`` features, ``(N,)`` standardised ``y`` -> ``(N,)`` ``log p(y | x)``
        (nats per unit of standardised ``y``)."""
        return self.noise_model.log_likelihood(y_standard, self.shape(self.latent(features)))

    def nll(self, features: torch.Tensor, y_standard: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood (nats per sequence) of standardised ``y``."""
        return -self.log_likelihood(features, y_standard).mean()

    def penalty(self) -> torch.Tensor:
        """Sum of squared sequence parameters (the L2 penalty's argument)."""
        total = (self.theta**2).sum()
        if self.gpmap == "pairwise":
            total = total + ((self.pairs * self.pair_mask) ** 2).sum()
        return total

    @torch.no_grad()
    def project(self) -> None:
        """Keep the nonlinearity monotone: clip ``b`` and ``c`` at zero."""
        self.b.clamp_(min=0.0)
        self.c.clamp_(min=0.0)

    @torch.no_grad()
    def start_from_linear(self, features: torch.Tensor, y_standard: torch.Tensor) -> None:
        """Start the GE nonlinearity from the additive fit: K tanh units centred evenly
        across the range of phi on ``features``, each a quarter of that range wide, with a
        common weight and an offset fitted to ``y`` by least squares (so the start is the
        best ramp of that shape through the data).

        The default start (unit weights 1/K, centres in [-2.5, 2.5]) matches no data; on a
        library with few mutations per sequence (phi skewed by rare large effects) Adam's
        first steps drive every weight to the constraint b = 0, where the gradients of the
        latent map vanish and the fit stays constant.
        """
        if self.nonlinearity != "ge":
            return
        phi = self.latent(features)
        low, high = float(phi.min()), float(phi.max())
        if not high > low:
            return
        k = len(self.b)
        centres = low + (high - low) * (torch.arange(k, dtype=phi.dtype) + 0.5) / k
        self.c.fill_(4.0 / (high - low))
        self.d.copy_(-self.c * centres)
        ramp = torch.tanh(phi[:, None] * self.c + self.d).sum(dim=1)
        ramp_centred = ramp - ramp.mean()
        weight = float((ramp_centred * (y_standard - y_standard.mean())).sum())
        weight = max(weight / float((ramp_centred**2).sum().clamp(min=1e-12)), 1e-4)
        self.b.fill_(weight)  # monotone increasing: a small positive weight at least
        self.a.fill_(float(y_standard.mean() - weight * ramp.mean()))

    @torch.no_grad()
    def standardise_latent(self, features: torch.Tensor) -> None:
        """Rescale phi to mean 0, sd 1 on ``features``, compensating in the nonlinearity.

        phi's affine scale is not identifiable (the nonlinearity can absorb it); this is
        how MAVE-NN pins it down. Predictions do not change.
        """
        phi = self.latent(features)
        mu, sd = phi.mean(), phi.std().clamp(min=1e-8)
        self.theta_0.sub_(mu).div_(sd)
        self.theta.div_(sd)
        if self.gpmap == "pairwise":
            self.pairs.div_(sd)
        if self.nonlinearity == "linear":
            self.a.add_(self.b[0] * mu)
            self.b.mul_(sd)
        else:
            self.d.add_(self.c * mu)
            self.c.mul_(sd)
