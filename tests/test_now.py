"""`durationbt now`: the decision on the last day of the data equals a full run's decision
on that day; orders from holdings; the next execution day; the CLI and its JSON."""

import datetime as dt
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from durationbt.api import RunSettings
from durationbt.cli.app import app
from durationbt.errors import DataError, StrategyError
from durationbt.now import Holdings, next_trading_day, now, orders_for, read_holdings

runner = CliRunner()


@pytest.mark.parametrize("day, expected", [
    ("2026-07-31", "2026-08-03"),   # Friday -> Monday
    ("2026-07-02", "2026-07-06"),   # Independence Day observed on Friday 2026-07-03
    ("2025-04-17", "2025-04-21"),   # Good Friday
    ("2024-12-31", "2025-01-02"),   # New Year's Day
    ("2024-06-18", "2024-06-20"),   # Juneteenth
    ("2025-01-08", "2025-01-10"),   # closed for the national day of mourning (Carter)
    ("2026-03-25", "2026-03-26"),
])
def test_next_trading_day_skips_weekends_and_nyse_holidays(day, expected):
    assert next_trading_day(pd.Timestamp(day)) == pd.Timestamp(expected)


def _targets(run) -> pd.DataFrame:
    return pd.read_csv(run.run_dir / "targets.csv", index_col=0, parse_dates=True)


@pytest.mark.integration
def test_now_equals_a_full_runs_decision_on_the_snapshot(runs, snapshot, registry):
    report = now(list(runs), RunSettings(data=snapshot), registry=registry)
    as_of = report.as_of
    assert str(as_of.date()) == runs["equal_weight"].metrics["strategy"]["end"]
    for name, run in runs.items():
        row = _targets(run).loc[as_of]
        got = pd.Series(report.strategies[name].weights).reindex(row.index, fill_value=0.0)
        pd.testing.assert_series_equal(got, row, check_names=False, rtol=1e-9, atol=1e-12)
    assert report.regime in ("scarce", "neutral", "abundant")
    assert report.regime_since <= as_of
    assert report.composite == pytest.approx(pd.read_csv(
        runs["equal_weight"].run_dir / "signal.csv", index_col=0).iloc[-1]["composite"], abs=1e-9)
    assert report.components["net_liquidity"].missing.endswith("(FRED WTREGEN ends 2025-11-19)")


@pytest.mark.integration
def test_now_as_of_an_earlier_day_sees_only_data_up_to_it(runs, snapshot, registry):
    """Asked on 2024-06-28 with data cut there, the decision equals the full run's decision
    on 2024-06-28, made with the whole history loaded: the point-in-time guarantee."""
    report = now(["liquidity_rotation"], RunSettings(data=snapshot, end=dt.date(2024, 6, 28)),
                 registry=registry)
    assert report.as_of == pd.Timestamp("2024-06-28")
    assert report.strategies["liquidity_rotation"].next_execution == pd.Timestamp("2024-07-01")
    row = _targets(runs["liquidity_rotation"]).loc["2024-06-28"]
    got = pd.Series(report.strategies["liquidity_rotation"].weights).reindex(row.index,
                                                                             fill_value=0.0)
    pd.testing.assert_series_equal(got, row, check_names=False, rtol=1e-9, atol=1e-12)


def test_now_refuses_a_strategy_that_looks_ahead(synth_data, synth_universe, tmp_path):
    (tmp_path / "peek.py").write_text('''
import pandas as pd
from durationbt import Strategy

class Peek(Strategy):
    """Holds CHIPA when it will rise over the next month."""
    name = "peek"
    weights_by = "ticker"

    def target_weights(self, ctx):
        p = ctx.prices["CHIPA"]
        up = (p.shift(-21) > p).astype(float).loc[ctx.rebalance_dates]
        return pd.DataFrame({"CHIPA": up, "CASH": 1 - up})
''')
    settings = RunSettings(universe=synth_universe, data=synth_data, strategies_dir=tmp_path)
    with pytest.raises(StrategyError, match='"peek" looks into the future'):
        now(["peek"], settings)


def _holdings(tmp_path, text):
    path = tmp_path / "holdings.csv"
    path.write_text(text)
    return read_holdings(path)


def test_orders_from_quantities_are_hand_checkable(tmp_path):
    """Held: 10 A at 100 and 1,000 cash = 2,000. Target 25% A, 50% B (at 50): A is at 50%,
    so sell 5 A (500); buy 20 B (1,000); 25% stays in cash."""
    prices = pd.DataFrame({"A": [90.0, 100.0], "B": [40.0, 50.0]},
                          index=pd.to_datetime(["2026-07-30", "2026-07-31"]))
    held = _holdings(tmp_path, "ticker,quantity\nA,10\nCASH,1000\n")
    orders, notes = orders_for(pd.Series({"A": 0.25, "B": 0.5}), held, prices,
                               pd.Timestamp("2026-07-31"))
    assert notes == []
    assert [(o.side, o.ticker, o.quantity, o.value, o.weight_from, o.weight_to)
            for o in orders] == [("sell", "A", 5.0, 500.0, 0.5, 0.25),
                                 ("buy", "B", 20.0, 1000.0, 0.0, 0.5)]


