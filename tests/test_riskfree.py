"""Scores in excess of the risk-free return, and uninvested weight held in the cash asset:
hand-checked numbers, one Sharpe formula across run, sweep and regime scores, and a
bills-only strategy that scores about 0."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from durationbt.api import RunSettings, run_backtest
from durationbt.engine import Costs
from durationbt.errors import ParameterError
from durationbt.metrics import sharpe, sortino
from durationbt.plugins import StrategyRegistry
from durationbt.regimes import regime_scores
from durationbt.riskfree import RiskFree, resolve_risk_free
from durationbt.scoring import performance_metrics
from durationbt.strategy import Context, Strategy
from durationbt.sweep.kernel import execution_rows, simulate_many, simulate_stats
from durationbt.sweep.metrics import equity_metrics, stats_metrics
from durationbt.universe import load_universe
from test_engine import monthly_targets, synthetic_prices


def test_sharpe_and_sortino_of_excess_returns_by_hand():
    r = np.array([0.02, -0.01, 0.03, 0.00])
    rf = np.array([0.01, 0.01, 0.01, 0.01])
    x = r - rf                              # 0.01, -0.02, 0.02, -0.01: mean 0
    assert sharpe(r, rf) == pytest.approx(0.0, abs=1e-12)
    # shifted by 0.005: mean 0.005, std(ddof 1) of x unchanged = sqrt(0.001 / 3)
    assert sharpe(r + 0.005, rf) == pytest.approx(0.005 / math.sqrt(0.001 / 3) * math.sqrt(252))
    # Sortino: downside deviation sqrt((0.02^2 + 0.01^2) / 4) over all four days
    down = math.sqrt((x[1] ** 2 + x[3] ** 2) / 4)
    assert sortino(r + 0.005, rf) == pytest.approx(0.005 / math.sqrt(
        ((np.minimum(x + 0.005, 0)) ** 2).sum() / 4) * math.sqrt(252))
    assert down > 0
    # a constant excess return has no volatility: undefined, not infinite
    assert math.isnan(sharpe(rf * 2, rf))


def test_hold_cash_puts_the_uninvested_weight_in_the_cash_ticker():
    dates = pd.DatetimeIndex(["2020-01-31", "2020-02-28", "2020-03-31"])
    targets = pd.DataFrame({"BIL": [0.0, 0.1, 0.0], "SPY": [0.6, 0.9, 1.0]}, index=dates)
    prices = pd.DataFrame({"BIL": [np.nan, 91.0, 91.1], "SPY": [300.0, 310.0, 320.0]},
                          index=dates)
    held = RiskFree("bills", "BIL").hold_cash(targets, prices)
    # no BIL price on the first date (not listed): the 40% stays as cash
    assert held["BIL"].tolist() == pytest.approx([0.0, 0.1, 0.0])
    prices.loc[dates[0], "BIL"] = 90.0
    held = RiskFree("bills", "BIL").hold_cash(targets, prices)
    assert held["BIL"].tolist() == pytest.approx([0.4, 0.1, 0.0])
    assert held["SPY"].tolist() == targets["SPY"].tolist()
    assert RiskFree("bills", "BIL", cash="zero").hold_cash(targets, prices).equals(targets)
    assert RiskFree("0", None).hold_cash(targets, prices).equals(targets)


def test_risk_free_returns_are_the_tickers_daily_total_return():
    dates = pd.bdate_range("2020-01-01", periods=3)
    prices = pd.DataFrame({"BIL": [100.0, 100.01, 100.03]}, index=dates)
    rf = RiskFree("bills", "BIL").returns(prices)
    assert rf.tolist() == pytest.approx([0.0, 1e-4, 0.02 / 100.01])
    assert RiskFree("0", None).returns(prices).tolist() == [0.0, 0.0, 0.0]


def test_resolve_risk_free_choices_and_errors(synth_universe):
    universe = load_universe(synth_universe)
    assert resolve_risk_free("bills", "risk-free", universe).ticker == "CASH"
    assert resolve_risk_free("0", "risk-free", universe).ticker is None
    assert resolve_risk_free("SOFTA", "zero", universe).cash_ticker is None
    with pytest.raises(ParameterError, match='--risk-free "CASHH".*Did you mean "CASH"'):
        resolve_risk_free("CASHH", "risk-free", universe)
    with pytest.raises(ParameterError, match='--cash "bills" is not a choice'):
        resolve_risk_free("bills", "bills", universe)
    no_cash = universe.model_copy(update={"cash": None})
    with pytest.raises(ParameterError, match="names no cash asset"):
        resolve_risk_free("bills", "risk-free", no_cash)


def test_kernel_streams_excess_return_metrics_like_the_single_run_scores():
    """One Sharpe: the sweep kernel's streamed moments, full equity curves and
    performance_metrics agree when the risk-free return varies day by day."""
    prices = synthetic_prices()
    targets = [monthly_targets(prices, seed) for seed in range(3)]
    rows, decisions = execution_rows(prices.index, targets[0].index)
    stack = np.stack([t.loc[decisions, prices.columns].to_numpy() for t in targets])
    rf = np.random.default_rng(5).uniform(0.0, 2e-4, len(prices))
    equity, traded = simulate_many(prices, stack, rows, costs=Costs())
    _, traded2, stats, _ = simulate_stats(prices, stack, rows, costs=Costs(), risk_free=rf)
    full = equity_metrics(equity, traded, rf)
    streamed = stats_metrics(stats, traded2, len(prices), 1e6)
    rf_series = pd.Series(rf, index=prices.index)
    for k in range(len(targets)):
        single = performance_metrics(pd.Series(equity[k], index=prices.index),
                                     pd.Series(0.0, index=prices.index), rf_series)
        for key in ("sharpe", "sortino", "volatility", "cagr"):
            assert full[key][k] == pytest.approx(streamed[key][k], rel=1e-9)
            assert full[key][k] == pytest.approx(single[key], rel=1e-9)
    assert not np.allclose(full["sharpe"], equity_metrics(equity, traded)["sharpe"])


def test_regime_sharpe_is_in_excess_of_the_risk_free_return():
    days = pd.bdate_range("2020-01-01", periods=6)
    returns = pd.DataFrame({"s": [0.0, 0.01, 0.02, 0.01, 0.03, 0.0]}, index=days)
    rf = pd.Series(0.01, index=days)
    regime = pd.Series("scarce", index=days)
    scores = regime_scores(returns, regime, rf)
    x = returns["s"].iloc[1:] - 0.01      # the first day has no prior regime
    assert scores.loc[("s", "all"), "sharpe"] == pytest.approx(x.mean() / x.std() * math.sqrt(252))


class HoldNothing(Strategy):
    """Invests nothing: every decision leaves all of the capital uninvested."""

    name = "hold_nothing"

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        return pd.DataFrame(0.0, index=ctx.rebalance_dates, columns=ctx.universe.bucket_names)


@pytest.fixture
def nothing_registry():
    registry = StrategyRegistry()
    registry.register(HoldNothing, "tests/test_riskfree.py")
    return registry


def _metrics(settings: RunSettings, registry) -> dict:
    result = run_backtest("hold_nothing", settings, registry=registry)
    return json.loads((result.run_dir / "metrics.json").read_text())


def test_a_bills_only_strategy_scores_about_zero(synth_data, synth_universe, nothing_registry,
                                                 tmp_path):
    base = RunSettings(universe=synth_universe, data=synth_data, out=tmp_path)
    held = _metrics(base, nothing_registry)
    # uninvested weight is held in CASH, the risk-free asset: only the first purchase's
    # costs (15 bp) separate it from the risk-free return. One nonzero excess return c
    # among n days has mean c / n and std |c| / sqrt(n): Sharpe -sqrt(252 / n), -0.63 here
    n = held["strategy"]["days"]
    assert held["strategy"]["sharpe"] == pytest.approx(-math.sqrt(252 / n), rel=1e-3)
    assert held["conventions"]["risk_free"] == "bills"
    assert held["conventions"]["risk_free_ticker"] == "CASH"
    assert held["conventions"]["uninvested_weight"] == "held in CASH"
    # idle cash earning nothing, measured against bills: far below zero
    idle = _metrics(RunSettings(universe=synth_universe, data=synth_data, out=tmp_path,
                                cash="zero"), nothing_registry)
    assert idle["strategy"]["sharpe"] < -5 and idle["strategy"]["total_return"] == 0.0
    assert idle["conventions"]["uninvested_weight"] == "cash earning nothing"
