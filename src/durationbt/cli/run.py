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

__all__ = ["run", "timing_line"]


def timing_line(metrics: dict) -> str:
    """The run summary's line on timing: the Sharpe difference to the static mix with its
    interval, the placebo p-value and the verdict (or why there is none)."""
    timing = metrics.get("timing")
    if timing is None:
        note = metrics.get("timing_note")
        return f"timing: not attributed ({note})" if note else "timing: not attributed"
    diff, placebo = timing["sharpe_minus_static"], timing["placebo"]
    lo, hi = diff["ci95"]
    p = "no placebo test" if placebo is None else f"placebo p = {fmt_num(placebo['p_value'], 3)}"
    verdict = timing["verdict"].split(":")[0]

    def signed(x: float | None) -> str:
        return "n/a" if x is None else f"{x:+.2f}"

    return (f"timing: Sharpe {fmt_num(timing.get('sharpe'))} vs {fmt_num(timing['static_mix']['sharpe'])}"
            f" for its static mix, difference {signed(diff['estimate'])} (95% interval "
            f"{signed(lo)} to {signed(hi)}), {p}: {verdict}")


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
    placebos: int = typer.Option(1000, "--placebos",
                                 help="Re-timed copies of the run's decision schedule in its "
                                      "timing attribution (at least 200; 0 skips the placebo "
                                      "test, and timing is then never credited)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the timing attribution's placebos and "
                                               "bootstrap (recorded in manifest.json)."),
) -> None:
    """Backtest STRATEGY on a universe and write a run folder (metrics, equity, weights,
    quantstats tearsheet). Decisions on the close of day t trade on the close of t+1."""
    from ..api import run_backtest
    from ..data.calendar import gap_notes
    from ..metrics import HEADLINE, METRICS

    settings = run_settings(universe=universe, start=start, end=end, rebalance=rebalance,
                            fees_bps=fees_bps, slippage_bps=slippage_bps, init_cash=init_cash,
                            params=param, data=data, out_dir=out_dir, strategies_dir=strategies_dir,
                            strict_prices=strict_prices, timeout=timeout,
                            risk_free=risk_free, cash=cash, max_gross=max_gross,
                            max_net=max_net, borrow_bps=borrow_bps,
                            financing_bps=financing_bps, band=band)
    settings = replace(settings, tearsheet=tearsheet, placebos=placebos, seed=seed)
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
    _regime_lines(result.regimes)
    out.print(timing_line(metrics), soft_wrap=True)
    s = manifest["settings"]
    schedule = ("bought on the first day and held, no rebalancing"
                if manifest["strategy"]["holds"] else f"{s['rebalance']} rebalancing")
    out.print(f"{schedule}, fees {s['fees_bps']:g} bps, slippage "
              f"{s['slippage_bps']:g} bps, {manifest['engine']['orders']} orders, costs paid "
              f"{manifest['engine']['costs_paid']:,.0f}{_carry_note(manifest)}; "
              f"data {manifest['data']['source']}")
    for warning in manifest["data"]["warnings"] + gap_notes(manifest["data"]["gaps"]):
        err.print(f"[yellow]note:[/] {warning}", soft_wrap=True)
    err.print(f"open {result.run_dir / 'report.html'}"
              + (" (or tearsheet.html)" if tearsheet else "") + " in a browser",
              soft_wrap=True)
    out.print(str(result.run_dir), soft_wrap=True)


def _regime_lines(tables) -> None:
    """Sharpe by regime with its interval and spells, the scarce - abundant difference with
    its Newey-West t, and any bucket whose liquidity beta collapses without its own
    components."""
    from ..regimes import regime_cell, spread_cell

    scores = tables["scores"].loc["strategy"]
    share = tables["time"]["share"]
    out.print("By regime: " + "; ".join(
        f"{r} Sharpe {regime_cell(scores.loc[r], 'sharpe', fmt_num, r)} on "
        f"{fmt_pct(share.get(r))} of days, {fmt_num(scores.loc[r, 'spells'], 0)} spells"
        for r in scores.index if r != "all") + " (95% intervals)", soft_wrap=True)
    spread = tables["spread"].loc["strategy"]
    out.print("scarce - abundant mean excess return a year: "
              f"{spread_cell(spread, fmt_pct)} (Newey-West)", soft_wrap=True)
    liquidity = tables.get("liquidity")
    for name, row in (liquidity.iterrows() if liquidity is not None else ()):
        if row["collapsed"]:
            err.print(f"[yellow]note:[/] {name}'s liquidity beta {row['beta']:+.2f} collapses to "
                      f"{row['beta_without_own']:+.2f} without {row['own_components']}, "
                      "built from its own prices: that part of the beta is the asset itself, "
                      "not liquidity", soft_wrap=True)


def _carry_note(manifest: dict) -> str:
    """Borrow and financing paid, beside the costs, when the book shorted or levered."""
    engine = manifest["engine"]
    book = manifest["settings"].get("book") or {}
    if not book.get("allow_short") and not engine.get("borrow_paid") and not engine.get(
            "financing_paid"):
        return ""
    return (f", borrow paid {engine.get('borrow_paid', 0.0):,.0f} ({book.get('borrow_bps', 0):g} "
            f"bps/yr), financing paid {engine.get('financing_paid', 0.0):,.0f}")
