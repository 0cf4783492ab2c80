"""``durationbt now [STRATEGY ...]``: the regime and what each strategy would trade next."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from .console import (
    data_option,
    err,
    out,
    rebalance_option,
    run_settings,
    strategies_dir_option,
    strict_prices_option,
    universe_option,
    user_errors,
)

__all__ = ["now"]


def _pct(weight: float) -> str:
    """Three significant digits: 25%, 5.88%, 0.0603%."""
    return f"{weight * 100:.3g}%"


@user_errors
def now(
    strategies: list[str] = typer.Argument(None, help="Strategy names (default: every strategy)."),
    universe: str = universe_option(),
    rebalance: str = rebalance_option(),
    json_path: Path = typer.Option(None, "--json", help="Also write the reading and every "
                                   "decision as JSON to this file."),
    holdings: Path = typer.Option(None, "--holdings", help="CSV of what you hold (ticker,quantity "
                                  "or ticker,weight; a CASH row for cash): print the orders."),
    data: Path = data_option(),
    strategies_dir: Path = strategies_dir_option(),
    strict_prices: bool = strict_prices_option(),
) -> None:
    """As of the last day of the data: the scarcity regime with its composite, each
    component (or why it is missing) and the day the regime began; for each strategy the
    target weights it decides that day (exactly as a full run would, lookahead-checked),
    traded at the next execution; with --holdings the orders to get there."""
    import pandas as pd

    from ..now import now as decide
    from ..now import read_holdings
    from ..runs import files_together, write_json

    held = read_holdings(holdings) if holdings is not None else None
    settings = run_settings(universe=universe, start=None, end=None, rebalance=rebalance,
                            fees_bps=0.0, slippage_bps=0.0, data=data, out_dir=Path("results"),
                            strategies_dir=strategies_dir, strict_prices=strict_prices)
    with err.status("Starting", spinner="dots") as status:
        report = decide(strategies or [], settings, holdings=held,
                        progress=lambda msg: status.update(msg))

    out.print(f"As of {report.as_of.date()} (the last day of the data: {report.source})",
              soft_wrap=True)
    composite = "n/a" if report.composite is None else f"{report.composite:+.2f}"
    out.print(f"Regime [bold]{report.regime}[/] since {report.regime_since.date()}, "
              f"composite {composite}")
    table = Table(title="Scarcity components")
    for column in ("component", "z-score", "weight", "contribution", "missing because"):
        table.add_column(column, justify="right" if column in ("z-score", "weight",
                                                               "contribution") else "left")
    for name, c in report.components.items():
        table.add_row(name, "" if c.z is None else f"{c.z:+.2f}", f"{c.weight:g}",
                      "" if c.contribution is None else f"{c.contribution:+.2f}", c.missing or "")
    out.print(table)

    decisions = list(report.strategies.values())
    weights = Table(title=f"Target weights decided on {report.as_of.date()}, traded at the close "
                          f"of {decisions[0].next_execution.date()}")
    weights.add_column("strategy", no_wrap=True)
    weights.add_column("target weights (the rest in cash)")
    for d in decisions:
        text = ", ".join(f"{t}\u00a0{_pct(w)}" for t, w in d.weights.items())  # no break inside
        cash = f"; cash {_pct(d.cash)}" if d.cash > 1e-9 else ""
        weights.add_row(d.strategy, (text or "all cash") + cash)
    out.print(weights)

    for d in decisions if held is not None else []:
        orders = Table(title=f"{d.strategy}: orders from {held.path.name}")
        for column in ("side", "ticker", "weight now", "target", "quantity", "value"):
            orders.add_column(column, justify="left" if column in ("side", "ticker") else "right")
        for o in d.orders or ():
            orders.add_row(o.side, o.ticker, f"{o.weight_from:.2%}", f"{o.weight_to:.2%}",
                           "" if o.quantity is None else f"{o.quantity:,.4f}",
                           "" if o.value is None else f"{o.value:,.2f}")
        out.print(orders if d.orders else f"{d.strategy}: no orders, the holdings match")

    age = (pd.Timestamp.now().normalize() - report.as_of).days
    for note in list(report.notes) + ([f"the data end {age} days ago; `durationbt data update "
                                       "--data DIR` extends a CSV folder"] if age > 5 else []):
        err.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    if json_path is not None:
        with files_together([json_path]) as (partial,):
            write_json(partial, report.to_json())
        out.print(f"json: {json_path}", soft_wrap=True)
