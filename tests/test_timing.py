"""Timing attribution (inference.timing): the static mix, the paired Sharpe difference and
the re-timed placebos. Hand-checked pieces, a planted timing effect that must be found, the
same strategy on data without the effect that must not be credited, untimed strategies
that get no numbers, the run folder, page and CLI line, and on the snapshot the static mix
against an independent pandas calculation."""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import REPO, business_days, random_walk, write_yahoo_csv
from durationbt.cli.app import app
from durationbt.errors import ParameterError
from durationbt.inference import Estimate
from durationbt.inference.placebo import (
    PlaceboTest,
    StaticMix,
    check_placebos,
    mean_spell_days,
    retimed_orders,
    verdict,
)
from durationbt.inference.timing import (
    TimingNotApplicable,
    attach_timing,
    timing_attribution,
    untimed_reason,
)
from durationbt.manifest import RunMetrics
from durationbt.pipeline import backtest
from durationbt.session import RunSettings, Session

UNIVERSE = """
description = "a planted timing effect"
benchmark = "BENCH"
cash = "CASH"
start = 2016-01-04

[buckets.bills]
rank = 0
description = "cash-like"
tickers = ["CASH"]

[buckets.effect]
rank = 1
description = "gains after scarce days"
tickers = ["EFF"]

[signal]
components = ["rates"]
"""

SCARCE_ONLY = '''
import pandas as pd

from durationbt import Context, Strategy


class ScarceOnly(Strategy):
    """Hold the effect bucket while capital is scarce, bills otherwise."""

    name = "scarce_only"

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        regime = ctx.require_signal(self.name).regime.loc[ctx.rebalance_dates]
        w = pd.DataFrame(0.0, index=ctx.rebalance_dates, columns=list(ctx.universe.bucket_names))
        w.loc[regime == "scarce", "effect"] = 1.0
        w["bills"] = 1.0 - w["effect"]
        return w
'''

CONSTANT = '''
import pandas as pd

from durationbt import Context, Strategy


class ConstantBuckets(Strategy):
    """60% chips, 40% software, always."""

    name = "constant_buckets"

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        return pd.DataFrame({"chips": 0.6, "software": 0.4}, index=ctx.rebalance_dates)
'''


def _folder(root, planted: bool):
    """CASH, BENCH and ^TNX random walks; EFF gains 0.15% a day after a scarce day and loses
    0.05% after any other (``planted``), or is noise with the same average (not)."""
    root.mkdir(parents=True)
    days = business_days("2014-01-02", "2021-06-30")
    write_yahoo_csv(root / "CASH.csv", random_walk(days, 1, vol=0.0002, drift=5e-5))
    write_yahoo_csv(root / "BENCH.csv", random_walk(days, 2))
    tnx = 2.0 + np.cumsum(np.random.default_rng(3).normal(0, 0.03, len(days)))
    write_yahoo_csv(root / "^TNX.csv", pd.Series(tnx, index=days))
    write_yahoo_csv(root / "EFF.csv", random_walk(days, 4, vol=0.01))   # first pass: any
    (root / "universe.toml").write_text(UNIVERSE)
    (root / "strategies").mkdir()
    (root / "strategies" / "scarce_only.py").write_text(SCARCE_ONLY)
    regime = _session(root).ctx.signal.regime.reindex(days)
    scarce_before = (regime.shift(1) == "scarce").to_numpy()
    noise = np.random.default_rng(5).normal(0, 0.01, len(days))
    drift = np.where(scarce_before, 0.0015, -0.0005) if planted else scarce_before.mean() * 0.0015
    write_yahoo_csv(root / "EFF.csv", pd.Series(100 * np.exp(np.cumsum(drift + noise)), index=days))
    return root


def _session(root, **settings) -> Session:
    return Session(RunSettings(universe=root / "universe.toml", data=root, cache=False,
                               strategies_dir=root / "strategies", entry_points=False,
                               rebalance="weekly", **settings))


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = _folder(tmp_path_factory.mktemp("timing") / "planted", planted=True)
    session = _session(root)
    return session, backtest(session.strategy("scarce_only"), session)


