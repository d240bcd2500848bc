"""Chapter 6's experiments: a CNN + attention model on the long-range pair task, the
multicollinearity limit of its attention maps, and transparent models against a black box.

Which sizes, seeds and tasks, and the truth the maps are scored against, are decided
here; what is true of any model is in :mod:`genotutor.interpret.attention` and
:mod:`genotutor.models.transparent`.

Taught in chapter 6.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
import torch
from torch import nn

from genotutor.attribution import attribute
from genotutor.evaluation import attribution_auroc, auroc, stability
from genotutor.interpret.attention import (
    attention_auroc,
    attention_condition_number,
    attention_maps,
    equivalent_attention,
)
from genotutor.models import AttentionCNN, DeepBind, TransparentNet, WithFreeTerm
from genotutor.simulate import PlantedTask, cooperative_task, long_range_task
from genotutor.studies.planted import PlantedModel, _train_planted
from genotutor.studies.settings import study_seed
from genotutor.training import predict
from genotutor.validation import check_number, check_positive_int

PAIR = ("CTCF", "CEBPB")
# DeepLIFT has no rule for the softmax (nor for the products Q K^T and A V, which are no
# modules): the softmax is passed through as if linear, i.e. by its gradient.
ATTENTION_RULES = {nn.Softmax: "linear"}


def long_range_model(
    *,
    seed: int = 0,
    n: int = 6000,
    length: int = 200,
    task_seed: int = 0,
    progress: bool = False,
    **fit_options: object,
) -> PlantedModel:
    """An :class:`~genotutor.models.AttentionCNN` trained (or loaded) on
    :func:`genotutor.simulate.long_range_task` (CTCF and CEBPB at least 100 nt apart).

    Training: Adam, ``lr=5e-3``, batches of 128, at most 10 epochs, patience 3, binary
    cross-entropy, unless ``fit_options`` say otherwise. Taught in chapter 6.
    """
    task_seed = study_seed(task_seed)
    task = long_range_task(n, length, pair=PAIR, min_distance=100, seed=task_seed)
    config = {
        "name": "ch5-long-range-attention",
        "task": {"n": n, "length": length, "pair": list(PAIR), "min_distance": 100,
                 "seed": task_seed},
        "model": "AttentionCNN(length) defaults",
    }  # fmt: skip
    options = {"epochs": 10, "lr": 5e-3, "batch_size": 128, "patience": 3} | fit_options
    return _train_planted(
        config, task, lambda: AttentionCNN(length), seed=seed, progress=progress, **options
    )


def token_truth(model: AttentionCNN, task: PlantedTask) -> tuple[torch.Tensor, torch.Tensor]:
    """The planted answer at the level of tokens, for sequences that carry both motifs.

    A token *sees* a motif when its receptive field (:meth:`AttentionCNN.token_span`)
    holds the whole motif. Returns ``(tokens, pairs)``: ``(N, T)`` True at tokens that
    see a driver motif, and ``(N, T, T)`` True at ``(i, j)`` when ``i`` sees one motif of
    the pair and ``j`` the other (both orders).
    """
    spans = [model.token_span(t) for t in range(model.n_tokens)]
    tokens = torch.zeros(len(task), model.n_tokens, dtype=torch.bool)
    pairs = torch.zeros(len(task), model.n_tokens, model.n_tokens, dtype=torch.bool)
    drivers = task.sites[task.sites["role"] == "driver"]
    for i, rows in drivers.groupby("sequence"):
        seen = {
            row.motif: [t for t, (a, b) in enumerate(spans) if a <= row.start and row.end <= b]
            for row in rows.itertuples()
        }
        for found in seen.values():
            tokens[i, found] = True
        if len(seen) == 2:
            first, second = seen.values()
            for a in first:
                pairs[i, a, second] = True
                pairs[i, second, a] = True
    return tokens, pairs


def positives(planted: PlantedModel, limit: int | None = None) -> PlantedTask:
    """The test sequences that carry the pair (the positives), at most ``limit`` of them."""
    index = torch.nonzero(planted.test.y[:, 0]).flatten()
    return planted.test.subset(index[:limit] if limit is not None else index)


ATTRIBUTION_METHODS = ("saliency", "grad_x_input", "deeplift_shap", "ism")


def attribution_scores(model: nn.Module, x: torch.Tensor, method: str) -> torch.Tensor:
    """``attribute(model, x, method)`` as the chapter runs it (DeepLIFT-SHAP with 10
    shuffled references and the softmax passed through by its gradient)."""
    if method == "deeplift_shap":
        options = {"rules": ATTENTION_RULES, "warn": False, "n_references": 10}
    else:
        options = {}
    return attribute(model, x, method, progress=False, **options)


def attention_versus_attribution(planted: PlantedModel, *, limit: int = 100) -> pd.DataFrame:
    """AUROCs on the test positives: attention against the planted pairs (heads averaged
    and per head), and each attribution method against the planted motif positions."""
    test = positives(planted, limit)
    _, pairs = token_truth(planted.model, test)
    maps = attention_maps(planted.model, test.x, layer="attention")
    rows = [("attention, heads averaged", "token pairs", attention_auroc(maps, pairs).pooled)]
    rows += [
        (f"attention, head {h}", "token pairs", attention_auroc(maps[:, h], pairs).pooled)
        for h in range(maps.shape[1])
    ]
    for method in ATTRIBUTION_METHODS:
        scores = attribution_scores(planted.model, test.x, method)
        rows.append((method, "bases", attribution_auroc(scores, test.mask).pooled))
    return pd.DataFrame(rows, columns=["map", "ranks", "auroc"]).set_index("map")


def correlated_values(
    n_tokens: int, head_dim: int, correlation: float, *, seed: int = 0
) -> torch.Tensor:
    """Random value vectors ``(n_tokens, head_dim)`` whose tokens ``i, j`` correlate by
    ``correlation ** |i - j|`` (neighbouring tokens alike, as overlapping windows are)."""
    n_tokens = check_positive_int(n_tokens, "n_tokens", minimum=2)
    rho = check_number(correlation, "correlation", minimum=0, maximum=1, inclusive=(True, False))
    lags = np.abs(np.subtract.outer(np.arange(n_tokens), np.arange(n_tokens)))
    root = np.linalg.cholesky(rho**lags)
    z = np.random.default_rng(study_seed(seed)).standard_normal((n_tokens, head_dim))
    return torch.from_numpy(root @ z)


def conditioning_table(
    correlations: tuple[float, ...] = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99),
    *,
    n_tokens: int = 8,
    head_dim: int = 8,
    n_draws: int = 20,
    tolerance: float = 0.01,
) -> pd.DataFrame:
    """Condition number of the rows-to-outputs map against the tokens' correlation, and
    how far a row can move (total variation) while every output moves by <= ``tolerance``.

    ``head_dim >= n_tokens - 1``, so the map is invertible and the numbers are finite.
    Medians over ``n_draws`` random value matrices and random rows (Dirichlet(1)).
    """
    rng = np.random.default_rng(study_seed(0))
    rows = []
    for rho in correlations:
        conds, moves = [], []
        for draw in range(n_draws):
            v = correlated_values(n_tokens, head_dim, rho, seed=draw)
            conds.append(float(attention_condition_number(v)))
            a = torch.from_numpy(rng.dirichlet(np.ones(n_tokens)))[None, None, None]
            b = equivalent_attention(a.float(), v[None, None].float(), tolerance=tolerance)
            moves.append(0.5 * float((b.double() - a).abs().sum()))
        rows.append((rho, np.median(conds), np.median(moves)))
    columns = ["correlation", "condition number", f"row change at output tolerance {tolerance}"]
    return pd.DataFrame(rows, columns=columns).set_index("correlation")


@dataclass
class SeedStability:
    """Attention and attribution maps of the same test positives from models trained
    with different seeds.

    Attributes
    ----------
    runs : pandas.DataFrame
        One row per seed: ``test_auroc``, ``attention_auroc`` (heads averaged, token pairs),
        ``attribution_auroc`` (grad x input, bases).
    pairs : pandas.DataFrame
        One row per pair of seeds: mean cosine similarity of the head-averaged attention
        maps (``attention_cosine``) and of the grad x input maps (``attribution_cosine``).
    """

    runs: pd.DataFrame
    pairs: pd.DataFrame

    @property
    def verdict(self) -> str:
        """Which maps agree better across seeds, in one sentence with the numbers."""
        attention = float(self.pairs["attention_cosine"].mean())
        attribution = float(self.pairs["attribution_cosine"].mean())
        more, less = (
            ("attention", "grad x input")
            if attention > attribution
            else ("grad x input", "attention")
        )
        return (
            f"{more} maps agree better across seeds than {less} maps here (mean cosine "
            f"over seed pairs: attention {attention:.3f}, grad x input {attribution:.3f})"
        )


def seed_stability(seeds: tuple[int, ...] = (0, 1, 2), *, limit: int = 100) -> SeedStability:
    """Train (or load) one :func:`long_range_model` per seed and compare their maps."""
    maps, scores, runs = {}, {}, []
    for seed in seeds:
        planted = long_range_model(seed=seed)
        test = positives(planted, limit)
        _, pairs = token_truth(planted.model, test)
        maps[seed] = attention_maps(planted.model, test.x, layer="attention").mean(1)
        scores[seed] = attribute(planted.model, test.x, "grad_x_input", progress=False)
        runs.append({
            "seed": seed,
            "test_auroc": auroc(planted.test.y[:, 0], predict(planted.model, planted.test.x)[:, 0]),
            "attention_auroc": attention_auroc(maps[seed], pairs).pooled,
            "attribution_auroc": attribution_auroc(scores[seed], test.mask).pooled,
        })  # fmt: skip
    pair_rows = [
        {
            "seeds": f"{a} vs {b}",
            "attention_cosine": float(stability(maps[a], maps[b])["cosine"].mean()),
            "attribution_cosine": float(stability(scores[a], scores[b])["cosine"].mean()),
        }
        for a, b in combinations(seeds, 2)
    ]
    return SeedStability(
        pd.DataFrame(runs).set_index("seed"), pd.DataFrame(pair_rows).set_index("seeds")
    )


# --------------------------------------------------------------------------- transparent
def _free_cnn() -> nn.Module:
    """The black box's free term: a DeepBind-style CNN whose filters (width 25) can see
    the whole cooperative pair (10 + 8 + 7 bases) at once."""
    return DeepBind(n_filters=16, filter_width=25, hidden=16)


def transparent_model(
    kind: str,
    *,
    cooperative: bool,
    n: int = 4000,
    length: int = 150,
    seed: int = 0,
    **fit_options: object,
) -> PlantedModel:
    """A :class:`~genotutor.models.TransparentNet` (``kind="transparent"``) or the same
    plus a free CNN (``kind="black box"``, :class:`~genotutor.models.WithFreeTerm` with a
    DeepBind-style net of 16 filters of width 25), trained
    on :func:`genotutor.simulate.cooperative_task` with ``effects=(1, 1, 2)``
    (``cooperative``) or ``(1, 1, 0)`` (additive). MSE, Adam ``lr=3e-3``, batches of 64,
    at most 30 epochs, patience 6, unless ``fit_options`` say otherwise (with a patience of
    3, one seed in three stopped on a plateau of the validation loss, far from the others)."""
    effects = (1.0, 1.0, 2.0 if cooperative else 0.0)
    task = cooperative_task(n, length, effects=effects, seed=study_seed(0))
    config = {
        "name": f"ch5-{kind.replace(' ', '-')}",
        "task": {"n": n, "length": length, "effects": list(effects), "seed": study_seed(0)},
        "model": kind,
    }

    def build() -> nn.Module:
        net = TransparentNet()
        return net if kind == "transparent" else WithFreeTerm(net, _free_cnn())

    options = {"loss": "mse", "epochs": 30, "lr": 3e-3, "batch_size": 64, "patience": 6}
    return _train_planted(config, task, build, seed=seed, progress=False, **(options | fit_options))


def additive_oracle_loss(task: PlantedTask) -> dict[str, float]:
    """Test MSE of the best predictors that know the layout: additive in the two motifs'
    presence (``c + a [first] + b [second]``, least squares) and with every layout its
    own mean (the unconstrained optimum, which leaves only the noise)."""
    layout = task.sites.groupby("sequence")["layout"].first().reindex(range(len(task)))
    layout = layout.fillna("none").to_numpy()
    first = np.isin(layout, ["first", "pair", "misspaced"]).astype(float)
    second = np.isin(layout, ["second", "pair", "misspaced"]).astype(float)
    y = task.y[:, 0].numpy().astype(float)
    design = np.column_stack([np.ones_like(y), first, second])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    means = pd.Series(y).groupby(layout).transform("mean").to_numpy()
    return {
        "additive oracle": float(np.mean((design @ coef - y) ** 2)),
        "layout oracle": float(np.mean((means - y) ** 2)),
    }


def transparency_gap(seeds: tuple[int, ...] = (0,)) -> tuple[pd.DataFrame, dict]:
    """Test MSE of the transparent model and the black box on both tasks, for each training
    seed, with the oracles of :func:`additive_oracle_loss` (which do not train); and the
    trained models.

    Returns
    -------
    pandas.DataFrame
        Index ``(seed, model)`` (the oracles under every seed, unchanged), one column per
        task (``additive``, ``cooperative``).
    dict
        ``(task, kind, seed) -> PlantedModel``.
    """
    seeds = tuple(check_positive_int(seed, "seeds", minimum=0) for seed in seeds)
    if not seeds:
        raise ValueError("seeds is empty; expected at least one seed")
    table, models = {}, {}
    for cooperative in (False, True):
        task_name = "cooperative" if cooperative else "additive"
        column = {}
        for seed in seeds:
            for kind in ("transparent", "black box"):
                planted = transparent_model(kind, cooperative=cooperative, seed=seed)
                prediction = predict(planted.model, planted.test.x)
                column[seed, kind] = float(((prediction - planted.test.y) ** 2).mean())
                models[(task_name, kind, seed)] = planted
            oracles = additive_oracle_loss(planted.test)
            column |= {(seed, name): value for name, value in oracles.items()}
        table[task_name] = column
    frame = pd.DataFrame(table)
    frame.index.names = ["seed", "model"]
    return frame, models
