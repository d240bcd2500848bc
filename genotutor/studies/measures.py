"""What a chapter measured for a claim, and the verdict it supports: an effect with its 95 %
interval (over seeds, or a bootstrap), a hypothesis test, the worst error of an exact
property, or a count with its Wilson interval. Re-exported by
:mod:`genotutor.studies.ledger`.

Taught in the claims ledger page; every chapter records its rows with these.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from genotutor.validation import check_positive_int

REPRODUCES = "reproduces"
PARTLY = "partly reproduces"
DOES_NOT = "does not reproduce at this scale"
NOT_TESTED = "not tested here"
VERDICTS = (REPRODUCES, PARTLY, DOES_NOT, NOT_TESTED)
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Measurement:
    """What a chapter measured for one claim.

    ``kind`` is "mean" (a mean with its t interval), "bootstrap" (a mean with a percentile
    bootstrap interval), "test" (a statistic and its p value), "worst error" (the largest
    deviation from an exact property) or "count" (a fraction with its Wilson interval). ``n``
    counts ``over`` (seeds, sequences, loci...).
    """

    kind: str
    what: str
    n: int
    over: str
    estimate: float | None = None
    low: float | None = None
    high: float | None = None
    statistic: float | None = None
    p_value: float | None = None
    test: str | None = None

    def __str__(self) -> str:
        if self.kind == "test":
            effect = "" if self.estimate is None else f"{_fmt(self.estimate)}; "
            return (
                f"{self.what}: {effect}{self.test} statistic {_fmt(self.statistic)}, "
                f"p = {self.p_value:.2g}, n = {self.n} {self.over}"
            )
        if self.kind == "worst error":
            return f"{self.what}: worst |error| {self.estimate:.2g} over {self.n} {self.over}"
        if self.kind == "count":
            hits = round(self.estimate * self.n)
            return (
                f"{self.what}: {hits}/{self.n} {self.over} "
                f"(95 % interval {self.low:.2f}-{self.high:.2f})"
            )
        return (
            f"{self.what}: {_fmt(self.estimate)} [{_fmt(self.low)}, {_fmt(self.high)}], "
            f"{'mean over' if self.kind == 'mean' else 'bootstrap over'} {self.n} {self.over}"
        )


def _fmt(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return str(value)
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"


def _finite_values(values: object, name: str, minimum: int) -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    if array.size < minimum:
        raise ValueError(f"{name} needs at least {minimum} values; found {array.size}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite; found {array[~np.isfinite(array)][:3]}")
    return array


def check_text(value: object, name: str) -> str:
    """``value`` stripped, if it is a non-empty string; else a TypeError naming ``name``."""
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{name} must be a non-empty string; found {value!r}")
    return value.strip()


def mean_interval(values: Sequence[float], what: str, *, over: str = "seeds") -> Measurement:
    """The mean of ``values`` (one per seed, say) with its 95 % Student-t interval.

    Parameters
    ----------
    values : sequence of float, length n >= 2
        One value per independent draw.
    what : str
        What the values are, e.g. "AUROC gain with the prior".
    over : str
        What was drawn: "seeds", "loci"...
    """
    array = _finite_values(values, "values", 2)
    mean = float(array.mean())
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, array.size - 1) * stats.sem(array))
    return Measurement(
        "mean",
        check_text(what, "what"),
        array.size,
        check_text(over, "over"),
        mean,
        mean - half,
        mean + half,
    )


def bootstrap_interval(
    values: Sequence[float],
    what: str,
    *,
    over: str = "sequences",
    resamples: int = 2000,
    seed: int = 0,
) -> Measurement:
    """The mean of ``values`` with a 95 % percentile bootstrap interval (``resamples``
    resamples drawn from ``numpy.random.default_rng(seed)``)."""
    array = _finite_values(values, "values", 2)
    return bootstrap_statistic(np.mean, [array], what, over=over, resamples=resamples, seed=seed)


def bootstrap_statistic(
    statistic: Callable[..., float],
    arrays: Sequence[np.ndarray],
    what: str,
    *,
    over: str = "sequences",
    resamples: int = 1000,
    seed: int = 0,
) -> Measurement:
    """Any ``statistic(*arrays)`` with a 95 % percentile bootstrap interval: the rows of
    ``arrays`` (equal lengths) are resampled together ``resamples`` times from
    ``numpy.random.default_rng(seed)``.

    Parameters
    ----------
    statistic : callable
        ``statistic(a, b, ...) -> float`` on arrays of equal length n.
    arrays : sequence of np.ndarray, each of length n
    """
    arrays = [np.asarray(a) for a in arrays]
    if not arrays or len({len(a) for a in arrays}) != 1 or len(arrays[0]) < 2:
        raise ValueError(
            f"arrays must be at least one array, all of one length >= 2; found lengths "
            f"{[len(a) for a in arrays]}"
        )
    resamples = check_positive_int(resamples, "resamples", minimum=100)
    rng = np.random.default_rng(check_positive_int(seed, "seed", minimum=0))
    n = len(arrays[0])
    estimate = float(statistic(*arrays))
    draws = np.array(
        [statistic(*(a[index] for a in arrays)) for index in rng.integers(0, n, (resamples, n))]
    )
    low, high = np.nanquantile(draws, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
    return Measurement(
        "bootstrap",
        check_text(what, "what"),
        n,
        check_text(over, "over"),
        estimate,
        float(low),
        float(high),
    )


def hypothesis_test(
    test: str,
    statistic: float,
    p_value: float,
    n: int,
    what: str,
    *,
    over: str = "sequences",
    effect: float | None = None,
) -> Measurement:
    """A hypothesis test's result: its name, statistic, p value and ``n`` (with the effect
    it tests, e.g. a median difference, where there is one)."""
    values = _finite_values([statistic, p_value], "statistic and p_value", 2)
    if not 0 <= values[1] <= 1:
        raise ValueError(f"p_value must lie in [0, 1]; found {p_value}")
    if effect is not None:
        effect = float(_finite_values([effect], "effect", 1)[0])
    return Measurement(
        "test",
        check_text(what, "what"),
        check_positive_int(n, "n"),
        check_text(over, "over"),
        effect,
        statistic=float(values[0]),
        p_value=float(values[1]),
        test=check_text(test, "test"),
    )


def worst_case_error(errors: Sequence[float], what: str, *, over: str) -> Measurement:
    """The largest absolute deviation among ``errors`` from a property that holds exactly."""
    array = np.abs(_finite_values(errors, "errors", 1))
    return Measurement(
        "worst error",
        check_text(what, "what"),
        array.size,
        check_text(over, "over"),
        float(array.max()),
    )


def count_interval(hits: int, n: int, what: str, *, over: str = "seeds") -> Measurement:
    """``hits`` of ``n`` draws where something held, with the 95 % Wilson interval."""
    n = check_positive_int(n, "n")
    hits = check_positive_int(hits, "hits", minimum=0)
    if hits > n:
        raise ValueError(f"hits must be at most n = {n}; found {hits}")
    z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))
    share = hits / n
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Measurement(
        "count",
        check_text(what, "what"),
        n,
        check_text(over, "over"),
        share,
        max(0.0, centre - half),
        min(1.0, centre + half),
    )


def verdict(holds: bool, *, partly: bool = False) -> str:
    """The verdict for a claim whose test the chapter computed: "reproduces" when ``holds``,
    "partly reproduces" when only ``partly``, else "does not reproduce at this scale"."""
    if not isinstance(holds, bool | np.bool_) or not isinstance(partly, bool | np.bool_):
        raise TypeError(f"holds and partly must be booleans; found {holds!r}, {partly!r}")
    return REPRODUCES if holds else PARTLY if partly else DOES_NOT


def directional_verdict(
    measured: Measurement,
    values: Sequence[float],
    *,
    above: float | None = None,
    below: float | None = None,
) -> str:
    """The verdict for a claim that an effect lies ``above`` (or ``below``) a threshold,
    from its interval and the draws it was computed from: "reproduces" when the whole 95 %
    interval lies beyond the threshold, "partly reproduces" when every draw does but the
    interval does not (few seeds), else "does not reproduce at this scale"."""
    if (above is None) == (below is None):
        raise ValueError(f"give exactly one of above and below; found {above!r}, {below!r}")
    if measured.low is None or measured.high is None:
        raise ValueError(f"measured must carry an interval; found a {measured.kind!r}")
    array = _finite_values(values, "values", 1)
    if above is not None:
        return verdict(bool(measured.low > above), partly=bool((array > above).all()))
    return verdict(bool(measured.high < below), partly=bool((array < below).all()))
