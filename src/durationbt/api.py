"""run_backtest(...) and friends: what the CLI and notebooks call. Each step of the flow
lives in its own module; this one wires them together and reports progress."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import inspect
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from .data import MarketData, load_market_data, rebalance_dates, resolve_provider
from .engine import DEFAULT_INIT_CASH, Costs, EngineResult, import_vectorbt, simulate
from .lookahead import LookaheadProbe, LookaheadReport
from .plugins import StrategyRegistry, discover_strategies
from .riskfree import DEFAULT_CASH, DEFAULT_RISK_FREE, RiskFree, resolve_risk_free
from .runs import draft_file, provenance, run_id, staging_folder, write_frame, write_json
from .scoring import PERIODS_PER_YEAR, score_run, summarise_duration
from .strategy import Context, Strategy, parse_param_overrides
from .universe import Universe, load_universe
from .weights import DEFAULT_TIMEOUT, call_strategy, compute_weights, resolve_target_weights

__all__ = ["RunSettings", "BacktestResult", "run_backtest", "build_context", "compute_weights",
           "benchmark_equity", "load_data", "Backtest", "backtest", "write_run", "lookahead_probe"]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class RunSettings:
    """Everything a run depends on besides the strategy's name."""

    universe: str | Path = "ai_capex"
    start: dt.date | None = None
    end: dt.date | None = None
    rebalance: str = "monthly"
    costs: Costs = field(default_factory=Costs)
    init_cash: float = DEFAULT_INIT_CASH
    params: dict[str, Any] = field(default_factory=dict)
    data: str | Path | None = None
    out: Path = Path("results")
    strategies_dir: Path | None = None
    strict_prices: bool = False   # a suspicious price spike is an error, not a warning
    timeout: float = DEFAULT_TIMEOUT   # seconds one call of the strategy plugin may take
    tearsheet: bool = True             # write the quantstats tearsheet.html
    cache: bool = True                 # reuse validated market data and signal (data.cache)
    risk_free: str = DEFAULT_RISK_FREE   # "bills", "0" or a ticker (see durationbt.riskfree)
    cash: str = DEFAULT_CASH             # "risk-free" or "zero": what uninvested weight earns

    def risk_free_for(self, universe: Universe) -> RiskFree:
        """The risk-free and cash conventions of these settings on ``universe``."""
        return resolve_risk_free(self.risk_free, self.cash, universe)


@dataclass(frozen=True)
class BacktestResult:
    """A finished run: its folder, scores, manifest and the simulated path."""

    run_dir: Path
    metrics: dict[str, Any]
    manifest: dict[str, Any]
    result: EngineResult
    benchmark: pd.Series
    regimes: dict[str, pd.DataFrame]
    timings: dict[str, float] = field(default_factory=dict)   # phase -> seconds (wall)


def load_data(universe: Universe, settings: RunSettings) -> MarketData:
    """Market data for ``universe`` from the provider the settings point at, with its
    scarcity signal; from the market cache when the same files were loaded for the same
    request before (see ``data.cache``)."""
    from .data.cache import MarketCache
    from .data.fetch import default_cache_dir
    from .signals import build_signal, discover_components, signal_data_from_market, signal_series

    provider = resolve_provider(settings.data)
    components = discover_components()
    series = signal_series(universe, components)
    cache = MarketCache(default_cache_dir() / "market") if settings.cache else None
    request = {"start": settings.start, "end": settings.end, "strict": settings.strict_prices}
    key = cache.key(provider, universe, request, series, components) if cache else None
    hit = cache.get(key) if cache else None
    if hit is not None:
        return hit
    market = load_market_data(universe, provider, start=settings.start, end=settings.end,
                              strict_prices=settings.strict_prices, series=series)
    signal = build_signal(signal_data_from_market(market), universe.signal,
                          str(universe.path or universe.name), components)
    market = replace(market, signal=signal)
    if cache:
        cache.put(key, market)
    return market


def build_context(universe: Universe, market: MarketData, rebalance: str) -> Context:
    """Context for a strategy: decisions on the schedule plus the first day, so the
    portfolio is invested from the second trading day on; the scarcity signal included."""
    from .signals import build_signal, signal_data_from_market

    calendar = market.calendar
    scheduled = rebalance_dates(calendar, rebalance)
    in_range = scheduled[(scheduled >= market.start) & (scheduled <= market.end)]
    decisions = in_range.union(pd.DatetimeIndex([market.start]))
    signal = market.signal or build_signal(signal_data_from_market(market), universe.signal,
                                           str(universe.path or universe.name))
    return Context(universe=universe, prices=market.prices, inputs=market.inputs,
                   rebalance_dates=pd.DatetimeIndex(decisions, name="date"),
                   start=market.start, end=market.end, signal=signal)


