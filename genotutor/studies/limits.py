"""Chapter 5's experiments on two limits of perturbation and gradients: redundancy trained
by dropout (limit 7) and vanishing input gradients in deep plain networks (limit 8).

Both train tiny CNNs on one small planted task, a CTCF-only version of the chapter-1 task
(:data:`TASK`), with :func:`genotutor.training.train_cached`, so the chapter trains each
model once. Which sizes, rates, depths and seeds is decided here; the measurements use
the library (:mod:`genotutor.interpret.ablation`, :func:`genotutor.attribution.attribute`).

Taught in chapter 5.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from genotutor.interpret.ablation import ablation_effects, motif_response
from genotutor.interpret.gia import insert_motifs
from genotutor.seeding import seeded
from genotutor.sequences import random_sequences
from genotutor.simulate import planted_motif_task
from genotutor.studies.planted import PlantedModel, _train_planted
from genotutor.studies.settings import study_seed
from genotutor.targets import Target
from genotutor.validation import check_choice, check_number, check_positive_int

# the small task of both limits: CTCF is the only driver (the SP1 decoy stays)
TASK = {"n": 3000, "length": 100, "seed": 0, "drivers": ["CTCF"]}
DROPOUT_RATES = (0.0, 0.3, 0.6)
DEPTHS = (2, 4, 8, 16, 32)
VARIANTS = ("plain", "plain, He init", "plain, batch norm", "residual")


class DropoutCNN(nn.Module):
    """Convolution, ReLU, channel dropout (whole filters), max pooling, a dense head.

    ``nn.Dropout1d`` zeroes whole filters during training, the unit that chapter 5
    ablates. Taught in chapter 5.
    """

    def __init__(self, length: int, *, n_filters: int = 16, width: int = 15,
                 dropout: float = 0.0, pool: int = 10, hidden: int = 32) -> None:  # fmt: skip
        super().__init__()
        dropout = check_number(dropout, "dropout", minimum=0, maximum=1, inclusive=(True, False))
        self.conv = nn.Conv1d(4, n_filters, width, padding=width // 2)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout1d(dropout)
        self.pool = nn.MaxPool1d(pool)
        self.flatten = nn.Flatten()
        self.dense = nn.Linear(n_filters * (length // pool), hidden)
        self.dense_relu = nn.ReLU()
        self.output = nn.Linear(hidden, 1)

    @property
    def first_conv(self) -> nn.Conv1d:
        return self.conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.flatten(self.pool(self.dropout(self.relu(self.conv(x)))))
        return self.output(self.dense_relu(self.dense(h)))


class Block(nn.Module):
    """``relu(norm(conv(x)))``, plus ``x`` when residual: one layer of :class:`DeepStack`."""

    def __init__(self, channels: int, *, residual: bool, norm: bool) -> None:
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, 3, padding=1)
        self.norm = nn.BatchNorm1d(channels) if norm else nn.Identity()
        self.relu = nn.ReLU()
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.relu(self.norm(self.conv(x)))
        return x + h if self.residual else h


class DeepStack(nn.Module):
    """A stem convolution, ``depth`` blocks of width-3 convolutions, global max pooling and a
    linear read-out: the deep plain (or residual) ReLU network of limit 8.

    Taught in chapter 5.
    """

    def __init__(self, depth: int, *, channels: int = 16, residual: bool = False,
                 norm: bool = False, he_init: bool = False) -> None:  # fmt: skip
        super().__init__()
        self.stem = nn.Conv1d(4, channels, 9, padding=4)
        self.stem_relu = nn.ReLU()
        self.blocks = nn.Sequential(
            *(Block(channels, residual=residual, norm=norm)
              for _ in range(check_positive_int(depth, "depth")))
        )  # fmt: skip
        self.pool = nn.AdaptiveMaxPool1d(1)
        self.flatten = nn.Flatten()
        self.output = nn.Linear(channels, 1)
        if he_init:  # variance 2 / fan_in, the ReLU-preserving scale (He et al. 2015)
            for module in self.modules():
                if isinstance(module, nn.Conv1d):
                    nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                    nn.init.zeros_(module.bias)

    @property
    def first_conv(self) -> nn.Conv1d:
        return self.stem

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.stem_relu(self.stem(x)))
        return self.output(self.flatten(self.pool(h)))


def _task(task: dict | None) -> tuple[dict, object]:
    spec = dict(TASK if task is None else task)
    spec["seed"] = study_seed(spec["seed"])
    options = {k: v for k, v in spec.items() if k not in ("n", "length", "seed")}
    simulated = planted_motif_task(spec["n"], spec["length"], seed=spec["seed"], **options)
    return spec, simulated


def dropout_model(dropout: float, *, seed: int = 0, task: dict | None = None,
                  progress: bool = True, **fit_options: object) -> PlantedModel:  # fmt: skip
    """:class:`DropoutCNN` with channel dropout ``dropout``, trained on :data:`TASK`
    (``epochs=8, patience=3`` unless given) or loaded from the cache.

    Taught in chapter 5.
    """
    spec, simulated = _task(task)
    config = {"name": "limits-dropout-cnn", "dropout": float(dropout), "task": spec}
    fit_options = {"epochs": 8, "patience": 3} | fit_options
    return _train_planted(config, simulated, lambda: DropoutCNN(spec["length"], dropout=dropout),
                          seed=seed, progress=progress, **fit_options)  # fmt: skip


def redundancy_table(models: dict, background: torch.Tensor, *, motif: str = "CTCF",
                     position: int = 40, fraction: float = 0.25,
                     target: Target = 0) -> pd.DataFrame:  # fmt: skip
    """Single-filter versus group ablation of ``motif``'s effect, one row per model.

    The motif is planted at ``position`` into ``background``; the motif's filters are those
    whose largest activation rises by at least ``fraction`` of the largest rise of any
    filter (:func:`motif_response`). For each model the table gives the motif's effect on
    the logit, how many filters respond, the share of the effect removed by the single
    most important filter and by the whole group, their ratio (``single / group``) and
    the sum of the single-filter shares over the group divided by the group's share (1 for
    additive filters, below 1 when filters stand in for each other).

    ``models`` maps a label (e.g. ``(rate, seed)``) to a trained model; ``target`` is what
    to follow (the logit by default; a callable such as ``lambda y: torch.sigmoid(y[:, 0])``
    for the probability). Taught in chapter 5.
    """
    planted = insert_motifs(background, motif, position)
    rows = {}
    for label, model in models.items():
        response = motif_response(model, background, motif, position)
        group = [int(f) for f in response.index[response >= fraction * response.max()]]
        table = ablation_effects(model, planted, background, groups={"group": group}, target=target)
        singles = table.drop(index="group")
        rows[label] = {
            "motif effect": table.attrs["effect"],
            "filters responding": len(group),
            "largest single share": float(singles["share"].max()),
            "group share": float(table.loc["group", "share"]),
            "single / group": float(singles["share"].max() / table.loc["group", "share"]),
            "sum of singles / group": float(
                singles.loc[[f"filter {f}" for f in group], "share"].sum()
                / table.loc["group", "share"]
            ),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def gradient_norms(depths: tuple[int, ...] = DEPTHS, *, variants: tuple[str, ...] = VARIANTS,
                   n_sequences: int = 32, length: int = 100,
                   seeds: tuple[int, ...] = (0, 1, 2)) -> pd.DataFrame:  # fmt: skip
    """Input-gradient norm of untrained :class:`DeepStack` models against depth.

    For each variant and depth: the geometric mean over ``seeds`` (initialisations) of the
    mean over random sequences of ``||d f / d x||``. Batch norm runs with batch statistics,
    as during training (in eval mode, freshly initialised, it would be the identity).

    Returns
    -------
    pandas.DataFrame
        Index: depth; one column per variant.

    Taught in chapter 5.
    """
    for variant in variants:
        check_choice(variant, "variants", VARIANTS)
    x = random_sequences(n_sequences, length, seed=study_seed(0))
    table = pd.DataFrame(index=pd.Index(list(depths), name="depth"), columns=list(variants),
                         dtype=float)  # fmt: skip
    for variant in variants:
        options = {"residual": variant == "residual", "norm": variant == "plain, batch norm",
                   "he_init": variant == "plain, He init"}  # fmt: skip
        for depth in depths:
            norms = []
            for seed in seeds:
                with seeded(study_seed(seed)):
                    model = DeepStack(depth, **options).train(variant == "plain, batch norm")
                leaf = x.clone().requires_grad_()
                (grad,) = torch.autograd.grad(model(leaf).sum(), leaf)
                norms.append(float(grad.flatten(1).norm(dim=1).mean()))
            table.loc[depth, variant] = float(np.exp(np.mean(np.log(norms))))
    return table


def deep_model(residual: bool, *, depth: int = 8, seed: int = 0, task: dict | None = None,
               progress: bool = True, **fit_options: object) -> PlantedModel:  # fmt: skip
    """A plain or residual :class:`DeepStack` of ``depth`` blocks (PyTorch's default
    initialisation) trained on :data:`TASK` (``epochs=6, patience=3`` unless given).

    Taught in chapter 5.
    """
    spec, simulated = _task(task)
    config = {"name": "limits-deep-stack", "residual": bool(residual), "depth": depth,
              "task": spec}  # fmt: skip
    fit_options = {"epochs": 6, "patience": 3} | fit_options
    return _train_planted(config, simulated, lambda: DeepStack(depth, residual=residual),
                          seed=seed, progress=progress, **fit_options)  # fmt: skip
