"""``outcome``: does a series (a yield, a credit spread, a price) rise over the next
``horizon`` days when a driver (the composite, a component, a user series such as capex
growth) is high? The estimate is the OLS slope of the series' change from the close of t to
the close of t + horizon on the driver known at t, over non-overlapping windows (one every
``horizon`` days, the latest ending on the window's last day) with Newey-West errors,
expressed per one standard deviation of the driver so that claims share an axis. The same
slope on overlapping daily windows (Newey-West, lags = horizon) and within scarce and within
abundant days (is the link state dependent?) are reported beside it."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from ..inference import hac_slope
from .claim import Claim, ClaimKind, ClaimScore, no_score
from .data import MIN_OBSERVATIONS, ThesisData, Window

__all__ = ["OutcomeClaim", "KIND", "score", "forward_change", "non_overlapping"]


class OutcomeClaim(Claim):
    """``series`` (a FRED id, a ticker or a ``[[thesis.series]]`` name) over ``horizon``
    trading days on ``driver`` (``composite``, a component or a user series),
    ``expect = "> 0"`` or ``"< 0"``; ``change``: ``diff`` (levels: yields, spreads),
    ``log`` (prices) or ``auto`` (log for prices, diff otherwise)."""

    kind: Literal["outcome"]
    series: Annotated[str, Field(min_length=1)]
    driver: Annotated[str, Field(min_length=1)] = "composite"
    horizon: Annotated[int, Field(ge=1, le=1260, strict=True)]
    change: Literal["auto", "diff", "log"] = "auto"


def check(claim: OutcomeClaim, data: ThesisData) -> None:
    """The series and the driver exist."""
    data.check_level("series", claim.series)
    data.check_driver("driver", claim.driver)


def forward_change(level: pd.Series, horizon: int, log: bool) -> pd.Series:
    """The change from each close to the close ``horizon`` trading days later (NaN where
    that lies past the data)."""
    ahead = level.shift(-horizon)
    return np.log(ahead / level) if log else ahead - level


def non_overlapping(index: pd.DatetimeIndex, window: Window, horizon: int) -> pd.DatetimeIndex:
    """Decision days every ``horizon`` days whose forward window ends inside ``window``,
    the latest ending on its last day."""
    days = index[(index >= window.start) & (index <= window.end)]
    last = len(days) - 1 - horizon
    if last < 0:
        return pd.DatetimeIndex([])
    return days[np.arange(last, -1, -horizon)[::-1]]


def _slope_per_sd(y: pd.Series, x: pd.Series, sd: float, lags: int | None = None):
    return hac_slope(y.to_numpy(dtype=float), x.to_numpy(dtype=float), lags).scaled(sd)


def score(claim: OutcomeClaim, data: ThesisData, window: Window) -> ClaimScore:
    """The claim on ``window``: the slope per s.d. of the driver on non-overlapping
    windows, with overlapping and per-regime slopes beside it."""
    level, driver = data.level(claim.series), data.driver(claim.driver)
    method = ("OLS slope per one s.d. of the driver, non-overlapping windows, Newey-West")
    for missing in (level, driver):
        if isinstance(missing, str):
            return no_score(missing, method)
    log = claim.change == "log" or (claim.change == "auto" and data.is_price(claim.series))
    change = forward_change(level, claim.horizon, log)
    at = non_overlapping(level.index, window, claim.horizon)
    both = pd.DataFrame({"y": change.reindex(at), "x": driver.reindex(at)}).dropna()
    n = len(both)
    if n < 4 or both["x"].std() == 0:
        return no_score(f"{n} non-overlapping windows with both the series and the driver",
                        method, n, windows=n)
    sd = float(both["x"].std())
    est = _slope_per_sd(both["y"], both["x"], sd)
    days = level.loc[window.start:window.end].index
    eligible = days[:max(len(days) - claim.horizon, 0)]
    daily = pd.DataFrame({"y": change.reindex(eligible), "x": driver.reindex(eligible)}).dropna()
    regime = data.signal.regime.reindex(both.index)
    detail: dict = {
        "units": f"change of {claim.series} over {claim.horizon} days "
                 + ("(log)" if log else "(in its own units)") + f" per one s.d. of {claim.driver}",
        "driver_sd": sd, "driver_values": int(both["x"].round(12).nunique()),
        "overlapping_daily": _slope_per_sd(daily["y"], daily["x"], sd,
                                           claim.horizon).to_json() if len(daily) > 4 else None}
    for state in ("scarce", "abundant"):
        part = both[regime.eq(state).to_numpy()]
        detail[f"within_{state}"] = (_slope_per_sd(part["y"], part["x"], sd).to_json()
                                     if len(part) > 4 and part["x"].std() > 0
                                     else {"n": len(part)})
    levels = level.loc[window.start:window.end]
    now = data.signal.regime.reindex(levels.index)
    detail["mean_level_scarce"] = _mean(levels[now.eq("scarce").to_numpy()])
    detail["mean_level_abundant"] = _mean(levels[now.eq("abundant").to_numpy()])
    built = [c for c, spec in data.signal.inputs.items() if claim.series in
             (*spec.tickers, *spec.fred_ids)] if claim.driver == "composite" else []
    if built:
        detail["driver_reads_series"] = built
    insufficient = (f"{n} non-overlapping {claim.horizon}-day windows (at least "
                    f"{MIN_OBSERVATIONS} are needed)" if n < MIN_OBSERVATIONS else None)
    return ClaimScore(est, insufficient, {"windows": n, "days": len(daily)}, detail)


def _mean(values: pd.Series) -> float | None:
    values = values.dropna()
    return float(values.mean()) if len(values) else None


KIND = ClaimKind("outcome", "a series' change over the next days on a driver known today",
                 "change of the series per one s.d. of the driver", OutcomeClaim, check, score)
