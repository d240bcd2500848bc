"""Attention maps: reading them out of a model, scoring them against planted pairs, and
the multicollinearity limit (many attention maps give the same output).

An attention head outputs ``o_i = sum_j A_ij v_j = V^T a_i`` for the row ``a_i`` of its
weights. Rows live on the simplex (non-negative, summing to 1), so two rows can differ
only by ``d`` with ``sum_j d_j = 0``, and give the same output exactly when ``V^T d = 0``.
:func:`attention_condition_number` measures how ill-posed it is to read ``a_i`` back
from ``o_i``; :func:`equivalent_attention` constructs other rows with the same outputs.

Taught in chapter 6 ("Attention and transparent models").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from genotutor.evaluation import AttributionScore, attribution_auroc
from genotutor.models.attention import MultiHeadSelfAttention
from genotutor.training import predict
from genotutor.validation import (
    check_mask,
    check_model,
    check_number,
    check_positive_int,
    check_tensor,
    describe,
)

ATTENTION_TYPES = (MultiHeadSelfAttention, nn.MultiheadAttention)


def attention_layers(model: nn.Module) -> dict[str, nn.Module]:
    """The model's attention layers by module name: genotutor's
    :class:`~genotutor.models.MultiHeadSelfAttention` and ``torch.nn.MultiheadAttention``.

    Taught in chapter 6.
    """
    check_model(model)
    return {name: m for name, m in model.named_modules() if isinstance(m, ATTENTION_TYPES)}


def _pick_layers(model: nn.Module, layer: str | None) -> dict[str, nn.Module]:
    layers = attention_layers(model)
    if not layers:
        raise ValueError(
            "model has no attention layer (genotutor.models.MultiHeadSelfAttention or "
            "torch.nn.MultiheadAttention); found none among its modules"
        )
    if layer is None:
        return layers
    if layer not in layers:
        raise ValueError(f"layer must be one of {sorted(layers)}; found {layer!r}")
    return {layer: layers[layer]}


@contextmanager
def _recording(layers: dict[str, nn.Module], store: dict[str, list]) -> Iterator[None]:
    handles = []
    for name, module in layers.items():
        store[name] = []
        if isinstance(module, MultiHeadSelfAttention):

            def keep(_m, _args, out, name=name):
                store[name].append(out.detach())

            handles.append(module.softmax.register_forward_hook(keep))
        else:  # torch's layer: ask for per-head weights, then read them from its output

            def ask(_m, args, kwargs):
                return args, {**kwargs, "need_weights": True, "average_attn_weights": False}

            def read(_m, _args, out, name=name):
                store[name].append(out[1].detach())

            handles.append(module.register_forward_pre_hook(ask, with_kwargs=True))
            handles.append(module.register_forward_hook(read))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def attention_maps(
    model: nn.Module,
    x: torch.Tensor,
    *,
    layer: str | None = None,
    batch_size: int = 256,
    device: object = None,
    progress: bool = False,
) -> dict[str, torch.Tensor] | torch.Tensor:
    """Every attention layer's per-head weights for sequences ``x``.

    Parameters
    ----------
    model : torch.nn.Module
        Any model with :class:`~genotutor.models.MultiHeadSelfAttention` or
        ``torch.nn.MultiheadAttention`` layers (self-attention, batch-first).
    x : torch.Tensor, shape (N, 4, L)
    layer : str, optional
        The name of one layer (as in ``model.named_modules()``): return its maps only.
    batch_size : int
    device, progress
        Where to run, and a progress bar: as for :func:`genotutor.training.predict`.

    Returns
    -------
    dict of str to torch.Tensor, or torch.Tensor
        Shape ``(N, n_heads, T, T)`` per layer, on ``x``'s device; row ``i`` of a head is
        how query token ``i`` weighs the tokens ``j`` (each row sums to 1).

    Raises
    ------
    ValueError
        If the model has no attention layer, ``layer`` names none, or a layer was not
        called in the forward pass (e.g. a fused fast path that bypasses the module).

    Taught in chapter 6.
    """
    layers = _pick_layers(model, layer)
    x = check_tensor(x, "x")
    batch_size = check_positive_int(batch_size, "batch_size")
    store: dict[str, list] = {}
    with _recording(layers, store):
        predict(model, x, batch_size=batch_size, device=device, progress=progress)
    n_batches = -(-len(x) // batch_size)
    maps = {}
    for name, parts in store.items():
        if len(parts) != n_batches:
            raise ValueError(
                f"attention layer {name!r} ran {len(parts)} times for {n_batches} batches; "
                "expected once per batch (is it bypassed by a fused path, or reused?)"
            )
        maps[name] = torch.cat(parts).to(x.device)
    return maps[layer] if layer is not None else maps


def predict_with_attention(
    model: nn.Module,
    x: torch.Tensor,
    weights: torch.Tensor,
    *,
    layer: str | None = None,
    device: object = None,
) -> torch.Tensor:
    """The model's outputs for ``x`` with one attention layer's weights replaced.

    Parameters
    ----------
    model : torch.nn.Module
        A model with a :class:`~genotutor.models.MultiHeadSelfAttention` layer.
    x : torch.Tensor, shape (N, 4, L)
    weights : torch.Tensor, shape (N, n_heads, T, T)
        The weights to use instead of the layer's own (e.g. from
        :func:`equivalent_attention`).
    layer : str, optional
        Which layer (needed when the model has several).
    device : str or torch.device, optional
        Where to run (the model's own device by default).

    Returns
    -------
    torch.Tensor, shape (N, n_outputs)
        On ``x``'s device. All of ``x`` goes through the model in one batch.

    Taught in chapter 6.
    """
    layers = _pick_layers(model, layer)
    if len(layers) != 1:
        raise ValueError(f"model has attention layers {sorted(layers)}; pass layer= to pick one")
    name, module = next(iter(layers.items()))
    if not isinstance(module, MultiHeadSelfAttention):
        raise TypeError(
            f"layer {name!r} must be a genotutor.models.MultiHeadSelfAttention to replace its "
            f"weights; found {type(module).__name__}"
        )
    x = check_tensor(x, "x")
    weights = check_tensor(weights, "weights", ndim=4, channels=None)

    def replace(_m, _args, out):
        if out.shape != weights.shape:
            raise ValueError(
                f"weights must have the layer's shape {tuple(out.shape)} (N, heads, T, T); "
                f"found {tuple(weights.shape)}"
            )
        return weights.to(out.device, out.dtype)

    handle = module.softmax.register_forward_hook(replace)
    try:
        # one pass over all of x: the replacement weights are (N, heads, T, T)
        return predict(model, x, batch_size=len(x), device=device, progress=False)
    finally:
        handle.remove()


def attention_auroc(
    weights: torch.Tensor, truth: torch.Tensor, *, symmetric: bool = True
) -> AttributionScore:
    """How well attention ranks the planted token pairs above all other pairs: AUROC.

    Parameters
    ----------
    weights : torch.Tensor, shape (N, T, T) or (N, n_heads, T, T)
        Attention maps (heads are averaged first; pass ``weights[:, h]`` for one head).
    truth : torch.Tensor, shape (N, T, T), bool
        True at the pairs ``(i, j)`` that interact by construction.
    symmetric : bool
        Score the unordered pair ``{i, j}`` by ``A_ij + A_ji`` (either token may attend
        to the other); otherwise rank every ordered pair ``(i, j)`` by ``A_ij``. The
        diagonal (a token attending to itself) is left out either way.

    Returns
    -------
    genotutor.evaluation.AttributionScore
        ``pooled`` over all pairs of all sequences, and ``per_sequence``.

    Taught in chapter 6.
    """
    weights = check_tensor(weights, "weights", ndim=(3, 4), channels=None)
    if weights.ndim == 4:
        weights = weights.mean(1)
    if weights.shape[-1] != weights.shape[-2]:
        raise ValueError(f"weights must be square maps (N, T, T); found {describe(weights)}")
    if truth is None:
        raise TypeError("truth must be a bool tensor of the maps' shape (N, T, T); found None")
    truth = check_mask(truth, tuple(weights.shape), "truth")
    n_tokens = weights.shape[-1]
    truth = truth.to(weights.device)
    if symmetric:
        rows, cols = torch.triu_indices(n_tokens, n_tokens, offset=1)
        scores = (weights + weights.transpose(1, 2))[:, rows, cols]
        labels = (truth | truth.transpose(1, 2))[:, rows, cols]
    else:
        off = ~torch.eye(n_tokens, dtype=torch.bool, device=weights.device)
        scores, labels = weights[:, off], truth[:, off]
    return attribution_auroc(scores.cpu(), labels.cpu())


def attention_condition_number(values: torch.Tensor) -> torch.Tensor:
    """How ill-conditioned reading attention rows back from a head's outputs is.

    A row ``a`` may change only along ``d`` with ``sum_j d_j = 0`` (it stays on the
    simplex), and the output changes by ``V^T d``. The condition number of that map is
    ``s_max / s_min`` over the singular values of ``P V`` on the ``T - 1`` directions
    orthogonal to the all-ones vector (``P = I - 11^T / T``). It is infinite when
    ``head_dim < T - 1``: then some ``d`` leave the output exactly unchanged.

    Parameters
    ----------
    values : torch.Tensor, shape (..., T, head_dim)
        Value vectors of one head (or a batch of heads), one row per token.

    Returns
    -------
    torch.Tensor, shape (...)
        float64 condition numbers (``inf`` where the map has a null space).

    Taught in chapter 6.
    """
    values = check_tensor(values, "values", ndim=tuple(range(2, 8)), channels=None)
    n_tokens = values.shape[-2]
    if n_tokens < 2:
        raise ValueError(
            f"values must hold at least 2 tokens (rows); found shape {tuple(values.shape)}"
        )
    v = values.detach().double()
    centred = v - v.mean(dim=-2, keepdim=True)  # P V
    singular = torch.linalg.svdvals(centred)  # (..., min(T, d)), descending
    if values.shape[-1] < n_tokens - 1:
        return torch.full(values.shape[:-2], float("inf"), dtype=torch.float64)
    kept = singular[..., : n_tokens - 1]
    return kept[..., 0] / kept[..., -1]


def equivalent_attention(
    weights: torch.Tensor,
    values: torch.Tensor,
    *,
    cost: torch.Tensor | None = None,
    tolerance: float = 0.0,
) -> torch.Tensor:
    """Other attention rows that give the same head outputs, as unlike the given ones as a
    linear program can make them.

    For each row ``a`` of ``weights`` and the head's values ``V``, solves
    ``min c . b`` over rows ``b >= 0`` with ``sum_j b_j = 1`` and
    ``|V^T b - V^T a| <= tolerance`` (elementwise): the same output (exactly with
    ``tolerance=0``, up to the solver's accuracy of about 1e-7), a different map.

    Parameters
    ----------
    weights : torch.Tensor, shape (N, H, Q, T)
        Attention maps (rows sum to 1), e.g. ``(N, H, T, T)`` from
        :func:`attention_maps`; any number ``Q`` of query rows.
    values : torch.Tensor, shape (N, H, T, head_dim)
        The heads' value vectors for the same sequences
        (:meth:`~genotutor.models.MultiHeadSelfAttention.values`).
    cost : torch.Tensor, shape (N, H, Q, T), optional
        ``c`` per row. By default ``weights`` itself: minimise the overlap with the given
        row, i.e. move the mass as far from where it was as the outputs allow.
    tolerance : float
        Largest change allowed in each output coordinate (0: the null space of ``V^T``;
        > 0: its near-null space too).

    Returns
    -------
    torch.Tensor, shape (N, H, Q, T)
        float32 rows on the simplex.

    Taught in chapter 6.
    """
    weights = check_tensor(weights, "weights", ndim=4, channels=None)
    values = check_tensor(values, "values", ndim=4, channels=None)
    tolerance = check_number(tolerance, "tolerance", minimum=0)
    n, heads, n_queries, n_tokens = weights.shape
    if values.shape[:2] != weights.shape[:2] or values.shape[2] != n_tokens:
        raise ValueError(
            f"weights must be (N, H, Q, T) and values (N, H, T, head_dim) with the same N, H "
            f"and T; found {tuple(weights.shape)} and {tuple(values.shape)}"
        )
    if cost is None:
        cost = weights
    cost = check_tensor(cost, "cost", ndim=4, channels=None)
    if cost.shape != weights.shape:
        raise ValueError(f"cost must have shape {tuple(weights.shape)}; found {tuple(cost.shape)}")
    from scipy.optimize import linprog  # imported here: only this function needs scipy

    a_all = weights.detach().double().cpu().numpy()
    v_all = values.detach().double().cpu().numpy()
    c_all = cost.detach().double().cpu().numpy()
    out = np.empty_like(a_all)
    ones = np.ones((1, n_tokens))
    for s in range(n):
        for h in range(heads):
            vt = v_all[s, h].T  # (d, T)
            for i in range(n_queries):
                a = a_all[s, h, i] / a_all[s, h, i].sum()
                target = vt @ a
                if tolerance == 0:
                    options = {"A_eq": np.vstack([ones, vt]), "b_eq": np.r_[1.0, target]}
                else:
                    options = {
                        "A_eq": ones,
                        "b_eq": [1.0],
                        "A_ub": np.vstack([vt, -vt]),
                        "b_ub": np.r_[target + tolerance, tolerance - target],
                    }
                result = linprog(c_all[s, h, i], bounds=(0, None), method="highs", **options)
                row = result.x if result.status == 0 else a  # a is always feasible
                out[s, h, i] = np.clip(row, 0, None) / np.clip(row, 0, None).sum()
    return torch.from_numpy(out).float().to(weights.device)
