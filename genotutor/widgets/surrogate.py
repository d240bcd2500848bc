"""The chapter-7 explorer: SQUID-style surrogates around a locus, fitted over a grid of
settings, and what they show."""

from __future__ import annotations

import hashlib
import itertools
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import ipywidgets as widgets
import torch
import traitlets
from torch import nn

from genotutor.cache import array_digest, memoize, model_digest
from genotutor.surrogate import LocusSurrogate, explain_locus, fit_surrogate
from genotutor.validation import check_bool, check_number, check_positive_int, describe
from genotutor.widgets._base import check_view_inputs
from genotutor.widgets._view import ExplorerView, esm, link, pack

FAMILIES = {
    "additive, GE": ("additive", "ge"),
    "additive, linear": ("additive", "linear"),
    "pairwise, GE": ("pairwise", "ge"),
}
RATES = (0.1, 0.2, 0.4)
SIZES = (500, 2000)
POINTS = 300  # held-out mutants kept per fit for the scatter plots
CURVE_POINTS = 100  # samples of the fitted nonlinearity
# explain_locus's arguments that the controls and the grid set
_SET_BY_THE_EXPLORER = frozenset(
    "n mutation_rate window target gpmap nonlinearity seed progress".split()
)


class SurrogateView(ExplorerView):
    """The browser side of :class:`SurrogateExplorer` (``js/surrogate.js``)."""

    _esm = esm("surrogate")
    locus = traitlets.Int(0).tag(sync=True)
    rate = traitlets.Int(0).tag(sync=True)  # index into the rates
    size = traitlets.Int(0).tag(sync=True)  # index into the library sizes
    family = traitlets.Int(0).tag(sync=True)  # index into FAMILIES


