"""End to end on the real market-data snapshot (../shared/market-data)."""

import datetime as dt
import json
import re

import numpy as np
import pandas as pd
import pytest

from durationbt.api import RunSettings, build_context, compute_weights, run_backtest
from durationbt.data import CsvProvider
from durationbt.engine import Costs, execution_schedule, simulate
from durationbt.signals import load_market_data
from durationbt.universe import load_universe
from reference import simulate_shares

pytestmark = pytest.mark.integration

FILES = ["duration.csv", "equity.csv", "exposures.csv", "manifest.json", "metrics.json",
         "orders.csv", "regimes.json", "report.html", "signal.csv", "targets.csv", "tearsheet.html",
         "weights.csv"]


@pytest.fixture(scope="module")
def market(snapshot, default_universe):
    universe = load_universe(default_universe)
    return universe, load_market_data(universe, CsvProvider(snapshot))


def test_default_range_runs_past_eth_which_is_delisted(market):
    """ETH-USD's data stop 2026-03-25; every bucket keeps a priced member to 2026-07-31."""
    _, md = market
    assert md.start == pd.Timestamp("2015-01-02")
    assert md.end == pd.Timestamp("2026-07-31")
    assert md.ended == {"ETH-USD": pd.Timestamp("2026-03-26")}  # its 03-25 close, usable on 03-26
    assert md.absent == ()
    assert md.prices.loc["2026-03-27":, "ETH-USD"].isna().all()   # never seen after its end
    assert md.prices.loc[md.start:, "SNDK"].first_valid_index() == pd.Timestamp("2025-02-24")
    assert md.prices.loc[md.start:, "ETH-USD"].first_valid_index() == pd.Timestamp("2017-11-10")
    assert any("ETH-USD's prices end 2026-03-26" in w and "continues with BTC-USD" in w
               for w in md.warnings)


def test_eth_is_sold_at_the_first_execution_after_its_end(runs):
    """Its last close (stamped 2026-03-25, UTC) is usable on 2026-03-26 (crypto convention)."""
    run = runs["liquidity_rotation"]
    targets = run.result.targets
    after = targets.index[targets.index > pd.Timestamp("2026-03-26")]
    assert (targets.loc[after, "ETH-USD"] == 0).all()
    weights = run.result.weights["ETH-USD"]
    assert weights.loc[after[0]:].eq(0).all()
    assert run.manifest["data"]["delisted"] == {"ETH-USD": "2026-03-26"}


@pytest.mark.parametrize("name", ["sixty_forty", "liquidity_rotation"])
def test_window_before_sndk_lists_runs_without_it(name, snapshot, registry, tmp_path):
    done = run_backtest(name, RunSettings(data=snapshot, out=tmp_path, start=dt.date(2022, 1, 3),
                                          end=dt.date(2024, 12, 31)), registry=registry)
    assert done.metrics["strategy"]["end"] == "2024-12-31"
    assert done.manifest["data"]["absent"] == ["SNDK"]
    assert done.result.weights["SNDK"].eq(0).all()
    assert any("SNDK has no price between 2022-01-03 and 2024-12-31" in w
               for w in done.manifest["data"]["warnings"])


