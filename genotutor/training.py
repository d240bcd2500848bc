"""Training loop: seeded, early-stopped, with a progress bar and an optional extra loss.

The extra loss term is where an attribution prior plugs in (chapter 5): it is called as
``extra_loss(model, x, y)`` on every batch and added with weight ``extra_loss_weight``.

Taught in chapter 1.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from genotutor.sequences import check_choice, check_model, check_positive_int, check_tensor

ExtraLoss = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]
LOSSES = ("bce", "mse")


@dataclass
class FitResult:
    """What :func:`fit` returns.

    Attributes
    ----------
    history : pandas.DataFrame
        One row per epoch: ``epoch``, ``train_loss``, ``valid_loss`` (and ``extra_loss``).
    best_epoch : int
        The epoch whose weights were kept (lowest validation loss).
    """

    history: pd.DataFrame
    best_epoch: int


def _check_pair(data: object, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{name} must be a pair (x, y) of tensors; found {type(data).__name__}")
    x, y = data
    check_tensor(x, f"{name}[0]", ndim=3, channels=None)
    check_tensor(y, f"{name}[1]", ndim=(1, 2), channels=None)
    if len(x) != len(y):
        raise ValueError(f"{name} has {len(x)} sequences but {len(y)} labels; expected equal")
    return x, (y[:, None] if y.ndim == 1 else y)


def _loss_function(name: str) -> nn.Module:
    check_choice(name, "loss", LOSSES)
    return nn.BCEWithLogitsLoss() if name == "bce" else nn.MSELoss()


def _evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn, batch_size: int):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            total += float(loss_fn(model(xb), yb)) * len(xb)
    return total / len(x)


def fit(
    model: nn.Module,
    train: tuple[torch.Tensor, torch.Tensor],
    valid: tuple[torch.Tensor, torch.Tensor] | None = None,
    *,
    epochs: int = 20,
    batch_size: int = 128,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    patience: int = 3,
    loss: str = "bce",
    seed: int = 0,
    reverse_complement: bool = False,
    extra_loss: ExtraLoss | None = None,
    extra_loss_weight: float = 1.0,
    progress: bool = True,
) -> FitResult:
    """Train ``model`` in place with Adam, keeping the weights of the best validation epoch.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(N, 4, L)`` to ``(N, T)`` logits (or values, with ``loss="mse"``).
    train, valid : tuple of torch.Tensor
        ``(x, y)`` with ``x`` of shape ``(N, 4, L)`` and ``y`` of shape ``(N, T)`` or ``(N,)``.
        Without ``valid`` the last epoch is kept.
    epochs, batch_size, lr, weight_decay : number
        Optimiser settings.
    patience : int
        Stop after this many epochs without a better validation loss.
    loss : {"bce", "mse"}
        Binary cross-entropy on logits, or mean squared error.
    seed : int
        Seeds the batch order (and dropout); the same seed and initial weights give the
        same trained weights.
    reverse_complement : bool
        Augment each batch with its reverse complement.
    extra_loss : callable, optional
        ``extra_loss(model, x, y) -> scalar tensor`` added to every batch's loss.
    extra_loss_weight : float
        The weight (lambda) of ``extra_loss``.
    progress : bool
        Show a tqdm progress bar over epochs.

    Returns
    -------
    FitResult

    Taught in chapter 1 (the extra loss in chapter 5).
    """
    check_model(model)
    x_train, y_train = _check_pair(train, "train")
    x_valid, y_valid = _check_pair(valid, "valid") if valid is not None else (None, None)
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    loss_fn = _loss_function(loss)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    best_loss, best_epoch, best_state, waited = float("inf"), 0, None, 0
    rows = []
    bar = tqdm(range(1, epochs + 1), desc="training", disable=not progress, leave=False)
    for epoch in bar:
        model.train()
        order = torch.randperm(len(x_train), generator=generator)
        train_total = extra_total = 0.0
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            xb, yb = x_train[index], y_train[index]
            if reverse_complement:
                xb, yb = torch.cat([xb, xb.flip(dims=(-2, -1))]), torch.cat([yb, yb])
            batch_loss = loss_fn(model(xb), yb)
            total = batch_loss
            if extra_loss is not None:
                extra = extra_loss(model, xb, yb)
                total = total + extra_loss_weight * extra
                extra_total += float(extra.detach()) * len(index)
            optimiser.zero_grad()
            total.backward()
            optimiser.step()
            train_total += float(batch_loss.detach()) * len(index)
        row = {"epoch": epoch, "train_loss": train_total / len(x_train)}
        if extra_loss is not None:
            row["extra_loss"] = extra_total / len(x_train)
        if x_valid is not None:
            row["valid_loss"] = _evaluate(model, x_valid, y_valid, loss_fn, 4 * batch_size)
        rows.append(row)
        bar.set_postfix({k: f"{v:.3f}" for k, v in row.items() if k != "epoch"})
        current = row.get("valid_loss", row["train_loss"])
        if current < best_loss:
            best_loss, best_epoch, waited = current, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            waited += 1
            if x_valid is not None and waited >= patience:
                break
    if x_valid is not None and best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return FitResult(history=pd.DataFrame(rows), best_epoch=best_epoch)


def predict(model: nn.Module, x: torch.Tensor, *, batch_size: int = 512) -> torch.Tensor:
    """Model outputs for ``x`` in eval mode, without gradients, in batches.

    Parameters
    ----------
    model : torch.nn.Module
    x : torch.Tensor, shape (N, 4, L)

    Returns
    -------
    torch.Tensor, shape (N, T)

    The model's training mode is restored afterwards. Taught in chapter 1.
    """
    check_model(model)
    check_tensor(x, "x", ndim=3, channels=None)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return torch.cat([model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
    finally:
        model.train(was_training)


@dataclass
class PlantedModel:
    """A model trained on a planted-motif task, with the task's splits.

    Attributes
    ----------
    model : torch.nn.Module
        Trained, in eval mode.
    history : pandas.DataFrame
        Training history (one row per epoch).
    train, valid, test : genotutor.simulate.PlantedTask
        The splits the model was trained, early-stopped and can be tested on.
    config : dict
        The cache configuration that identifies this model.
    from_cache : bool
        Whether the weights were loaded rather than trained now.
    """

    model: nn.Module
    history: pd.DataFrame
    train: object
    valid: object
    test: object
    config: dict
    from_cache: bool


def planted_task_model(
    *,
    architecture: str = "basset",
    activation: str = "relu",
    n: int = 12000,
    length: int = 200,
    task_seed: int = 0,
    seed: int = 0,
    epochs: int = 30,
    lr: float = 1e-3,
    patience: int = 4,
    task_options: dict | None = None,
    progress: bool = True,
) -> PlantedModel:
    """Simulate a planted-motif task, then train a CNN on it or load it from the cache.

    This is the book's workhorse: chapter 1 trains it, later chapters reuse it through the
    cache (same arguments, same model, trained once).

    Parameters
    ----------
    architecture : {"basset", "deepbind"}
        Which CNN of :mod:`genotutor.models`.
    activation : {"relu", "exp"}
        First-layer activation.
    n, length, task_seed : int
        Size, sequence length and seed of :func:`genotutor.simulate.planted_motif_task`.
    seed : int
        Seed of the initial weights and of training.
    epochs, lr, patience : number
        Passed to :func:`fit`.
    task_options : dict, optional
        Further keyword arguments of ``planted_motif_task`` (e.g. ``drivers``).
    progress : bool
        Progress bar while training.

    Returns
    -------
    PlantedModel

    Taught in chapter 1.
    """
    from genotutor.models import Basset, DeepBind
    from genotutor.simulate import planted_motif_task

    check_choice(architecture, "architecture", ("basset", "deepbind"))
    options = dict(task_options or {})
    task = planted_motif_task(n, length, seed=task_seed, **options)
    train_split, valid_split, test_split = task.split(seed=task_seed)
    config = {
        "name": f"planted-{architecture}-{activation}",
        "architecture": architecture,
        "activation": activation,
        "task": {"n": n, "length": length, "seed": task_seed, **options},
        "seed": seed,
        "fit": {"epochs": epochs, "lr": lr, "patience": patience},
    }

    def build() -> nn.Module:
        if architecture == "basset":
            return Basset(length, activation=activation)
        return DeepBind(activation=activation)

    def train(model: nn.Module) -> pd.DataFrame:
        result = fit(
            model,
            (train_split.x, train_split.y),
            (valid_split.x, valid_split.y),
            epochs=epochs,
            lr=lr,
            patience=patience,
            seed=seed,
            progress=progress,
        )
        return result.history

    from genotutor.cache import train_or_load

    trained = train_or_load(config, build, train)
    return PlantedModel(
        trained.model,
        trained.history,
        train_split,
        valid_split,
        test_split,
        config,
        trained.from_cache,
    )
