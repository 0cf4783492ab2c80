"""Empirical duration: how much an asset's price moves when the 10-year yield moves,
controlling for the market. For each asset, weekly returns are regressed on the weekly
change of ^TNX (percentage points) and the benchmark's weekly return:

    r_t = a + b_y * dy_t + b_m * r_m,t + e_t,     duration = -b_y * 100

i.e. the % price change per 100 bp rise in yields. Standard errors are Newey-West (HAC);
rolling estimates use the trailing window of weeks up to t only. The liquidity beta is the
same regression with the weekly change of the scarcity score in place of dy (in % per
one z-unit of score)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .daily_duration import portfolio_duration
from .errors import DataError
from .inference.hac import hac_ols, newey_west_lags
from .running import trailing_slopes
from .universe import Universe
from .weekly import change, fridays, last_of_week, week_index, weekly

if TYPE_CHECKING:
    from .signals.composite import Signal

__all__ = ["Estimate", "weekly", "regress", "asset_durations", "liquidity_betas", "rolling_durations",
           "known_on", "row_sum", "row_mean", "day_blocks", "bucket_levels", "bucket_daily_returns",
           "portfolio_duration",
           "rank_contradictions", "MIN_WEEKS",
           "DurationRow", "DurationReport", "measure_durations", "OwnComponentBeta",
           "own_component_betas", "collapses"]

MIN_WEEKS = 52
ROLLING_BLOCK = 64   # columns solved together: a few MB of 3 x 3 systems at 30 years


@dataclass(frozen=True)
class Estimate:
    """One regression: the sensitivity, its HAC standard error, R^2 and sample size."""

    name: str
    value: float        # duration (% per 100 bp) or liquidity beta (% per z-unit)
    se: float
    r2: float
    weeks: int


def regress(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, int]:
    """OLS of ``y`` on ``[1, x]`` with Newey-West standard errors (``inference.hac_ols``,
    lags = floor(4 (n/100)^(2/9))). Rows with any NaN are dropped. Returns coefficients,
    standard errors, R^2 and n."""
    ok = np.isfinite(y) & np.isfinite(x).all(axis=1)
    y, x = y[ok], x[ok]
    n = len(y)
    k = x.shape[1] + 1
    if n < max(MIN_WEEKS // 2, k + 2):
        nan = np.full(k, np.nan)
        return nan, nan, float("nan"), n
    beta, se, resid = hac_ols(y, np.column_stack([np.ones(n), x]), newey_west_lags(n))
    tss = ((y - y.mean()) ** 2).sum()
    r2 = 1.0 - (resid @ resid) / tss if tss > 0 else float("nan")
    return beta, se, float(r2), n


def _factor_frame(prices: pd.DataFrame, factor: pd.Series,
                  benchmark: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    wk = weekly(prices)
    returns = pd.DataFrame(change(wk.to_numpy(dtype=float), ratio=True), index=wk.index,
                           columns=wk.columns)
    f = weekly(factor.to_frame()).iloc[:, 0]
    x = pd.DataFrame({"factor": f.diff(),
                      "market": returns[benchmark]})
    return returns, x


def _weekly_regression(prices: pd.DataFrame, factor: pd.Series, benchmark: str,
                       names: list[str]) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """Weeks, the regressors (the factor's weekly change, the benchmark's weekly return)
    and the weekly returns of ``names``: ``_factor_frame``'s numbers, in numpy when prices
    and factor share plain dates."""
    friday = fridays(prices.index)
    columns = list(dict.fromkeys([*names, benchmark]))
    if (friday is None or not factor.index.equals(prices.index) or factor.dtype != np.float64
            or not all(dtype == np.float64 for dtype in prices.dtypes)):
        returns, x = _factor_frame(prices[columns], factor, benchmark)
        return returns.index, x.to_numpy(dtype=float), returns[names].to_numpy(dtype=float)
    at = _positions(prices, columns)[0]
    values = prices.to_numpy()
    if not np.array_equal(at, np.arange(values.shape[1])):   # (all of them: no copy)
        values = values[:, at]
    returns = change(last_of_week(friday, values), ratio=True)
    moves = change(last_of_week(friday, factor.to_numpy()[:, None]), ratio=False)
    where = {name: j for j, name in enumerate(columns)}
    Z = np.column_stack([moves[:, 0], returns[:, where[benchmark]]])
    return week_index(friday, prices.index), Z, returns[:, [where[n] for n in names]]


def _sensitivities(prices: pd.DataFrame, factor: pd.Series, benchmark: str,
                   columns: list[str] | None, sign: float) -> list[Estimate]:
    returns, x = _factor_frame(prices, factor, benchmark)
    out = []
    for name in columns or list(prices.columns):
        beta, se, r2, n = regress(returns[name].to_numpy(), x.to_numpy())
        out.append(Estimate(name, sign * beta[1] * 100, se[1] * 100, r2, n))
    return out


def asset_durations(prices: pd.DataFrame, tnx: pd.Series, benchmark: str,
                    columns: list[str] | None = None) -> list[Estimate]:
    """Full-sample duration of each column of ``prices`` (daily adjusted closes)."""
    return _sensitivities(prices, tnx, benchmark, columns, sign=-1.0)


def liquidity_betas(prices: pd.DataFrame, score: pd.Series, benchmark: str,
                    columns: list[str] | None = None) -> list[Estimate]:
    """Full-sample sensitivity (% per one z-unit rise of the weekly scarcity score)."""
    return _sensitivities(prices, score, benchmark, columns, sign=1.0)


@dataclass(frozen=True)
class OwnComponentBeta:
    """A liquidity beta beside the same beta against the composite without the components
    built from the asset's or bucket's own prices (``excluded``; none: ``without`` is None),
    so a signal is not credited with "predicting" what it is made of."""

    name: str
    full: Estimate
    excluded: tuple[str, ...]
    without: Estimate | None

    @property
    def collapsed(self) -> bool:
        """See ``collapses``."""
        return self.without is not None and collapses(self.full, self.without)

    def record(self) -> dict[str, Any]:
        """One row of the run's ``liquidity`` table."""
        w = self.without
        return {"name": self.name, "beta": self.full.value, "se": self.full.se,
                "weeks": float(self.full.weeks),
                "own_components": ", ".join(self.excluded),
                "beta_without_own": None if w is None else w.value,
                "se_without_own": None if w is None else w.se, "collapsed": self.collapsed}