@pytest.mark.parametrize("name", ["equal_weight", "liquidity_rotation"])
def test_complete_run_folders(runs, name):
    run = runs[name]
    timed = ["timing.csv"] if name == "liquidity_rotation" else []   # equal_weight: no timing
    assert sorted(p.name for p in run.run_dir.iterdir()) == sorted(FILES + timed)
    metrics = json.loads((run.run_dir / "metrics.json").read_text())
    for side in ("strategy", "benchmark"):
        for key in ("total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown",
                    "calmar", "turnover", "start", "end"):
            assert metrics[side][key] is not None
    assert metrics["strategy"]["start"] == "2015-01-02"
    assert metrics["strategy"]["end"] == "2026-07-31"
    manifest = json.loads((run.run_dir / "manifest.json").read_text())
    assert manifest["strategy"]["name"] == name
    assert len(manifest["data"]["fingerprint"]) == 64
    assert manifest["universe"]["sha256"] and manifest["packages"]["vectorbt"]
    equity = pd.read_csv(run.run_dir / "equity.csv", index_col=0, parse_dates=True)
    assert list(equity.columns) == ["equity", "benchmark", "risk_free"]
    assert equity.iloc[0].tolist() == [1_000_000, 1_000_000, 0]
    orders = pd.read_csv(run.run_dir / "orders.csv")
    assert (orders["fees"] + orders["slippage"]).sum() == pytest.approx(
        manifest["engine"]["costs_paid"], rel=1e-8)
    weights = pd.read_csv(run.run_dir / "weights.csv", index_col=0, parse_dates=True)
    assert (weights.sum(axis=1) <= 1 + 1e-9).all() and (weights >= -1e-12).all().all()


def test_spy_benchmark_matches_its_prices(runs, market):
    _, md = market
    bench = runs["equal_weight"].benchmark
    spy = md.prices["SPY"]
    first_fill = md.calendar[md.calendar.get_loc(md.start) + 1]
    assert bench.iloc[-1] == pytest.approx(1e6 * spy.loc[md.end] / spy.loc[first_fill], rel=1e-12)


def test_every_month_end_rebalance_trades(runs):
    """The weekend trap: with crypto aligned to trading days no rebalance is skipped."""
    manifest = runs["equal_weight"].manifest
    result = runs["equal_weight"].result
    assert manifest["engine"]["executed_rebalances"] == manifest["engine"]["decisions"] - 1
    traded_days = result.traded[result.traded > 0].index
    assert traded_days.equals(result.targets.index)


