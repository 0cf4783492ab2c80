"""Does the score work? Rank information coefficients between the scarcity score (and each
component) and the forward return spread of short- minus long-duration buckets, with
Newey-West t-statistics because daily-sampled overlapping horizons are autocorrelated."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..duration import bucket_daily_returns
from ..inference import Estimate
from ..inference.hac import hac_mean
from ..universe import Universe
from .composite import Signal

__all__ = ["ICResult", "forward_spread", "newey_west_t", "information_coefficients",
           "HORIZONS", "rank_ic"]

HORIZONS = {"1m": 21, "3m": 63, "6m": 126}


@dataclass(frozen=True)
class ICResult:
    """Spearman IC of one series against one forward horizon."""

    series: str
    horizon: str
    ic: float
    t_stat: float
    n: int


def forward_spread(prices: pd.DataFrame, universe: Universe, horizon: int,
                   short_max_rank: int = 1, long_min_rank: int = 3) -> pd.Series:
    """Return over the next ``horizon`` days (t+1..t+h) of the equal-weight short-duration
    buckets minus the long-duration ones; buckets equal weight, members equal weight
    among those listed. NaN where the window runs past the data."""
    buckets = bucket_daily_returns(prices, universe)

    def side(keep) -> pd.Series:
        return buckets[[b.name for b in universe.buckets if keep(b.rank)]].mean(axis=1)

    def ahead(daily: pd.Series) -> pd.Series:
        log = np.log1p(daily.fillna(0.0))
        total = log.rolling(horizon).sum().shift(-horizon)
        return np.expm1(total)

    short = side(lambda r: r <= short_max_rank)
    long = side(lambda r: r >= long_min_rank)
    return (ahead(short) - ahead(long)).rename(f"spread_{horizon}d")


def newey_west_t(u: np.ndarray, lags: int) -> float:
    """t-statistic of mean(u) with a Bartlett-kernel (Newey-West 1987) long-run variance."""
    u = np.asarray(u, dtype=float)
    if len(u) < 3:
        return float("nan")
    t = hac_mean(u, lags).t
    return float("nan") if t is None else t


def _rank_ic(x: pd.Series, y: pd.Series, lags: int) -> tuple[float, float, int]:
    both = pd.concat([x, y], axis=1).dropna()
    if len(both) < 30:
        return float("nan"), float("nan"), len(both)
    ranks = both.rank()
    z = (ranks - ranks.mean()) / ranks.std(ddof=0)
    u = (z.iloc[:, 0] * z.iloc[:, 1]).to_numpy()
    return float(u.mean()), newey_west_t(u, lags), len(both)


def information_coefficients(signal: Signal, prices: pd.DataFrame, universe: Universe,
                             start: pd.Timestamp | None = None,
                             end: pd.Timestamp | None = None) -> list[ICResult]:
    """IC and Newey-West t (lags = horizon) for the composite and each component, over
    score dates in [start, end] whose forward window lies inside the data."""
    out: list[ICResult] = []
    series = {"composite": signal.composite, **{c: signal.components[c]
                                                for c in signal.components.columns}}
    for label, horizon in HORIZONS.items():
        fwd = forward_spread(prices, universe, horizon).loc[start:end]
        for name, values in series.items():
            ic, t, n = _rank_ic(values.loc[start:end], fwd, horizon)
            out.append(ICResult(name, label, ic, t, n))
    return out


def rank_ic(x: pd.Series, y: pd.Series, lags: int | None = None) -> Estimate:
    """Spearman's rank correlation of ``x`` and ``y`` (dates with both) as the mean of the
    product of their standardised ranks, with a Newey-West interval: ``lags`` the windows'
    overlap (horizon - 1 for daily overlapping windows), None for the automatic bandwidth
    (non-overlapping windows)."""
    both = pd.concat([x, y], axis=1).dropna()
    ranks = both.rank()
    z = (ranks - ranks.mean()) / ranks.std(ddof=0)
    return hac_mean((z.iloc[:, 0] * z.iloc[:, 1]).to_numpy(dtype=float), lags)
