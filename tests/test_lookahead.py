"""The point-in-time guarantee on the real snapshot: planted leaks of every class are
refused (by the same guard in run, compare, sweep and strategies check) and ordinary
past-only code passes. Plugins are real files, so each replay re-imports them fresh."""

import textwrap

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from durationbt.api import RunSettings, Session, backtest, build_context
from durationbt.cli.app import app
from durationbt.data import CsvProvider, load_market_data
from durationbt.errors import StrategyError
from durationbt.lookahead import LookaheadProbe, choose_cuts
from durationbt.plugins import discover_strategies
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


LIVE = ["MU", "WDC", "BTC-USD", "ETH-USD", "CRM"]      # ETH-USD's data end 2026-03-26


def live_equal(ctx, keep):
    """Equal weight over the LIVE members priced on each decision date; from 2026 on only
    over those ``keep`` marks, so a filter matters in the months before ETH-USD ends."""
    keep = keep.reindex(LIVE, fill_value=False).to_numpy()
    late = (ctx.rebalance_dates >= pd.Timestamp("2026-01-01"))[:, None]
    chosen = ctx.prices[LIVE].notna().loc[ctx.rebalance_dates] & (keep | ~late)
    w = chosen.astype(float)
    return w.div(w.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)

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
# survivorship: members kept or dropped by whether their data run to the end (ETH-USD's
# stop on 2026-03-26, net_liquidity's on 2025-12-03). Before the cut data hid later ends,
# every one of them passed: only a replay that truncates the future at a cut before the end
# showed the member alive, and those cuts fell before the filter mattered.
SURVIVORSHIP = {
    "surv_iloc_last": "px = ctx.prices[LIVE]\n"
                      "dead = px.iloc[-1].isna() & px.notna().any()\n"
                      "return live_equal(ctx, ~dead)",
    "surv_last_valid": "px = ctx.prices[LIVE]\n"
                       "return live_equal(ctx, px.apply(lambda s: s.last_valid_index()) "
                       "== px.index[-1])",
    "surv_row_count": "px = ctx.prices[LIVE]\nfirst = px.notna().idxmax()\n"
                      "rows = pd.Series({c: len(px.loc[first[c]:]) for c in LIVE})\n"
                      "return live_equal(ctx, px.notna().sum() == rows)",
    "surv_tail_nans": "px = ctx.prices[LIVE]\n"
                      "return live_equal(ctx, ~px.tail(5).isna().all())",
    "surv_delisted_mask": "px = ctx.prices[LIVE]\n"
                          "gone = px.isna() & px.ffill().notna() & px.bfill().isna()\n"
                          "return live_equal(ctx, ~gone.any())",
    "surv_recent_returns": "return live_equal(ctx, ctx.returns[LIVE].iloc[-21:].notna().any())",
    "surv_dropna_recent": "px = ctx.prices[LIVE]\n"
                          "kept = px.iloc[-63:].dropna(axis=1).columns\n"
                          "return live_equal(ctx, pd.Series(px.columns.isin(kept), "
                          "index=px.columns))",
    "surv_at_end": "return live_equal(ctx, ctx.prices[LIVE].loc[ctx.end].notna())",
    "surv_component": "comps = ctx.signal.components\n"
                      "alive = comps.loc[:, comps.iloc[-1].notna()].mean(axis=1)\n"
                      "late = ctx.rebalance_dates >= pd.Timestamp('2025-09-01')\n"
                      "score = alive.loc[ctx.rebalance_dates].where(late, "
                      "comps.mean(axis=1).loc[ctx.rebalance_dates])\n"
                      "w = pd.DataFrame(0.0, index=ctx.rebalance_dates, columns=TICKERS)\n"
                      "w['BIL'] = (score > 0).astype(float)\n"
                      "w['CRM'] = 1.0 - w['BIL']\nreturn w",
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
    # columns left out hold 0: refused before the replay compared validated weights
    "dummies_of_best": "px = ctx.prices[TICKERS]\n"
                       "momentum = (px / px.shift(126) - 1).loc[ctx.rebalance_dates]\n"
                       "return pd.get_dummies(momentum.fillna(-np.inf).idxmax(axis=1))"
                       ".astype(float)",
    "dropna_columns": "px = ctx.prices[TICKERS]\n"
                      "w = top(px / px.shift(63) - 1).loc[ctx.rebalance_dates]\n"
                      "return w.where(w > 0).dropna(axis=1, how='all').fillna(0.0)",
    "alive_on_the_day": "w = ctx.prices[LIVE].notna().loc[ctx.rebalance_dates].astype(float)\n"
                        "return w.div(w.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)",
}


