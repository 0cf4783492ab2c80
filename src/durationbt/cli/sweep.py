"""``durationbt sweep STRATEGY --grid name=a,b,c``: every combination, ranked, with the
deflated Sharpe ratio of the best and the probability of backtest overfitting."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .console import (
    band_option,
    borrow_option,
    cash_option,
    data_option,
    end_option,
    err,
    fees_option,
    financing_option,
    init_cash_option,
    max_gross_option,
    max_net_option,
    out,
    out_option,
    rebalance_option,
    risk_free_option,
    run_settings,
    slippage_option,
    start_option,
    strategies_dir_option,
    strict_prices_option,
    timeout_option,
    universe_option,
    user_errors,
)

__all__ = ["sweep", "progress_bar", "grid_option", "tracker", "plain_tracker", "grid_progress",
           "workers_option", "scheduler_option", "max_combos_option", "grid_executor"]


def grid_option():
    return typer.Option([], "--grid", "-g", help="Parameter values to sweep as name=a,b,c; repeat "
                        "for more parameters (default: each parameter's declared grid).")


def progress_bar() -> Progress:
    """One bar per stage (weights, simulate), on stderr."""
    return Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err, transient=True)


def tracker(bar: Progress):
    tasks: dict[str, int] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done)
    return update


def plain_tracker(every: int = 10) -> Callable[[str, int, int], None]:
    """Progress as plain lines on stderr, one per ``every`` percent of each stage, for
    logs, pipes and CI, where a live bar would print nothing or garbage."""
    began = time.perf_counter()
    shown: dict[str, int] = {}

    def update(stage: str, done: int, total: int) -> None:
        step = done * 100 // max(total, 1) // every
        if step > shown.get(stage, 0):
            shown[stage] = step
            err.print(f"{stage}: {done:,} of {total:,} ({done * 100 // max(total, 1)}%), "
                      f"{time.perf_counter() - began:.0f} s", soft_wrap=True, highlight=False)
    return update


@contextlib.contextmanager
def grid_progress() -> Iterator[Callable[[str, int, int], None]]:
    """A live bar on a terminal, plain lines every 10% otherwise."""
    if err.is_terminal:
        with progress_bar() as bar:
            yield tracker(bar)
    else:
        yield plain_tracker()


def workers_option() -> Any:
    return typer.Option(None, "--workers", help="Local worker processes that compute the "
                        "combinations (default: every core; 1: one worker). The plugin never "
                        "runs in the command's own process.")


def scheduler_option() -> Any:
    return typer.Option(None, "--scheduler", help="Address of a running Dask distributed "
                        "scheduler (e.g. tcp://10.0.0.5:8786) whose workers compute the "
                        "combinations instead (needs durationbt[dask]).")


def max_combos_option() -> Any:
    return typer.Option(None, "--max-combos", help="Run a grid past the limits (100,000 "
                        "combinations, or an estimated hour) up to this many combinations.")


@contextlib.contextmanager
def grid_executor(workers: int | None, scheduler: str | None,
                  max_combos: int | None) -> Iterator[tuple[Any, Any]]:
    """The executor the options ask for, and the grid's budget; the executor is closed
    (a Dask client disconnected) when the command ends."""
    from ..errors import ParameterError
    from ..sweep.executors import executor_for
    from ..sweep.sweep import Budget

    if max_combos is not None and max_combos < 1:
        raise ParameterError(f"--max-combos {max_combos}: give a positive number of combinations.")
    budget = Budget() if max_combos is None else Budget(max_combos=max_combos, max_seconds=None)
    executor = executor_for(workers, scheduler)
    try:
        yield executor, budget
    finally:
        executor.close()


@user_errors
def sweep(
    strategy: str = typer.Argument(..., help="Strategy name."),
    grid: list[str] = grid_option(),
    param: list[str] = typer.Option([], "--param", "-p", help="Fixed parameter name=value."),
    metric: str = typer.Option("sharpe", "--metric", help="Metric that ranks combinations."),
    universe: str = universe_option(),
    start: str = start_option(),
    end: str = end_option(),
    rebalance: str = rebalance_option(),
    fees_bps: float = fees_option(),
    slippage_bps: float = slippage_option(),
    init_cash: float = init_cash_option(),
    top: int = typer.Option(15, "--top", help="Rows of the ranked table to print."),
    data: Path = data_option(),
    out_dir: Path = out_option("the sweep folder"),
    strategies_dir: Path = strategies_dir_option(),
    strict_prices: bool = strict_prices_option(),
    timeout: float = timeout_option(),
    risk_free: str = risk_free_option(),
    cash: str = cash_option(),
    workers: int | None = workers_option(),
    scheduler: str | None = scheduler_option(),
    max_combos: int | None = max_combos_option(),
    max_gross: float = max_gross_option(),
    max_net: float = max_net_option(),
    borrow_bps: float = borrow_option(),
    financing_bps: float = financing_option(),
    band: float = band_option(),
) -> None:
    """Backtest every combination of STRATEGY's parameters on data loaded once (numba
    kernel, same conventions and costs as `run`), rank them by --metric, and report the
    best combination's deflated Sharpe ratio and the probability of backtest overfitting.
    Writes sweep.csv, summary.json, best_equity.csv and sweep.html (heatmap). The
    combinations are computed on every local core (--workers) or a Dask cluster
    (--scheduler); a grid estimated past an hour or 100,000 combinations is refused
    unless --max-combos allows it."""
    from ..errors import ParameterError
    from ..formatting import fmt_param, fmt_pct
    from ..metrics import METRICS
    from ..publish import write_sweep
    from ..report.sweep_page import verdict_sentence
    from ..strategy import parse_param_overrides
    from ..sweep.grid import combinations
    from ..sweep.sweep import check_metric, load_setup, run_sweep, sweep_summary

    check_metric(metric)
    if top < 1:
        raise ParameterError(f"--top must be at least 1, got {top}.")
    settings = run_settings(universe=universe, start=start, end=end, rebalance=rebalance,
                            fees_bps=fees_bps, slippage_bps=slippage_bps, init_cash=init_cash,
                            data=data, out_dir=out_dir, strategies_dir=strategies_dir,
                            strict_prices=strict_prices, timeout=timeout,
                            risk_free=risk_free, cash=cash, max_gross=max_gross,
                            max_net=max_net, borrow_bps=borrow_bps, financing_bps=financing_bps,
                            band=band)
    with err.status("Loading data and the strategy", spinner="dots"):
        setup = load_setup(strategy, grid, parse_param_overrides(param), settings)
        contexts = setup.session.probe
    combos = combinations(setup.grid)
    with grid_executor(workers, scheduler, max_combos) as (executor, budget), \
            grid_progress() as progress:
        result = run_sweep(setup.strategy, setup.grid, setup.ctx, setup.window, metric,
                           settings.costs, init_cash, lookahead=contexts, progress=progress,
                           executor=executor, budget=budget,
                           risk_free=setup.session.risk_free,
                           book=setup.session.book(setup.strategy))
    with err.status("Bootstrap intervals and the sweep page", spinner="dots"):
        summary = sweep_summary(result, setup, settings)
        folder = write_sweep(result, summary, setup, out_dir)

    swept = [k for k, v in setup.grid.items() if len(v) > 1]
    table = Table(title=f"{strategy}: {len(combos)} combinations ({result.n_trials} distinct), "
                        f"ranked by {metric}")
    table.add_column("#", justify="right")
    for name in swept:
        table.add_column(name, justify="right")
    shown = ("cagr", "volatility", "sharpe", "max_drawdown", "turnover")
    for name in shown:
        table.add_column(name, justify="right")
    head = result.table.head(top)
    for rank in range(len(head)):
        table.add_row(str(rank + 1), *(fmt_param(head[n].iloc[rank]) for n in swept),
                      *(METRICS[c].format(head[c].iloc[rank]) for c in shown))
    out.print(table)
    s = result.stats
    boot = summary["bootstrap"]
    _, low, high = boot["sharpe"]
    sharpe = METRICS["sharpe"].format
    out.print(f"best: {', '.join(f'{k}={fmt_param(v)}' for k, v in result.best.items())}; Sharpe "
              f"{sharpe(s['best_sharpe'])} (95% CI {sharpe(low)}..{sharpe(high)})")
    out.print(f"probabilistic Sharpe {fmt_pct(s['psr'])}, deflated Sharpe {fmt_pct(s['dsr'])} "
              f"over {result.n_trials} trials, PBO {fmt_pct(s['pbo'])}")
    out.print(verdict_sentence(s, result.n_trials), soft_wrap=True)
    t = result.timings
    out.print(f"{t['wall_seconds']:.2f} s on {t['workers']} worker(s): weights and lookahead "
              f"checks {t['weights_seconds']:.2f} s of work; simulation {t['simulate_seconds']:.2f} s "
              "(includes loading the compiled kernel; throughput: make bench)")
    out.print(str(folder), soft_wrap=True)
