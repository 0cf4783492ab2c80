"""``durationbt sweep STRATEGY --grid name=a,b,c``: every combination, ranked, with the
deflated Sharpe ratio of the best and the probability of backtest overfitting."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .console import (
    cash_option,
    data_option,
    end_option,
    err,
    fees_option,
    init_cash_option,
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

__all__ = ["sweep", "progress_bar", "grid_option", "tracker"]


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
) -> None:
    """Backtest every combination of STRATEGY's parameters on data loaded once (numba
    kernel, same conventions and costs as `run`), rank them by --metric, and report the
    best combination's deflated Sharpe ratio and the probability of backtest overfitting.
    Writes sweep.csv, summary.json, best_equity.csv and sweep.html (heatmap)."""
    from ..api import lookahead_probe
    from ..errors import ParameterError
    from ..formatting import fmt_num, fmt_param, fmt_pct
    from ..report.compare_page import LEADERBOARD_FORMATS
    from ..report.sweep_page import verdict_sentence
    from ..strategy import parse_param_overrides
    from ..sweep.grid import combinations
    from ..sweep.sweep import (
        check_metric,
        load_setup,
        run_sweep,
        sweep_summary,
        write_sweep,
    )

    check_metric(metric)
    if top < 1:
        raise ParameterError(f"--top must be at least 1, got {top}.")
    settings = run_settings(universe=universe, start=start, end=end, rebalance=rebalance,
                            fees_bps=fees_bps, slippage_bps=slippage_bps, init_cash=init_cash,
                            data=data, out_dir=out_dir, strategies_dir=strategies_dir,
                            strict_prices=strict_prices, timeout=timeout,
                            risk_free=risk_free, cash=cash)
    with err.status("Loading data and the strategy", spinner="dots"):
        setup = load_setup(strategy, grid, parse_param_overrides(param), settings)
        contexts = lookahead_probe(setup.ctx, rebalance, settings.timeout)
    combos = combinations(setup.grid)
    with progress_bar() as bar:
        result = run_sweep(setup.strategy, setup.grid, setup.ctx, setup.window, metric,
                           settings.costs, init_cash, lookahead=contexts, progress=tracker(bar),
                           risk_free=settings.risk_free_for(setup.universe))
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
                      *(LEADERBOARD_FORMATS[c](head[c].iloc[rank]) for c in shown))
    out.print(table)
    s = result.stats
    boot = summary["bootstrap"]
    _, low, high = boot["sharpe"]
    out.print(f"best: {', '.join(f'{k}={fmt_param(v)}' for k, v in result.best.items())}; Sharpe "
              f"{fmt_num(s['best_sharpe'])} (95% CI {fmt_num(low)}..{fmt_num(high)})")
    out.print(f"probabilistic Sharpe {fmt_pct(s['psr'])}, deflated Sharpe {fmt_pct(s['dsr'])} "
              f"over {result.n_trials} trials, PBO {fmt_pct(s['pbo'])}")
    out.print(verdict_sentence(s, result.n_trials), soft_wrap=True)
    t = result.timings
    out.print(f"weights and lookahead checks {t['weights_seconds']:.2f} s; simulation "
              f"{t['simulate_seconds']:.2f} s (includes loading the compiled kernel; throughput: "
              "make bench)")
    out.print(str(folder), soft_wrap=True)
