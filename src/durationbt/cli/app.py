"""``durationbt``: the entry point. Commands live one module per group; user mistakes
(DurationbtError) print one paragraph and exit 2, with the traceback only under --debug."""

from __future__ import annotations

import sys

import typer

from ..errors import DurationbtError
from . import data, run, universes
from .console import err

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
app.add_typer(universes.app, name="universes")
app.add_typer(data.app, name="data")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    args = sys.argv[1:] if argv is None else argv
    try:
        app(args=args, prog_name="durationbt")
    except DurationbtError as exc:
        if "--debug" in args:
            raise
        err.print(f"[bold red]Error:[/] {exc}", soft_wrap=True, markup=True, highlight=False)
        sys.exit(exc.exit_code)