def collapses(full: Estimate, without: Estimate) -> bool:
    """A beta that is significant with the bucket's own components (|t| >= 2) and keeps
    less than half its size, or changes sign, without them: the composite's hold on the
    bucket was the bucket itself."""
    if not (np.isfinite(full.value) and np.isfinite(without.value) and full.se > 0):
        return False
    significant = abs(full.value / full.se) >= 2.0
    return bool(significant and (abs(without.value) < 0.5 * abs(full.value)
                                 or np.sign(without.value) != np.sign(full.value)))


def own_component_betas(levels: pd.DataFrame, members: Mapping[str, Sequence[str]],
                        signal: Signal, benchmark: str) -> list[OwnComponentBeta]:
    """The liquidity beta of each ``members`` key (a column of ``levels``: an asset or an
    equal-weight bucket; ``benchmark`` a column too) against ``signal``'s composite, and
    against the composite without the components whose declared inputs include its own
    tickers (``Signal.components_reading``: crypto without crypto_stress)."""
    score = signal.composite.reindex(levels.index)
    full = {e.name: e for e in liquidity_betas(levels, score, benchmark, list(members))}
    out = []
    for name, tickers in members.items():
        excluded = tuple(signal.components_reading(tickers))
        without = None
        if excluded:
            other = signal.composite_without(excluded).reindex(levels.index)
            without = liquidity_betas(levels, other, benchmark, [name])[0]
        out.append(OwnComponentBeta(name, full[name], excluded, without))
    return out