def lookahead_probe(ctx: Context, rebalance: str,
                    timeout: float | None = DEFAULT_TIMEOUT) -> LookaheadProbe:
    """The replay contexts of ``ctx`` for the lookahead check, built once and shared by
    every strategy run on it: every decision date on a monthly schedule, a sample else."""
    return LookaheadProbe(ctx, every_date=rebalance == "monthly", timeout=timeout)


def benchmark_equity(prices: pd.Series, first_fill: pd.Timestamp, init_cash: float) -> pd.Series:
    """Buy-and-hold of the benchmark, bought at the strategy's first fill (no costs)."""
    growth = prices / prices.loc[first_fill]
    equity = (init_cash * growth).where(prices.index >= first_fill, init_cash)
    return equity.rename("benchmark")


def _portfolio_duration(universe: Universe, market: MarketData,
                        result: EngineResult) -> pd.DataFrame | None:
    """Daily portfolio duration from 104-week rolling asset durations (None without ^TNX)."""
    from .duration import portfolio_duration, rolling_durations

    if "^TNX" not in market.inputs.columns or market.inputs["^TNX"].isna().all():
        return None
    tickers = list(dict.fromkeys([*universe.tickers, universe.benchmark]))
    history = market.prices.loc[:market.end, tickers]
    rolling = rolling_durations(history, market.inputs["^TNX"].loc[:market.end],
                                universe.benchmark, 104, columns=tickers)
    return portfolio_duration(result.weights, rolling)


def _short_sample(days: int) -> list[str]:
    """A warning when the run is shorter than a year: annualising a few days' returns gives
    numbers (a Sharpe of -20 from four days) that mean nothing."""
    if days >= PERIODS_PER_YEAR:
        return []
    return [f"the backtest has only {days} daily returns, less than a year: CAGR, volatility, "
            "Sharpe and Sortino are annualised from them and say little; use a longer range"]


def _file_sha256(path: Path | None) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path and path.is_file() else None


@dataclass(frozen=True)
class Backtest:
    """One strategy simulated and scored in memory, before anything is written."""

    strategy: Strategy
    universe: Universe
    market: MarketData
    ctx: Context
    targets: pd.DataFrame
    result: EngineResult
    benchmark: pd.Series
    metrics: dict[str, Any]
    duration: pd.DataFrame | None
    regimes: dict[str, pd.DataFrame]
    lookahead: LookaheadReport
    risk_free: pd.Series        # daily risk-free return on the backtest's days


def backtest(strategy: Strategy, universe: Universe, market: MarketData, ctx: Context,
             settings: RunSettings, progress: Progress | None = None,
             lookahead: LookaheadProbe | None = None,
             on_equity: Callable[[pd.Series, pd.Series], None] | None = None) -> Backtest:
    """Weights, lookahead check, simulation and scores of ``strategy`` on data already
    loaded; ``compare`` calls this once per strategy on the same market and context, with
    one ``lookahead_probe`` for all (else built here). ``on_equity(equity, benchmark)`` is
    called as soon as the curves exist (the run starts its tearsheet there)."""
    from .regimes import regime_tables

    say = progress or (lambda _msg: None)
    say(f"{strategy.name}: computing target weights on {len(ctx.rebalance_dates)} decision dates")
    raw = call_strategy(strategy, ctx, settings.timeout)
    targets = resolve_target_weights(raw, strategy, ctx)
    riskfree = settings.risk_free_for(universe)
    targets = riskfree.hold_cash(strategy.traded(targets), ctx.prices)

    say(f"{strategy.name}: simulating with vectorbt")
    window = market.prices.loc[market.start:market.end]
    result = simulate(window, targets, costs=settings.costs, init_cash=settings.init_cash)
    rf_returns = riskfree.returns(window)
    first_fill = window.index[1]
    bench = benchmark_equity(window[universe.benchmark], first_fill, settings.init_cash)
    bench_traded = pd.Series(0.0, index=bench.index)
    bench_traded.loc[first_fill] = settings.init_cash
    if on_equity is not None:
        on_equity(result.equity, bench)
    # checked after the simulation so the tearsheet is drawn meanwhile; nothing is written
    # before it passes, so a refusal still leaves nothing behind
    say(f"{strategy.name}: checking for lookahead (point-in-time replay)")
    probe = lookahead or lookahead_probe(ctx, settings.rebalance, settings.timeout)
    report = probe.check(strategy, raw)
    report.refuse()

    say(f"{strategy.name}: scoring")
    metrics = score_run(result.equity, result.traded, bench, bench_traded, rf_returns,
                        riskfree.conventions())
    port_duration = _portfolio_duration(universe, market, result)
    if port_duration is not None:
        metrics["portfolio_duration"] = summarise_duration(port_duration["duration"])
    regimes = regime_tables(pd.DataFrame({"strategy": result.equity, "benchmark": bench}),
                            result.weights, window[list(universe.tickers)], universe,
                            ctx.signal.regime, rf_returns)
    return Backtest(strategy=strategy, universe=universe, market=market, ctx=ctx, targets=targets,
                    result=result, benchmark=bench, metrics=metrics, duration=port_duration,
                    regimes=regimes, lookahead=report, risk_free=rf_returns)


