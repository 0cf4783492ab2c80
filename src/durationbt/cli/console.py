"""The one pair of rich consoles all commands print through: results to stdout,
progress and errors to stderr."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import DurationbtError, ParameterError
from ..formatting import fmt_num, fmt_pct

__all__ = ["out", "err", "parse_date", "fmt_pct", "fmt_num", "user_errors", "universe_option",
           "data_option"]


def universe_option() -> Any:
    """``--universe/-u``, shared by every command that reads a universe."""
    return typer.Option("ai_capex", "--universe", "-u",
                        help="Universe name in universes/ or path to a .toml file.")


def data_option() -> Any:
    """``--data``, shared by every command that reads market data."""
    return typer.Option(None, "--data", help="Folder of per-ticker CSVs (default: "
                        "$DURATIONBT_DATA, else Yahoo Finance with a local cache).")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def parse_date(value: str | None, option: str) -> dt.date | None:
    """``YYYY-MM-DD`` from an option, or a ParameterError naming the option."""
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ParameterError(f"{option} {value!r} is not a date; use YYYY-MM-DD, "
                             "e.g. 2018-01-02.") from None


def user_errors(command: Callable[..., None]) -> Callable[..., None]:
    """Turn a DurationbtError into one paragraph on stderr and exit code 2; with the root
    ``--debug`` flag the traceback is raised instead. Typer injects the context through an
    extra keyword-only parameter added to the command's signature."""

    @functools.wraps(command)
    def wrapper(*args: Any, _ctx: typer.Context, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except DurationbtError as exc:
            if _ctx.find_root().params.get("debug"):
                raise
            err.print(f"[bold red]Error:[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None

    signature = inspect.signature(command)
    context = inspect.Parameter("_ctx", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), context])
    return wrapper
