"""Training loop: seeded, early-stopped, with a progress bar and an optional extra loss.

The extra loss term is where an attribution prior plugs in (chapter 7): it is called as
``extra_loss(model, x, y)`` on every batch and added with weight ``extra_loss_weight``.

Taught in chapter 1.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from genotutor.cache import TrainedModel, train_or_load
from genotutor.progress import progress_bar
from genotutor.seeding import seeded
from genotutor.targets import Output, Target, select, select_output
from genotutor.validation import (
    check_bool,
    check_choice,
    check_device,
    check_model,
    check_number,
    check_positive_int,
    check_target,
    check_tensor,
)

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
        The epoch whose weights were kept: the lowest validation loss, or the last epoch
        when there was no validation set.
    """

    history: pd.DataFrame
    best_epoch: int


def _check_pair(
    data: object, name: str, *, any_labels: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{name} must be a pair (x, y) of tensors; found {type(data).__name__}")
    x, y = data
    check_tensor(x, f"{name}[0]", ndim=3, channels=None)
    check_tensor(y, f"{name}[1]", ndim=(1, 2, 3, 4) if any_labels else (1, 2), channels=None)
    if len(x) != len(y):
        raise ValueError(f"{name} has {len(x)} sequences but {len(y)} labels; expected equal")
    return x, (y[:, None] if y.ndim == 1 else y)


def _loss_function(name: object) -> Callable:
    if callable(name):
        return name
    check_choice(name, "loss", LOSSES)
    return nn.BCEWithLogitsLoss() if name == "bce" else nn.MSELoss()


def _evaluate(model: nn.Module, x, y, loss_fn, batch_size: int, device: torch.device) -> float:
    model.eval()
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            xb = x[start : start + batch_size].to(device)
            yb = y[start : start + batch_size].to(device)
            total += float(loss_fn(model(xb), yb)) * len(xb)
    return total / len(x)


def _train_epoch(model, x, y, order, options: dict, device: torch.device) -> dict:
    """One pass over the training data in the order given; the epoch's mean losses."""
    model.train()
    train_total = extra_total = 0.0
    extra_loss = options["extra_loss"]
    for start in range(0, len(order), options["batch_size"]):
        index = order[start : start + options["batch_size"]]
        xb, yb = x[index].to(device), y[index].to(device)
        if options["reverse_complement"]:
            xb, yb = torch.cat([xb, xb.flip(dims=(-2, -1))]), torch.cat([yb, yb])
        batch_loss = options["loss_fn"](model(xb), yb)
        total = batch_loss
        if extra_loss is not None:
            extra = extra_loss(model, xb, yb)
            total = total + options["extra_loss_weight"] * extra
            extra_total += float(extra.detach()) * len(index)
        options["optimiser"].zero_grad()
        total.backward()
        options["optimiser"].step()
        train_total += float(batch_loss.detach()) * len(index)
    row = {"train_loss": train_total / len(x)}
    if extra_loss is not None:
        row["extra_loss"] = extra_total / len(x)
    return row


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
    loss: str | Callable = "bce",
    seed: int = 0,
    reverse_complement: bool = False,
    extra_loss: ExtraLoss | None = None,
    extra_loss_weight: float = 1.0,
    device: object = None,
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
    loss : {"bce", "mse"} or callable
        Binary cross-entropy on logits, mean squared error, or your own
        ``loss(output, y) -> scalar`` for a model with several outputs (``output`` is
        whatever the model returns, ``y`` a batch of the labels, of any shape ``(N, ...)``).
    seed : int
        Seeds the batch order (a local generator) and dropout (a seeded fork of torch's
        global generator, :func:`genotutor.seeding.seeded`); the same seed and initial
        weights give the same trained weights, and the caller's random state is left as
        it was.
    reverse_complement : bool
        Augment each batch with its reverse complement.
    extra_loss : callable, optional
        ``extra_loss(model, x, y) -> scalar tensor`` added to every batch's loss.
    extra_loss_weight : float
        The weight (lambda) of ``extra_loss``.
    device : str or torch.device, optional
        Where to train ("cuda", "mps", ...); the model's own device by default. Batches
        are moved there one at a time; the model goes back to its device afterwards.
    progress : bool
        Show a tqdm progress bar over epochs.

    Returns
    -------
    FitResult

    Taught in chapter 1 (the extra loss in chapter 7).
    """
    check_model(model)
    any_labels = callable(loss)
    x_train, y_train = _check_pair(train, "train", any_labels=any_labels)
    x_valid, y_valid = (
        _check_pair(valid, "valid", any_labels=any_labels) if valid is not None else (None, None)
    )
    epochs = check_positive_int(epochs, "epochs")
    options = {
        "batch_size": check_positive_int(batch_size, "batch_size"),
        "loss_fn": _loss_function(loss),
        "reverse_complement": check_bool(reverse_complement, "reverse_complement"),
        "extra_loss": extra_loss,
        "extra_loss_weight": check_number(extra_loss_weight, "extra_loss_weight"),
    }
    patience = check_positive_int(patience, "patience")
    lr = check_number(lr, "lr", minimum=0, inclusive=(False, True))
    weight_decay = check_number(weight_decay, "weight_decay", minimum=0)
    seed = check_positive_int(seed, "seed", minimum=0)
    check_bool(progress, "progress")
    if extra_loss is not None and not callable(extra_loss):
        raise TypeError(f"extra_loss must be callable or None; found {type(extra_loss).__name__}")
    generator = torch.Generator().manual_seed(seed)  # the batch order
    best_loss, best_epoch, best_state, waited, rows = float("inf"), 0, None, 0, []
    # dropout draws from torch's global generator: a seeded fork of it, the caller's kept
    with on_device(model, device, train=True) as here, seeded(seed, here):
        options["optimiser"] = torch.optim.Adam(
            model.parameters(), lr=lr, weight_decay=weight_decay
        )
        for epoch in (
            bar := progress_bar(range(1, epochs + 1), desc="training", progress=progress)
        ):
            order = torch.randperm(len(x_train), generator=generator)
            row = {"epoch": epoch, **_train_epoch(model, x_train, y_train, order, options, here)}
            if x_valid is not None:
                row["valid_loss"] = _evaluate(
                    model, x_valid, y_valid, options["loss_fn"], 4 * options["batch_size"], here
                )
            rows.append(row)
            bar.set_postfix({k: f"{v:.3f}" for k, v in row.items() if k != "epoch"})
            if x_valid is None:  # nothing to select on: the last epoch is the one kept
                best_epoch = epoch
                continue
            if row["valid_loss"] < best_loss:
                best_loss, best_epoch, waited = row["valid_loss"], epoch, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                waited += 1
                if waited >= patience:
                    break
        if best_state is not None:
            model.load_state_dict(best_state)
    model.eval()
    return FitResult(history=pd.DataFrame(rows), best_epoch=best_epoch)


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter (or buffer); the CPU for a model with
    neither. Taught in chapter 1."""
    for tensor in itertools.chain(model.parameters(), model.buffers()):
        return tensor.device
    return torch.device("cpu")


@contextmanager
def on_device(
    model: nn.Module, device: object = None, *, train: bool = False
) -> Iterator[torch.device]:
    """Run ``model`` for a block on ``device`` in eval (or train) mode, then put it back.

    The one place where genotutor moves a model: every function that runs one goes
    through it (``evaluating`` for outputs, ``fit`` for training). ``device=None`` keeps
    the model where it is; otherwise the model is moved for the block. Its device and its
    train/eval mode are restored in ``finally``, so also after an error. Yields the device
    the block runs on: move inputs there, and results back to the input's device.

    Taught in chapter 1.
    """
    check_model(model)
    target = check_device(device)
    original, was_training = model_device(model), model.training
    here = original if target is None else target
    moved = here != original
    if moved:
        model.to(here)
    model.train(train)
    try:
        yield here
    finally:
        if moved:
            model.to(original)
        model.train(was_training)


@contextmanager
def evaluating(model: nn.Module, device: object = None) -> Iterator[torch.device]:
    """Put ``model`` in eval mode (on ``device``, if given) for a block and restore its
    mode and device afterwards; yields the device the block runs on.

    The one eval-mode context manager of genotutor: every function that runs a model
    for its outputs (prediction, attribution, GIA, probes) goes through it. Both are
    restored in ``finally``, so also after an error. Taught in chapter 1.
    """
    with on_device(model, device, train=False) as here:
        yield here


def _concatenated(parts: list) -> object:
    """Batches of a model's return value joined along the batch axis, in the same structure."""
    first = parts[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(parts)
    if isinstance(first, Mapping):
        return {key: torch.cat([part[key] for part in parts]) for key in first}
    return type(first)(torch.cat(list(pieces)) for pieces in zip(*parts))


def _to(value: object, device: torch.device) -> object:
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, Mapping):
        return {key: item.to(device) for key, item in value.items()}
    return type(value)(item.to(device) for item in value)


def predict(
    model: nn.Module,
    x: torch.Tensor,
    *,
    output: Output = None,
    target: Target | None = None,
    batch_size: int = 512,
    device: object = None,
    progress: bool = False,
) -> object:
    """Model outputs for ``x`` in eval mode, without gradients, in batches: the one batched
    forward pass of genotutor (attribution, ISM, probes, explorers and studies go through it).

    Parameters
    ----------
    model : torch.nn.Module
    x : torch.Tensor, shape (N, 4, L)
    output : int or str, optional
        Which element of a tuple/list (index) or dict (key) the model returns; see
        :mod:`genotutor.targets`. None: the model's whole return value.
    target : int, slice, sequence of int or callable, optional
        Reduce the (selected) output to one value per sequence, as every attribution method
        does (see :func:`genotutor.targets.select`). None: the output itself.
    batch_size : int
        Sequences per forward pass.
    device : str or torch.device, optional
        Where to run (the model's own device by default); see :func:`on_device`.
    progress : bool
        A progress bar over the batches (shown only when there is more than one). Off by
        default: a forward pass is quick next to what calls it.

    Returns
    -------
    torch.Tensor, shape (N, T) (or the model's tuple / dict of ``(N, ...)`` tensors)
        With ``target``: shape ``(N,)``. On ``x``'s device.

    The model's mode and device are restored afterwards. Taught in chapter 1 (``output=``
    and ``target=`` in chapter 12).
    """
    check_model(model)
    check_tensor(x, "x", ndim=3, channels=None)
    batch_size = check_positive_int(batch_size, "batch_size")
    show = check_bool(progress, "progress") and len(x) > batch_size
    if target is not None:
        target = check_target(target, spec=True)
    parts = []
    with evaluating(model, device) as here, torch.no_grad():
        starts = range(0, len(x), batch_size)
        for start in progress_bar(starts, desc="predict", progress=show):
            raw = model(x[start : start + batch_size].to(here))
            if target is not None:
                raw = select(raw, output=output, target=target)
            elif output is not None:
                raw = select_output(raw, output)
            parts.append(raw)
    return _to(_concatenated(parts), x.device)


def train_cached(
    config: Mapping,
    build: Callable[[], nn.Module],
    train: tuple[torch.Tensor, torch.Tensor],
    valid: tuple[torch.Tensor, torch.Tensor] | None = None,
    *,
    seed: int = 0,
    extra_loss: ExtraLoss | None = None,
    device: object = None,
    progress: bool = True,
    **fit_options: object,
) -> TrainedModel:
    """Train ``build()`` with :func:`fit`, or load the weights trained before for the same
    configuration: the one way genotutor trains and caches a model.

    Parameters
    ----------
    config : dict
        JSON values that say what the data and the architecture are (the data's seed and
        size, the model's settings, anything ``extra_loss`` depends on). The cache key is
        ``config`` together with ``seed`` and ``fit_options``, so an option that changes
        the weights always changes the key.
    build : callable
        ``build() -> nn.Module``, a fresh untrained model; called inside
        :func:`genotutor.seeding.seeded` with ``seed``, so its initial weights follow
        ``seed`` and not the caller's random state.
    train, valid : tuple of torch.Tensor
        ``(x, y)`` pairs, as for :func:`fit`.
    seed : int
        Seeds the initial weights and training.
    extra_loss : callable, optional
        As for :func:`fit` (describe it in ``config``: a callable is not part of the key).
    device : str or torch.device, optional
        Where to train (not part of the key: the weights are stored as a CPU state dict,
        so a model trained on a GPU loads on a laptop).
    progress : bool
        Progress bar while training (not part of the key).
    **fit_options
        Further keyword arguments of :func:`fit` (``epochs``, ``lr``, ``loss`` ...): JSON
        values, which are part of the key, or callables (a custom ``loss``), which are
        not (describe them in ``config``).

    Returns
    -------
    genotutor.cache.TrainedModel
        The model in eval mode, its history and best epoch, and whether it came from the
        cache.

    Taught in chapter 1.
    """
    seed = check_positive_int(seed, "seed", minimum=0)
    described = {k: v for k, v in fit_options.items() if not callable(v)}
    key = {**dict(config), "seed": seed, "fit": described}

    def run(model: nn.Module) -> FitResult:
        return fit(
            model,
            train,
            valid,
            seed=seed,
            extra_loss=extra_loss,
            device=device,
            progress=progress,
            **fit_options,
        )

    return train_or_load(key, build, run)
