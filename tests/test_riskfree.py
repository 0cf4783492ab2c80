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
from durationbt.errors import DataError, ParameterError
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
    held = RiskFree("bills", "BIL", cash_asset="BIL").hold_cash(targets, prices)
    # no BIL price on the first date (not listed): the 40% stays as cash
    assert held["BIL"].tolist() == pytest.approx([0.0, 0.1, 0.0])
    prices.loc[dates[0], "BIL"] = 90.0
    held = RiskFree("bills", "BIL", cash_asset="BIL").hold_cash(targets, prices)
    assert held["BIL"].tolist() == pytest.approx([0.4, 0.1, 0.0])
    assert held["SPY"].tolist() == targets["SPY"].tolist()
    # the risk-free choice does not move the idle weight: rf = 0 or SPY, still in BIL
    for scored in (RiskFree("0", None, cash_asset="BIL"), RiskFree("SPY", "SPY", cash_asset="BIL")):
        assert scored.hold_cash(targets, prices).equals(held)
    assert RiskFree("bills", "BIL", cash="zero", cash_asset="BIL").hold_cash(
        targets, prices).equals(targets)
    assert RiskFree("0", None).hold_cash(targets, prices).equals(targets)   # no cash asset


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


class HalfChips(Strategy):
    """Half in the short-duration bucket of rank 1, half left uninvested."""

    name = "half_chips"

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        weights = pd.DataFrame(0.0, index=ctx.rebalance_dates, columns=ctx.universe.bucket_names)
        weights[ctx.buckets_ranked(low=1, high=1)[0]] = 0.5
        return weights


def test_the_risk_free_choice_never_places_the_idle_weight(synth_universe):
    """--risk-free scores; the universe's cash asset and --cash alone decide placement."""
    universe = load_universe(synth_universe)
    for spec in ("bills", "SOFTA", "BENCH", "0"):
        assert resolve_risk_free(spec, "risk-free", universe).cash_ticker == "CASH"
        assert resolve_risk_free(spec, "zero", universe).cash_ticker is None
    no_cash = universe.model_copy(update={"cash": None})
    assert resolve_risk_free("SOFTA", "risk-free", no_cash).cash_ticker is None
    assert resolve_risk_free("0", "risk-free", no_cash).conventions()["uninvested_weight"] == (
        "cash earning nothing")


def test_equity_is_identical_whatever_the_risk_free(synth_data, synth_universe, tmp_path):
    """Half the capital idle: held in CASH under every --risk-free; only the scores move."""
    registry = StrategyRegistry()
    registry.register(HalfChips, "tests/test_riskfree.py")
    runs = {}
    for spec in ("bills", "SOFTA", "0"):
        settings = RunSettings(universe=synth_universe, data=synth_data, out=tmp_path / spec,
                               risk_free=spec, tearsheet=False)
        runs[spec] = run_backtest("half_chips", settings, registry=registry)
    base = runs["bills"]
    for run in runs.values():
        pd.testing.assert_series_equal(run.result.equity, base.result.equity)
        assert run.metrics["conventions"]["uninvested_weight"] == "held in CASH"
        assert run.metrics["strategy"]["final_equity"] == base.metrics["strategy"]["final_equity"]
    held = base.result.weights["CASH"].iloc[5:]
    assert held.between(0.45, 0.55).all()      # the idle half sits in the cash asset
    assert runs["SOFTA"].result.weights["SOFTA"].eq(0).all()
    assert runs["SOFTA"].metrics["strategy"]["sharpe"] != base.metrics["strategy"]["sharpe"]


