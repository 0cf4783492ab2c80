"""``durationbt signal``: today's scarcity reading, its history, and whether it works."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from .console import data_option, err, out, parse_date, universe_option, user_errors

__all__ = ["signal"]


@user_errors
def signal(
    universe: str = universe_option(),
    start: str = typer.Option(None, "--start", help="First day shown in CSV, chart and "
                              "evaluation, YYYY-MM-DD (default: the universe's start, where "
                              "backtests begin; history before it still feeds z-scores)."),
    end: str = typer.Option(None, "--end", help="Read the signal as of this day, YYYY-MM-DD "
                            "(default: the latest day in the data)."),
    csv: Path = typer.Option(None, "--csv", help="Write the daily history (composite, regime, "
                             "components) to this CSV file."),
    html: Path = typer.Option(None, "--html", help="Write the plotly chart here (default: "
                              "results/signal-<universe>-<date>.html)."),
    evaluate: bool = typer.Option(False, "--evaluate", help="Information coefficients of the "
                                  "score vs forward short-minus-long bucket returns."),
    data: Path = data_option(),
    components: bool = typer.Option(False, "--components", help="List the components the "
                                    "universe can use (built-in, installed, its own "
                                    "[[signal.custom]] CSV ones): what each reads, with "
                                    "publication lags, and its weight in the score; then exit."),
) -> None:
    """The liquidity-scarcity signal: composite score, regime (since when), each component's
    z-score and contribution; optional CSV history, a chart, and an --evaluate table."""
    import pandas as pd

    from ..errors import DataError
    from ..paths import slug
    from ..report.signal_chart import write_signal_chart
    from ..runs import files_together, write_frame
    from ..signals import build_signal, load_signal_data
    from ..universe import load_universe
    from .environment import read_environment

    u = load_universe(universe)
    if components:
        _list_components(u, read_environment().components())
        return
    first = parse_date(start, "--start")
    last = parse_date(end, "--end")
    if first and last and first >= last:
        raise DataError(f"--start {first} is not before --end {last}.")
    env = read_environment()
    registry = env.components()
    provider = env.provider(data)
    with err.status("Computing the scarcity signal", spinner="dots"):
        inputs, warnings = load_signal_data(u, provider, pd.Timestamp(last) if last else None,
                                            registry)
        sig = build_signal(inputs, u.signal, str(u.path), registry)
    shown_from = pd.Timestamp(first) if first else None
    for note in warnings + sig.notes(shown_from, pd.Timestamp(last) if last else None, inputs):
        err.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    valid = sig.composite.dropna()
    if valid.empty:
        raise DataError("The scarcity score has no value: too little history for any component.")
    today = valid.index[-1]
    contributions = sig.contributions().loc[today]
    table = Table(title=f"Scarcity signal for {u.name} on {today.date()}")
    for column in ("component", "z-score", "weight", "contribution"):
        table.add_column(column, justify="left" if column == "component" else "right")
    for name in sig.components.columns:
        z = sig.components.loc[today, name]
        table.add_row(name, "n/a" if pd.isna(z) else f"{z:+.2f}", f"{sig.weights[name]:g}",
                      "n/a" if pd.isna(contributions[name]) else f"{contributions[name]:+.2f}")
    out.print(table)
    out.print(f"composite {sig.composite.loc[today]:+.2f} -> regime [bold]"
              f"{sig.regime.loc[today]}[/] since {sig.regime_since(today).date()} "
              f"(scarce at >= {u.signal.enter_scarce:g} until < {u.signal.exit_scarce:g}; "
              f"abundant at <= {u.signal.enter_abundant:g} until > {u.signal.exit_abundant:g})")

    shown = pd.Timestamp(first or u.start)  # the backtests' range, not 1971
    chart = html or Path("results") / f"signal-{slug(u.name)}-{today.date()}.html"
    targets = [chart] + ([csv] if csv is not None else [])
    with files_together(targets) as temps:     # the chart and the csv, or neither
        write_signal_chart(temps[0], sig, f"Liquidity-scarcity signal: {u.name}", start=shown)
        if csv is not None:
            write_frame(temps[1], sig.frame().loc[shown:today])
    if csv is not None:
        out.print(f"history: {csv}", soft_wrap=True)
    out.print(f"chart: {chart}", soft_wrap=True)
    if evaluate:
        _evaluate(u, provider, sig, shown)


def _list_components(u, registry) -> None:
    """The table of ``--components``."""
    from ..signals.registry import list_components

    table = Table(title=f"Signal components for {u.name}")
    for column in ("component", "weight", "reads", "inputs (publication lag)",
                   "why higher = scarcer", "source"):
        table.add_column(column, justify="right" if column == "weight" else "left")
    for row in list_components(u, registry):
        table.add_row(row.name, "not used" if row.weight is None else f"{row.weight:g}",
                      row.reads, row.inputs, row.summary, row.source)
    out.print(table)


def _evaluate(u, provider, sig, shown) -> None:
    """IC table on the universe's backtest data (its common date range)."""
    from ..data import load_market_data
    from ..signals import HORIZONS, information_coefficients

    market = load_market_data(u, provider)
    results = information_coefficients(sig, market.prices, u, shown, market.end)
    table = Table(title=f"Rank IC of score vs forward (short - long duration) return, "
                        f"{shown.date()}..{market.end.date()}")
    table.add_column("series")
    for label in HORIZONS:
        table.add_column(f"IC {label}", justify="right")
        table.add_column(f"t {label}", justify="right")
    names = list(dict.fromkeys(r.series for r in results))
    for name in names:
        row = [name]
        for label in HORIZONS:
            r = next(x for x in results if x.series == name and x.horizon == label)
            row += [f"{r.ic:+.3f}", f"{r.t_stat:+.2f}"]
        table.add_row(*row)
    out.print(table)
    out.print("t: Newey-West (Bartlett, lags = horizon) on daily overlapping observations; "
              "|t| > 2 is roughly 5% significance. Positive IC: scarcity predicts short "
              "duration (bills, memory) beating long (long Treasuries, SaaS, crypto).")
