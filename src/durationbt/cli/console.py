"""The one pair of rich consoles all commands print through: results to stdout,
progress and errors to stderr."""

from __future__ import annotations

import datetime as dt

from rich.console import Console

from ..errors import ParameterError

__all__ = ["out", "err", "parse_date", "fmt_pct", "fmt_num"]

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


def fmt_pct(value: object) -> str:
    return "n/a" if value is None else f"{float(value) * 100:,.2f}%"


def fmt_num(value: object, digits: int = 2) -> str:
    return "n/a" if value is None else f"{float(value):,.{digits}f}"
