"""``lead``: does the signal predict the spread? The rank information coefficient between a
driver known at the close of t (the composite by default) and the return of ``long`` minus
``short`` over the next ``horizon`` days (t+1 .. t+h). The claim is scored at its first
horizon on non-overlapping windows (Newey-West, automatic lags); every horizon is also
given on overlapping daily windows (Newey-West, lags = horizon), the usual and more
optimistic reading. The composite is rebuilt without the components made from the legs'
own prices, so the signal is not credited with predicting what it is built from."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from ..signals.evaluate import rank_ic
from .claim import Claim, ClaimKind, ClaimScore, Leg, no_score
from .data import MIN_OBSERVATIONS, ThesisData, Window
from .outcome import non_overlapping

__all__ = ["LeadClaim", "KIND", "score", "forward_return"]

Horizon = Annotated[int, Field(ge=1, le=1260, strict=True)]


class LeadClaim(Claim):
    """``long`` minus ``short`` over ``horizons`` (trading days; the first is the claim's,
    the others are shown beside it) on ``driver``; ``expect = "< 0"`` says a scarcer
    reading comes before ``long`` falling behind."""

    kind: Literal["lead"]
    long: Leg
    short: Leg
    driver: Annotated[str, Field(min_length=1)] = "composite"
    horizons: Annotated[tuple[Horizon, ...], Field(min_length=1)] = (63,)
    leave_own_out: bool = True


def check(claim: LeadClaim, data: ThesisData) -> None:
    """The legs and the driver exist."""
    data.check_leg("long", claim.long)
    data.check_leg("short", claim.short)
    data.check_driver("driver", claim.driver)


def forward_return(daily: pd.Series, horizon: int) -> pd.Series:
    """Compounded return over t+1 .. t+horizon (NaN where it runs past the data)."""
    total = np.log1p(daily).rolling(horizon).sum().shift(-horizon)
    return np.expm1(total)


def _ic(driver: pd.Series, spread: pd.Series, window: Window, horizon: int,
        overlapping: bool):
    if overlapping:
        days = spread.loc[window.start:window.end].index
        days = days[:max(len(days) - horizon, 0)]
        return rank_ic(driver.reindex(days), spread.reindex(days), horizon)
    at = non_overlapping(spread.index, window, horizon)
    return rank_ic(driver.reindex(at), spread.reindex(at))


def score(claim: LeadClaim, data: ThesisData, window: Window) -> ClaimScore:
    """The claim on ``window``: the rank IC at the first horizon on non-overlapping
    windows, every horizon beside it."""
    method = "rank IC, non-overlapping windows, Newey-West"
    tickers = data.leg_tickers(claim.long) | data.leg_tickers(claim.short)
    leave = tickers if claim.leave_own_out and claim.driver == "composite" else set()
    driver = data.driver(claim.driver, leave)
    if isinstance(driver, str):
        return no_score(driver, method)
    long, short = data.leg_returns(claim.long), data.leg_returns(claim.short)
    priced = long.notna() & short.notna()
    spreads = {h: (forward_return(long.fillna(0.0), h) - forward_return(short.fillna(0.0), h)
                   ).where(priced) for h in claim.horizons}
    first = claim.horizons[0]
    est = _ic(driver, spreads[first], window, first, overlapping=False)
    est = type(est)(est.estimate, est.ci95, est.p_value, est.n,
                    f"{method} ({est.method}), {first}-day horizon", est.stderr, est.t, est.extra)
    left_out = data.guarded(leave).left_out
    full = data.driver(claim.driver)
    detail: dict = {"driver": claim.driver + (f" without {', '.join(left_out)}" if left_out
                                              else ""),
                    "left_out": list(left_out), "horizons": {}}
    for h in claim.horizons:
        row = {"non_overlapping": _ic(driver, spreads[h], window, h, False).to_json(),
               "overlapping_daily": _ic(driver, spreads[h], window, h, True).to_json()}
        if left_out and not isinstance(full, str):
            row["full_composite"] = _ic(full, spreads[h], window, h, False).to_json()
        detail["horizons"][str(h)] = row
    insufficient = (f"{est.n} non-overlapping {first}-day windows (at least "
                    f"{MIN_OBSERVATIONS} are needed)" if est.n < MIN_OBSERVATIONS else None)
    return ClaimScore(est, insufficient, {"windows": est.n}, detail)


KIND = ClaimKind("lead", "does the signal predict the spread (rank IC)",
                 "rank IC of the driver with the forward spread", LeadClaim, check, score)
