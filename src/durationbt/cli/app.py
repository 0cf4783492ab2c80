"""``durationbt``: the entry point. Commands live one module per group; each is wrapped by
``user_errors`` so a user mistake prints one paragraph and exits 2."""

from __future__ import annotations

import gc
import signal as os_signal

import typer
from typer.core import TyperCommand

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
    thesis,
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


def _print_version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"durationbt {__version__}")
        raise typer.Exit()


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
          version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                       help="Print the version and exit.")) -> None:
    """Duration-sensitivity backtester."""


class _ListsStrategies(TyperCommand):
    """``run --help`` ends with the strategies it can run, found when help is asked for
    (plugins are imported only then, so ``durationbt --help`` stays fast)."""

    def format_epilog(self, ctx, formatter) -> None:
        from ..errors import DurationbtError
        from ..plugins import discover_strategies
        from .environment import read_environment

        try:
            names = discover_strategies(
                entry_points_enabled=read_environment().entry_points).names()
        except DurationbtError as exc:  # a clash between plugins: say so, help still shows
            names = [f"(cannot list: {exc})"]
        formatter.write_paragraph()
        formatter.write_text("Strategies: " + ", ".join(names) + " (plus any in --strategies-dir; "
                             "`durationbt strategies list` describes them).")
        super().format_epilog(ctx, formatter)


app.command("run", help=run.run.__doc__, cls=_ListsStrategies)(run.run)
app.command("signal", help=signal.signal.__doc__)(signal.signal)
app.command("duration", help=duration.duration.__doc__)(duration.duration)
app.command("compare", help=compare.compare.__doc__)(compare.compare)
app.command("sweep", help=sweep.sweep.__doc__)(sweep.sweep)
app.command("walkforward", help=walkforward.walkforward.__doc__)(walkforward.walkforward)
app.command("report", help=report.report.__doc__)(report.report)
app.command("now", help=now.now.__doc__)(now.now)
app.command("thesis", help=thesis.thesis.__doc__)(thesis.thesis)
app.add_typer(universes.app, name="universes")
app.add_typer(data.app, name="data")
app.add_typer(strategies.app, name="strategies")


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM unwinds like an error, so the run's temporary folder is removed on the way."""
    raise SystemExit(128 + signum)


def main() -> None:
    """Console-script entry point."""
    os_signal.signal(os_signal.SIGTERM, _terminate)
    try:
        app(prog_name="durationbt")
    finally:
        # the command is done: spare the interpreter's final garbage collection over
        # everything vectorbt, numba and pandas allocated (about 0.9 s of a run's wall time);
        # atexit handlers and open files are still closed as usual
        gc.freeze()
