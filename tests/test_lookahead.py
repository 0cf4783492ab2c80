"""The point-in-time guarantee on the real snapshot: planted leaks of every class are
refused (by the same guard in run, compare, sweep and strategies check) and ordinary
past-only code passes. Plugins are real files, so each replay re-imports them fresh."""

import textwrap

import pandas as pd
import pytest
from typer.testing import CliRunner

from durationbt.api import RunSettings, Session, backtest, build_context
from durationbt.cli.app import app
from durationbt.data import CsvProvider, load_market_data
from durationbt.errors import StrategyError
from durationbt.lookahead import LookaheadProbe, choose_cuts
from durationbt.plugins import discover_strategies
from durationbt.universe import load_universe
from durationbt.weights import call_strategy

pytestmark = pytest.mark.integration
runner = CliRunner()

HEADER = '''
import functools
import numpy as np
import pandas as pd
from durationbt import Strategy

TICKERS = ["BIL", "MU", "WDC", "IEF", "TLT", "CRM", "ADBE"]


def top(scores, k=2):
    """Equal weight on the k best scores per row (NaN never chosen)."""
    ranks = scores.rank(axis=1, ascending=False, method="first")
    chosen = (ranks <= k).astype(float)
    return chosen.div(chosen.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)

'''

# each: (name, body of target_weights, weights_by, extra module code)
LEAKS = {
    "shift_one": "px = ctx.prices[TICKERS]\n"
                 "return top(px.shift(-1) / px - 1).loc[ctx.rebalance_dates]",
    "shift_five": "px = ctx.prices[TICKERS]\n"
                  "mom = (px.shift(-5) / px - 1 > 0.01).astype(float)\n"
                  "return mom.div(mom.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)"
                  ".loc[ctx.rebalance_dates]",
    "highest_final_price": "best = ctx.prices[TICKERS].iloc[-1].idxmax()\n"
                           "w = pd.DataFrame(0.0, index=ctx.rebalance_dates, columns=TICKERS)\n"
                           "w[best] = 1.0\nreturn w",
    "late_leak": "px = ctx.prices[TICKERS]\n"
                 "honest = top(px / px.shift(63) - 1)\n"
                 "peek = top(px.shift(-5) / px - 1)\n"
                 "late = pd.Series(px.index >= pd.Timestamp('2024-06-01'), index=px.index)\n"
                 "return honest.where(~late, peek, axis=0).loc[ctx.rebalance_dates]",
    "module_cache": "if 'future' not in CACHE:\n"
                    "    px = ctx.prices[TICKERS]\n"
                    "    CACHE['future'] = top(px.shift(-21) / px - 1)\n"
                    "return CACHE['future'].reindex(ctx.rebalance_dates).fillna(0.0)",
    "class_cache": "cls = type(self)\n"
                   "if cls.memo is None:\n"
                   "    px = ctx.prices[TICKERS]\n"
                   "    cls.memo = top(px.shift(-21) / px - 1)\n"
                   "return cls.memo.reindex(ctx.rebalance_dates).fillna(0.0)",
    "lru_cache": "return cached_future(len(ctx.prices) // 10_000, ctx.prices[TICKERS])"
                 ".reindex(ctx.rebalance_dates).fillna(0.0)",
    "centred_window": "px = ctx.prices[TICKERS]\n"
                      "return top(px / px.rolling(21, center=True).mean()).loc[ctx.rebalance_dates]",
    "whole_column_zscore": "px = ctx.prices[TICKERS]\n"
                           "return top(-(px - px.mean()) / px.std()).loc[ctx.rebalance_dates]",
    "future_regime": "regime = ctx.signal.regime.shift(-10).loc[ctx.rebalance_dates]\n"
                     "w = pd.DataFrame(0.0, index=ctx.rebalance_dates, columns=TICKERS)\n"
                     "w['BIL'] = (regime == 'scarce').astype(float)\n"
                     "w['CRM'] = 1.0 - w['BIL']\nreturn w",
    "return_to_end": "px = ctx.prices[TICKERS]\n"
                     "return top(px.loc[ctx.end] / px - 1).loc[ctx.rebalance_dates]",
}
MODULE_EXTRA = {
    "module_cache": "CACHE = {}\n",
    "lru_cache": "@functools.lru_cache(maxsize=None)\n"
                 "def _frozen(key):\n    return None\n\n"
                 "_MEMO = {}\n"
                 "def cached_future(key, px):\n"
                 "    if key not in _MEMO:\n"
                 "        _MEMO[key] = top(px.shift(-21) / px - 1)\n"
                 "    return _MEMO[key]\n",
}
PAST_ONLY = {
    "expanding_mean": "px = ctx.prices[TICKERS]\n"
                      "return top(px / px.expanding(min_periods=20).mean()).loc[ctx.rebalance_dates]",
    "rolling_inverse_vol": "vol = ctx.returns[TICKERS].rolling(63, min_periods=20).std()\n"
                           "inv = (1 / vol).fillna(0.0)\n"
                           "return inv.div(inv.sum(axis=1).replace(0, np.nan), axis=0)"
                           ".fillna(0.0).loc[ctx.rebalance_dates]",
    "ewm_momentum": "px = ctx.prices[TICKERS]\n"
                    "return top(px.ewm(span=63).mean().pct_change(21, fill_method=None))"
                    ".loc[ctx.rebalance_dates]",
    "month_end_resample_ffilled": "px = ctx.prices[TICKERS]\n"
                                  "monthly = px.resample('ME').last().pct_change(fill_method=None)\n"
                                  "daily = monthly.reindex(px.index.union(monthly.index)).ffill()"
                                  ".reindex(px.index)\n"
                                  "return top(daily).loc[ctx.rebalance_dates]",
    "lagged_regime": "regime = ctx.signal.regime.shift(1).loc[ctx.rebalance_dates]\n"
                     "w = pd.DataFrame(0.0, index=ctx.rebalance_dates, columns=TICKERS)\n"
                     "w['BIL'] = (regime == 'scarce').astype(float)\n"
                     "w['CRM'] = 1.0 - w['BIL']\nreturn w",
}


