"""A fitted surrogate and how to read it: predictions, parameters, fit quality.

Fit quality as MAVE-NN reports it (``mavenn/src/model.py``: ``I_predictive``,
``I_variational``; SQUID's ``get_info`` prints both): the held-out log-likelihood, the
variational information built on it, and the predictive information.

Taught in chapter 8, "Surrogate models".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from genotutor.sequences import ALPHABET
from genotutor.surrogate.gauge import GAUGES, fix_gauge, gauge_distribution
from genotutor.surrogate.information import knn_entropy, ksg_mutual_information
from genotutor.surrogate.model import SurrogateNet, flatten
from genotutor.validation import (
    as_array,
    check_choice,
    check_number,
    check_one_hot,
    check_positive_int,
)


def check_labels(y: object, n: int, name: str = "y", *, constant_ok: bool = False) -> torch.Tensor:
    """Return ``y`` as a float32 ``(n,)`` tensor; raise on wrong size or non-finite values
    (and on constant values, unless ``constant_ok``). Taught in chapter 8."""
    if isinstance(y, pd.Series):
        y = y.to_numpy()
    array = as_array(y, name)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or len(array) != n:
        raise ValueError(
            f"{name} must have shape ({n},), one label per library sequence; found {array.shape}"
        )
    y = torch.from_numpy(array.astype(np.float32))
    if not constant_ok and (n < 2 or float(y.std()) == 0.0):
        raise ValueError(f"{name} is constant ({float(y[0])}); a surrogate needs labels that vary")
    return y


@dataclass
class Surrogate:
    """A fitted surrogate model (what :func:`fit_surrogate` returns).

    Attributes
    ----------
    net : SurrogateNet
        The fitted PyTorch module (phi standardised to mean 0, sd 1 on the library).
    wild_type : torch.Tensor, shape (4, L)
        The reference of the ``"wildtype"`` gauge and of :func:`variant_effects`.
    frequencies : np.ndarray, shape (L, 4)
        Character frequencies of the library (the ``"empirical"`` gauge).
    history : pandas.DataFrame
        One row per epoch: ``epoch``, ``train_nll``, ``valid_nll`` (nats per sequence).
    valid_r2 : float
        Squared Pearson correlation of ``y_hat`` and ``y`` on the held-out part of the
        library (MAVE-NN's R^2).
    valid_log_likelihood : float
        :meth:`log_likelihood` on the held-out part (nats per sequence, per unit of y).
    start : int
        Position of the first modelled column in the original sequence (for windows).
    valid_index : numpy.ndarray of int
        The library rows held out from training (early stopping and the ``valid_*``
        scores).

    Taught in chapter 8.
    """

    net: SurrogateNet
    wild_type: torch.Tensor
    frequencies: np.ndarray
    history: pd.DataFrame
    valid_r2: float
    start: int = 0
    valid_index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    valid_log_likelihood: float = float("nan")

    @property
    def length(self) -> int:
        """Sequence length L the surrogate models."""
        return self.net.length

    def _features(self, x: torch.Tensor, name: str = "x") -> torch.Tensor:
        if isinstance(x, torch.Tensor) and x.ndim == 2:
            x = x[None]
        x = check_one_hot(x, name)
        if x.shape[-1] != self.length:
            raise ValueError(
                f"{name} has length {x.shape[-1]}; this surrogate models sequences of length "
                f"{self.length} (slice your sequences to the window it was fitted on)"
            )
        return flatten(x)

    @torch.no_grad()
    def predict(self, x: torch.Tensor, *, output: str = "y") -> torch.Tensor:
        """Surrogate predictions for sequences.

        Parameters
        ----------
        x : torch.Tensor, shape (N, 4, L) or (4, L)
        output : {"y", "phi"}
            The predicted measurement ``y_hat`` or the latent phenotype ``phi``.

        Returns
        -------
        torch.Tensor, shape (N,)

        Taught in chapter 8.
        """
        check_choice(output, "output", ("y", "phi"))
        phi = self.net.latent(self._features(x))
        return phi if output == "phi" else self.net.output(phi)

    def parameters(
        self, *, gauge: str = "empirical"
    ) -> tuple[float, np.ndarray, np.ndarray | None]:
        """``(theta_0, theta_lc (L, 4), theta_pairs (L, 4, L, 4) or None)`` in ``gauge``.

        Characters never seen at a position in the library get parameter 0 after gauge
        fixing (the data say nothing about them). Taught in chapter 8.
        """
        check_choice(gauge, "gauge", GAUGES)
        net = self.net
        theta_lc = net.theta.detach().double().numpy().reshape(self.length, 4)
        pairs = None
        if net.gpmap == "pairwise":
            flat = (net.pairs * net.pair_mask).detach().double().numpy()
            pairs = flat.reshape(self.length, 4, self.length, 4)
        p = gauge_distribution(
            gauge,
            length=self.length,
            wild_type=self.wild_type.T.double().numpy(),
            frequencies=self.frequencies,
        )
        theta_0, theta_lc, pairs = fix_gauge(float(net.theta_0.detach()), theta_lc, pairs, p)
        unseen = self.frequencies == 0
        theta_lc[unseen] = 0.0
        if pairs is not None:
            pairs[unseen[:, :, None, None] | unseen[None, None, :, :]] = 0.0
        return theta_0, theta_lc, pairs

    def additive_params(self, *, gauge: str = "empirical") -> pd.DataFrame:
        """The additive parameters as an ``(L, 4)`` DataFrame ready for logomaker.

        Columns A, C, G, T; index the positions in the original sequence (``start`` on).
        Taught in chapter 8.
        """
        _, theta_lc, _ = self.parameters(gauge=gauge)
        index = np.arange(self.start, self.start + self.length)
        return pd.DataFrame(theta_lc, columns=list(ALPHABET), index=index)

    def pairwise_params(self, *, gauge: str = "empirical") -> np.ndarray:
        """The pairwise parameters, shape ``(L, 4, L, 4)``, nonzero only for ``l < l'``.

        Taught in chapter 8.
        """
        if self.net.gpmap != "pairwise":
            raise ValueError("pairwise_params needs a surrogate fitted with gpmap='pairwise'")
        return self.parameters(gauge=gauge)[2]

    def pairwise_strength(self, *, gauge: str = "empirical") -> pd.DataFrame:
        """Size of each position pair's interaction: the root sum of squares of its 16
        gauge-fixed parameters, as a symmetric ``(L, L)`` DataFrame. Taught in chapter 8."""
        pairs = self.pairwise_params(gauge=gauge)
        strength = np.sqrt((pairs**2).sum(axis=(1, 3)))
        index = np.arange(self.start, self.start + self.length)
        return pd.DataFrame(strength + strength.T, index=index, columns=index)

    @torch.no_grad()
    def nonlinearity_curve(
        self, *, points: int = 200, span: float = 4.0, band: tuple[float, float] = (0.16, 0.84)
    ) -> pd.DataFrame:
        """The fitted nonlinearity and noise on a grid of phi in +/- ``span`` sd.

        Columns ``phi``, ``y_hat`` and ``lower``, ``upper``: the ``band`` quantiles of
        ``p(y | y_hat)`` (MAVE-NN's ``yhat_to_yq`` default, 16 % and 84 %: about one
        standard deviation either side for Gaussian noise; uneven for a skewed t).
        Taught in chapter 8."""
        points = check_positive_int(points, "points", minimum=2)
        span = check_number(span, "span", minimum=0.0, inclusive=(False, True))
        low = check_number(band[0], "band[0]", minimum=0.0, maximum=1.0, inclusive=(False, False))
        high = check_number(band[1], "band[1]", minimum=low, maximum=1.0, inclusive=(False, False))
        net = self.net
        phi = torch.linspace(-span, span, points)
        standard = net.shape(phi)
        lower, upper = (net.noise_model.quantile(standard, q) for q in (low, high))
        return pd.DataFrame(
            {
                "phi": phi.numpy(),
                "y_hat": net.output(phi).numpy(),
                "lower": (net.y_mean + net.y_scale * lower).numpy(),
                "upper": (net.y_mean + net.y_scale * upper).numpy(),
            }
        )

    def r2(self, x: torch.Tensor, y: object) -> float:
        """Squared Pearson correlation of the surrogate's ``y_hat`` with ``y`` (MAVE-NN's
        R^2). Taught in chapter 8."""
        y_hat = self.predict(x).double().numpy()
        labels = check_labels(y, len(y_hat)).double().numpy()
        return float(np.corrcoef(y_hat, labels)[0, 1] ** 2)

    @torch.no_grad()
    def log_likelihood(self, x: torch.Tensor, y: object) -> float:
        """Mean log-likelihood ``log p(y | x)`` per sequence, in nats per unit of ``y``.

        The density of the measurement in its own units (the training scale's ``log sd``
        is subtracted), so fits with different noise models, or of different data sets
        with the same units, compare directly. Use held-out data (``valid_index``), as
        MAVE-NN's ``val_I_var`` does.

        Parameters
        ----------
        x : torch.Tensor, shape (N, 4, L)
        y : tensor or array, shape (N,)

        Returns
        -------
        float

        Taught in chapter 8.
        """
        features = self._features(x)
        labels = check_labels(y, len(features), constant_ok=True)
        net = self.net
        standard = (labels - net.y_mean) / net.y_scale
        return float(net.log_likelihood(features, standard).double().mean()) - math.log(
            float(net.y_scale)
        )

    def variational_information(
        self, x: torch.Tensor, y: object, *, neighbours: int = 7, seed: int = 0
    ) -> tuple[float, float]:
        """Variational information ``I_var = H[y] + E[log2 p(y | phi)]`` in bits, with its
        standard error, as MAVE-NN's ``I_variational`` (``mavenn/src/model.py``).

        ``H[y]`` comes from :func:`genotutor.surrogate.information.knn_entropy`; the
        second term is :meth:`log_likelihood` in bits. ``I_var <= I_pred`` up to estimation
        error; the gap measures how far the noise model is from the true ``p(y | phi)``.
        Taught in chapter 8.
        """
        entropy, entropy_se = knn_entropy(y, neighbours=neighbours, seed=seed)
        features = self._features(x)
        labels = check_labels(y, len(features), constant_ok=True)
        standard = (labels - self.net.y_mean) / self.net.y_scale
        with torch.no_grad():
            bits = self.net.log_likelihood(features, standard).double().numpy() / math.log(2)
        bits = bits - math.log2(float(self.net.y_scale))
        se = math.sqrt(entropy_se**2 + (bits.std(ddof=1) / math.sqrt(len(bits))) ** 2)
        return entropy + float(bits.mean()), se

    def scores(self, x: torch.Tensor, y: object, *, seed: int = 0) -> dict[str, float]:
        """Every fit-quality score at once, for a table: ``r2``, ``log_likelihood``
        (nats), ``I_var``, ``dI_var``, ``I_pred``, ``dI_pred`` (bits), as SQUID's
        ``get_info`` reports them for MAVE-NN models. Taught in chapter 8."""
        i_var, d_var = self.variational_information(x, y, seed=seed)
        i_pred, d_pred = self.predictive_information(x, y, seed=seed)
        return {
            "r2": self.r2(x, y),
            "log_likelihood": self.log_likelihood(x, y),
            "I_var": i_var,
            "dI_var": d_var,
            "I_pred": i_pred,
            "dI_pred": d_pred,
        }

    def predictive_information(
        self, x: torch.Tensor, y: object, *, neighbours: int = 5, seed: int = 0
    ) -> tuple[float, float]:
        """Predictive information ``I_pred = I[y; phi]`` in bits, with its standard error.

        MAVE-NN's ``I_predictive`` for GE models (``mavenn/src/model.py``): the KSG
        estimator on ``phi`` (blurred by 0.01 sd) and ``y``,
        :func:`genotutor.surrogate.information.ksg_mutual_information`. ``y_hat`` is a
        monotone function of ``phi``, so this is also ``I[y; y_hat]``. Taught in chapter 8.
        """
        phi = self.predict(x, output="phi").double().numpy()
        labels = check_labels(y, len(phi)).double().numpy()
        return ksg_mutual_information(phi, labels, neighbours=neighbours, seed=seed)
