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
                                  "score (and each component) vs the forward return of the "
                                  "--long buckets minus the --short ones: overlapping daily "
                                  "with Newey-West t, non-overlapping, and the composite "
                                  "without each component."),
    long: list[str] = typer.Option(None, "--long", help="Buckets whose forward return the "
                                   "spread adds (the leg bought when capital is scarce; "
                                   "repeat or comma-separate; default: rank <= 1). Implies "
                                   "--evaluate."),
    short: list[str] = typer.Option(None, "--short", help="Buckets whose forward return the "
                                    "spread subtracts (default: rank >= 3). Implies "
                                    "--evaluate."),
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
    from ..signals import build_signal, choose_legs, load_signal_data
    from ..universe import load_universe
    from .environment import read_environment

    u = load_universe(universe)
    if components:
        _list_components(u, read_environment().components())
        return
    legs = choose_legs(u, long, short) if (evaluate or long or short) else None
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
    if legs is not None:
        _evaluate(u, provider, sig, shown, legs)


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


def _evaluate(u, provider, sig, shown, legs) -> None:
    """The three IC tables on the universe's backtest data (its common date range), and a
    footnote written from the legs actually evaluated."""
    from ..data import load_market_data
    from ..signals import HORIZONS, evaluate_signal

    market = load_market_data(u, provider)
    found = evaluate_signal(sig, market.prices, u, shown, market.end, legs)
    span = f"{shown.date()}..{market.end.date()}"
    names = list(dict.fromkeys(r.series for r in found.overlapping))

    def cells(r) -> list[str]:
        return ["n/a", "n/a"] if r.ic != r.ic else [f"{r.ic:+.3f}", f"{r.t_stat:+.2f}"]

    table = Table(title=f"Rank IC of the score vs the forward return of {legs.describe()}, "
                        f"{span}: daily, overlapping windows")
    table.add_column("series")
    for label in HORIZONS:
        table.add_column(f"IC {label}", justify="right")
        table.add_column(f"t {label}", justify="right")
    for name in names:
        table.add_row(name, *(c for label in HORIZONS for c in cells(found.find(name, label))))
    out.print(table)

    table = Table(title="The same, non-overlapping windows (one observation every 21, 63, 126 "
                        "trading days)")
    table.add_column("series")
    for label in HORIZONS:
        for column in ("IC", "t", "n"):
            table.add_column(f"{column} {label}", justify="right")
    for name in names:
        row = [name]
        for label in HORIZONS:
            r = found.find(name, label, overlapping=False)
            row += [*cells(r), str(r.n)]
        table.add_row(*row)
    out.print(table)

    table = Table(title="Leave one component out: IC of the composite without each component "
                        "(daily, overlapping; change vs the full composite)")
    table.add_column("composite")
    for label in HORIZONS:
        table.add_column(f"IC {label}", justify="right")
        table.add_column(f"change {label}", justify="right")
    for r in dict.fromkeys(x.series for x in found.leave_one_out):
        row = [r]
        for label in HORIZONS:
            one, full = found.find(r, label), found.find("composite", label)
            row += ([f"{one.ic:+.3f}", f"{one.ic - full.ic:+.3f}"] if one.ic == one.ic
                    else ["n/a", ""])
        table.add_row(*row)
    out.print(table)

    long_leg, short_leg = ", ".join(legs.long), ", ".join(legs.short)
    out.print(f"Positive IC: a scarcer score predicts {long_leg} beating {short_leg} over the "
              "next 1, 3 and 6 months (long leg minus short leg, buckets equal weight). Daily "
              "windows overlap, so their t is Newey-West (Bartlett, lags = horizon); "
              "non-overlapping windows need no correction but are few; |t| > 2 is roughly 5% "
              "significance.", soft_wrap=True)
    if found.own_components:
        tickers = set(legs.tickers(u))
        reads = "; ".join(f"{c} reads {', '.join(sorted(set(sig.inputs[c].tickers) & tickers))}"
                          for c in found.own_components)
        out.print(f"[yellow]Built from a leg's own prices:[/] {reads}. Such a component "
                  "'predicts' its own asset by construction; 'composite w/o own' is the score "
                  "without it.", soft_wrap=True)