@pytest.fixture(scope="module")
def unplanted(tmp_path_factory):
    root = _folder(tmp_path_factory.mktemp("timing") / "unplanted", planted=False)
    session = _session(root)
    return session, backtest(session.strategy("scarce_only"), session)


# ---- hand-checked pieces -------------------------------------------------------------------

def test_retimed_orders_are_shifted_block_shuffles():
    orders = retimed_orders(10, 3, 500, np.random.default_rng(0))
    assert orders.shape == (500, 10)
    assert (np.sort(orders, axis=1) == np.arange(10)).all()          # every row once
    # consecutive rows of a block stay consecutive (mod 10): at most 4 breaks (4 blocks)
    breaks = (np.diff(orders, axis=1) % 10 != 1).sum(axis=1)
    assert breaks.max() <= 3
    assert len({tuple(o) for o in orders}) > 100                      # many distinct schedules
    assert (retimed_orders(10, 3, 5, np.random.default_rng(1))
            == retimed_orders(10, 3, 5, np.random.default_rng(1))).all()


def test_mean_spell_days_by_hand():
    regime = pd.Series(["scarce"] * 4 + ["neutral"] * 2 + [None] * 3 + ["scarce"])
    assert mean_spell_days(regime) == 10 / 4      # scarce, neutral, no signal, scarce


@pytest.mark.parametrize("bad", [1, 199, -5, 100_001, 1.5, True])
def test_placebo_count_is_refused_naming_the_option(bad):
    with pytest.raises(ParameterError, match="--placebos must be 0"):
        check_placebos(bad)
    assert check_placebos(0) == 0 and check_placebos(200) == 200


def _placebo(p: float) -> PlaceboTest:
    return PlaceboTest(n=999, p_value=p, method="m", block_days=20.0, block_rows=1, seed=0,
                       sharpes=np.zeros(999), band=pd.DataFrame())


@pytest.mark.parametrize("ci, p, adds, start", [
    ((0.1, 0.5), 0.01, True, "timing adds value: Sharpe 1.50 vs 1.20"),
    ((-0.1, 0.5), 0.01, False, "the edge is the static mix, not the timing: Sharpe 1.50 vs 1.20"),
    ((0.1, 0.5), 0.2, False, "the edge is the static mix"),
    ((-0.6, -0.1), 0.99, False, "timing costs value"),
])
def test_verdict_needs_both_the_interval_and_the_placebo(ci, p, adds, start):
    mix = StaticMix(weights={}, sharpe=1.2, cagr=0.1, equity=pd.Series(dtype=float))
    diff = Estimate(0.3, ci, 0.01, 100, "paired")
    text, credited = verdict("s", 1.5, mix, diff, _placebo(p))
    assert credited is adds and text.startswith(start)
    assert "1.50" in text and "1.20" in text
    assert verdict("s", 1.5, mix, diff, None)[1] is False    # no placebo test: never credited


# ---- the planted effect and its absence ----------------------------------------------------

def test_a_planted_timing_effect_is_credited(planted):
    session, done = planted
    found = timing_attribution(done, session, placebos=500, seed=3)
    lo, hi = found.sharpe_minus_static.ci95
    assert lo > 0, found.verdict
    assert found.placebo.p_value < 0.05
    assert found.adds_value and found.verdict.startswith("timing adds value")
    assert found.sharpe == pytest.approx(done.metrics["strategy"]["sharpe"], rel=1e-9)


def test_the_same_strategy_without_the_effect_is_not_credited(unplanted):
    session, done = unplanted
    found = timing_attribution(done, session, placebos=500, seed=3)
    lo, hi = found.sharpe_minus_static.ci95
    assert lo < 0 < hi and found.placebo.p_value > 0.05
    assert not found.adds_value and found.verdict.startswith("the edge is the static mix")


