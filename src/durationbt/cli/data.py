"""``durationbt data status`` and ``durationbt data update``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from .console import data_option, err, out, universe_option, user_errors

__all__ = ["app"]

app = typer.Typer(help="Inspect the market data behind a universe.", no_args_is_help=True)


@app.command("status")
@user_errors
def status(
    universe: str = universe_option(),
    data: Path = data_option(),
) -> None:
    """Per ticker: first and last date, rows, missing days and the longest hole; which
    tickers limit the default date range; the calendar checked against the NYSE's; every
    suspicious move (spikes, level shifts, unadjusted splits, FRED values far outside their
    range). Exits 2 when any series is missing."""
    from ..data import data_status
    from ..data.market import load_custom_series
    from ..errors import DataError
    from ..signals import signal_series
    from ..universe import load_universe
    from .environment import read_environment

    u = load_universe(universe)
    env = read_environment()
    custom = load_custom_series(u)      # the universe's own CSVs: a bad one is exit 2 too
    report = data_status(u, env.provider(data), signal_series(u, env.components()))
    table = Table(title=f"Data for {u.name} from {report.source}")
    for column in ("ticker", "role", "first", "last", "rows", "missing", "longest", "limits"):
        table.add_column(column, justify="right" if column in ("rows", "missing",
                                                                "longest") else "left",
                         no_wrap=column != "limits")
    for row in report.tickers:
        limits = []
        if row.ticker in report.limits_start:
            limits.append("start")
        if row.ticker in report.limits_end:
            limits.append("end")
        if row.error:
            shown = (f"[yellow]optional component input: {row.error}[/]" if row.optional
                     else f"[red]{row.error}[/]")
            table.add_row(row.ticker, row.role, "-", "-", "0", "-", "-", shown)
            continue
        role = f"{row.role} (7-day)" if row.calendar == "7-day" else row.role
        table.add_row(row.ticker, role, str(row.first.date()), str(row.last.date()),
                      f"{row.rows:,}", f"{row.missing_days:,}", f"{row.longest_gap:,}",
                      " & ".join(limits))
    out.print(table)
    for spec in u.signal.custom:
        series = custom[spec.name].dropna()
        span = (f"{series.index[0].date()} to {series.index[-1].date()}" if len(series)
                else "no values")
        out.print(f"custom component {spec.name}: {spec.csv} column {spec.column}, "
                  f"{len(series):,} observations, {span}", soft_wrap=True)
    out.print("missing: expected days without a price between the ticker's first and last date "
              "(trading days; calendar days for 7-day series); longest: the longest such run.")
    if report.common_start is not None:
        out.print(f"All assets have prices from {report.common_start.date()} (limited by "
                  f"{', '.join(report.limits_start)}); assets that list later join their bucket "
                  "when their first price appears.")
    if report.default_end is not None:
        out.print(f"Default end {report.default_end.date()}: the last day on which the benchmark "
                  f"and every bucket have a price (limited by {', '.join(report.limits_end)}).")
    if report.ends_early:
        out.print(f"Data ending earlier ({', '.join(report.ends_early)}) are treated as "
                  "delisted from their last price: held at it until the next execution, then sold.")
    for note in report.calendar_notes:
        out.print(f"calendar: {note}")
    for found in report.suspicious:
        out.print(f"[yellow]suspicious {found.noun}:[/] {escape(str(found))}", soft_wrap=True)
    if report.suspicious:
        out.print(f"{len(report.suspicious)} suspicious move(s): runs name them in their notes "
                  "and manifest; --strict-prices (or the universe's strict_prices = true) "
                  "refuses them.", soft_wrap=True)
    if report.missing:
        required = sum(not r.optional for r in report.tickers)
        raise DataError(f"{len(report.missing)} of the {required} series of universe "
                        f"{u.name} have no data in {report.source}: {', '.join(report.missing)} "
                        "(see the table). Add them to the data, or remove them from the universe.")


@app.command("update")
@user_errors
def update(
    data: Path = data_option(),
    tolerance: float = typer.Option(1e-4, "--tolerance", help="Relative change of a stored value "
                                    "beyond which it counts as revised (the file is then left "
                                    "as it was and the revision reported)."),
) -> None:
    """Extend a CSV folder with the rows published since each file's last date: TICKER.csv
    from Yahoo Finance, fred/SERIES.csv from FRED. Only final rows (before today, New York
    time) are added; old rows are never rewritten; files, manifest.csv and PROVENANCE.md are
    replaced atomically. Exit 1 when a file was left behind (revised or not downloaded)."""
    from ..data.fred import FredProvider
    from ..data.update import update_folder
    from ..errors import ParameterError
    from .environment import read_environment

    env = read_environment()
    folder = env.data_folder(data)
    if not folder:
        raise ParameterError("data update needs the folder to extend: pass --data DIR (a "
                             "writable folder of per-ticker CSVs) or set DURATIONBT_DATA.")
    if not 0 <= tolerance < 1:
        raise ParameterError(f"--tolerance {tolerance:g} must be in [0, 1), e.g. 1e-4.")
    with err.status("Downloading new rows", spinner="dots"):
        report = update_folder(Path(folder), tolerance=tolerance,
                               fred=FredProvider(env.cache_dir, max_age_hours=0))
    table = Table(title=f"Update of {report.folder} (rows before {report.today.date()})")
    for column in ("file", "last before", "last now", "result"):
        table.add_column(column, no_wrap=column != "result")
    for f in report.files:
        if f.added or f.error or f.revisions:
            table.add_row(f.file, str(f.last_before.date()),
                          str((f.last_after or f.last_before).date()), f.status)
    out.print(table)
    quiet = sum(1 for f in report.files if not (f.added or f.error or f.revisions))
    out.print(f"{quiet} other file(s) already up to date.")
    for f in report.files:
        for r in f.revisions[:3]:
            err.print(f"[yellow]revised:[/] {f.file} {r.date.date()}: stored {r.stored:.6g}, "
                      f"now {r.fetched:.6g} ({r.relative:+.2%})", soft_wrap=True)
    if not report.complete:
        raise typer.Exit(1)
