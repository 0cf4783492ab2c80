"""Signal components: each maps its declared inputs to a daily number where higher means
scarcer capital. Raw values only; standardising them is the composite's job. A component
whose inputs are absent raises MissingInput and is dropped from the composite with a note.

A component is data (name, what it reads, why higher means scarcer, its inputs with their
publication lags) plus a function; ``@component`` declares one. The built-ins below are
registered like strategies (see ``signals.registry``); installed packages add their own under
the entry-point group ``durationbt.components``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .inputs import ComponentData, FredInput, Inputs, MissingInput, SignalData

__all__ = ["Component", "component", "MissingInput", "FredInput", "Inputs", "BUILTINS",
           "default_components", "HORIZON", "DAILY_FRED_LAG", "WEEKLY_H41_LAG"]

HORIZON = 63  # trading days (about a quarter) behind every change-based component

# FRED publication lags, calendar days from the observation date to first use
DAILY_FRED_LAG = 1       # H.15 / ICE daily series: published the next business day
WEEKLY_H41_LAG = 2       # H.4.1 Wednesday levels: published Thursday, used from Friday


@dataclass(frozen=True)
class Component:
    """A named scarcity input: what it reads (``reads``, in words, and ``inputs``, the
    series the loader fetches), why higher means scarcer (``summary``) and ``compute``,
    which sees only its declared inputs. Calling a component on SignalData gives its raw
    daily series."""

    name: str
    summary: str                       # why higher means scarcer
    reads: str                         # what it reads, in words
    inputs: Inputs
    compute: Callable[[ComponentData], pd.Series]

    def __call__(self, data: SignalData) -> pd.Series:
        return self.compute(ComponentData(data, self.inputs))


def component(name: str, *, summary: str, reads: str, tickers: tuple[str, ...] = (),
              fred: tuple[FredInput, ...] = ()) -> Callable[[Callable[[ComponentData], pd.Series]],
                                                             Component]:
    """Declare a component: ``@component("name", summary=..., reads=..., tickers=(...),
    fred=(FredInput("ID", lag_days),))`` over a function of ComponentData."""
    def wrap(fn: Callable[[ComponentData], pd.Series]) -> Component:
        return Component(name, summary, reads, Inputs(tuple(tickers), tuple(fred)), fn)
    return wrap


def _daily(sid: str) -> FredInput:
    return FredInput(sid, DAILY_FRED_LAG, 7)


def _weekly_h41(sid: str) -> FredInput:
    return FredInput(sid, WEEKLY_H41_LAG, 14)


@component("rates", summary="rising yields = dearer capital",
           reads="63-day change of the 10-year Treasury yield (pp): ^TNX, else FRED DGS10",
           tickers=("^TNX",), fred=(_daily("DGS10"),))
def rates(data: ComponentData) -> pd.Series:
    tnx = data.market("^TNX") if data.has("^TNX") else data.fred("DGS10")
    return tnx - tnx.shift(HORIZON)


@component("front_end", summary="policy tightening",
           reads="63-day change of the 13-week bill yield ^IRX (pp)", tickers=("^IRX",))
def front_end(data: ComponentData) -> pd.Series:
    irx = data.market("^IRX")
    return irx - irx.shift(HORIZON)


@component("real_rates", summary="the real cost of capital",
           reads="63-day change of the 10-year real (TIPS) yield, FRED DFII10 (pp)",
           fred=(_daily("DFII10"),))
def real_rates(data: ComponentData) -> pd.Series:
    real = data.fred("DFII10")
    return real - real.shift(HORIZON)


@component("credit", summary="lenders demanding more to fund risk",
           reads="63-day widening of the high-yield OAS, FRED BAMLH0A0HYM2 (pp), else HYG's "
                 "63-day log underperformance of IEF",
           tickers=("HYG", "IEF"), fred=(_daily("BAMLH0A0HYM2"),))
def credit(data: ComponentData) -> pd.Series:
    try:
        oas = data.fred("BAMLH0A0HYM2")
        return oas - oas.shift(HORIZON)
    except MissingInput:
        hyg, ief = data.market("HYG"), data.market("IEF")
        ratio = np.log(hyg / ief)
        return -(ratio - ratio.shift(HORIZON))


@component("dollar", summary="a firm dollar drains global liquidity",
           reads="63-day log change of the dollar: UUP, else DX-Y.NYB",
           tickers=("UUP", "DX-Y.NYB"))
def dollar(data: ComponentData) -> pd.Series:
    usd = data.market("UUP", "DX-Y.NYB")
    return np.log(usd / usd.shift(HORIZON))


@component("crypto_stress", summary="the most liquidity-sensitive asset falls first",
           reads="BTC-USD's drawdown from its trailing one-year high (0..1)", tickers=("BTC-USD",))
def crypto_stress(data: ComponentData) -> pd.Series:
    btc = data.market("BTC-USD")
    return 1.0 - btc / btc.rolling(252, min_periods=126).max()


@component("volatility", summary="stress raises the price of risk",
           reads="log of VIX over its trailing one-year median", tickers=("^VIX",))
def volatility(data: ComponentData) -> pd.Series:
    vix = data.market("^VIX")
    return np.log(vix / vix.rolling(252, min_periods=126).median())


@component("net_liquidity", summary="a draining bathtub means scarcer capital",
           reads="minus the 13-week change of Fed net liquidity, WALCL - WTREGEN - RRPONTSYD, "
                 "in $bn (WALCL and WTREGEN are $mn Wednesday levels used from Friday; "
                 "RRPONTSYD is $bn, used the next day)",
           # before 2013 FRED reports no reverse-repo operation on most days: no row means
           # zero, so RRPONTSYD is never stale
           fred=(_weekly_h41("WALCL"), _weekly_h41("WTREGEN"),
                 FredInput("RRPONTSYD", DAILY_FRED_LAG, 10_000)))
def net_liquidity(data: ComponentData) -> pd.Series:
    walcl = data.fred("WALCL") / 1000.0
    tga = data.fred("WTREGEN") / 1000.0
    rrp = data.fred("RRPONTSYD").fillna(0.0)
    net = walcl - tga - rrp
    return -(net - net.shift(HORIZON))


BUILTINS: tuple[Component, ...] = (rates, front_end, real_rates, credit, dollar, crypto_stress,
                                   volatility, net_liquidity)


def default_components() -> dict[str, Component]:
    """The built-in components by name, in their canonical order."""
    return {c.name: c for c in BUILTINS}
