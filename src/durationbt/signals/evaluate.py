"""Does the score work? Rank information coefficients between the scarcity score (and each
component) and the forward return spread of two legs of buckets (by default the short-
duration buckets minus the long-duration ones): the spread a scarcity call would trade.

Three views, because one number flatters: daily observations of overlapping windows with
Newey-West t-statistics (lags = the horizon); non-overlapping windows (one observation
per horizon, a plain t: nothing overlaps to correct); and the composite without each
component in turn (leave one out), so the IC a component carries is visible. A component
computed from a leg's own prices (crypto_stress reads BTC-USD) would "predict" that leg by
construction: the composite without those components is reported beside the full one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..duration import bucket_daily_returns
from ..errors import ParameterError, did_you_mean
from ..inference import Estimate
from ..inference.hac import hac_mean
from ..universe import Universe
from .composite import Signal

__all__ = ["ICResult", "Legs", "Evaluation", "choose_legs", "forward_spread", "newey_west_t",
           "information_coefficients", "evaluate_signal", "HORIZONS", "MIN_OVERLAPPING",
           "MIN_NON_OVERLAPPING", "rank_ic"]

HORIZONS = {"1m": 21, "3m": 63, "6m": 126}
MIN_OVERLAPPING = 30        # daily observations below which no IC is given
MIN_NON_OVERLAPPING = 12    # non-overlapping windows below which no IC is given


@dataclass(frozen=True)
class ICResult:
    """Spearman IC of one series against one forward horizon: ``overlapping`` daily
    observations with a Newey-West t (lags = horizon), or one per horizon with a plain t."""

    series: str
    horizon: str
    ic: float
    t_stat: float
    n: int
    overlapping: bool = True


@dataclass(frozen=True)
class Legs:
    """The spread evaluated: the equal-weight mean of the ``long`` buckets' returns minus
    that of the ``short`` buckets (bucket names, in the universe's order)."""

    long: tuple[str, ...]
    short: tuple[str, ...]

    def tickers(self, universe: Universe) -> tuple[str, ...]:
        """Every ticker of either leg (what a component must not be built from)."""
        names = {*self.long, *self.short}
        return tuple(t for b in universe.buckets if b.name in names for t in b.tickers)

    def describe(self) -> str:
        """"bills, memory minus long_treasuries, saas, crypto"."""
        return f"{', '.join(self.long)} minus {', '.join(self.short)}"


def _bucket_list(values: Sequence[str] | None, universe: Universe, option: str) -> tuple[str, ...]:
    names = [n.strip() for v in values or () for n in v.split(",") if n.strip()]
    known = list(universe.bucket_names)
    for name in names:
        if name not in known:
            raise ParameterError(f'{option} "{name}" is not a bucket of {universe.path}.'
                                 + did_you_mean(name, known)
                                 + f" Its buckets: {', '.join(known)}.")
    return tuple(b for b in known if b in names)


def choose_legs(universe: Universe, long: Sequence[str] | None = None,
                short: Sequence[str] | None = None) -> Legs:
    """The legs from ``--long``/``--short`` bucket lists (repeatable or comma-separated).
    Defaults: long = the buckets of rank <= 1 (cash-like and short duration), short = those
    of rank >= 3 (long duration); a side given alone keeps the other's default minus it."""
    chosen_long = _bucket_list(long, universe, "--long")
    chosen_short = _bucket_list(short, universe, "--short")
    taken = {*chosen_long, *chosen_short}
    default_long = tuple(b.name for b in universe.buckets if b.rank <= 1 and b.name not in taken)
    default_short = tuple(b.name for b in universe.buckets if b.rank >= 3 and b.name not in taken)
    legs = Legs(chosen_long or default_long, chosen_short or default_short)
    both = set(legs.long) & set(legs.short)
    if both:
        raise ParameterError(f"{', '.join(sorted(both))} cannot be on both legs (--long and "
                             "--short): a bucket minus itself is no spread.")
    for side, names in (("--long", legs.long), ("--short", legs.short)):
        if not names:
            raise ParameterError(f"The {side} leg has no bucket in {universe.path}: name its "
                                 f"buckets with {side} (of {', '.join(universe.bucket_names)}).")
    return legs


def forward_spread(prices: pd.DataFrame, universe: Universe, horizon: int,
                   short_max_rank: int = 1, long_min_rank: int = 3,
                   legs: Legs | None = None) -> pd.Series:
    """Return over the next ``horizon`` days (t+1..t+h) of the equal-weight ``legs.long``
    buckets minus the ``legs.short`` ones (default: ranks <= ``short_max_rank`` minus ranks
    >= ``long_min_rank``); buckets equal weight, members equal weight among those listed.
    NaN where the window runs past the data."""
    buckets = bucket_daily_returns(prices, universe)
    if legs is None:
        legs = Legs(tuple(b.name for b in universe.buckets if b.rank <= short_max_rank),
                    tuple(b.name for b in universe.buckets if b.rank >= long_min_rank))

    def ahead(daily: pd.Series) -> pd.Series:
        log = np.log1p(daily.fillna(0.0))
        total = log.rolling(horizon).sum().shift(-horizon)
        return np.expm1(total)

    first = buckets[list(legs.long)].mean(axis=1)
    second = buckets[list(legs.short)].mean(axis=1)
    return (ahead(first) - ahead(second)).rename(f"spread_{horizon}d")


def newey_west_t(u: np.ndarray, lags: int) -> float:
    """t-statistic of mean(u) with a Bartlett-kernel (Newey-West 1987) long-run variance."""
    u = np.asarray(u, dtype=float)
    if len(u) < 3:
        return float("nan")
    t = hac_mean(u, lags).t
    return float("nan") if t is None else t


def _rank_ic(x: pd.Series, y: pd.Series, lags: int,
             minimum: int = MIN_OVERLAPPING) -> tuple[float, float, int]:
    both = pd.concat([x, y], axis=1).dropna()
    if len(both) < minimum:
        return float("nan"), float("nan"), len(both)
    ranks = both.rank()
    z = (ranks - ranks.mean()) / ranks.std(ddof=0)
    u = (z.iloc[:, 0] * z.iloc[:, 1]).to_numpy()
    return float(u.mean()), newey_west_t(u, lags), len(both)


def _series(signal: Signal) -> dict[str, pd.Series]:
    return {"composite": signal.composite,
            **{c: signal.components[c] for c in signal.components.columns}}


def information_coefficients(signal: Signal, prices: pd.DataFrame, universe: Universe,
                             start: pd.Timestamp | None = None, end: pd.Timestamp | None = None,
                             legs: Legs | None = None,
                             series: dict[str, pd.Series] | None = None) -> list[ICResult]:
    """IC and Newey-West t (lags = horizon) for the composite and each component (or
    ``series``), over score dates in [start, end] whose forward window lies inside the data."""
    out: list[ICResult] = []
    series = _series(signal) if series is None else series
    for label, horizon in HORIZONS.items():
        fwd = forward_spread(prices, universe, horizon, legs=legs).loc[start:end]
        for name, values in series.items():
            ic, t, n = _rank_ic(values.loc[start:end], fwd, horizon)
            out.append(ICResult(name, label, ic, t, n))
    return out


def _non_overlapping(series: dict[str, pd.Series], prices: pd.DataFrame, universe: Universe,
                     start, end, legs: Legs) -> list[ICResult]:
    """One observation every ``horizon`` trading days from ``start``, so no two forward
    windows share a day; the t-statistic needs no overlap correction (0 lags)."""
    out = []
    for label, horizon in HORIZONS.items():
        fwd = forward_spread(prices, universe, horizon, legs=legs).loc[start:end]
        sampled = fwd.index[::horizon]
        for name, values in series.items():
            ic, t, n = _rank_ic(values.reindex(sampled), fwd.reindex(sampled), 0,
                                MIN_NON_OVERLAPPING)
            out.append(ICResult(name, label, ic, t, n, overlapping=False))
    return out


@dataclass(frozen=True)
class Evaluation:
    """Everything ``signal --evaluate`` shows: the legs, the overlapping ICs (composite,
    the composite without the legs' own components when there are any, each component),
    the non-overlapping ones, and the composite without each component."""

    legs: Legs
    own_components: tuple[str, ...]     # components whose declared inputs are legs' tickers
    overlapping: tuple[ICResult, ...]
    non_overlapping: tuple[ICResult, ...]
    leave_one_out: tuple[ICResult, ...]  # series "without <component>"

    def find(self, series: str, horizon: str, overlapping: bool = True) -> ICResult:
        """The result for one series and horizon (``overlapping`` or not)."""
        pool = self.overlapping if overlapping else self.non_overlapping
        if series.startswith("without ") and overlapping:
            pool = (*pool, *self.leave_one_out)
        return next(r for r in pool if r.series == series and r.horizon == horizon)


WITHOUT_OWN = "composite w/o own"


def evaluate_signal(signal: Signal, prices: pd.DataFrame, universe: Universe,
                    start: pd.Timestamp | None, end: pd.Timestamp | None,
                    legs: Legs | None = None) -> Evaluation:
    """The three views of ``signal`` against the forward spread of ``legs`` (default
    ``choose_legs(universe)``) over score dates in [start, end]."""
    legs = legs or choose_legs(universe)
    own = tuple(signal.components_reading(legs.tickers(universe)))
    series = _series(signal)
    if own:
        series = {"composite": series["composite"],
                  WITHOUT_OWN: signal.composite_without(own),
                  **{k: v for k, v in series.items() if k != "composite"}}
    dropped = {f"without {c}": signal.composite_without([c]) for c in signal.components.columns}
    return Evaluation(
        legs=legs, own_components=own,
        overlapping=tuple(information_coefficients(signal, prices, universe, start, end, legs,
                                                   series)),
        non_overlapping=tuple(_non_overlapping(series, prices, universe, start, end, legs)),
        leave_one_out=tuple(information_coefficients(signal, prices, universe, start, end,
                                                     legs, dropped)))


def rank_ic(x: pd.Series, y: pd.Series, lags: int | None = None) -> Estimate:
    """Spearman's rank correlation of ``x`` and ``y`` (dates with both) as the mean of the
    product of their standardised ranks, with a Newey-West interval: ``lags`` the windows'
    overlap (horizon - 1 for daily overlapping windows), None for the automatic bandwidth
    (non-overlapping windows)."""
    both = pd.concat([x, y], axis=1).dropna()
    ranks = both.rank()
    z = (ranks - ranks.mean()) / ranks.std(ddof=0)
    return hac_mean((z.iloc[:, 0] * z.iloc[:, 1]).to_numpy(dtype=float), lags)