def test_half_memory_on_the_snapshot_ends_the_same_under_bills_spy_and_zero(snapshot, registry):
    """The review's case: a plugin holding 50% memory ended at 8.16 M (bills), 14.26 M (SPY:
    the idle half bought SPY) and 7.37 M (0: the idle half earned nothing) on the snapshot.
    Now the idle half is in BIL under all three."""
    from durationbt.pipeline import backtest
    from durationbt.session import Session

    class HalfMemory(Strategy):
        """50% memory chips, the rest idle."""

        name = "half_memory"

        def target_weights(self, ctx: Context) -> pd.DataFrame:
            weights = pd.DataFrame(0.0, index=ctx.rebalance_dates,
                                   columns=ctx.universe.bucket_names)
            weights["memory"] = 0.5
            return weights

    first = Session(RunSettings(data=snapshot), registry)
    equity = {}
    for spec in ("bills", "SPY", "0"):
        session = Session(RunSettings(data=snapshot, risk_free=spec), registry,
                          universe=first.universe, market=first.market)
        done = backtest(HalfMemory(), session)
        equity[spec] = done.result.equity
        assert done.targets["SPY"].eq(0).all() if "SPY" in done.targets else True
    pd.testing.assert_series_equal(equity["SPY"], equity["bills"])
    pd.testing.assert_series_equal(equity["0"], equity["bills"])
    assert 7.5e6 < equity["bills"].iloc[-1] < 9e6


# --- a cash asset that lists after the backtest starts -------------------------------------

def test_bill_yield_stands_in_before_the_instrument_lists():
    """BIL has no price on the first two days: day 1 takes ^IRX of day 0 (5.00%), day 2
    (BIL's first price, no return yet) ^IRX of day 1 (5.20%); then BIL's own return."""
    days = pd.bdate_range("2020-01-01", periods=5)
    prices = pd.DataFrame({"BIL": [np.nan, np.nan, 100.0, 100.01, 100.03]}, index=days)
    inputs = pd.DataFrame({"^IRX": [5.0, 5.2, 4.8, 4.8, 4.9]}, index=days)
    rf = RiskFree("bills", "BIL", cash_asset="BIL").returns(prices, inputs)
    assert rf.tolist() == pytest.approx([0.0, 1.05 ** (1 / 252) - 1, 1.052 ** (1 / 252) - 1,
                                         1e-4, 0.02 / 100.01], rel=1e-12)
    assert rf.iloc[1] == pytest.approx(1.9363e-4, rel=1e-4)      # 5% a year, per trading day
    conventions = RiskFree("bills", "BIL", cash_asset="BIL").conventions(prices, inputs)
    assert conventions["risk_free_fallback"] == {
        "source": "^IRX", "formula": "(1 + IRX/100)^(1/252) - 1 of the previous close's level",
        "days": 2, "dates": "2020-01-02 to 2020-01-03"}
    assert conventions["uninvested_weight"] == (
        "held in BIL (cash earning nothing when decided on 2020-01-01 to 2020-01-02: no price)")
    notes = RiskFree("bills", "BIL", cash_asset="BIL").notes(prices, inputs)
    assert notes[0] == ("risk-free: BIL's prices run from 2020-01-03 to 2020-01-07, so on 2 days "
                        "(2020-01-02 to 2020-01-03) it has no daily return and the 3-month "
                        "Treasury bill yield ^IRX stands in: (1 + IRX/100)^(1/252) - 1 of the "
                        "previous close's level")
    assert notes[1] == ("uninvested weight decided on days the cash asset BIL has no price "
                        "(2020-01-01 to 2020-01-02; its prices run from 2020-01-03 to "
                        "2020-01-07) is held as cash earning nothing until a decision on which "
                        "BIL is priced")
    # an instrument priced every day needs no stand-in and says nothing
    full = prices.assign(BIL=[99.99, 100.0, 100.0, 100.01, 100.03])
    assert RiskFree("bills", "BIL", cash_asset="BIL").notes(full, inputs) == []
    assert "risk_free_fallback" not in RiskFree("bills", "BIL").conventions(full, inputs)


def test_without_the_bill_yield_a_late_instrument_is_refused():
    days = pd.bdate_range("2020-01-01", periods=5)
    prices = pd.DataFrame({"SGOV": [np.nan, np.nan, 100.0, 100.01, 100.03]}, index=days)
    with pytest.raises(DataError) as caught:
        RiskFree("bills", "SGOV").returns(prices)
    text = str(caught.value)
    assert "SGOV (--risk-free bills) has prices only from 2020-01-03 to 2020-01-07" in text
    assert "no daily return on 2 days of the backtest (2020-01-02 to 2020-01-03)" in text
    assert "the data hold no ^IRX" in text and "--start" in text and "^IRX.csv" in text
    # a bill yield that does not reach back far enough is refused too, naming the days
    short = pd.DataFrame({"^IRX": [np.nan, 5.2, 4.8, 4.8, 4.9]}, index=days)
    with pytest.raises(DataError, match="has no level for 2020-01-02"):
        RiskFree("bills", "SGOV").returns(prices, short)