def run_backtest(strategy_name: str, settings: RunSettings = RunSettings(), *,
                 registry: StrategyRegistry | None = None,
                 progress: Progress | None = None) -> BacktestResult:
    """Run one backtest end to end and write its run folder atomically.

    What does not depend on each other overlaps: vectorbt is imported in a thread while the
    data, signal and weights are computed (``simulate`` waits for it), and the quantstats
    tearsheet is drawn by a second process (started now, so its imports are done by then)
    while the lookahead replay, scores, durations, regime tables and report page are made."""
    phases: list[tuple[str, float]] = [("start", time.perf_counter())]

    def say(message: str) -> None:
        phases.append((message, time.perf_counter()))
        if progress:
            progress(message)

    vectorbt = threading.Thread(target=import_vectorbt, daemon=True)
    vectorbt.start()
    with contextlib.ExitStack() as stack:
        worker = None
        if settings.tearsheet:
            from .report.worker import TearsheetWorker

            worker = stack.enter_context(TearsheetWorker())
        say("Loading universe and strategy")
        universe = load_universe(settings.universe)
        settings.risk_free_for(universe)  # a bad --risk-free or --cash fails before data load
        registry = registry or discover_strategies(settings.strategies_dir)
        strategy_cls = registry.get(strategy_name)
        strategy = strategy_cls(**parse_param_overrides(settings.params))

        say(f"Loading prices for {len(universe.tickers)} tickers")
        market = load_data(universe, settings)
        ctx = build_context(universe, market, settings.rebalance)
        draft = stack.enter_context(draft_file(Path(settings.out), "tearsheet.html"))

        def start_tearsheet(equity: pd.Series, bench: pd.Series) -> None:
            if worker is not None:
                say("Drawing the quantstats tearsheet in a second process")
                worker.submit(draft.parent, equity, bench,
                              _page_titles(strategy.name, universe, settings), draft)

        done = backtest(strategy, universe, market, ctx, settings, say,
                        on_equity=start_tearsheet)
        tearsheet = worker.result if worker is not None else None   # returns ``draft``
        written = write_run(done, settings, registry.source(strategy.name), say, tearsheet)
    say("done")
    timings = {name: round(end - begin, 3)
               for (name, begin), (_, end) in zip(phases, phases[1:], strict=False)}
    return replace(written, timings=timings)


def _page_titles(strategy: str, universe: Universe, settings: RunSettings) -> dict:
    """The part of a manifest the tearsheet's title, labels and risk-free note are made from."""
    return {"strategy": {"name": strategy},
            "universe": {"name": universe.name, "definition": {"benchmark": universe.benchmark,
                                                               "cash": universe.cash}},
            "settings": {"risk_free": settings.risk_free}}