class SurrogateExplorer(widgets.VBox):
    """Choose a locus, a mutation rate, a library size and a model family; see the
    surrogate's logo, its held-out fit and its global-epistasis nonlinearity.

    Every combination of the controls is fitted once, when the explorer is built, with
    :func:`genotutor.surrogate.explain_locus` (with ``seed``; Gaussian noise unless
    ``fit_options`` say otherwise): ``N x
    len(rates) x len(sizes) x 3`` fits (5 x 3 x 2 x 3 = 90 in chapter 8, about 50 s on
    two cores; the model labels each library once, and the three families fit it). The view
    draws from that table: per fit the additive logo (hierarchical gauge), the held-out
    R^2, the library's mean number of mutations, up to 300 held-out mutants (surrogate
    prediction, phi, model output) and the nonlinearity with its band, so the explorer
    works the same in a live notebook and on the book's static page.

    Parameters
    ----------
    model : torch.nn.Module
        Any model mapping ``(N, 4, L)`` one-hot DNA to ``(N, T)`` outputs (yours too).
    x : torch.Tensor, shape (N, 4, L)
        The candidate loci.
    truth : torch.Tensor, shape (N, L), bool, optional
        Positions to shade (e.g. planted motifs).
    window : int
        Width of the mutated and modelled window, centred on ``centre`` (or the middle).
    centres : sequence of int, optional
        The window's centre for each locus.
    target : int
        Which output to explain.
    rates : sequence of float
        The mutation rates the rate control offers, each in (0, 1).
    sizes : sequence of int
        The library sizes the size control offers.
    fit_options : dict, optional
        More keyword arguments of :func:`~genotutor.surrogate.explain_locus` for every fit
        (e.g. ``{"noise": "skewed_t"}``, ``{"epochs": 50}``).
    seed : int
        Seeds every fit (its library, split and initial weights), so the table is the same
        whatever ran before.
    cache : bool
        Keep the fits' results in genotutor's cache (:func:`genotutor.cache.memoize`),
        keyed on the model's class and weights, the loci and every setting; use it only
        for a model that its weights determine.

    Attributes
    ----------
    locus, rate, size, family : ipywidgets controls
    view : SurrogateView
        Draws the summary and the figure.
    table : dict of str to torch.Tensor
        The precomputed fits, indexed ``[locus, rate, size, family]``: ``logo`` (4, W),
        ``r2`` (), ``mutations`` (indexed ``[locus, rate, size]``), ``points``
        (3, POINTS: y_hat, phi, output; NaN past the held-out mutants) and ``curve``
        (4, CURVE_POINTS: phi, y_hat, lower, upper).

    Taught in chapter 8.
    """

    def __init__(
        self,
        model: nn.Module,
        x: torch.Tensor,
        *,
        truth: torch.Tensor | None = None,
        window: int = 50,
        centres: Sequence[int] | None = None,
        target: int = 0,
        rates: Sequence[float] = RATES,
        sizes: Sequence[int] = SIZES,
        fit_options: Mapping[str, object] | None = None,
        seed: int = 0,
        cache: bool = False,
    ) -> None:
        self.model, self.x, self.truth, self.target = check_view_inputs(model, x, truth, target)
        length = self.x.shape[-1]
        self.width = min(check_positive_int(window, "window"), length)
        self.centres = _check_centres(centres, len(self.x), length)
        self.rates = _check_grid(rates, "rates", _check_rate)
        self.sizes = _check_grid(sizes, "sizes", lambda v, name: check_positive_int(v, name))
        self.fit_options = _check_fit_options(fit_options)
        self.seed = check_positive_int(seed, "seed", minimum=0)
        self.windows = [self._window(i) for i in range(len(self.x))]
        self.table = self._table(check_bool(cache, "cache"))
        self.locus = widgets.BoundedIntText(
            value=0, min=0, max=len(self.x) - 1, description="locus"
        )
        self.rate = widgets.SelectionSlider(
            options=list(self.rates),
            value=_nearest(self.rates, 0.1),
            description="mutation rate",
            continuous_update=False,
            style={"description_width": "initial"},
        )
        self.size = widgets.ToggleButtons(
            options=list(self.sizes), value=_nearest(self.sizes, 2000), description="library"
        )
        self.family = widgets.Dropdown(
            options=list(FAMILIES), value="additive, GE", description="model"
        )
        self.view = SurrogateView(data=self._data())
        for name in ("locus", "rate", "size", "family"):
            link(getattr(self, name), self.view, name)
        super().__init__(
            [
                widgets.HBox([self.locus, self.rate]),
                widgets.HBox([self.size, self.family]),
                self.view,
            ]
        )

    def _window(self, index: int) -> tuple[int, int]:
        length = self.x.shape[-1]
        start = min(max(0, int(self.centres[index]) - self.width // 2), length - self.width)
        return start, start + self.width

    def window(self) -> tuple[int, int]:
        """The ``(start, stop)`` window of the chosen locus."""
        return self.windows[self._index()]

    def _index(self) -> int:
        index = self.locus.value
        if not 0 <= index < len(self.x):
            raise ValueError(f"locus must be in [0, {len(self.x) - 1}]; found {index}")
        return index

    def fit(
        self,
        locus: int | None = None,
        rate: float | None = None,
        size: int | None = None,
        family: str | None = None,
    ) -> LocusSurrogate:
        """Fit the surrogate afresh (a :class:`LocusSurrogate`) for the current controls,
        or for the settings given: the computation behind each entry of the table."""
        locus = self._index() if locus is None else locus
        gpmap, nonlinearity = FAMILIES[self.family.value if family is None else family]
        return explain_locus(
            self.model,
            self.x[locus],
            n=int(self.size.value if size is None else size),
            mutation_rate=float(self.rate.value if rate is None else rate),
            window=self.windows[locus],
            target=self.target,
            gpmap=gpmap,
            nonlinearity=nonlinearity,
            seed=self.seed,
            progress=False,
            **self.fit_options,
        )

    def shown(self) -> dict[str, float]:
        """The summary's numbers for the current controls, read from the table: held-out
        ``r2`` and mean ``mutations`` per mutant."""
        at = (self._index(), self.rate.index, self.size.index)
        return {
            "r2": float(self.table["r2"][(*at, self.family.index)]),
            "mutations": float(self.table["mutations"][at]),
        }

    def _table(self, cache: bool) -> dict[str, torch.Tensor]:
        if not cache:
            return self._fit_all()
        config = {
            "name": "surrogate-explorer",
            "model": model_digest(self.model),
            "inputs": array_digest(self.x),
            "windows": [list(w) for w in self.windows],
            "target": self.target,
            "rates": list(self.rates),
            "sizes": list(self.sizes),
            "families": list(FAMILIES),
            "fit_options": self.fit_options,
            "seed": self.seed,
            "points": [POINTS, CURVE_POINTS],
            # the cache key leaves genotutor/widgets out: this file's own source goes in
            "explorer": hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16],
        }
        return memoize(config, self._fit_all)

    def _fit_all(self) -> dict[str, torch.Tensor]:
        """Every fit of the grid, as stacked arrays indexed [locus, rate, size, family]."""
        n, r, s, f = len(self.x), len(self.rates), len(self.sizes), len(FAMILIES)
        table = {
            "logo": torch.zeros(n, r, s, f, 4, self.width),
            "r2": torch.zeros(n, r, s, f),
            "mutations": torch.zeros(n, r, s),
            "points": torch.full((n, r, s, f, 3, POINTS), float("nan")),
            "curve": torch.zeros(n, r, s, f, 4, CURVE_POINTS),
        }
        with warnings.catch_warnings():
            # a fit that predicts a constant has no R^2 (NaN, which the view says in words)
            warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
            families = list(FAMILIES)
            for i, j, k in itertools.product(range(n), range(r), range(s)):
                first = self.fit(i, self.rates[j], self.sizes[k], families[0])
                self._fill(table, (i, j, k, 0), first)
                for m in range(1, f):  # the same library and labels: the model runs once
                    self._fill(table, (i, j, k, m), self._refit(first, families[m]))
        return table

    def _refit(self, result: LocusSurrogate, family: str) -> LocusSurrogate:
        """The surrogate of ``family`` on ``result``'s library and labels: what
        :meth:`fit` returns for that family (the library depends on the locus, rate, size
        and seed only), without labelling the library again."""
        gpmap, nonlinearity = FAMILIES[family]
        labelling = {"output", "device"}  # explain_locus's own, not fit_surrogate's
        options = {key: v for key, v in self.fit_options.items() if key not in labelling}
        start, stop = result.window
        surrogate = fit_surrogate(
            result.library[..., start:stop], result.y, gpmap=gpmap, nonlinearity=nonlinearity,
            start=start, seed=self.seed, progress=False, **options,
        )  # fmt: skip
        return LocusSurrogate(surrogate, result.library, result.y, result.window)

    def _fill(
        self, table: dict[str, torch.Tensor], at: tuple[int, int, int, int], result: LocusSurrogate
    ) -> None:
        """Write grid point ``at`` = (locus, rate, size, family), fitted as ``result``."""
        fit = _summarise(result)
        table["mutations"][at[:3]] = fit["mutations"]
        for name in ("r2", "logo", "curve"):
            table[name][at] = fit[name]
        table["points"][(*at, slice(None), slice(0, fit["points"].shape[1]))] = fit["points"]

    def _data(self) -> dict:
        data = {
            "logo": pack(self.table["logo"]),
            "r2": pack(self.table["r2"]),
            "mutations": pack(self.table["mutations"]),
            "points": pack(self.table["points"]),
            "curve": pack(self.table["curve"]),
            "windows": [list(w) for w in self.windows],
            "rates": list(self.rates),
            "sizes": list(self.sizes),
            "families": list(FAMILIES),
        }
        if self.truth is not None:
            data["truth"] = pack(self.truth, "uint8")
        return data


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
    fixed = sorted(set(options) & _SET_BY_THE_EXPLORER)
    if fixed:
        raise ValueError(f"fit_options cannot set {fixed}: the explorer's controls set them")
    return dict(options)


def _check_centres(centres: object, n: int, length: int) -> list[int]:
    if centres is None:
        return [length // 2] * n
    if isinstance(centres, (str, bytes)) or not isinstance(centres, Sequence):
        raise TypeError(f"centres must be a sequence of ints; found {describe(centres)}")
    if len(centres) != n:
        raise ValueError(f"centres must give one centre per locus ({n}); found {len(centres)}")
    return [check_positive_int(c, f"centres[{i}]", minimum=0) for i, c in enumerate(centres)]


def _nearest(values: tuple, goal: float) -> object:
    return min(values, key=lambda v: abs(v - goal))


def surrogate_explorer(model: nn.Module, x: torch.Tensor, **options: object) -> SurrogateExplorer:
    """Build a :class:`SurrogateExplorer` (chapter 8) for any model and loci; ``options``
    are its keyword arguments (``truth``, ``window``, ``centres``, ``target``, ``rates``,
    ``sizes``, ``fit_options``, ``seed``, ``cache``). Taught in chapter 8."""
    return SurrogateExplorer(model, x, **options)
