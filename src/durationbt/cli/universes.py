"""``durationbt universes list|show``."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from .console import out, user_errors

__all__ = ["app"]

app = typer.Typer(help="List and inspect universes (buckets ranked by cash-flow duration).",
                  no_args_is_help=True)


@app.command("list")
@user_errors
def list_() -> None:
    """List universes in ./universes and the built-in ones."""
    from ..errors import UniverseError
    from ..universe import list_universes, load_universe

    table = Table(title="Universes")
    for column in ("name", "buckets", "tickers", "benchmark", "description", "file"):
        table.add_column(column)
    invalid: list[str] = []
    for name, path in sorted(list_universes().items()):
        try:
            u = load_universe(path)
        except UniverseError as exc:
            table.add_row(escape(name), "-", "-", "-", "[red]invalid (see below)[/]",
                          escape(str(path)))
            invalid.append(str(exc))
            continue
        table.add_row(escape(name), str(len(u.buckets)), str(len(u.tickers)),
                      escape(u.benchmark), escape(u.description), escape(str(path)))
    out.print(table)
    if invalid:   # the others are listed; exit 2 so a script sees the broken file
        raise UniverseError(f"{len(invalid)} universe file(s) cannot be used: "
                            + " | ".join(invalid))


@app.command("show")
@user_errors
def show(name: str = typer.Argument("ai_capex", help="Universe name or .toml path.")) -> None:
    """Show a universe's buckets in duration order, its dates and signal inputs."""
    from ..signals import signal_series
    from ..universe import load_universe
    from .environment import read_environment

    u = load_universe(name)
    table = Table(title=f"{u.name}: {u.description}")
    for column in ("rank", "bucket", "tickers", "description"):
        table.add_column(column)
    for bucket in sorted(u.buckets, key=lambda b: b.rank):
        table.add_row(str(bucket.rank), bucket.name, ", ".join(bucket.tickers),
                      bucket.description)
    out.print(table)
    out.print(f"benchmark {u.benchmark}; cash asset {u.cash or 'none'}; start {u.start}; "
              f"end {u.end or 'last common date'}")
    if u.ticker_start:
        out.print("ticker starts: " + ", ".join(f"{t} from {d}" for t, d in u.ticker_start.items()))
    series = signal_series(u, read_environment().components())
    out.print(f"signal inputs (declared by its components): {', '.join(series.tickers) or 'none'}; "
              f"FRED: {', '.join(series.fred) or 'none'}"
              + "".join(f"; {c.name}: {c.csv}" for c in u.signal.custom), soft_wrap=True)
    if u.thesis is not None:
        out.print(f"thesis: {len(u.thesis.claims)} claims, {len(u.thesis.events)} events, "
                  f"{len(u.thesis.series)} user series (`durationbt thesis` scores them)")
    out.print(f"file: {u.path}", soft_wrap=True)
