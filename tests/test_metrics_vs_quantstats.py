"""durationbt computes CAGR, volatility, maximum drawdown and Calmar itself (a run without a
tearsheet never imports quantstats); quantstats stays the reference: equal to the last bit
on random curves and on the real snapshot's prices."""

import warnings

import numpy as np
import pandas as pd
import pytest

from durationbt import metrics

qs = pytest.importorskip("quantstats")


def reference(returns: pd.Series) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {"cagr": qs.stats.cagr(returns, periods=252),
                "volatility": qs.stats.volatility(returns, periods=252),
                "max_drawdown": qs.stats.max_drawdown(returns),
                "calmar": qs.stats.calmar(returns, periods=252)}


def ours(returns: pd.Series) -> dict[str, float]:
    return {"cagr": metrics.cagr(returns), "volatility": metrics.volatility(returns),
            "max_drawdown": metrics.max_drawdown(returns), "calmar": metrics.calmar(returns)}


@pytest.mark.parametrize("seed", range(12))
def test_equal_to_quantstats_bit_for_bit_on_random_curves(seed):
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2010-01-04", periods=int(rng.integers(30, 3000)))
    equity = pd.Series(1e6 * np.exp(np.cumsum(rng.normal(2e-4, rng.uniform(0.001, 0.04),
                                                         len(days)))), index=days)
    returns = equity.pct_change().iloc[1:]
    assert ours(returns) == reference(returns)


@pytest.mark.integration
def test_equal_to_quantstats_on_real_prices(snapshot):
    for ticker in ("SPY", "TLT", "BTC-USD", "MU", "BIL"):
        close = pd.read_csv(snapshot / f"{ticker}.csv", index_col=0, parse_dates=True)["Adj Close"]
        returns = close.loc["2015":].pct_change().iloc[1:]
        assert ours(returns) == reference(returns), ticker
