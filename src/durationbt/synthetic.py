"""Seeded synthetic market data for any universe: what `strategies check` and plugin tests
run on before touching real data. Prices are random walks on business days (7-day walks
sampled on them for crypto-like tickers), yields are levels, FRED series are plausible."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .data.market import MarketData
from .signals.registry import signal_series
from .universe import Universe

__all__ = ["synthetic_market"]

_LEVELS = {"^TNX": 2.5, "^IRX": 1.5, "^VIX": 18.0}


def synthetic_market(universe: Universe, *, years: int = 6, seed: int = 0) -> MarketData:
    """MarketData shaped like the real thing for ``universe`` (history before the backtest
    start included for lookbacks; late ``ticker_start`` dates are not simulated)."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2016-01-01", periods=252 * years, name="date")
    n = len(days)
    tickers = list(dict.fromkeys([*universe.tickers, universe.benchmark]))
    prices = {}
    for ticker in tickers:
        rank = universe.bucket_of(ticker).rank if ticker in universe.tickers else 2
        vol = 0.001 if rank == 0 else 0.008 + 0.004 * rank
        prices[ticker] = 100 * np.exp(np.cumsum(rng.normal(2e-4, vol, n)))
    # every series the universe's components declare (its own CSV series are not simulated:
    # those components are dropped here)
    wanted = signal_series(universe)
    inputs = {}
    for ticker in wanted.tickers:
        if ticker in prices:
            continue
        if ticker in _LEVELS:
            inputs[ticker] = np.abs(_LEVELS[ticker] + np.cumsum(rng.normal(0, 0.04, n)))
        else:
            inputs[ticker] = 50 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    weds = pd.date_range(days[0], days[-1], freq="W-WED")
    cal_days = pd.date_range(days[0], days[-1], freq="D")
    fred = {
        "WALCL": pd.Series(7e6 + np.cumsum(rng.normal(0, 2e4, len(weds))), index=weds),
        "WTREGEN": pd.Series(7e5 + np.cumsum(rng.normal(0, 1e4, len(weds))), index=weds),
        "RRPONTSYD": pd.Series(np.abs(300 + np.cumsum(rng.normal(0, 10, len(cal_days)))),
                               index=cal_days),
        "DFII10": pd.Series(0.5 + np.cumsum(rng.normal(0, 0.04, n)), index=days),
        "BAMLH0A0HYM2": pd.Series(np.abs(4 + np.cumsum(rng.normal(0, 0.05, n))), index=days),
    }
    price_frame = pd.DataFrame(prices, index=days)
    input_frame = pd.DataFrame(inputs, index=days)
    input_frame = pd.concat([input_frame, price_frame[[t for t in wanted.tickers
                                                       if t in price_frame]]], axis=1)
    start = days[252 * 2]
    return MarketData(prices=price_frame, inputs=input_frame, fred=fred, start=start,
                      end=days[-1], source=f"synthetic(seed={seed})")
