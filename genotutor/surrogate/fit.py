"""Fitting a surrogate model to a library and its labels, and reading it out.

Taught in chapter 8, "Surrogate models".
"""

from __future__ import annotations

import copy

import pandas as pd
import torch

from genotutor.parallel import single_thread
from genotutor.progress import progress_bar
from genotutor.seeding import seeded
from genotutor.simulate import split_indices
from genotutor.surrogate.model import GPMAPS, NOISES, NONLINEARITIES, SurrogateNet, flatten
from genotutor.surrogate.result import Surrogate, check_labels
from genotutor.validation import check_choice, check_one_hot, check_positive_int

__all__ = ["Surrogate", "check_labels", "fit_surrogate"]


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
    the negative log-likelihood of the chosen noise model plus ``l2`` times the sum of
    squared sequence parameters, from a ridge-regression start, and stops when the
    validation loss has not improved for ``patience`` epochs (the best epoch's weights are kept).

    Parameters
    ----------
    library : torch.Tensor, shape (N, 4, L)
        One-hot sequences (e.g. from :func:`mutagenesis_library`, sliced to a window).
    y : torch.Tensor or array, shape (N,)
        Their labels: a DNN's predictions, or measurements.
    gpmap : {"additive", "pairwise"}
    nonlinearity : {"ge", "linear"}
    noise : {"gaussian", "heteroscedastic", "skewed_t"}
        ``p(y | y_hat)`` (:mod:`genotutor.surrogate.noise`): Gaussian of constant width,
        Gaussian with ``log sigma`` quadratic in ``y_hat``, or MAVE-NN's skewed t with
        ``log a``, ``log b`` and ``log s`` quadratic in ``y_hat`` (SQUID's default,
        ``noise='SkewedT', noise_order=2``).
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

    Taught in chapter 8.
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
    train_index, valid_index, _ = split_indices(n, valid=valid_fraction, test=0.0, seed=seed)
    if len(valid_index) == 0:
        raise ValueError(f"valid_fraction {valid_fraction} of {n} sequences holds out none")
    train_index, valid_index = torch.as_tensor(train_index), torch.as_tensor(valid_index)
    features = flatten(library)
    y_mean, y_scale = labels[train_index].mean(), labels[train_index].std().clamp(min=1e-8)
    standard = (labels - y_mean) / y_scale
    x_train, y_train = features[train_index], standard[train_index]
    x_valid, y_valid = features[valid_index], standard[valid_index]

    with seeded(seed):  # default initialisation, from a seeded fork of the global generator
        net = SurrogateNet(length, gpmap, nonlinearity, noise, hidden)
    net.y_mean.fill_(float(y_mean))
    net.y_scale.fill_(float(y_scale))
    with torch.no_grad():
        net.theta.copy_(_ridge_start(x_train, y_train, l2))
        net.standardise_latent(x_train)
        net.start_from_linear(x_train, y_train)
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
    surrogate.valid_log_likelihood = surrogate.log_likelihood(
        library[valid_index], labels[valid_index]
    )
    return surrogate