def write_run(done: Backtest, settings: RunSettings, source: str,
              progress: Progress | None = None,
              tearsheet: Callable[[], Path] | None = None) -> BacktestResult:
    """The run folder of a finished backtest: manifest, metrics, series, regime tables,
    report page and quantstats tearsheet, written atomically. ``tearsheet``: waits for a
    tearsheet drawn elsewhere and returns its file (else it is drawn here, unless
    ``settings.tearsheet`` is off)."""
    from .regimes import tables_to_json

    say = progress or (lambda _msg: None)
    strategy, universe, market, ctx = done.strategy, done.universe, done.market, done.ctx
    result, bench, metrics = done.result, done.benchmark, done.metrics
    identity = {
        "universe": universe.model_dump(mode="json", exclude={"path"}),
        "strategy": strategy.name, "params": strategy.values(),
        "rebalance": settings.rebalance, "fees_bps": settings.costs.fees_bps,
        "slippage_bps": settings.costs.slippage_bps, "init_cash": settings.init_cash,
        "risk_free": settings.risk_free, "cash": settings.cash,
        "start": str(market.start.date()), "end": str(market.end.date()),
        "data": market.fingerprint(),
    }
    created = pd.Timestamp.now(tz="UTC")
    name = run_id(created, strategy.name, identity)
    manifest = {
        "schema": 1,
        "run_id": name,
        "created_utc": created.isoformat(timespec="seconds"),
        "command": "run",
        "universe": {"name": universe.name, "path": str(universe.path),
                     "sha256": _file_sha256(universe.path),
                     "definition": identity["universe"]},
        "strategy": {"name": strategy.name, "source": source,
                     "params": strategy.values(), "weights_by": strategy.weights_by,
                     "description": inspect.getdoc(type(strategy)) or "",
                     "spread": strategy.spread, "holds": strategy.holds},
        "settings": {"start": identity["start"], "end": identity["end"],
                     "rebalance": settings.rebalance, "fees_bps": settings.costs.fees_bps,
                     "slippage_bps": settings.costs.slippage_bps,
                     "init_cash": settings.init_cash,
                     "risk_free": settings.risk_free, "cash": settings.cash,
                     "timing": "decide on close t, fill on close t+1",
                     "fee_convention": "targets are fractions of pre-trade value; costs paid "
                                       "from cash"},
        "data": {"source": market.source, "fingerprint": identity["data"],
                 "gaps": [str(g) for g in market.gaps],
                 "absent": list(market.absent),
                 "delisted": {t: str(d.date()) for t, d in market.ended.items()},
                 "warnings": _short_sample(metrics["strategy"]["days"]) + list(market.warnings) + [
                     f"signal component {k} dropped: {v}" for k, v in ctx.signal.dropped.items()]},
        "signal": {"components": ctx.signal.weights, "config": universe.signal.model_dump(
            mode="json", include={"window", "min_history", "clip", "enter_scarce", "exit_scarce",
                                  "enter_abundant", "exit_abundant"})},
        "lookahead": done.lookahead.manifest(),
        "engine": {"orders": result.orders, "decisions": len(ctx.rebalance_dates),
                   "executed_rebalances": len(result.targets),
                   "costs_paid": float(result.costs_paid.sum())},
        **provenance(),
    }

    with staging_folder(Path(settings.out), name) as (folder, final):
        manifest["run_id"] = final[0].name          # "-2" when a run took the name first
        write_json(folder / "manifest.json", manifest)
        write_json(folder / "metrics.json", metrics)
        write_frame(folder / "equity.csv",
                    pd.DataFrame({"equity": result.equity, "benchmark": bench,
                                  "risk_free": done.risk_free}))
        write_frame(folder / "weights.csv", result.weights)
        write_frame(folder / "targets.csv", done.targets)
        write_frame(folder / "orders.csv", result.order_log.set_index("date"))
        write_frame(folder / "signal.csv", ctx.signal.frame().loc[market.start:market.end])
        if done.duration is not None:
            write_frame(folder / "duration.csv", done.duration)
        write_json(folder / "regimes.json", tables_to_json(done.regimes))
        say("Writing the report page")
        from .report.run_page import write_run_report

        write_run_report(folder, link_tearsheet=settings.tearsheet)
        if tearsheet is not None:
            say("Waiting for the quantstats tearsheet")
            os.replace(tearsheet(), folder / "tearsheet.html")
        elif settings.tearsheet:
            say("Writing the quantstats tearsheet")
            from .report.tearsheet import write_run_tearsheet

            write_run_tearsheet(folder, result.equity, bench, manifest)
    return BacktestResult(run_dir=final[0], metrics=metrics, manifest=manifest, result=result,
                          benchmark=bench, regimes=done.regimes)
