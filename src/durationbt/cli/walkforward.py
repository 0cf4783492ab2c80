"""``durationbt walkforward STRATEGY --grid ... --train 3y --test 1y``."""

from __future__ import annotations

from pathlib import Path

import typer
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
from .sweep import (
    grid_executor,
    grid_option,
    grid_progress,
    max_combos_option,
    scheduler_option,
    workers_option,
)

__all__ = ["walkforward"]


@user_errors
def walkforward(
    strategy: str = typer.Argument(..., help="Strategy name."),
    grid: list[str] = grid_option(),
    param: list[str] = typer.Option([], "--param", "-p", help="Fixed parameter name=value."),
    train: str = typer.Option("3y", "--train", help="Training window: 3y, 18m, 26w, 90d."),
    test: str = typer.Option("1y", "--test", help="Test window (and step): 1y, 6m, ..."),
    metric: str = typer.Option("sharpe", "--metric", help="Metric that chooses the parameters."),
    universe: str = universe_option(),
    start: str = start_option(),
    end: str = end_option(),
    rebalance: str = rebalance_option(),
    fees_bps: float = fees_option(),
    slippage_bps: float = slippage_option(),
    init_cash: float = init_cash_option(),
    data: Path = data_option(),
    out_dir: Path = out_option("the result folder"),
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
    """Choose STRATEGY's best parameters on each training window, trade them over the
    following test window, stitch the out-of-sample run (through the same engine, costs and
    switching included) and show in-sample against out-of-sample metrics. Writes
    windows.csv, equity.csv, summary.csv and walkforward.html. Combinations are computed
    as in `sweep` (--workers, --scheduler, --max-combos)."""
    from ..formatting import fmt_num
    from ..metrics import formats
    from ..publish import write_walkforward
    from ..strategy import parse_param_overrides
    from ..sweep.grid import combinations
    from ..sweep.sweep import check_metric, load_setup
    from ..sweep.walkforward import parse_span, walk_forward

    check_metric(metric)
    train_span, test_span = parse_span(train, "--train"), parse_span(test, "--test")
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
    with grid_executor(workers, scheduler, max_combos) as (executor, budget), \
            grid_progress() as progress:
        result = walk_forward(setup.strategy, combinations(setup.grid), setup.ctx, setup.window,
                              train_span, test_span, metric, settings.costs, init_cash,
                              setup.window[setup.universe.benchmark],
                              defaults=setup.strategy().values(), lookahead=contexts,
                              progress=progress, executor=executor, budget=budget,
                              risk_free=setup.session.risk_free,
                              book=setup.session.book(setup.strategy))
    with err.status("Writing the walk-forward folder", spinner="dots"):
        identity = {"strategy": strategy, "grid": setup.grid, "train": train, "test": test,
                    "metric": metric, "universe": setup.universe.name, "rebalance": rebalance,
                    "fees_bps": fees_bps, "slippage_bps": slippage_bps,
                    **setup.session.risk_free_conventions(),
                    "start": str(setup.market.start.date()), "end": str(setup.market.end.date()),
                    "data": setup.market.fingerprint()}
        folder = write_walkforward(result, identity, out_dir, setup.market)

    windows = Table(title=f"{strategy}: {len(result.windows)} windows, train {train}, test {test}")
    for col in ["#", *result.windows.columns]:
        windows.add_column(col, justify="right")
    for k, row in result.windows.iterrows():
        windows.add_row(str(k), *(fmt_num(v) if isinstance(v, float) else str(v) for v in row.to_list()))
    out.print(windows)
    summary = Table(title="In sample vs out of sample")
    summary.add_column("")
    for col in result.summary.columns:
        summary.add_column(col, justify="right")
    shown = formats(result.summary.columns)
    for name, row in result.summary.iterrows():
        summary.add_row(str(name), *(shown[c](row[c]) for c in result.summary.columns))
    out.print(summary)
    out.print(str(folder), soft_wrap=True)
