"""SQUID-style surrogates around loci over a grid of settings (mutation rate, library size,
model family), summarised for a view: the table chapter 8's explorer draws.

Taught in chapter 8.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from genotutor.cache import array_digest, memoize, model_digest
from genotutor.progress import progress_bar
from genotutor.surrogate.analysis import LocusSurrogate, explain_locus
from genotutor.surrogate.fit import fit_surrogate
from genotutor.training import predict
from genotutor.validation import (
    check_bool,
    check_device,
    check_model,
    check_number,
    check_positive_int,
    check_target,
    check_tensor,
    describe,
)

FAMILIES = {
    "additive, GE": ("additive", "ge"),
    "additive, linear": ("additive", "linear"),
    "pairwise, GE": ("pairwise", "ge"),
}
RATES = (0.1, 0.2, 0.4)
SIZES = (500, 2000)
POINTS = 300  # held-out mutants kept per fit for the scatter plots
CURVE_POINTS = 100  # samples of the fitted nonlinearity
# explain_locus's arguments that the grid sets
_SET_BY_THE_GRID = frozenset(
    "n mutation_rate window target gpmap nonlinearity seed progress device".split()
)


@dataclass(frozen=True)
class SurrogateGrid:
    """Every fit of a grid, summarised; the arrays are indexed ``[locus, rate, size,
    family]`` (``mutations`` by ``[locus, rate, size]``).

    Attributes
    ----------
    windows : list of (int, int)
        Each locus's mutated and modelled window.
    length : int
        The loci's length ``L``.
    rates, sizes : tuple
        The mutation rates and library sizes of the grid.
    families : tuple of str
        Keys of :data:`FAMILIES`.
    logo : torch.Tensor, shape (N, R, S, F, 4, W)
        The additive parameters in the hierarchical gauge.
    r2 : torch.Tensor, shape (N, R, S, F)
        Held-out R^2 (NaN for a fit that predicts a constant).
    mutations : torch.Tensor, shape (N, R, S)
        The library's mean number of mutations per mutant.
    points : torch.Tensor, shape (N, R, S, F, 3, POINTS)
        Held-out mutants: surrogate prediction, phi, model output (NaN past the last).
    curve : torch.Tensor, shape (N, R, S, F, 4, CURVE_POINTS)
        The nonlinearity: phi, y_hat, lower, upper.

    Taught in chapter 8.
    """

    windows: list[tuple[int, int]]
    length: int
    rates: tuple[float, ...]
    sizes: tuple[int, ...]
    families: tuple[str, ...]
    logo: torch.Tensor
    r2: torch.Tensor
    mutations: torch.Tensor
    points: torch.Tensor
    curve: torch.Tensor


def surrogate_grid(
    model: nn.Module,
    x: torch.Tensor,
    *,
    window: int = 50,
    centres: Sequence[int] | None = None,
    target: int = 0,
    rates: Sequence[float] = RATES,
    sizes: Sequence[int] = SIZES,
    fit_options: Mapping[str, object] | None = None,
    seed: int = 0,
    cache: bool = False,
    device: object = None,
    progress: bool = True,
) -> SurrogateGrid:
    """Fit a surrogate for every locus, mutation rate, library size and model family of
    :data:`FAMILIES`, with :func:`~genotutor.surrogate.explain_locus`.

    ``N x len(rates) x len(sizes) x 3`` fits (5 x 3 x 2 x 3 = 90 in chapter 8); the model
    labels each library once and the three families fit it.

    Parameters
    ----------
    model : torch.nn.Module
        Any model mapping ``(N, 4, L)`` one-hot DNA to ``(N, T)`` outputs.
    x : torch.Tensor, shape (N, 4, L)
        The loci.
    window : int
        Width of the mutated and modelled window, centred on ``centres`` (or the middle).
    centres : sequence of int, optional
        The window's centre for each locus.
    target : int
        Which output to explain.
    rates : sequence of float
        Mutation rates, each in (0, 1).
    sizes : sequence of int
        Library sizes.
    fit_options : dict, optional
        More keyword arguments of ``explain_locus`` for every fit (e.g.
        ``{"noise": "skewed_t"}``, ``{"epochs": 50}``).
    seed : int
        Seeds every fit (its library, split and initial weights).
    cache : bool
        Keep the grid in genotutor's cache (:func:`genotutor.cache.memoize`), keyed on the
        model's class and weights, the loci and every setting; only for a model that its
        weights determine.
    device, progress
        Where to run, and a progress bar: as for :func:`genotutor.training.predict`.

    Returns
    -------
    SurrogateGrid

    Taught in chapter 8.
    """
    check_model(model)
    x = check_tensor(x, "x")
    with torch.no_grad():
        n_outputs = predict(model, x[:1], device=device, progress=False).shape[1]
    target = check_target(target, n_outputs)
    length = x.shape[-1]
    width = min(check_positive_int(window, "window"), length)
    centres = _check_centres(centres, len(x), length)
    windows = [_window(int(c), width, length) for c in centres]
    settings = {
        "windows": windows,
        "target": target,
        "rates": _check_grid(rates, "rates", _check_rate),
        "sizes": _check_grid(sizes, "sizes", lambda v, name: check_positive_int(v, name)),
        "fit_options": _check_fit_options(fit_options),
        "seed": check_positive_int(seed, "seed", minimum=0),
    }
    cache = check_bool(cache, "cache")
    check_device(device)
    check_bool(progress, "progress")

    def compute() -> dict:
        return _fit_all(model, x, settings, device=device, progress=progress)

    if cache:
        config = {
            "name": "surrogate-grid",
            "model": model_digest(model),
            "inputs": array_digest(x),
            **{k: v for k, v in settings.items() if k not in ("windows", "rates", "sizes")},
            "windows": [list(w) for w in windows],
            "rates": list(settings["rates"]),
            "sizes": list(settings["sizes"]),
            "families": list(FAMILIES),
            "points": [POINTS, CURVE_POINTS],
        }
        arrays = memoize(config, compute)
    else:
        arrays = compute()
    return SurrogateGrid(
        windows, length, settings["rates"], settings["sizes"], tuple(FAMILIES),
        arrays["logo"], arrays["r2"], arrays["mutations"], arrays["points"], arrays["curve"],
    )  # fmt: skip


def _window(centre: int, width: int, length: int) -> tuple[int, int]:
    start = min(max(0, centre - width // 2), length - width)
    return start, start + width


def _fit_all(
    model: nn.Module, x: torch.Tensor, settings: dict, *, device: object, progress: bool
) -> dict[str, torch.Tensor]:
    """Every fit of the grid, as stacked arrays indexed [locus, rate, size, family]."""
    rates, sizes, windows = settings["rates"], settings["sizes"], settings["windows"]
    width = windows[0][1] - windows[0][0]
    n, r, s, f = len(x), len(rates), len(sizes), len(FAMILIES)
    table = {
        "logo": torch.zeros(n, r, s, f, 4, width),
        "r2": torch.zeros(n, r, s, f),
        "mutations": torch.zeros(n, r, s),
        "points": torch.full((n, r, s, f, 3, POINTS), float("nan")),
        "curve": torch.zeros(n, r, s, f, 4, CURVE_POINTS),
    }
    families = list(FAMILIES)
    libraries = list(itertools.product(range(n), range(r), range(s)))
    with warnings.catch_warnings():
        # a fit that predicts a constant has no R^2 (NaN, which the view says in words)
        warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
        for i, j, k in progress_bar(libraries, desc="surrogates", progress=progress):
            gpmap, nonlinearity = FAMILIES[families[0]]
            first = explain_locus(
                model, x[i], n=sizes[k], mutation_rate=rates[j], window=windows[i],
                target=settings["target"], gpmap=gpmap, nonlinearity=nonlinearity,
                seed=settings["seed"], device=device, progress=False, **settings["fit_options"],
            )  # fmt: skip
            _fill(table, (i, j, k, 0), first)
            for m in range(1, f):  # the same library and labels: the model runs once
                refit = _refit(first, families[m], settings["fit_options"], settings["seed"])
                _fill(table, (i, j, k, m), refit)
    return table


def _refit(result: LocusSurrogate, family: str, fit_options: dict, seed: int) -> LocusSurrogate:
    """The surrogate of ``family`` on ``result``'s library and labels: what
    ``explain_locus`` returns for that family (the library depends on the locus, rate,
    size and seed only), without labelling the library again."""
    gpmap, nonlinearity = FAMILIES[family]
    labelling = {"output"}  # explain_locus's own, not fit_surrogate's
    options = {key: v for key, v in fit_options.items() if key not in labelling}
    start, stop = result.window
    surrogate = fit_surrogate(
        result.library[..., start:stop], result.y, gpmap=gpmap, nonlinearity=nonlinearity,
        start=start, seed=seed, progress=False, **options,
    )  # fmt: skip
    return LocusSurrogate(surrogate, result.library, result.y, result.window)


def _fill(
    table: dict[str, torch.Tensor], at: tuple[int, int, int, int], result: LocusSurrogate
) -> None:
    """Write grid point ``at`` = (locus, rate, size, family), fitted as ``result``."""
    fit = _summarise(result)
    table["mutations"][at[:3]] = fit["mutations"]
    for name in ("r2", "logo", "curve"):
        table[name][at] = fit[name]
    table["points"][(*at, slice(None), slice(0, fit["points"].shape[1]))] = fit["points"]


@torch.no_grad()
def _summarise(result: LocusSurrogate) -> dict[str, torch.Tensor]:
    """What the view needs of one :class:`LocusSurrogate`."""
    surrogate = result.surrogate
    held_x, held_y = result.held_out()
    keep = slice(0, POINTS)  # held-out rows are in random order: the first are a sample
    phi_all = surrogate.predict(held_x, output="phi")
    span = float(phi_all.abs().max()) + 0.5
    curve = surrogate.nonlinearity_curve(points=CURVE_POINTS, span=span)
    mutations = (result.library.argmax(1) != result.library[0].argmax(0)).sum(1).float()
    logo = surrogate.additive_params(gauge="hierarchical").to_numpy().T.copy()
    points = torch.stack([surrogate.predict(held_x[keep]), phi_all[keep], held_y[keep]])
    return {
        "logo": torch.as_tensor(logo, dtype=torch.float32),
        "r2": torch.tensor(surrogate.valid_r2),
        "mutations": mutations[1:].mean(),
        "points": points.detach().float(),
        "curve": torch.tensor(curve[["phi", "y_hat", "lower", "upper"]].to_numpy().T).float(),
    }


def _check_rate(value: object, name: str) -> float:
    return check_number(value, name, minimum=0, maximum=1, inclusive=(False, False))


def _check_grid(values: object, name: str, check) -> tuple:
    """A non-empty sequence of distinct values, each checked by ``check(value, name)``."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise TypeError(f"{name} must be a non-empty sequence; found {describe(values)}")
    checked = tuple(check(v, f"{name}[{i}]") for i, v in enumerate(values))
    if len(set(checked)) != len(checked):
        raise ValueError(f"{name} must not repeat a value; found {list(values)}")
    return checked


def _check_fit_options(options: object) -> dict:
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise TypeError(f"fit_options must be a dict or None; found {describe(options)}")
    fixed = sorted(set(options) & _SET_BY_THE_GRID)
    if fixed:
        raise ValueError(f"fit_options cannot set {fixed}: the grid's own arguments set them")
    return dict(options)


def _check_centres(centres: object, n: int, length: int) -> list[int]:
    if centres is None:
        return [length // 2] * n
    if isinstance(centres, (str, bytes)) or not isinstance(centres, Sequence):
        raise TypeError(f"centres must be a sequence of ints; found {describe(centres)}")
    if len(centres) != n:
        raise ValueError(f"centres must give one centre per locus ({n}); found {len(centres)}")
    return [check_positive_int(c, f"centres[{i}]", minimum=0) for i, c in enumerate(centres)]