def test_orders_from_weights_and_a_holding_priced_only_earlier(tmp_path):
    prices = pd.DataFrame({"A": [100.0, 100.0], "OLD": [8.0, None]},
                          index=pd.to_datetime(["2026-03-25", "2026-07-31"]))
    held = _holdings(tmp_path, "ticker,weight\nOLD,0.3\nA,0.7\n")
    orders, _ = orders_for(pd.Series({"A": 1.0}), held, prices, pd.Timestamp("2026-07-31"))
    assert [(o.side, o.ticker, round(o.weight_from - o.weight_to, 12), o.quantity)
            for o in orders] == [("sell", "OLD", 0.3, None), ("buy", "A", -0.3, None)]
    by_qty = _holdings(tmp_path, "ticker,quantity\nOLD,10\n")
    orders, notes = orders_for(pd.Series({"A": 1.0}), by_qty, prices, pd.Timestamp("2026-07-31"))
    assert notes == ["OLD valued at its last price, on 2026-03-25"]
    assert [(o.ticker, o.quantity) for o in orders] == [("OLD", 10.0), ("A", 0.8)]


@pytest.mark.parametrize("text, message", [
    ("ticker,shares\nA,1\n", "expected the columns ticker,quantity or ticker,weight"),
    ("ticker,quantity,weight\nA,1,0.5\n", "expected the columns"),
    ("ticker,quantity\nCASH,-1\n", "line 2: field 'quantity' must be a number for a named "
                                     "ticker (negative: a short), >= 0 for CASH"),
    ("ticker,quantity\nA,ten\n", "field 'quantity' must be a number"),
    ("ticker,weight\nA,0.6\nA,0.1\n", "ticker A appears more than once"),
    ("ticker,weight\nA,0.6\nB,0.6\n", "weights sum to 1.2"),
])
def test_bad_holdings_name_the_file_and_field(tmp_path, text, message):
    with pytest.raises(DataError, match="holdings.csv") as info:
        _holdings(tmp_path, text)
    assert message in str(info.value)


def test_orders_to_a_spread_short_and_cover(tmp_path):
    """Held: 10 A at 100 (1,000, all of it). Target A -0.5, B 1.5 (at 50): sell 10 A, short
    5 more (500), buy 30 B (1,500); then back from a short: cover."""
    prices = pd.DataFrame({"A": [100.0], "B": [50.0]}, index=pd.to_datetime(["2026-07-31"]))
    held = _holdings(tmp_path, "ticker,quantity\nA,10\n")
    orders, _ = orders_for(pd.Series({"A": -0.5, "B": 1.5}), held, prices,
                           pd.Timestamp("2026-07-31"))
    assert [(o.side, o.ticker, o.quantity, o.weight_from, o.weight_to) for o in orders] == [
        ("sell", "A", 10.0, 1.0, 0.0), ("short", "A", 5.0, 0.0, -0.5),
        ("buy", "B", 30.0, 0.0, 1.5)]
    short = _holdings(tmp_path, "ticker,weight\nA,-0.5\nCASH,1\n")
    orders, _ = orders_for(pd.Series({"A": -0.2}), short, prices, pd.Timestamp("2026-07-31"))
    assert [(o.side, o.ticker) for o in orders] == [("cover", "A")]


def test_a_holding_without_any_price_is_an_error(tmp_path):
    prices = pd.DataFrame({"A": [100.0]}, index=pd.to_datetime(["2026-07-31"]))
    held = Holdings("quantity", {"ZZZ": 1.0}, 0.0, tmp_path / "h.csv")
    with pytest.raises(DataError, match="ticker ZZZ has no price in the data"):
        orders_for(pd.Series({"A": 1.0}), held, prices, pd.Timestamp("2026-07-31"))


def test_cli_now_prints_the_reading_and_writes_json(synth_data, synth_universe, strategies_dir,
                                                    tmp_path):
    (tmp_path / "h.csv").write_text("ticker,quantity\nSOFTA,100\nCASH,5000\n")
    result = runner.invoke(app, ["now", "buy_and_hold", "liquidity_rotation", "--universe",
                                 str(synth_universe), "--data", str(synth_data),
                                 "--strategies-dir", str(strategies_dir), "--json",
                                 str(tmp_path / "now.json"), "--holdings", str(tmp_path / "h.csv")])
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "now.json").read_text())
    assert doc["as_of"] == "2021-06-30"
    assert doc["regime"] in ("scarce", "neutral", "abundant")
    assert set(doc["strategies"]) == {"buy_and_hold", "liquidity_rotation"}
    bah = doc["strategies"]["buy_and_hold"]
    assert bah["next_execution"] == "2021-07-01"
    members = ("CASH", "CHIPA", "LATE", "SOFTA", "SOFTB", "COIN-USD")
    assert bah["weights"] == pytest.approx({t: 1 / 6 for t in members}, abs=1e-6)
    assert bah["cash"] == 0.0
    sells = [o for o in bah["orders"] if o["side"] == "sell"]
    assert [o["ticker"] for o in sells] == ["SOFTA"]
    assert "As of 2021-06-30" in result.output and "Regime" in result.output
    assert "buy_and_hold: orders from h.csv" in result.output


def test_cli_now_with_bad_holdings_exits_2_and_writes_nothing(synth_data, synth_universe,
                                                              tmp_path):
    (tmp_path / "h.csv").write_text("ticker,shares\nA,1\n")
    result = runner.invoke(app, ["now", "--universe", str(synth_universe), "--data",
                                 str(synth_data), "--json", str(tmp_path / "now.json"),
                                 "--holdings", str(tmp_path / "h.csv")])
    assert result.exit_code == 2
    assert "h.csv: expected the columns" in " ".join(result.output.split())
    assert not (tmp_path / "now.json").exists()
