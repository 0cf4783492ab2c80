"""One strategy through the flow on a session's data, in memory: weights, simulation,
lookahead check, scores, portfolio duration and regime tables. Nothing is written here
(``runs`` writes; ``api.run_backtest`` orchestrates)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .book import Book, exposures
from .data import MarketData
from .engine import EngineResult
from .inference.placebo import TimingAttribution
from .isolation import StrategyProcess
from .longshort import on_kernel, simulate_book
from .lookahead import LookaheadReport
from .metrics import PERIODS_PER_YEAR
from .scoring import book_metrics, score_run, summarise_duration
from .session import Session
from .strategy import Context, Strategy
from .universe import Universe
from .weights import spread_weights, validated_weights

__all__ = ["Backtest", "backtest", "benchmark_equity", "short_sample_warnings"]


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
    notes: tuple[str, ...] = ()   # what a reader must know: data, conventions, signal
    decided: pd.DataFrame | None = None   # the plugin's checked weights, by bucket or ticker
    timing: TimingAttribution | None = None   # inference.timing.attach_timing (runs)
    book: Book = Book()         # the limits and carry the run used
    exposures: pd.DataFrame | None = None   # daily long, short, gross, net (book.exposures)


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
                                universe.benchmark, 104, columns=tickers,
                                since=result.weights.index[0])   # all that the days read
    return portfolio_duration(result.weights, rolling)


def short_sample_warnings(days: int) -> list[str]:
    """A warning when the run is shorter than a year: annualising a few days' returns gives
    numbers (a Sharpe of -20 from four days) that mean nothing."""
    if days >= PERIODS_PER_YEAR:
        return []
    return [f"the backtest has only {days} daily returns, less than a year: CAGR, volatility, "
            "Sharpe and Sortino are annualised from them and say little; use a longer range"]


def backtest(strategy: Strategy, session: Session,
             on_equity: Callable[[pd.Series, pd.Series], None] | None = None,
             plugin: StrategyProcess | None = None) -> Backtest:
    """Weights, lookahead check, simulation and scores of ``strategy`` on the session's
    data; ``compare`` calls this once per strategy on one session, so the data, context
    and lookahead replays are shared. ``on_equity(equity, benchmark)`` is called as soon as
    the curves exist (the run starts its tearsheet there). The plugin's code runs in
    ``plugin``, a child process (one is started here when none is given), never here."""
    with contextlib.ExitStack() as stack:
        if plugin is None:
            plugin = stack.enter_context(StrategyProcess(strategy, session.settings.timeout))
        return _backtest(strategy, session, on_equity, plugin)


def _backtest(strategy: Strategy, session: Session,
              on_equity: Callable[[pd.Series, pd.Series], None] | None,
              plugin: StrategyProcess) -> Backtest:
    from .regimes import regime_tables

    settings, universe, market, ctx, say = (session.settings, session.universe, session.market,
                                            session.ctx, session.say)
    rf_returns = session.risk_free_returns       # a risk-free without returns fails first
    say(f"{strategy.name}: computing target weights on {len(ctx.rebalance_dates)} decision dates")
    book = session.book(strategy)
    checked = plugin.weights(session.shared_ctx, session.lookahead, book)   # validated there and here
    # the replay starts in the plugin's process at once and runs while this one checks,
    # simulates and scores; nothing is written before it passes, so a refusal still
    # leaves nothing behind
    plugin.start_check()
    decided = validated_weights(checked.frame, strategy, ctx, book)
    targets = spread_weights(decided, strategy, ctx, book)
    targets = session.risk_free.hold_cash(strategy.traded(targets), ctx.prices)

    say(f"{strategy.name}: simulating " + ("on the long/short kernel" if on_kernel(targets, book)
                                          else "with vectorbt"))
    cash = session.risk_free.cash_ticker
    window = session.window
    result = simulate_book(window, targets, costs=settings.costs, init_cash=settings.init_cash,
                           book=book, cash_ticker=cash)
    first_fill = window.index[1]
    bench = benchmark_equity(window[universe.benchmark], first_fill, settings.init_cash)
    bench_traded = pd.Series(0.0, index=bench.index)
    bench_traded.loc[first_fill] = settings.init_cash
    if on_equity is not None:
        on_equity(result.equity, bench)
    say(f"{strategy.name}: scoring while its lookahead replay runs (point-in-time replay)")
    metrics = score_run(result.equity, result.traded, bench, bench_traded, rf_returns,
                        session.risk_free_conventions())
    exposure = exposures(result.weights, cash)
    metrics["book"] = book_metrics(result.carry_paid(), exposure, book.record())
    port_duration = _portfolio_duration(universe, market, result)
    if port_duration is not None:
        metrics["portfolio_duration"] = summarise_duration(port_duration["duration"])
    regimes = regime_tables(pd.DataFrame({"strategy": result.equity, "benchmark": bench}),
                            result.weights, window[list(universe.tickers)], universe,
                            ctx.signal.labelled_regime(), rf_returns, signal=ctx.signal)
    say(f"{strategy.name}: waiting for its lookahead replay")
    report = plugin.report()
    report.refuse()
    return Backtest(strategy=strategy, universe=universe, market=market, ctx=ctx, targets=targets,
                    result=result, benchmark=bench, metrics=metrics, duration=port_duration,
                    regimes=regimes, lookahead=report, risk_free=rf_returns,
                    notes=tuple(session.notes()), decided=decided, book=book,
                    exposures=exposure)