def rolling_durations(prices: pd.DataFrame, tnx: pd.Series, benchmark: str,
                      window: int = 104, columns: list[str] | None = None,
                      since: pd.Timestamp | None = None) -> pd.DataFrame:
    """Week x asset duration estimated on the trailing ``window`` weeks ending that week
    (NaN until ``MIN_WEEKS`` weeks with data). Uses past data only. ``since``: estimate only
    what a reader from that date on can see (the weeks from the last one ended by that date,
    and the earlier ones of an asset without an estimate that week, which a forward fill
    reaches back to; the other weeks are NaN): a fraction of the cost of decades of weeks.
    Columns are summed and solved together (``running``: ``ROLLING_BLOCK`` at a time
    beyond what it remembers; the same numbers as one column at a time, each system is
    formed and solved alone)."""
    if window < MIN_WEEKS:
        raise DataError(f"Rolling duration estimates: window must be at least {MIN_WEEKS} "
                        f"weeks, got {window}.")
    cols = columns or list(prices.columns)
    names = list(dict.fromkeys(cols))
    weeks, Z, y = _weekly_regression(prices, tnx, benchmark, names)
    first = 0 if since is None else max(int(weeks.searchsorted(since, side="right")) - 1, 0)
    slope, good = trailing_slopes(("duration", benchmark, window, *names), weeks.to_numpy(), Z,
                                  y, window, MIN_WEEKS, first, ROLLING_BLOCK)
    found = np.where(good, -slope * 100, np.nan)
    return _by_column(found, weeks, cols, names)


def _by_column(found: np.ndarray, weeks: pd.DatetimeIndex, cols: list[str],
               names: list[str]) -> pd.DataFrame:
    """The frame laid out as it always was, filled column by column into a frame of NaN: a
    block per column, the last column's first (set in the first block's place), the
    others in order. The block layout decides the last bit of the row sums
    ``portfolio_duration`` takes over it, and existing runs' numbers must not move; the
    blocks are made at once (filling 2,000 columns one by one costs 0.3 s)."""
    from pandas.api.internals import create_dataframe_from_blocks

    if cols != names or len(cols) < 2:        # repeated columns: filled as they were
        frame = pd.DataFrame(np.nan, index=weeks, columns=cols)
        where = {name: j for j, name in enumerate(names)}
        for name in cols:
            frame[name] = found[:, where[name]]
        return frame
    by_column = np.ascontiguousarray(found.T)
    order = [len(cols) - 1, *range(len(cols) - 1)]
    return create_dataframe_from_blocks([(by_column[j:j + 1], np.array([j])) for j in order],
                                        index=weeks, columns=pd.Index(cols))


