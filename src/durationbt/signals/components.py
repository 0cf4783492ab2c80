"""Signal components: each maps input series to a daily number where higher means scarcer
capital. Raw values only; standardising them is the composite's job. A component whose
inputs are absent raises MissingInput and is dropped from the composite with a warning."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .inputs import SignalData

__all__ = ["Component", "MissingInput", "COMPONENTS", "default_components", "HORIZON"]

HORIZON = 63  # trading days (about a quarter) behind every change-based component

# FRED publication lags, calendar days from the observation date to first use
DAILY_FRED_LAG = 1       # H.15 / ICE daily series: published the next business day
WEEKLY_H41_LAG = 2       # H.4.1 Wednesday levels: published Thursday, used from Friday


class MissingInput(Exception):
    """The component's inputs are not in the data."""


@dataclass(frozen=True)
class Component:
    """A named, documented scarcity input."""

    name: str
    summary: str                       # why higher means scarcer
    inputs: str                        # what it reads
    compute: Callable[[SignalData], pd.Series]


def _market(data: SignalData, *tickers: str) -> pd.Series:
    for ticker in tickers:
        if data.has(ticker):
            return data.market[ticker]
    raise MissingInput(f"needs one of {', '.join(tickers)}")


def _fred(data: SignalData, sid: str, lag: int, stale: int) -> pd.Series:
    if sid not in data.fred or data.fred[sid].dropna().empty:
        raise MissingInput(f"needs FRED {sid}")
    return data.fred_on_calendar(sid, lag, stale)


def rates(data: SignalData) -> pd.Series:
    """63-day change of the 10-year Treasury yield (pp): rising yields = dearer capital."""
    if data.has("^TNX"):
        tnx = data.market["^TNX"]
    else:
        tnx = _fred(data, "DGS10", DAILY_FRED_LAG, 7)
    return tnx - tnx.shift(HORIZON)


def front_end(data: SignalData) -> pd.Series:
    """63-day change of the 13-week bill yield (pp): policy tightening."""
    irx = _market(data, "^IRX")
    return irx - irx.shift(HORIZON)


def real_rates(data: SignalData) -> pd.Series:
    """63-day change of the 10-year real (TIPS) yield (pp): the real cost of capital."""
    real = _fred(data, "DFII10", DAILY_FRED_LAG, 7)
    return real - real.shift(HORIZON)


def credit(data: SignalData) -> pd.Series:
    """63-day widening of the high-yield OAS (pp), else HYG's 63-day log underperformance
    of IEF: lenders demanding more to fund risk."""
    try:
        oas = _fred(data, "BAMLH0A0HYM2", DAILY_FRED_LAG, 7)
        return oas - oas.shift(HORIZON)
    except MissingInput:
        hyg, ief = _market(data, "HYG"), _market(data, "IEF")
        ratio = np.log(hyg / ief)
        return -(ratio - ratio.shift(HORIZON))


def dollar(data: SignalData) -> pd.Series:
    """63-day log change of the dollar (UUP, else DX-Y.NYB): a firm dollar drains global
    liquidity."""
    usd = _market(data, "UUP", "DX-Y.NYB")
    return np.log(usd / usd.shift(HORIZON))


def crypto_stress(data: SignalData) -> pd.Series:
    """BTC-USD's drawdown from its trailing one-year high (0..1): the most
    liquidity-sensitive asset falls first."""
    btc = _market(data, "BTC-USD")
    return 1.0 - btc / btc.rolling(252, min_periods=126).max()


def volatility(data: SignalData) -> pd.Series:
    """log of VIX over its trailing one-year median: stress raises the price of risk."""
    vix = _market(data, "^VIX")
    return np.log(vix / vix.rolling(252, min_periods=126).median())


def net_liquidity(data: SignalData) -> pd.Series:
    """Minus the 13-week change of Fed net liquidity, WALCL - WTREGEN - RRPONTSYD, in $bn
    (WALCL and WTREGEN are $mn Wednesday levels used from Friday; RRPONTSYD is $bn, used
    the next day): a draining bathtub means scarcer capital."""
    walcl = _fred(data, "WALCL", WEEKLY_H41_LAG, 14) / 1000.0
    tga = _fred(data, "WTREGEN", WEEKLY_H41_LAG, 14) / 1000.0
    if "RRPONTSYD" in data.fred and not data.fred["RRPONTSYD"].empty:
        # before 2013 FRED reports no operation on most days: no row means zero
        rrp = data.fred_on_calendar("RRPONTSYD", DAILY_FRED_LAG, 10_000).fillna(0.0)
    else:
        raise MissingInput("needs FRED RRPONTSYD")
    net = walcl - tga - rrp
    return -(net - net.shift(HORIZON))


COMPONENTS: tuple[Component, ...] = tuple(
    Component(fn.__name__, (fn.__doc__ or "").split(":")[-1].strip().rstrip("."),
              (fn.__doc__ or "").split(":")[0].strip(), fn)
    for fn in (rates, front_end, real_rates, credit, dollar, crypto_stress, volatility,
               net_liquidity))


def default_components() -> dict[str, Component]:
    """The built-in components by name, in their canonical order."""
    return {c.name: c for c in COMPONENTS}