def plugin_source(name: str, body: str) -> str:
    cls = "".join(p.capitalize() for p in name.split("_"))
    memo = "    memo = None\n" if name == "class_cache" else ""
    return (HEADER + MODULE_EXTRA.get(name, "") + f"\n\nclass {cls}(Strategy):\n"
            f'    """Planted test plugin {name}."""\n\n    name = "{name}"\n'
            f'    weights_by = "ticker"\n{memo}\n'
            "    def target_weights(self, ctx):\n" + textwrap.indent(body, " " * 8) + "\n")


@pytest.fixture(scope="module")
def plugins(tmp_path_factory):
    folder = tmp_path_factory.mktemp("leaky")
    for name, body in {**LEAKS, **PAST_ONLY}.items():
        (folder / f"{name}.py").write_text(plugin_source(name, body))
    return folder


@pytest.fixture(scope="module")
def leaky(plugins):
    registry = discover_strategies(plugins, entry_points_enabled=False)
    assert not registry.errors, registry.errors
    return registry


@pytest.fixture(scope="module")
def real(snapshot, default_universe):
    universe = load_universe(default_universe)
    market = load_market_data(universe, CsvProvider(snapshot))
    session = Session(RunSettings(), universe=universe, market=market)
    return universe, market, session.ctx, session.probe, session


@pytest.mark.parametrize("name", sorted(LEAKS))
def test_every_planted_leak_is_refused_by_the_run_path(name, leaky, real):
    _, _, ctx, probe, session = real
    strategy = leaky.get(name)()
    with pytest.raises(StrategyError) as info:
        backtest(strategy, session)
    text = str(info.value)
    assert f'Strategy "{name}" looks into the future' in text
    assert "Likely cause" in text or "raised" in text
    report = probe.check(leaky.get(name)(), call_strategy(leaky.get(name)(), ctx))
    assert not report.ok and report.fresh_state
    # the reported date is the first offending one among the replayed cuts
    assert report.finding.date <= report.finding.cut


@pytest.mark.parametrize("name", sorted(PAST_ONLY))
def test_past_only_patterns_pass_on_every_decision_date(name, leaky, real):
    _, _, ctx, probe, _ = real
    strategy = leaky.get(name)()
    report = probe.check(strategy, call_strategy(strategy, ctx))
    assert report.ok, report.finding and report.finding.describe(name)
    assert report.calls == len(ctx.rebalance_dates) == len(report.cuts)


