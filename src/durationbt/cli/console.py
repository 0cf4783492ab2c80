"""The one pair of rich consoles all commands print through: results to stdout,
progress and errors to stderr."""

from __future__ import annotations

import datetime as dt
import errno
import functools
import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import DurationbtError, ParameterError
from ..formatting import fmt_num, fmt_pct

__all__ = ["out", "err", "parse_date", "fmt_pct", "fmt_num", "user_errors", "universe_option",
           "data_option", "start_option", "end_option", "rebalance_option", "fees_option",
           "slippage_option", "init_cash_option", "out_option", "strategies_dir_option",
           "strict_prices_option", "timeout_option", "risk_free_option", "cash_option",
           "run_settings", "STRATEGIES_DIR_HELP", "max_gross_option", "max_net_option",
           "borrow_option", "financing_option", "band_option"]


def universe_option() -> Any:
    """``--universe/-u``, shared by every command that reads a universe."""
    return typer.Option("ai_capex", "--universe", "-u",
                        help="Universe name in universes/ or path to a .toml file.")


def data_option() -> Any:
    """``--data``, shared by every command that reads market data."""
    return typer.Option(None, "--data", help="Folder of per-ticker CSVs (default: "
                        "$DURATIONBT_DATA, else Yahoo Finance with a local cache).")

def start_option() -> Any:
    return typer.Option(None, "--start", help="First day, YYYY-MM-DD (default: universe's).")


def end_option() -> Any:
    return typer.Option(None, "--end",
                        help="Last day, YYYY-MM-DD (default: the last day on which the benchmark "
                             "and every bucket have a priced member).")


def rebalance_option() -> Any:
    return typer.Option("monthly", "--rebalance",
                        help="daily | weekly (last trading day) | monthly (last trading day).")


def fees_option() -> Any:
    return typer.Option(10.0, "--fees-bps", help="Fees in bps of traded notional.")


def slippage_option() -> Any:
    return typer.Option(5.0, "--slippage-bps", help="Slippage in bps on the fill price.")


def init_cash_option() -> Any:
    return typer.Option(1_000_000.0, "--init-cash", help="Initial capital.")


def out_option(what: str) -> Any:
    return typer.Option(Path("results"), "--out", help=f"Folder that receives {what}.")


STRATEGIES_DIR_HELP = ("Also load strategies from this folder (its files shadow built-in "
                       "files of the same name).")


def strategies_dir_option() -> Any:
    return typer.Option(None, "--strategies-dir", help=STRATEGIES_DIR_HELP)


def strict_prices_option() -> Any:
    return typer.Option(False, "--strict-prices",
                        help="Refuse data with a suspicious move: a one-day move beyond its "
                             "asset class's bound (a spike, a level shift, an unadjusted "
                             "split) or a FRED value far outside its own range (default: a "
                             "warning; the universe's strict_prices = true does the same).")


def timeout_option() -> Any:
    return typer.Option(600.0, "--timeout",
                        help="Seconds one call of the strategy plugin may take (above 0, at "
                             "most 86400) before its process is killed, whatever it catches; "
                             "importing a plugin file may take at most 20 s.")


def risk_free_option() -> Any:
    """``--risk-free``, shared by run, compare, sweep and walkforward."""
    from ..riskfree import DEFAULT_RISK_FREE, RISK_FREE_HELP

    return typer.Option(DEFAULT_RISK_FREE, "--risk-free", help=RISK_FREE_HELP + " 0|bills|TICKER.")


def cash_option() -> Any:
    """``--cash``, shared by run, compare, sweep and walkforward."""
    from ..riskfree import CASH_HELP, DEFAULT_CASH

    return typer.Option(DEFAULT_CASH, "--cash", help=CASH_HELP)


def max_gross_option() -> Any:
    return typer.Option(None, "--max-gross",
                        help="Largest gross exposure (sum of |w|) a decision may have; a row "
                             "beyond it is refused, never scaled (default: the universe's "
                             "[portfolio] max_gross, else 2.0 for a strategy with allow_short, "
                             "1.0 otherwise).")


def max_net_option() -> Any:
    return typer.Option(None, "--max-net",
                        help="Largest net exposure (sum of w); above 1 the book borrows in the "
                             "cash asset (default: [portfolio] max_net, else 1.0).")


def borrow_option() -> Any:
    return typer.Option(None, "--borrow-bps",
                        help="Yearly borrow fee on short positions, in bps of their value at "
                             "the previous close, paid daily (default: [portfolio] borrow_bps, "
                             "else 50).")