LATE_CASH = """
description = "cash asset that lists late"
benchmark = "BENCH"
cash = "LATE"
start = 2019-01-02
[ticker_start]
LATE = 2020-06-01
[buckets.bills]
rank = 0
description = "cash-like, listed 2020-06-01"
tickers = ["LATE"]
[buckets.chips]
rank = 1
description = "short duration"
tickers = ["CHIPA"]
[buckets.software]
rank = 4
description = "long duration"
tickers = ["SOFTA", "SOFTB"]
[signal]
tickers = ["^TNX"]
"""


def test_a_late_cash_asset_is_refused_without_the_bill_yield(synth_data, tmp_path):
    from typer.testing import CliRunner

    from durationbt.cli.app import app

    universe = tmp_path / "late.toml"
    universe.write_text(LATE_CASH)
    result = CliRunner().invoke(app, ["run", "equal_weight", "-u", str(universe), "--data",
                                      str(synth_data), "--out", str(tmp_path / "out"),
                                      "--no-tearsheet"])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "LATE (--risk-free bills) has prices only from 2020-06-01" in text
    assert "the data hold no ^IRX" in text and "^IRX.csv" in text
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_a_late_cash_asset_runs_on_the_bill_yield_and_says_so(synth_data, tmp_path):
    """With ^IRX at a constant 5% in the data, the risk-free return before LATE lists is
    1.05^(1/252) - 1 a day; the idle weight before its listing earns nothing, and both are
    named in the notes and metrics.json."""
    import shutil

    from conftest import business_days, write_yahoo_csv

    data = tmp_path / "data"
    shutil.copytree(synth_data, data)
    days = business_days("2018-01-02", "2021-06-30")
    write_yahoo_csv(data / "^IRX.csv", pd.Series(5.0, index=days))
    universe = tmp_path / "late.toml"
    universe.write_text(LATE_CASH)
    registry = StrategyRegistry()
    registry.register(HoldNothing, "tests/test_riskfree.py")
    run = run_backtest("hold_nothing", RunSettings(universe=universe, data=data,
                                                   out=tmp_path / "out", tearsheet=False),
                       registry=registry)
    equity = pd.read_csv(run.run_dir / "equity.csv", index_col=0, parse_dates=True)
    before = equity["risk_free"].loc["2019-01-03":"2020-06-01"]
    assert before.to_numpy() == pytest.approx(1.05 ** (1 / 252) - 1, rel=1e-12)
    late = pd.read_csv(data / "LATE.csv", index_col=0, parse_dates=True)["Adj Close"]
    assert equity["risk_free"].loc["2020-06-03"] == pytest.approx(
        late.loc["2020-06-03"] / late.loc["2020-06-02"] - 1, rel=1e-9)
    # nothing to hold before LATE lists: flat; from its first decision on, held in LATE
    assert equity["equity"].loc[:"2020-06-30"].eq(1e6).all()
    assert run.result.weights["LATE"].loc["2020-07-06":].gt(0.99).all()
    conventions = run.metrics["conventions"]
    assert conventions["risk_free_fallback"]["days"] == len(before)
    assert conventions["risk_free_fallback"]["dates"] == "2019-01-03 to 2020-06-01"
    assert "cash earning nothing when decided on 2019-01-02 to 2020-05-29" in (
        conventions["uninvested_weight"])
    notes = run.manifest["data"]["warnings"]
    assert any(n.startswith("risk-free: LATE's prices run from 2020-06-01") and "^IRX stands in"
               in n for n in notes)
    assert any("cash asset LATE has no price (2019-01-02 to 2020-05-29" in n for n in notes)
