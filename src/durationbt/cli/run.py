"""``durationbt run STRATEGY``: one backtest, a summary table, and the run folder."""

from __future__ import annotations

from dataclasses import replace
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
    fmt_num,
    fmt_pct,
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

__all__ = ["run"]


@user_errors
def run(
    strategy: str = typer.Argument(..., help="Strategy name (see strategies/ folder)."),
    universe: str = universe_option(),
    start: str = start_option(),
    end: str = end_option(),
    rebalance: str = rebalance_option(),
    fees_bps: float = fees_option(),
    slippage_bps: float = slippage_option(),
    init_cash: float = init_cash_option(),
    param: list[str] = typer.Option([], "--param", "-p",
                                    help="Strategy parameter as name=value; repeat for more."),
    data: Path = data_option(),
    out_dir: Path = out_option("run folders"),
    strategies_dir: Path = strategies_dir_option(),
    strict_prices: bool = strict_prices_option(),
    timeout: float = timeout_option(),
    tearsheet: bool = typer.Option(True, "--tearsheet/--no-tearsheet",
                                   help="Write the quantstats tearsheet.html (the slowest "
                                        "page; --no-tearsheet skips quantstats entirely)."),
    risk_free: str = risk_free_option(),
    cash: str = cash_option(),
    max_gross: float = max_gross_option(),
    max_net: float = max_net_option(),
    borrow_bps: float = borrow_option(),
    financing_bps: float = financing_option(),
    band: float = band_option(),
) -> None:
    """Backtest STRATEGY on a universe and write a run folder (metrics, equity, weights,
    quantstats tearsheet). Decisions on the close of day t trade on the close of t+1."""
    from ..api import run_backtest
    from ..metrics import HEADLINE, METRICS

    settings = run_settings(universe=universe, start=start, end=end, rebalance=rebalance,
                            fees_bps=fees_bps, slippage_bps=slippage_bps, init_cash=init_cash,
                            params=param, data=data, out_dir=out_dir, strategies_dir=strategies_dir,
                            strict_prices=strict_prices, timeout=timeout,
                            risk_free=risk_free, cash=cash, max_gross=max_gross,
                            max_net=max_net, borrow_bps=borrow_bps,
                            financing_bps=financing_bps, band=band)
    settings = replace(settings, tearsheet=tearsheet)
    with err.status("Starting", spinner="dots") as status:
        result = run_backtest(strategy, settings, progress=lambda msg: status.update(msg))
    metrics = result.metrics
    manifest = result.manifest
    table = Table(title=f"{manifest['strategy']['name']} on {manifest['universe']['name']}: "
                        f"{metrics['strategy']['start']} to {metrics['strategy']['end']}")
    table.add_column("metric")
    table.add_column("strategy", justify="right")
    table.add_column(f"benchmark ({result.manifest['universe']['definition']['benchmark']})",
                     justify="right")
    for m in (METRICS[k] for k in HEADLINE):
        table.add_row(m.label, m.format(metrics["strategy"][m.name]),
                      m.format(metrics["benchmark"][m.name]))
    out.print(table)
    if "portfolio_duration" in metrics:
        d = metrics["portfolio_duration"]
        out.print(f"portfolio duration (% per 100 bp): average {fmt_num(d['average'])}, "
                  f"min {fmt_num(d['min'])}, max {fmt_num(d['max'])}")
    scores = result.regimes["scores"].loc["strategy"]
    share = result.regimes["time"]["share"]
    out.print("Sharpe by regime (share of days): " + ", ".join(
        f"{r} {fmt_num(scores.loc[r, 'sharpe'])} ({fmt_pct(share[r])})"
        for r in ("scarce", "neutral", "abundant")))
    s = manifest["settings"]
    schedule = ("bought on the first day and held, no rebalancing"
                if manifest["strategy"]["holds"] else f"{s['rebalance']} rebalancing")
    out.print(f"{schedule}, fees {s['fees_bps']:g} bps, slippage "
              f"{s['slippage_bps']:g} bps, {manifest['engine']['orders']} orders, costs paid "
              f"{manifest['engine']['costs_paid']:,.0f}{_carry_note(manifest)}; "
              f"data {manifest['data']['source']}")
    for warning in manifest["data"]["warnings"] + manifest["data"]["gaps"]:
        err.print(f"[yellow]note:[/] {warning}", soft_wrap=True)
    err.print(f"open {result.run_dir / 'report.html'}"
              + (" (or tearsheet.html)" if tearsheet else "") + " in a browser",
              soft_wrap=True)
    out.print(str(result.run_dir), soft_wrap=True)


def _carry_note(manifest: dict) -> str:
    """Borrow and financing paid, beside the costs, when the book shorted or levered."""
    engine = manifest["engine"]
    book = manifest["settings"].get("book") or {}
    if not book.get("allow_short") and not engine.get("borrow_paid") and not engine.get(
            "financing_paid"):
        return ""
    return (f", borrow paid {engine.get('borrow_paid', 0.0):,.0f} ({book.get('borrow_bps', 0):g} "
            f"bps/yr), financing paid {engine.get('financing_paid', 0.0):,.0f}")
