"""``durationbt duration``: measured rate duration and liquidity beta of every asset and
bucket, beside the declared ranks."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from .console import data_option, err, out, parse_date, universe_option, user_errors

__all__ = ["duration"]


@user_errors
def duration(
    universe: str = universe_option(),
    start: str = typer.Option(None, "--start", help="First day, YYYY-MM-DD (default: universe's)."),
    end: str = typer.Option(None, "--end", help="Last day, YYYY-MM-DD (default: last common day)."),
    window: int = typer.Option(104, "--window", help="Rolling window in weeks (>= 52)."),
    csv: Path = typer.Option(None, "--csv", help="Write the asset and bucket table to this CSV."),
    html: Path = typer.Option(None, "--html", help="Write the rolling bucket-duration chart here "
                              "(default: results/duration-<universe>-<end>.html)."),
    data: Path = data_option(),
) -> None:
    """Empirical duration (% price change per 100 bp rise of the 10-year yield, controlling
    for the benchmark; weekly returns, Newey-West errors) and liquidity beta (% per one-z rise
    of the scarcity score) of each asset and bucket, sorted by measured duration."""
    import pandas as pd

    from ..data import load_market_data
    from ..duration import MIN_WEEKS, measure_durations
    from ..errors import DataError
    from ..paths import slug
    from ..report.duration_chart import write_duration_chart
    from ..runs import files_together, write_frame
    from ..signals import build_signal, signal_data_from_market, signal_series
    from ..universe import load_universe
    from .environment import read_environment

    if window < MIN_WEEKS:
        raise DataError(f"--window must be at least {MIN_WEEKS} weeks, got {window}.")
    u = load_universe(universe)
    with err.status("Measuring durations", spinner="dots"):
        env = read_environment()
        components = env.components()
        market = load_market_data(u, env.provider(data), start=parse_date(start, "--start"),
                                  end=parse_date(end, "--end"),
                                  series=signal_series(u, components))
        if "^TNX" not in market.inputs.columns or market.inputs["^TNX"].isna().all():
            raise DataError(f"Duration needs the 10-year yield ^TNX: add it to [signal] tickers "
                            f"of {u.path} (or select the rates component) and to the data "
                            "folder.")
        signal = build_signal(signal_data_from_market(market), u.signal, str(u.path), components)
        score = signal.composite if signal.composite.notna().any() else None
        report = measure_durations(u, market.prices, market.inputs["^TNX"], score,
                                   market.start, market.end, window,
                                   signal=signal if score is not None else None)
    table = Table(title=f"Measured duration, {u.name}, {market.start.date()}..{market.end.date()}"
                        " (weekly, vs ^TNX, controlling for " + u.benchmark + ")")
    for column in ("bucket", "rank", "asset", "duration", "s.e.", "R²", "weeks", "liq. beta",
                   "s.e. ", "w/o own", "s.e.  "):
        table.add_column(column, justify="left" if column in ("bucket", "asset") else "right")
    ordered = sorted(report.buckets, key=lambda r: r.duration.value)
    for brow in ordered:
        members = sorted((r for r in report.assets if r.bucket == brow.name),
                         key=lambda r: r.duration.value)
        for row in [brow, *members]:
            is_bucket = row is brow
            liq = row.liquidity
            table.add_row(brow.name if is_bucket else "", str(row.rank) if is_bucket else "",
                          "[b]equal weight[/]" if is_bucket else row.name,
                          f"{row.duration.value:+.2f}", f"{row.duration.se:.2f}",
                          f"{row.duration.r2:.2f}", str(row.duration.weeks),
                          "n/a" if liq is None else f"{liq.value:+.2f}",
                          "" if liq is None else f"{liq.se:.2f}", *_own_cells(row),
                          end_section=row is members[-1] if members else is_bucket)
    out.print(table)
    out.print("duration: % price change per 100 bp rise of ^TNX; liq. beta: % price change per "
              "one-z rise of the scarcity score; w/o own: the same beta against the composite "
              "without the components whose declared inputs are the row's own tickers (same "
              "where none are; ! where the beta collapses: significant with them, under half "
              "its size or of the other sign without); s.e.: Newey-West.")
    for row in (*report.buckets, *report.assets):
        if row.own is not None and row.own.collapsed:
            out.print(f"[yellow]liquidity beta collapses:[/] {row.name} {row.own.full.value:+.2f} "
                      f"with {', '.join(row.own.excluded)}, {row.own.without.value:+.2f} without "
                      "(built from its own prices: that part of the beta is the asset itself, "
                      "not liquidity)", soft_wrap=True)
    if report.contradictions:
        for issue in report.contradictions:
            out.print(f"[yellow]declared rank contradicted:[/] {issue}", soft_wrap=True)
    else:
        out.print("Measured bucket durations agree with the declared ranks (within 2 s.e.).")
    chart = html or Path("results") / f"duration-{slug(u.name)}-{market.end.date()}.html"
    targets = [chart] + ([csv] if csv is not None else [])
    with files_together(targets) as temps:     # the chart and the table, or neither
        write_duration_chart(temps[0], report, f"Rolling empirical duration by bucket: {u.name}")
        if csv is not None:
            rows = [{"kind": kind, "name": r.name, "bucket": r.bucket, "rank": r.rank,
                     "duration": r.duration.value, "duration_se": r.duration.se,
                     "r2": r.duration.r2, "weeks": r.duration.weeks,
                     "liquidity_beta": r.liquidity.value if r.liquidity else None,
                     "liquidity_beta_se": r.liquidity.se if r.liquidity else None,
                     "own_components": ", ".join(r.own.excluded) if r.own else None,
                     "liquidity_beta_without_own": (r.own.without.value if r.own and r.own.without
                                                    else None),
                     "liquidity_beta_without_own_se": (r.own.without.se if r.own
                                                       and r.own.without else None),
                     "collapsed": r.own.collapsed if r.own else None}
                    for kind, group in (("bucket", report.buckets), ("asset", report.assets))
                    for r in group]
            write_frame(temps[1], pd.DataFrame(rows).set_index("kind"))
    if csv is not None:
        out.print(f"table: {csv}", soft_wrap=True)
    out.print(f"chart: {chart}", soft_wrap=True)


def _own_cells(row) -> tuple[str, str]:
    """The liquidity beta without the row's own components, its s.e.; "same" without any."""
    own = row.own
    if own is None:
        return "n/a", ""
    if own.without is None:
        return "same", ""
    flag = " !" if own.collapsed else ""
    return f"{own.without.value:+.2f}{flag}", f"{own.without.se:.2f}"