def test_static_mix_is_the_day_weighted_average_and_placebos_trade_as_the_run(planted):
    from durationbt.inference.timing import _chunks, _executing, _spread

    session, done = planted
    found = timing_attribution(done, session, placebos=0)
    calendar = pd.DatetimeIndex(done.result.equity.index)
    # each decision stands from its execution to the next one (the last: to the end)
    held = done.decided.reindex(calendar).ffill().shift(1).iloc[1:]
    assert found.static_mix.weights == pytest.approx(held.mean().to_dict(), abs=1e-12)
    assert sum(found.static_mix.weights.values()) == pytest.approx(1.0)
    # the placebos' targets are the run's own when not re-timed
    rows, dates = _executing(done, calendar)
    cash = list(done.targets.columns).index("CASH")
    run = done.targets.loc[dates].to_numpy()
    (books,) = _chunks(run, done.decided.loc[dates].to_numpy(), np.arange(len(dates))[None],
                       _spread(done, dates), cash, np.ones(len(dates), dtype=bool))
    assert len(books) == 2 and (books[0] == run).all()
    assert np.abs(books[1] - run).max() < 1e-12
    assert found.placebo is None and not found.adds_value
    assert "no placebo test was run" in found.verdict


def test_placebos_are_simulated_chunk_by_chunk_on_prices_prepared_once(planted, monkeypatch):
    """The kernel gets the window prepared once for the run, its static mix and every
    placebo, and a bounded chunk of books per call (preparing it per chunk, and holding
    every placebo's targets at once, grew with assets x years squared); the chunking
    changes no number."""
    from durationbt.inference import timing
    from durationbt.sweep import kernel
    from durationbt.sweep.prepared import PreparedPrices

    session, done = planted
    whole = timing_attribution(done, session, placebos=200, seed=1)
    calls = []
    simulate_many = kernel.simulate_many

    def spy(prices, targets, rows, **options):
        calls.append((prices, len(targets)))
        return simulate_many(prices, targets, rows, **options)

    monkeypatch.setattr(kernel, "simulate_many", spy)
    monkeypatch.setattr(timing, "_CHUNK_FLOATS", 30 * done.targets.shape[1] * len(
        timing._executing(done, pd.DatetimeIndex(done.result.equity.index))[0]))
    chunked = timing_attribution(done, session, placebos=200, seed=1)
    assert [n for _, n in calls] == [30] * 6 + [22]            # run + mix + 200 placebos
    assert isinstance(calls[0][0], PreparedPrices)
    assert all(prices is calls[0][0] for prices, _ in calls)
    assert chunked.to_json() == whole.to_json()
    assert chunked.curves().equals(whole.curves())


def test_without_a_regime_the_blocks_are_the_runs_own_spells(planted):
    from dataclasses import replace

    session, done = planted
    blind = replace(done, ctx=replace(done.ctx, signal=None))
    found = timing_attribution(blind, session, placebos=200)
    from durationbt.inference.timing import _executing

    rows, dates = _executing(done, pd.DatetimeIndex(done.result.equity.index))
    traded = done.decided.loc[dates]
    runs = 1 + int((traded.diff().abs().max(axis=1) > 0).iloc[1:].sum())   # of identical rows
    days = len(done.result.equity) - rows[0]
    assert found.placebo.block_days == pytest.approx(days / runs)
    assert "the mean run of identical decisions" in found.placebo.method


def test_same_seed_same_numbers_and_the_seed_matters(planted):
    session, done = planted
    one = timing_attribution(done, session, placebos=200, seed=7).to_json()
    assert one == timing_attribution(done, session, placebos=200, seed=7).to_json()
    other = timing_attribution(done, session, placebos=200, seed=8).to_json()
    assert other["placebo"]["seed"] == 8 and other != one
    assert other["static_mix"] == one["static_mix"]        # the mix does not depend on it


# ---- strategies without timing --------------------------------------------------------------