def plugin_source(name: str, body: str) -> str:
    cls = "".join(p.capitalize() for p in name.split("_"))
    memo = "    memo = None\n" if name == "class_cache" else ""
    return (HEADER + MODULE_EXTRA.get(name, "") + f"\n\nclass {cls}(Strategy):\n"
            f'    """Planted test plugin {name}."""\n\n    name = "{name}"\n'
            f'    weights_by = "ticker"\n{memo}\n'
            "    def target_weights(self, ctx):\n" + textwrap.indent(body, " " * 8) + "\n")


OTHER = {
    # a leak that leaves columns out: the refusal names the column whose weight moved
    "leaky_dummies": "px = ctx.prices[TICKERS]\n"
                     "ahead = (px.shift(-21) / px - 1).loc[ctx.rebalance_dates]\n"
                     "return pd.get_dummies(ahead.fillna(-np.inf).idxmax(axis=1)).astype(float)",
    # unseeded random weights: not lookahead, and not to be called so
    "coin_flip": "rng = np.random.default_rng()\n"
                 "w = pd.DataFrame(0.0, index=ctx.rebalance_dates, columns=TICKERS)\n"
                 "w['BIL'] = rng.uniform(0, 1, len(w))\nreturn w",
}


@pytest.fixture(scope="module")
def plugins(tmp_path_factory):
    folder = tmp_path_factory.mktemp("leaky")
    for name, body in {**LEAKS, **SURVIVORSHIP, **PAST_ONLY, **OTHER}.items():
        (folder / f"{name}.py").write_text(plugin_source(name, body))
    return folder


@pytest.fixture(scope="module")
def leaky(plugins):
    registry = discover_strategies(plugins, entry_points_enabled=False)
    assert not registry.errors, registry.errors
    return registry


@pytest.fixture(scope="module")
def real(snapshot, default_universe):
    """The snapshot as a command loads it: every signal component with its inputs (FRED's
    net liquidity stops on 2025-12-03, an input of the dollar component on 2026-03-06)."""
    session = Session(RunSettings(universe=default_universe, data=snapshot))
    return session.universe, session.market, session.ctx, session.probe, session


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


@pytest.mark.parametrize("name", sorted(SURVIVORSHIP))
def test_survivorship_filters_are_refused(name, leaky, real):
    """The cut data show every series alive at the cut running on to the end, so a filter
    on whose data end later moves a weight at some replayed date."""
    _, _, ctx, probe, _ = real
    strategy = leaky.get(name)()
    report = probe.check(strategy, call_strategy(strategy, ctx))
    assert not report.ok, name
    finding = report.finding
    assert finding.kind == "moved" and finding.full != finding.replay
    assert f'Strategy "{name}" looks into the future' in finding.describe(name)
    assert "whether their data run to the end" in finding.describe(name)


def test_a_refusal_names_the_column_that_moved_not_one_left_out(leaky, real):
    _, _, ctx, probe, _ = real
    strategy = leaky.get("leaky_dummies")()
    raw = call_strategy(strategy, ctx)
    finding = probe.check(strategy, raw).finding
    seen = probe.context_at(finding.cut, finding.variant)
    again = leaky.get("leaky_dummies")().target_weights(seen).reindex(columns=raw.columns)
    assert not np.isnan(finding.replay) and finding.full != finding.replay
    # the named column really moved: in the full run and in the replay it is a column of
    # the output (or left out, so 0), and the two weights are the ones reported
    assert raw.fillna(0).get(finding.column, pd.Series(0.0, index=raw.index)).loc[
        finding.date] == finding.full
    assert again.fillna(0).get(finding.column, pd.Series(0.0, index=again.index)).loc[
        finding.date] == finding.replay


def test_random_weights_are_called_not_deterministic_not_lookahead(leaky, real):
    _, _, ctx, probe, _ = real
    strategy = leaky.get("coin_flip")()
    report = probe.check(strategy, call_strategy(strategy, ctx))
    text = report.finding.describe("coin_flip")
    assert report.finding.kind == "random"
    assert 'Strategy "coin_flip" is not deterministic' in text and "looks into" not in text
    assert "np.random.default_rng(seed)" in text


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


@pytest.mark.parametrize("name", ["shift_one", "module_cache", "surv_iloc_last"])
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
