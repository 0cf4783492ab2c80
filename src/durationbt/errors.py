"""One exception family: every user mistake maps to a DurationbtError with a message
that names the file, field, ticker or plugin and says what to do. The CLI prints the
message and exits with code 2; the traceback is only shown with ``--debug``."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "DurationbtError",
    "UniverseError",
    "DataError",
    "StrategyError",
    "ParameterError",
    "EngineError",
    "did_you_mean",
]


class DurationbtError(Exception):
    """Base class of all user-facing errors (exit code 2)."""

    exit_code = 2


class UniverseError(DurationbtError):
    """A universe file is missing, malformed or inconsistent."""


class DataError(DurationbtError):
    """Prices or macro series are missing, unreadable or do not cover the request."""


class StrategyError(DurationbtError):
    """A strategy plugin cannot be found, fails to load, raises, or returns bad weights."""


class ParameterError(DurationbtError):
    """A run setting or strategy parameter is unknown or has a bad value."""


class EngineError(DurationbtError):
    """The simulation cannot honour the weights (e.g. an order on a day without a price)."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ' Did you mean "x"?' for the closest choice, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f' Did you mean "{close[0]}"?' if close else ""
