"""Prices that cannot be trusted, found where data enter: a zero or negative close (an
error: no return can be computed from it), a one-day spike that reverts the next day (a
warning, or an error with ``strict``), and a trading calendar that disagrees with the
exchange's own (days every file lacks, days the exchange was closed)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError

__all__ = ["Spike", "CalendarCheck", "refuse_nonpositive", "find_spikes", "check_spikes",
           "check_calendar", "SPIKE_MOVE", "MIN_PRICE"]

SPIKE_MOVE = 0.5   # a one-day move of +50% (or its mirror, -33%) that reverts next day
# the smallest price accepted: far below any listed asset's, and 1e4 above the 1e-12 under
# which vectorbt's order checks take a price for zero
MIN_PRICE = 1e-8


@dataclass(frozen=True)
class Spike:
    """A close that jumps by at least SPIKE_MOVE and reverts most of it the next day."""

    ticker: str
    date: pd.Timestamp
    price: float
    before: float
    after: float

    def __str__(self) -> str:
        return (f"{self.ticker} on {self.date.date()}: {self.price:g} between {self.before:g} "
                f"and {self.after:g} (a one-day spike that reverts; check the source)")


def refuse_nonpositive(raw: dict[str, pd.Series], source: str) -> None:
    """A zero, negative, non-finite or vanishing (< ``MIN_PRICE``) price of a traded asset
    is an error naming it."""
    for ticker, series in raw.items():
        bad = ~(np.isfinite(series.to_numpy()) & (series.to_numpy() >= MIN_PRICE))
        if bad.any():
            day = series.index[bad][0]
            raise DataError(f"Ticker {ticker} has a price of {series[bad].iloc[0]:g} on "
                            f"{day.date()} ({source}); prices must be positive finite numbers "
                            f"(at least {MIN_PRICE:g}). "
                            "Fix or delete that row.")


def find_spikes(series: pd.Series, move: float = SPIKE_MOVE) -> list[Spike]:
    """Closes ``p[t]`` with ``|ln(p[t]/p[t-1])| >= ln(1 + move)``, the next day's move as
    large in the other direction, and at least three quarters of the jump undone: a bad
    print, not a crash or a rally (those do not revert within a day)."""
    values = series.to_numpy(dtype=float)
    if len(values) < 3:
        return []
    logs = np.diff(np.log(values))
    jump, back = logs[:-1], logs[1:]
    threshold = np.log1p(move)
    hit = ((np.abs(jump) >= threshold) & (np.abs(back) >= threshold)
           & (np.sign(jump) != np.sign(back)) & (np.abs(jump + back) <= 0.25 * np.abs(jump)))
    return [Spike(str(series.name), series.index[i + 1], values[i + 1], values[i], values[i + 2])
            for i in np.flatnonzero(hit)]


def check_spikes(raw: dict[str, pd.Series], strict: bool, source: str) -> list[Spike]:
    """Every spike among ``raw``; with ``strict`` the first one is an error."""
    spikes = [s for series in raw.values() for s in find_spikes(series)]
    if strict and spikes:
        raise DataError(f"Suspicious price: {spikes[0]} ({source}; {len(spikes)} such day(s) "
                        "in all). Fix the data, or drop --strict-prices / strict_prices to "
                        "accept them as warnings.")
    return spikes


@dataclass(frozen=True)
class CalendarCheck:
    """The inferred calendar against the exchange's sessions over the same span."""

    exchange: str
    missing: tuple[pd.Timestamp, ...]   # exchange sessions no file has
    extra: tuple[pd.Timestamp, ...]     # days in the files on which the exchange was closed
    error: str = ""

    def notes(self, first: pd.Timestamp | None = None, last: pd.Timestamp | None = None,
              shown: int = 5) -> list[str]:
        """Plain-language findings, restricted to ``[first, last]`` when given."""
        if self.error:
            return [f"trading calendar not checked against {self.exchange}: {self.error}"]
        out = []
        for days, what in ((self.missing, "exchange sessions missing from every file"),
                           (self.extra, "days in the files on which the exchange was closed")):
            days = tuple(d for d in days if (first is None or d >= first)
                         and (last is None or d <= last))
            if days:
                listed = ", ".join(str(d.date()) for d in days[:shown])
                more = f" and {len(days) - shown} more" if len(days) > shown else ""
                out.append(f"{len(days)} {what} ({self.exchange}): {listed}{more}")
        return out


def check_calendar(calendar: pd.DatetimeIndex, exchange: str = "XNYS") -> CalendarCheck:
    """Compare ``calendar`` with ``exchange``'s sessions (exchange-calendars)."""
    if len(calendar) == 0:
        return CalendarCheck(exchange, (), ())
    try:
        with warnings.catch_warnings():   # its pandas deprecations are not ours to see
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            import exchange_calendars as xcals

            cal = xcals.get_calendar(exchange, start=calendar[0], end=calendar[-1])
            sessions = pd.DatetimeIndex(cal.sessions_in_range(calendar[0], calendar[-1]))
    except Exception as exc:  # an exchange-calendars bound or version problem must not stop a run
        return CalendarCheck(exchange, (), (), f"{type(exc).__name__}: {exc}")
    sessions = (sessions.tz_localize(None) if sessions.tz else sessions).as_unit("ns")
    return CalendarCheck(exchange, tuple(sessions.difference(calendar)),
                         tuple(pd.DatetimeIndex(calendar).difference(sessions)))
