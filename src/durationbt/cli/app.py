"""``durationbt``: the entry point. Commands live one module per group; each is wrapped by
``user_errors`` so a user mistake prints one paragraph and exits 2."""

from __future__ import annotations

import signal as os_signal

import typer

from . import (
    compare,
    data,
    duration,
    now,
    report,
    run,
    signal,
    strategies,
    sweep,
    universes,
    walkforward,
)

__all__ = ["app", "main"]

app = typer.Typer(
    name="durationbt",
    help="Duration-sensitivity backtester: when capital gets scarce, which assets suffer, "
         "and can a strategy rotate ahead of it?",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors.")) -> None:
    """Duration-sensitivity backtester."""


app.command("run", help=run.run.__doc__)(run.run)
app.command("signal", help=signal.signal.__doc__)(signal.signal)
app.command("duration", help=duration.duration.__doc__)(duration.duration)
app.command("compare", help=compare.compare.__doc__)(compare.compare)
app.command("sweep", help=sweep.sweep.__doc__)(sweep.sweep)
app.command("walkforward", help=walkforward.walkforward.__doc__)(walkforward.walkforward)
app.command("report", help=report.report.__doc__)(report.report)
app.command("now", help=now.now.__doc__)(now.now)
app.add_typer(universes.app, name="universes")
app.add_typer(data.app, name="data")
app.add_typer(strategies.app, name="strategies")


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM unwinds like an error, so the run's temporary folder is removed on the way."""
    raise SystemExit(128 + signum)


def main() -> None:
    """Console-script entry point."""
    os_signal.signal(os_signal.SIGTERM, _terminate)
    app(prog_name="durationbt")