def test_library_strategies_pass_and_per_date_form_is_not_replayed(real, strategies_dir):
    _, _, ctx, probe, _ = real
    library = discover_strategies(strategies_dir, entry_points_enabled=False)
    for name in library.names():
        strategy = library.get(name)()
        report = probe.check(strategy, call_strategy(strategy, ctx))
        assert report.ok, report.finding.describe(name)
        if name == "sixty_forty":
            assert report.method == "point-in-time form" and report.calls == 0
        else:
            assert report.method == "replay" and report.calls == 140


def test_weekly_month_end_bfill_leak_after_2023_is_found_by_sampling_and_bisection(
        real, plugins):
    """resample('ME').last() spread back to the days of the month with bfill(): each
    weekly decision sees its month's last close. Dense sample (>= 100 dates with the last
    10%), then bisection to the first offending date."""
    universe, _, _, _, _ = real
    (plugins / "month_end_bfill.py").write_text(plugin_source(
        "month_end_bfill",
        "px = ctx.prices[TICKERS]\n"
        "month_end = px.resample('ME').last().reindex(px.index, method='bfill')\n"
        "return top(month_end / px - 1).loc[ctx.rebalance_dates]"))
    strategy = discover_strategies(plugins, entry_points_enabled=False).get("month_end_bfill")()
    market = load_market_data(universe, CsvProvider(real[1].source.split(":", 1)[1]),
                              start=pd.Timestamp("2023-06-01").date())
    ctx = build_context(universe, market, "weekly")
    probe = LookaheadProbe(ctx, every_date=False)
    assert len(probe.cuts) >= 100
    tail = ctx.rebalance_dates[int(len(ctx.rebalance_dates) * 0.9):]
    assert len(probe.cuts.intersection(tail)) >= 10
    report = probe.check(strategy, call_strategy(strategy, ctx))
    assert not report.ok
    dates = ctx.rebalance_dates
    first = report.finding.date
    assert first in dates
    # bisection: the decision date just before the reported one is clean
    earlier = dates[dates < first]
    if len(earlier):
        clean = probe.check(strategy, call_strategy(strategy, ctx), cuts=earlier[-1:])
        assert clean.ok


def test_cut_sample_is_seeded_and_keeps_the_ends():
    dates = pd.bdate_range("2015-01-02", periods=2900)
    a, b = choose_cuts(dates, False, 7), choose_cuts(dates, False, 7)
    assert a.equals(b) and len(a) >= 100 and a[0] == dates[0] and a[-1] == dates[-1]
    assert (a >= dates[int(len(dates) * 0.9)]).sum() >= 20
    assert not a.equals(choose_cuts(dates, False, 8))
    assert choose_cuts(dates[:140], True, 7).equals(dates[:140])
    small = choose_cuts(dates[:140], False, 7, size=8)      # a sweep's per-combination sample
    assert 8 <= len(small) <= 10 and (small >= dates[126]).sum() >= 2


@pytest.mark.parametrize("name", ["shift_one", "module_cache"])
def test_run_refuses_with_exit_2_date_weights_and_hint_and_writes_nothing(
        name, plugins, snapshot, default_universe, tmp_path):
    out = tmp_path / "results"
    result = runner.invoke(app, ["run", name, "--universe", str(default_universe), "--data",
                                 str(snapshot), "--strategies-dir", str(plugins), "--out",
                                 str(out)])
    text = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert f'Strategy "{name}" looks into the future: its weight for' in text
    assert "with all the data but" in text and "Likely cause:" in text
    assert not out.exists() or not any(out.iterdir())


def test_strategies_check_reports_the_replay_and_its_time(snapshot, default_universe,
                                                          strategies_dir):
    result = runner.invoke(app, ["strategies", "check", "liquidity_rotation", "--universe",
                                 str(default_universe), "--data", str(snapshot),
                                 "--strategies-dir", str(strategies_dir)])
    text = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "140 decision dates replayed in" in text


def test_run_manifest_records_what_was_checked(runs):
    look = runs["liquidity_rotation"].manifest["lookahead"]
    assert look["method"] == "replay" and look["dates_checked"] == 140
    assert look["seed"] == 20_260_101 and look["fresh_plugin_state"] is True
    assert len(look["dates"]) == 140 and look["dates"][-1] == "2026-07-31"