@pytest.mark.parametrize("name, params, phrase", [
    ("buy_and_hold", {}, "holds = True"),
    ("equal_weight", {}, "ticker weights never change (apart from members listing"),
    ("sixty_forty", {"equity": "BENCH", "bonds": "SOFTA"}, "ticker weights never change"),
    ("constant_buckets", {}, "bucket weights never change")])
def test_untimed_strategies_get_a_reason_and_no_numbers(name, params, phrase, synth_data,
                                                        synth_universe, tmp_path):
    (tmp_path / "constant_buckets.py").write_text(CONSTANT)
    session = Session(RunSettings(universe=synth_universe, data=synth_data,
                                  strategies_dir=tmp_path, entry_points=False))
    done = backtest(session.strategy(name, params), session)
    assert phrase in untimed_reason(done)
    with pytest.raises(TimingNotApplicable, match=re.escape(phrase)):
        timing_attribution(done, session)
    attached = attach_timing(done, session)
    assert attached.metrics["timing"] is None and phrase in attached.metrics["timing_note"]
    assert attached.timing is None
    RunMetrics.model_validate(attached.metrics)


def test_metrics_without_timing_still_read():
    side = {"start": "2020-01-01", "end": "2020-12-31", "days": 250, "final_equity": 1.0,
            "total_return": 0.0}
    old = RunMetrics.model_validate({"schema": 1, "strategy": side, "benchmark": side})
    assert old.timing is None and old.timing_note is None


# ---- the run folder, page and CLI -----------------------------------------------------------