def known_on(rolling: pd.DataFrame, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """Date x column: the latest estimate of ``rolling`` (weeks, sorted) known on each of
    ``dates`` (the last non-NaN one of the weeks up to it): what
    ``rolling.reindex(rolling.index.union(dates)).ffill().reindex(dates)`` gives, in numpy."""
    values = rolling.to_numpy(dtype=float)
    last = np.maximum.accumulate(np.where(np.isnan(values), -1,
                                          np.arange(len(values))[:, None]), axis=0)
    at = rolling.index.searchsorted(dates, side="right") - 1
    rows = np.where(at[:, None] >= 0, last[np.maximum(at, 0)], -1)
    found = np.where(rows >= 0, np.take_along_axis(values, np.maximum(rows, 0), axis=0), np.nan)
    return pd.DataFrame(found, index=dates, columns=rolling.columns)


def bucket_daily_returns(prices: pd.DataFrame, universe: Universe) -> pd.DataFrame:
    """Daily return of each bucket held at equal weight over the members listed that day
    (NaN while none is): ``prices.pct_change()[members].mean(axis=1)`` bit for bit, in
    numpy (strategies call it in every replay of every sweep batch)."""
    members = _positions(prices, *(b.tickers for b in universe.buckets))
    return pd.DataFrame(_bucket_returns(prices, universe, members), index=prices.index)


def _bucket_returns(prices: pd.DataFrame, universe: Universe,
                    members: list[np.ndarray]) -> dict[str, np.ndarray]:
    """``row_mean`` of each bucket's ``change(..., ratio=True)`` bit for bit, 64 days at a
    time (no days x tickers copies): ``np.add.reduce`` over the members of a members x days
    block adds in row_sum's order from 0.0, which differs only where every addend is -0.0."""
    values = prices.to_numpy(dtype=float)
    out = {b.name: np.full(len(values), np.nan) for b in universe.buckets}
    for days in day_blocks(1, len(values), 64):
        with np.errstate(divide="ignore", invalid="ignore"):
            block = np.ascontiguousarray((values[days] / values[days.start - 1:days.stop - 1] - 1).T)
        for bucket, at in zip(universe.buckets, members, strict=True):
            x = block[at]
            live = ~np.isnan(x)
            filled = np.where(live, x, 0.0)
            total = (np.add.reduce(filled, axis=0) if filled.shape[1] > 1 else row_sum(filled.T))
            total[((filled == 0) & np.signbit(filled)).all(axis=0) & (len(at) > 0)] = -0.0
            count = live.sum(axis=0)
            out[bucket.name][days] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return out


def _positions(frame: pd.DataFrame, *groups: Sequence[str]) -> list[np.ndarray]:
    """Where each group of tickers is among ``frame``'s columns (one lookup for all); a
    KeyError naming those that are not (as ``frame[tickers]`` raises)."""
    tickers = [t for group in groups for t in group]
    found = frame.columns.get_indexer(tickers)
    if (found < 0).any():
        raise KeyError(f"{[t for t, i in zip(tickers, found, strict=True) if i < 0]} not in index")
    bounds = np.cumsum([0, *(len(group) for group in groups)])
    return [found[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def row_sum(values: np.ndarray) -> np.ndarray:
    """Each row's sum over its non-NaN values (0 where there is none), summed column by
    column as pandas does (numpy's pairwise sum rounds differently from 8 columns on)."""
    filled = np.where(np.isnan(values), 0.0, values)
    total = filled[:, 0]
    for j in range(1, filled.shape[1]):
        total = total + filled[:, j]
    return total


def day_blocks(start: int, stop: int, size: int) -> list[slice]:
    """Consecutive blocks of ``size`` days from ``start`` to ``stop``, the last taking in a
    remainder under 6 days: numpy sums a block of one day in another order than pandas
    sums the whole frame (pandas itself transposes frames under 6 days)."""
    cuts = list(range(start, stop, size))
    if len(cuts) > 1 and stop - cuts[-1] < 6:
        cuts.pop()
    return [slice(lo, hi) for lo, hi in zip(cuts, [*cuts[1:], stop][:len(cuts)], strict=True)]


def row_mean(values: np.ndarray) -> np.ndarray:
    """Each row's mean over its non-NaN values (NaN where there is none), as pandas
    computes it (``row_sum`` over the count)."""
    count = (~np.isnan(values)).sum(axis=1)
    return np.where(count > 0, row_sum(values) / np.maximum(count, 1), np.nan)


def bucket_levels(prices: pd.DataFrame, universe: Universe) -> pd.DataFrame:
    """Daily equal-weight bucket index (members listed that day), as a price level."""
    members = _positions(prices, *(b.tickers for b in universe.buckets))
    daily = _bucket_returns(prices, universe, members)
    listed = prices.notna().to_numpy()
    levels = {}
    for bucket, at in zip(universe.buckets, members, strict=True):
        level = np.cumprod(1 + np.nan_to_num(daily[bucket.name], nan=0.0))
        levels[bucket.name] = np.where(listed[:, at].any(axis=1), level, np.nan)
    return pd.DataFrame(levels, index=prices.index)


def rank_contradictions(universe: Universe, measured: dict[str, Estimate]) -> list[str]:
    """Pairs of buckets whose measured durations order against their declared ranks by
    more than two standard errors of the difference (covariance ignored)."""
    issues = []
    buckets = sorted(universe.buckets, key=lambda b: b.rank)
    for i, low in enumerate(buckets):
        for high in buckets[i + 1:]:
            a, b = measured[low.name], measured[high.name]
            gap = float(a.value - b.value)
            if high.rank > low.rank and gap > 2 * float(np.hypot(a.se, b.se)):
                issues.append(f"{low.name} (rank {low.rank}) measures longer than "
                              f"{high.name} (rank {high.rank}): {a.value:.1f} vs "
                              f"{b.value:.1f} % per 100 bp")
    return issues


@dataclass(frozen=True)
class DurationRow:
    """One asset or bucket: declared rank, measured duration, liquidity beta."""

    name: str
    bucket: str
    rank: int
    duration: Estimate
    liquidity: Estimate | None
    own: OwnComponentBeta | None = None     # the liquidity beta without its own components


@dataclass(frozen=True)
class DurationReport:
    """Everything ``durationbt duration`` shows."""

    assets: tuple[DurationRow, ...]
    buckets: tuple[DurationRow, ...]
    contradictions: tuple[str, ...]
    rolling_buckets: pd.DataFrame      # week x bucket, rolling duration
    start: pd.Timestamp
    end: pd.Timestamp
    window: int


def measure_durations(universe: Universe, prices: pd.DataFrame, tnx: pd.Series,
                      score: pd.Series | None, start: pd.Timestamp, end: pd.Timestamp,
                      window: int = 104, signal: Signal | None = None) -> DurationReport:
    """Full-sample durations over [start, end] of every asset and bucket, liquidity betas
    against ``score`` when given (with ``signal``, whose composite it is, also without the
    components built from each one's own prices), and rolling bucket durations (history
    before ``start`` may feed the first rolling windows)."""
    bench = universe.benchmark
    tickers = list(universe.tickers)
    span = prices.loc[start:end]
    buckets = bucket_levels(prices, universe)
    combined = pd.concat([span[[*tickers, bench]], buckets.loc[start:end]], axis=1)
    factor = tnx.loc[start:end]
    dur = {e.name: e for e in asset_durations(combined, factor, bench)}
    liq = ({e.name: e for e in liquidity_betas(combined, score.loc[start:end], bench)}
           if score is not None else {})
    own: dict[str, OwnComponentBeta] = {}
    if score is not None and signal is not None:
        members = {**{t: (t,) for t in tickers}, **{b.name: b.tickers for b in universe.buckets}}
        own = {o.name: o for o in own_component_betas(combined, members, signal.as_of(end), bench)}
    rows = tuple(DurationRow(t, universe.bucket_of(t).name, universe.bucket_of(t).rank,
                             dur[t], liq.get(t), own.get(t)) for t in tickers)
    brows = tuple(DurationRow(b.name, b.name, b.rank, dur[b.name], liq.get(b.name),
                              own.get(b.name)) for b in universe.buckets)
    measured = {r.name: r.duration for r in brows}
    history = pd.concat([prices.loc[:end, [bench]], buckets.loc[:end]], axis=1)
    weeks = len(weekly(history))
    if window > weeks:
        raise DataError(f"--window {window} weeks is longer than the {weeks} weeks of data up "
                        f"to {pd.Timestamp(end).date()}: no rolling estimate could use a full "
                        f"window. Pass at most {weeks} (the default is 104).")
    rolling = rolling_durations(history, tnx.loc[:end], bench, window,
                                columns=list(universe.bucket_names)).loc[start:end]
    return DurationReport(rows, brows, tuple(rank_contradictions(universe, measured)),
                          rolling, pd.Timestamp(start), pd.Timestamp(end), window)