def financing_option() -> Any:
    return typer.Option(None, "--financing-bps",
                        help="Yearly spread over the cash asset's return paid on net leverage "
                             "(default: [portfolio] financing_bps, else 100).")


def band_option() -> Any:
    return typer.Option(0.0, "--band",
                        help="Rebalance band in weight units: on a decision date a ticker whose "
                             "held weight is within X of its target is not traded (default 0).")


def run_settings(*, universe: str, start: str | None, end: str | None, rebalance: str,
                 fees_bps: float, slippage_bps: float, data: Path | None, out_dir: Path,
                 strategies_dir: Path | None, init_cash: float = 1_000_000.0,
                 params: list[str] | None = None, strict_prices: bool = False,
                 timeout: float = 600.0, risk_free: str = "bills",
                 cash: str = "risk-free", max_gross: float | None = None,
                 max_net: float | None = None, borrow_bps: float | None = None,
                 financing_bps: float | None = None, band: float = 0.0) -> Any:
    """The shared run options as ``RunSettings``; bad dates and costs raise user errors
    (the risk-free and cash choices are checked against the universe, once loaded)."""
    from ..book import BookOptions
    from ..engine import Costs, check_init_cash
    from ..session import RunSettings
    from ..weights import check_timeout
    from .environment import read_environment

    check_init_cash(init_cash)
    check_timeout(timeout)
    env = read_environment()
    return RunSettings(universe=universe, start=parse_date(start, "--start"),
                       end=parse_date(end, "--end"), rebalance=rebalance,
                       costs=Costs(fees_bps, slippage_bps), init_cash=init_cash,
                       params=params or [], data=env.data_folder(data), out=out_dir,
                       strategies_dir=strategies_dir, strict_prices=strict_prices,
                       timeout=timeout, risk_free=risk_free, cash=cash,
                       cache_dir=env.cache_dir, entry_points=env.entry_points,
                       book=BookOptions(max_gross, max_net, borrow_bps, financing_bps, band))


def _width(stream) -> int | None:
    """The terminal's width; 120 columns when output goes to a file or a pipe (a CI log),
    where rich would otherwise cut tables to 80 and abbreviate the leaderboard's numbers.
    ``COLUMNS`` still wins (rich reads it)."""
    if stream.isatty() or os.environ.get("COLUMNS"):
        return None
    return 120


out = Console(highlight=False, width=_width(sys.stdout))
err = Console(stderr=True, highlight=False, width=_width(sys.stderr))


def parse_date(value: str | None, option: str) -> dt.date | None:
    """``YYYY-MM-DD`` from an option, or a ParameterError naming the option."""
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ParameterError(f"{option} {value!r} is not a date; use YYYY-MM-DD, "
                             "e.g. 2018-01-02.") from None


_OS_ADVICE = {
    errno.ENOSPC: "the disk is full; free some space or pass --out on another disk",
    errno.EDQUOT: "the disk quota is exhausted; free some space or pass --out elsewhere",
    errno.EACCES: "permission denied; choose a folder you can write to (e.g. --out)",
    errno.EPERM: "operation not permitted; choose a folder you can write to (e.g. --out)",
    errno.EROFS: "the file system is read-only; pass --out on a writable disk",
    errno.EISDIR: "it is a folder; give a file name",
    errno.ENOTDIR: "a part of the path is a file, not a folder; fix the path (e.g. --out)",
    errno.EEXIST: "it already exists as a file; choose another path",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EMFILE: "too many open files; raise the limit (ulimit -n) and retry",
}


def environment_message(exc: OSError) -> str:
    """One sentence for a failure of the file system or the OS: what, where, what to do.
    Every results folder and page is written to a temporary name first, so nothing
    half-written is left behind."""
    where = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f) or "a file"
    advice = _OS_ADVICE.get(exc.errno or -1, exc.strerror or type(exc).__name__)
    return f"Cannot write or read {where}: {advice}. Nothing was written."


def user_errors(command: Callable[..., None]) -> Callable[..., None]:
    """Turn a DurationbtError into one paragraph on stderr and exit code 2; with the root
    ``--debug`` flag the traceback is raised instead. Typer injects the context through an
    extra keyword-only parameter added to the command's signature."""

    @functools.wraps(command)
    def wrapper(*args: Any, _ctx: typer.Context, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except (DurationbtError, OSError) as exc:
            if _ctx.find_root().params.get("debug"):
                raise
            message = str(exc) if isinstance(exc, DurationbtError) else environment_message(exc)
            err.print(f"[bold red]Error:[/] {escape(message)}", soft_wrap=True)
            raise typer.Exit(2) from None

    signature = inspect.signature(command)
    context = inspect.Parameter("_ctx", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), context])
    return wrapper