def test_run_folder_page_and_cli_line(tmp_path_factory):
    root = _folder(tmp_path_factory.mktemp("timing") / "cli", planted=True)
    out = root / "results"
    args = ["--universe", root / "universe.toml", "--data", root, "--strategies-dir",
            root / "strategies", "--out", out, "--rebalance", "weekly", "--no-tearsheet"]
    result = CliRunner().invoke(app, ["run", "scarce_only", *map(str, args),
                                      "--placebos", "300", "--seed", "4"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("timing:"))
    assert "for its static mix, difference +" in line and "placebo p = 0.0" in line
    assert line.endswith("timing adds value")
    folder = next(out.iterdir())
    metrics = json.loads((folder / "metrics.json").read_text())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["settings"]["placebos"] == 300 and manifest["settings"]["seed"] == 4
    timing = metrics["timing"]
    assert timing["placebo"]["n"] == 300 and timing["placebo"]["seed"] == 4
    assert timing["sharpe_minus_static"]["method"].startswith("stationary bootstrap")
    assert set(timing["static_mix"]["weights"]) == {"bills", "effect"}
    curves = pd.read_csv(folder / "timing.csv", index_col=0, parse_dates=True)
    assert list(curves.columns) == ["strategy", "static_mix", "placebo_p05", "placebo_p50",
                                    "placebo_p95"]
    assert (curves["placebo_p05"] <= curves["placebo_p95"]).all()
    equity = pd.read_csv(folder / "equity.csv", index_col=0, parse_dates=True)["equity"]
    assert np.allclose(curves["strategy"], equity, rtol=1e-12)
    page = (folder / "report.html").read_text()
    assert "Is the edge timing?" in page and "re-timed placebos, 5-95%" in page

    # a run folder written before the attribution: no section, nothing breaks
    (folder / "timing.csv").unlink()
    del metrics["timing"]
    (folder / "metrics.json").write_text(json.dumps(metrics))
    assert CliRunner().invoke(app, ["report", str(folder), "--no-tearsheet"]).exit_code == 0
    assert "Is the edge timing?" not in (folder / "report.html").read_text()


def test_cli_line_of_a_strategy_without_timing(synth_data, synth_universe, strategies_dir,
                                               tmp_path):
    result = CliRunner().invoke(app, [
        "run", "buy_and_hold", "--universe", str(synth_universe), "--data", str(synth_data),
        "--strategies-dir", str(strategies_dir), "--out", str(tmp_path), "--no-tearsheet"])
    assert result.exit_code == 0, result.output
    assert "timing: not attributed (buy_and_hold buys once and holds" in result.output
    folder = next(tmp_path.iterdir())
    assert not (folder / "timing.csv").exists()
    assert "buys once and holds" in (folder / "report.html").read_text()


# ---- the snapshot ---------------------------------------------------------------------------

def _independent_static_sharpe(prices: pd.DataFrame, decided: pd.DataFrame, buckets,
                               fees: float = 0.001, slippage: float = 0.0005,
                               cash: str = "BIL") -> tuple[float, pd.Series]:
    """Plain pandas: the bucket weights each decision held (from its next day to the next
    decision's), averaged over the days; that mix held constant, rebalanced at each
    decision's next close, equal weight over each bucket's members priced on the decision
    day, the rest in bills, costs charged on traded notional (fees plus slippage, both
    taken as a fraction of what is traded); Sharpe in excess of bills' daily return."""
    days = prices.index
    mix = decided.reindex(days).ffill().shift(1).iloc[1:].mean()
    tickers = [t for b in buckets for t in b.tickers]
    marks = prices[tickers].ffill().fillna(0.0)
    trade_on = {days[days.get_loc(d) + 1]: d for d in decided.index
                if days.get_loc(d) + 1 < len(days)}
    units = pd.Series(0.0, index=tickers)
    spare = value = 1.0
    path = []
    for day in days:
        value = spare + float((units * marks.loc[day]).sum())
        if day in trade_on:
            priced = prices.loc[trade_on[day], tickers].notna()
            target = pd.Series(0.0, index=tickers)
            for b in buckets:
                live = [t for t in b.tickers if priced[t]]
                target[live] += mix[b.name] / len(live) if live else 0.0
            target[cash] += max(0.0, 1.0 - target.sum())
            traded = (target * value - units * marks.loc[day]).abs().sum()
            value -= traded * (fees + slippage)
            units = (target * value / prices.loc[day, tickers]).fillna(0.0)
            spare = 0.0
        path.append(value)
    returns = pd.Series(path, index=days).pct_change().iloc[1:]
    excess = returns - prices[cash].pct_change().iloc[1:].fillna(0.0)
    return float(excess.mean() / excess.std() * np.sqrt(252)), mix


def test_liquidity_rotation_on_the_snapshot_is_its_static_mix(runs, snapshot, capsys, tmp_path):
    """Done when (issue 23): the static mix within 0.03 of an independent calculation, an
    interval containing 0 and p > 0.05. The backtest is the README's "In Python" example,
    with its timing_attribution snippet."""
    timing = runs["liquidity_rotation"].metrics["timing"]
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    code = "\n".join(b for b in blocks if "Session(" in b or "timing_attribution(" in b)
    code = code.replace('"../shared/market-data"', repr(str(snapshot))).replace(
        "RunSettings(data=", f"RunSettings(cache_dir={str(tmp_path)!r}, data=")
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert "the edge is the static mix" in capsys.readouterr().out   # neutral_short=0.25
    session = namespace["session"]
    done = backtest(session.strategy("liquidity_rotation"), session)  # the default run's
    sharpe, mix = _independent_static_sharpe(session.window, done.decided,
                                             session.universe.buckets)
    assert timing["static_mix"]["sharpe"] == pytest.approx(sharpe, abs=0.03)
    assert timing["static_mix"]["weights"] == pytest.approx(mix.to_dict(), abs=1e-9)
    lo, hi = timing["sharpe_minus_static"]["ci95"]
    assert lo < 0 < hi
    assert timing["placebo"]["p_value"] > 0.05 and timing["placebo"]["n"] == 1000
    assert not timing["adds_value"]
    assert timing["verdict"].startswith("the edge is the static mix")
    assert runs["equal_weight"].metrics["timing"] is None
    # the same numbers again in memory (seeded), within the budget of 2 s (CPU: the machine
    # is shared; bench/bench.py prints the wall time)
    started = time.process_time()
    again = timing_attribution(done, session)
    assert time.process_time() - started < 2.0
    assert json.loads(json.dumps(again.to_json())) == timing
