"""Fitting a surrogate model to a library and its labels, and reading it out.

Taught in chapter 7, "Surrogate models".
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from genotutor.parallel import single_thread
from genotutor.progress import progress_bar
from genotutor.sequences import ALPHABET
from genotutor.simulate import split_indices
from genotutor.surrogate.gauge import GAUGES, fix_gauge, gauge_distribution
from genotutor.surrogate.model import GPMAPS, NOISES, NONLINEARITIES, SurrogateNet, flatten
from genotutor.validation import as_array, check_choice, check_one_hot, check_positive_int


def check_labels(y: object, n: int, name: str = "y") -> torch.Tensor:
    """Return ``y`` as a float32 ``(n,)`` tensor; raise on wrong size or non-finite values."""
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
    if float(y.std()) == 0.0:
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
    start : int
        Position of the first modelled column in the original sequence (for windows).

    Taught in chapter 7.
    """

    net: SurrogateNet
    wild_type: torch.Tensor
    frequencies: np.ndarray
    history: pd.DataFrame
    valid_r2: float
    start: int = 0
    valid_index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

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

        Taught in chapter 7.
        """
        check_choice(output, "output", ("y", "phi"))
        phi = self.net.latent(self._features(x))
        return phi if output == "phi" else self.net.output(phi)

    def parameters(
        self, *, gauge: str = "empirical"
    ) -> tuple[float, np.ndarray, np.ndarray | None]:
        """``(theta_0, theta_lc (L, 4), theta_pairs (L, 4, L, 4) or None)`` in ``gauge``.

        Characters never seen at a position in the library get parameter 0 after gauge
        fixing (the data say nothing about them). Taught in chapter 7.
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
        Taught in chapter 7.
        """
        _, theta_lc, _ = self.parameters(gauge=gauge)
        index = np.arange(self.start, self.start + self.length)
        return pd.DataFrame(theta_lc, columns=list(ALPHABET), index=index)

    def pairwise_params(self, *, gauge: str = "empirical") -> np.ndarray:
        """The pairwise parameters, shape ``(L, 4, L, 4)``, nonzero only for ``l < l'``.

        Taught in chapter 7.
        """
        if self.net.gpmap != "pairwise":
            raise ValueError("pairwise_params needs a surrogate fitted with gpmap='pairwise'")
        return self.parameters(gauge=gauge)[2]

    def pairwise_strength(self, *, gauge: str = "empirical") -> pd.DataFrame:
        """Size of each position pair's interaction: the root sum of squares of its 16
        gauge-fixed parameters, as a symmetric ``(L, L)`` DataFrame. Taught in chapter 7."""
        pairs = self.pairwise_params(gauge=gauge)
        strength = np.sqrt((pairs**2).sum(axis=(1, 3)))
        index = np.arange(self.start, self.start + self.length)
        return pd.DataFrame(strength + strength.T, index=index, columns=index)

    @torch.no_grad()
    def nonlinearity_curve(self, *, points: int = 200, span: float = 4.0) -> pd.DataFrame:
        """The fitted nonlinearity and noise: ``phi``, ``y_hat``, ``lower``, ``upper``
        (``y_hat`` -/+ one noise standard deviation) on a grid of phi in +/- ``span`` sd.
        Taught in chapter 7."""
        phi = torch.linspace(-span, span, points)
        standard = self.net.shape(phi)
        sd = self.net.log_scale(standard).exp() * self.net.y_scale
        y_hat = self.net.output(phi)
        return pd.DataFrame(
            {
                "phi": phi.numpy(),
                "y_hat": y_hat.numpy(),
                "lower": (y_hat - sd).numpy(),
                "upper": (y_hat + sd).numpy(),
            }
        )

    def r2(self, x: torch.Tensor, y: object) -> float:
        """Squared Pearson correlation of the surrogate's ``y_hat`` with ``y`` (MAVE-NN's
        R^2). Taught in chapter 7."""
        y_hat = self.predict(x).double().numpy()
        labels = check_labels(y, len(y_hat)).double().numpy()
        return float(np.corrcoef(y_hat, labels)[0, 1] ** 2)

    def predictive_information(
        self, x: torch.Tensor, y: object, *, neighbours: int = 5, seed: int = 0
    ) -> float:
        """Predictive information ``I[y; phi]`` in bits, as MAVE-NN's ``I_predictive``.

        Estimated with the Kraskov-Stoegbauer-Grassberger k-nearest-neighbour estimator
        (scikit-learn's ``mutual_info_regression``). ``y_hat`` is a monotone function of
        ``phi``, so this is also ``I[y; y_hat]``. Taught in chapter 7.
        """
        try:
            from sklearn.feature_selection import mutual_info_regression
        except ImportError as error:  # pragma: no cover - sklearn comes with tangermeme
            raise ImportError(
                "predictive_information needs scikit-learn: pip install scikit-learn"
            ) from error
        phi = self.predict(x, output="phi").double().numpy()
        labels = check_labels(y, len(phi)).double().numpy()
        nats = mutual_info_regression(
            phi[:, None], labels, n_neighbors=neighbours, random_state=seed
        )[0]
        return float(nats / math.log(2))


def _ridge_start(features: torch.Tensor, y: torch.Tensor, l2: float) -> torch.Tensor:
    """Least-squares additive fit (ridge), the starting point of the latent map."""
    centred = features - features.mean(dim=0)
    gram = centred.T.double() @ centred.double()
    gram += (l2 * len(features) + 1e-6) * torch.eye(gram.shape[0], dtype=torch.float64)
    beta = torch.linalg.solve(gram, centred.T.double() @ (y - y.mean()).double())
    return beta.float()


def _train(
    net: SurrogateNet,
    train: tuple[torch.Tensor, torch.Tensor],
    valid: tuple[torch.Tensor, torch.Tensor],
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    patience: int,
    l2: float,
    generator: torch.Generator,
    progress: bool,
) -> pd.DataFrame:
    """Adam on the penalised NLL with early stopping; keeps the best epoch's weights."""
    x_train, y_train = train
    x_valid, y_valid = valid
    optimiser = torch.optim.Adam(net.parameters(), lr=lr)
    best, best_state, waited, rows = float("inf"), None, 0, []
    bar = progress_bar(range(1, epochs + 1), desc="surrogate", progress=progress)
    for epoch in bar:
        net.train()
        perm = torch.randperm(len(x_train), generator=generator)
        total = 0.0
        for begin in range(0, len(perm), batch_size):
            index = perm[begin : begin + batch_size]
            loss = net.nll(x_train[index], y_train[index])
            optimiser.zero_grad()
            (loss + l2 * net.penalty()).backward()
            optimiser.step()
            net.project()
            total += float(loss.detach()) * len(index)
        with torch.no_grad():
            valid_nll = float(net.nll(x_valid, y_valid))
        rows.append({"epoch": epoch, "train_nll": total / len(x_train), "valid_nll": valid_nll})
        bar.set_postfix(valid_nll=f"{valid_nll:.3f}")
        if valid_nll < best - 1e-4:
            best, best_state, waited = valid_nll, copy.deepcopy(net.state_dict()), 0
        else:
            waited += 1
            if waited >= patience:
                break
    if best_state is not None:
        net.load_state_dict(best_state)
    return pd.DataFrame(rows)


def fit_surrogate(
    library: torch.Tensor,
    y: object,
    *,
    gpmap: str = "additive",
    nonlinearity: str = "ge",
    noise: str = "gaussian",
    hidden: int = 50,
    l2: float = 1e-4,
    valid_fraction: float = 0.2,
    epochs: int = 300,
    batch_size: int = 1000,
    lr: float = 5e-3,
    patience: int = 10,
    wild_type: torch.Tensor | None = None,
    start: int = 0,
    seed: int = 0,
    progress: bool = True,
) -> Surrogate:
    """Fit an additive or pairwise surrogate with a GE nonlinearity to a labelled library.

    The library is split at random into training and validation parts; Adam minimises
    the Gaussian negative log-likelihood plus ``l2`` times the sum of squared sequence
    parameters, from a ridge-regression start, and stops when the validation loss has
    not improved for ``patience`` epochs (the best epoch's weights are kept).

    Parameters
    ----------
    library : torch.Tensor, shape (N, 4, L)
        One-hot sequences (e.g. from :func:`mutagenesis_library`, sliced to a window).
    y : torch.Tensor or array, shape (N,)
        Their labels: a DNN's predictions, or measurements.
    gpmap : {"additive", "pairwise"}
    nonlinearity : {"ge", "linear"}
    noise : {"gaussian", "heteroscedastic"}
    hidden : int
        Units of the GE nonlinearity.
    l2 : float
        Weight of the L2 penalty on theta (per sequence of the batch's mean loss).
    valid_fraction : float
        Share of the library held out for early stopping and ``valid_r2``.
    epochs, batch_size, lr, patience : number
        Optimiser settings.
    wild_type : torch.Tensor, shape (4, L), optional
        Reference of the ``"wildtype"`` gauge; default ``library[0]`` (the wild type in a
        :func:`mutagenesis_library`).
    start : int
        Position of the library's first column in a longer sequence (labels the logo).
    seed : int
        Seeds the split, the batch order and the initial weights.
    progress : bool
        Show a progress bar over epochs.

    Returns
    -------
    Surrogate

    Taught in chapter 7.
    """
    library = check_one_hot(library, "library")
    n, _, length = library.shape
    if n < 10:
        raise ValueError(f"library has {n} sequences; a surrogate needs at least 10")
    labels = check_labels(y, n)
    check_choice(gpmap, "gpmap", GPMAPS)
    check_choice(nonlinearity, "nonlinearity", NONLINEARITIES)
    check_choice(noise, "noise", NOISES)
    hidden = check_positive_int(hidden, "hidden")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    if not 0 < valid_fraction < 1:
        raise ValueError(f"valid_fraction must be in (0, 1); found {valid_fraction}")
    if not l2 >= 0:
        raise ValueError(f"l2 must be >= 0; found {l2}")
    if wild_type is None:
        wild_type = library[0]
    wild_type = check_one_hot(wild_type[None] if wild_type.ndim == 2 else wild_type, "wild_type")[0]
    if wild_type.shape[-1] != length:
        raise ValueError(f"wild_type has length {wild_type.shape[-1]}; the library has {length}")

    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    train_index, valid_index, _ = split_indices(n, valid=valid_fraction, test=0.0, seed=seed)
    if len(valid_index) == 0:
        raise ValueError(f"valid_fraction {valid_fraction} of {n} sequences holds out none")
    train_index, valid_index = torch.as_tensor(train_index), torch.as_tensor(valid_index)
    features = flatten(library)
    y_mean, y_scale = labels[train_index].mean(), labels[train_index].std().clamp(min=1e-8)
    standard = (labels - y_mean) / y_scale
    x_train, y_train = features[train_index], standard[train_index]
    x_valid, y_valid = features[valid_index], standard[valid_index]

    net = SurrogateNet(length, gpmap, nonlinearity, noise, hidden)
    net.y_mean.fill_(float(y_mean))
    net.y_scale.fill_(float(y_scale))
    with torch.no_grad():
        net.theta.copy_(_ridge_start(x_train, y_train, l2))
        net.standardise_latent(x_train)
    with single_thread():
        history = _train(
            net,
            (x_train, y_train),
            (x_valid, y_valid),
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            patience=patience,
            l2=l2,
            generator=generator,
            progress=progress,
        )
    net.eval()
    net.standardise_latent(x_train)
    frequencies = library.mean(dim=0).T.double().numpy()
    surrogate = Surrogate(
        net=net,
        wild_type=wild_type.clone(),
        frequencies=frequencies,
        history=history,
        valid_r2=float("nan"),
        start=int(start),
        valid_index=valid_index.numpy(),
    )
    surrogate.valid_r2 = surrogate.r2(library[valid_index], labels[valid_index])
    return surrogate