def test_tearsheet_is_real_and_offline(runs):
    html = (runs["liquidity_rotation"].run_dir / "tearsheet.html").read_text()
    assert html.count("<svg") >= 10
    assert "SPY" in html and "Sharpe" in html
    remote = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(https?://[^"]+)"', html)
    assert remote == []


def test_same_inputs_same_metrics_bytes(runs, snapshot, registry, tmp_path):
    again = run_backtest("liquidity_rotation", RunSettings(data=snapshot, out=tmp_path),
                         registry=registry)
    first = (runs["liquidity_rotation"].run_dir / "metrics.json").read_bytes()
    assert (again.run_dir / "metrics.json").read_bytes() == first
    assert again.run_dir.name.split("-")[-1] == runs["liquidity_rotation"].run_dir.name.split("-")[-1]


@pytest.mark.parametrize("fees_bps, slippage_bps, rtol", [(0, 0, 1e-9), (10, 5, 1e-9)])
def test_engine_cross_check_on_real_data(market, registry, fees_bps, slippage_bps, rtol):
    """Identical to 1e-9 with and without costs. With costs, which of several equally sized
    buys the cost sliver trims decides the path, so the reference orders buys exactly as
    vectorbt does: by ``w * value - position value``, ties in column order (measured 9e-16)."""
    universe, md = market
    ctx = build_context(universe, md, "monthly")
    strategy = registry.get("liquidity_rotation")()
    targets = compute_weights(strategy, ctx)
    window = md.prices.loc[md.start:md.end]
    costs = Costs(fees_bps, slippage_bps)
    result = simulate(window, targets, costs=costs)
    schedule = execution_schedule(window.index, targets.index)
    executed = targets.loc[schedule.to_numpy()].set_axis(schedule.index)
    ref = simulate_shares(window[targets.columns], executed, fees=costs.fees,
                          slippage=costs.slippage)
    np.testing.assert_allclose(result.equity.to_numpy(), ref.to_numpy(), rtol=rtol)


def test_liquidity_rotation_holds_what_the_regime_says(runs):
    run = runs["liquidity_rotation"]
    signal = pd.read_csv(run.run_dir / "signal.csv", index_col=0, parse_dates=True)
    targets = run.result.targets
    calendar = signal.index
    expected_short = {"scarce": 1.0, "neutral": 0.5, "abundant": 0.0}
    seen = set()
    for exec_day, row in targets.iterrows():
        decided = calendar[calendar.get_loc(exec_day) - 1]
        regime = signal.loc[decided, "regime"]
        seen.add(regime)
        short = row[["BIL", "SHV", "MU", "WDC", "STX", "SNDK"]].sum()
        assert short == pytest.approx(expected_short[regime])
    assert seen == {"scarce", "neutral", "abundant"}


@pytest.fixture(scope="module")
def real_signal(snapshot, default_universe):
    from durationbt.signals import build_signal, load_signal_data

    universe = load_universe(default_universe)
    data, warnings = load_signal_data(universe, CsvProvider(snapshot))
    return universe, data, build_signal(data, universe.signal), warnings


def test_real_signal_reading_and_history(real_signal):
    _, data, sig, warnings = real_signal
    assert warnings == [] and sig.dropped == {}
    assert data.calendar[-1] == pd.Timestamp("2026-07-31")     # latest day, not ETH's end
    share = {year: (sig.regime.loc[year] == "scarce").mean() for year in ("2018", "2022")}
    assert share["2018"] > 0.9 and share["2022"] > 0.9          # QT and the hiking cycle
    assert (sig.regime.loc["2020-05":"2020-12"] == "abundant").mean() > 0.75
    # WTREGEN ends 2025-11-19: net liquidity goes stale rather than being carried forward
    assert sig.components["net_liquidity"].loc["2026"].isna().all()


def test_real_signal_is_point_in_time(real_signal):
    from durationbt.signals import build_signal

    universe, data, sig, _ = real_signal
    cut = pd.Timestamp("2022-06-30")
    part = build_signal(data.truncated(cut), universe.signal).frame()
    pd.testing.assert_frame_equal(part, sig.frame().loc[:cut], check_exact=True)


def test_real_signal_evaluation_is_finite(real_signal, market):
    from durationbt.signals import information_coefficients

    universe, _, _, _ = real_signal
    _, md = market
    from durationbt.signals import build_signal, signal_data_from_market

    sig = build_signal(signal_data_from_market(md), universe.signal)
    results = information_coefficients(sig, md.prices, universe, md.start, md.end)
    assert len(results) == 27
    assert all(np.isfinite(r.ic) and np.isfinite(r.t_stat) and r.n > 2000 for r in results)


def test_treasury_etfs_measure_near_their_published_durations(snapshot):
    """Published effective durations: SHY ~1.9, IEI ~4.5, IEF ~7, TLT ~16.5 years. Measured
    against the 10-year yield, the short end reads lower (2-year yields move less than 1:1
    with the 10-year), so the bands are wide at the short end and tight at 7-10 years."""
    from durationbt.data import align_to_calendar, trading_calendar
    from durationbt.duration import asset_durations

    raw = CsvProvider(snapshot).load_prices(["SHY", "IEI", "IEF", "TLT", "SPY", "^TNX"])
    cal = trading_calendar({k: v for k, v in raw.items() if k != "^TNX"})
    cal = cal[(cal >= "2015-01-01") & (cal <= "2026-07-31")]
    frame = pd.DataFrame({k: align_to_calendar(v, cal)[0] for k, v in raw.items()})
    est = {e.name: e.value for e in asset_durations(frame.drop(columns="^TNX"), frame["^TNX"],
                                                    "SPY", ["SHY", "IEI", "IEF", "TLT"])}
    assert 1.0 < est["SHY"] < 2.5
    assert 3.5 < est["IEI"] < 5.5
    assert 6.0 < est["IEF"] < 8.5
    assert 13.0 < est["TLT"] < 19.0
    assert est["SHY"] < est["IEI"] < est["IEF"] < est["TLT"]


def test_run_reports_portfolio_duration(runs):
    metrics = json.loads((runs["liquidity_rotation"].run_dir / "metrics.json").read_text())
    d = metrics["portfolio_duration"]
    assert d["min"] <= d["average"] <= d["max"]
    frame = pd.read_csv(runs["liquidity_rotation"].run_dir / "duration.csv", index_col=0)
    assert frame["duration"].mean() == pytest.approx(d["average"], rel=1e-9)


def test_compare_whole_library_matches_single_runs(snapshot, registry, runs):
    """compare runs every strategy on data loaded once; its numbers are the run's numbers."""
    from durationbt.compare import compare

    result = compare([], RunSettings(data=snapshot), registry=registry)
    board = result.leaderboard
    assert set(board.index) == {*registry.names(), "benchmark (SPY)"}
    single = runs["liquidity_rotation"].metrics["strategy"]
    row = board.loc["liquidity_rotation"]
    for key in ("cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar", "turnover"):
        assert row[key] == pytest.approx(single[key], rel=1e-9), key
    assert row["sharpe_ci_low"] < row["sharpe"] < row["sharpe_ci_high"]
    assert board.loc["benchmark (SPY)", "sharpe"] == pytest.approx(
        runs["liquidity_rotation"].metrics["benchmark"]["sharpe"], rel=1e-9)
    scores = result.regime_scores
    assert set(scores.index.get_level_values("regime")) == {"scarce", "neutral", "abundant", "all"}
    assert scores.loc[("liquidity_rotation", "all"), "sharpe"] == pytest.approx(row["sharpe"], abs=0.02)


def test_tearsheet_years_and_months_are_the_runs(runs):
    """One bar pair per calendar year, labelled; no month after the data's end shown."""
    folder = runs["liquidity_rotation"].run_dir
    html = (folder / "tearsheet.html").read_text()
    end = pd.Timestamp(json.loads((folder / "metrics.json").read_text())["strategy"]["end"])
    eoy = html[html.index('<div id="eoy_returns">'):html.index('<div id="monthly_dist">')]
    years = [f"<!-- {y} -->" for y in range(2015, end.year + 1)]
    assert all(y in eoy for y in years)                  # every year labelled, once each
    assert f"<!-- (02 Jan–{end:%d %b}) -->" in eoy       # the last, partial year says so
    heatmap = html[html.index('<div id="monthly_heatmap">'):]
    heatmap = heatmap[:heatmap.index("</svg>")]
    assert "<!-- -6.51 -->" in heatmap                   # January 2015
    assert end.month < 12 and heatmap.count("<!-- 0.00 -->") == 0  # later months left blank
    assert "\ufe6a" not in html


def test_crypto_liquidity_beta_collapses_without_crypto_stress(snapshot, tmp_path):
    """Issue 23: crypto's liquidity beta comes from crypto_stress, computed from BTC-USD's
    own drawdown: -7.98 with it, -0.14 without, and `durationbt duration` says so."""
    from typer.testing import CliRunner

    from durationbt.cli.app import app

    result = CliRunner().invoke(app, ["duration", "--data", str(snapshot), "--html",
                                      str(tmp_path / "d.html"), "--csv", str(tmp_path / "d.csv")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "liquidity beta collapses: crypto -7.98 with crypto_stress, -0.14 without" in text
    assert "collapses: long_treasuries" not in text
    table = pd.read_csv(tmp_path / "d.csv").set_index("name")
    assert table.loc["crypto", "liquidity_beta"] == pytest.approx(-7.98, abs=0.01)
    assert table.loc["crypto", "liquidity_beta_without_own"] == pytest.approx(-0.14, abs=0.01)
    assert table.loc["crypto", "own_components"] == "crypto_stress"
    assert bool(table.loc["crypto", "collapsed"]) and not bool(table.loc["saas", "collapsed"])
