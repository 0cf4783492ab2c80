"""Prices that cannot be trusted, found where data enter: a zero or negative close (an
error: no return can be computed from it) and a trading calendar that disagrees with the
exchange's own (days every file lacks, days the exchange was closed). Suspicious moves
(spikes, level shifts, unadjusted splits) are ``moves``'s."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError

__all__ = ["CalendarCheck", "refuse_nonpositive", "check_calendar", "MIN_PRICE"]

# the smallest price accepted: far below any listed asset's, and 1e4 above the 1e-12 under
# which vectorbt's order checks take a price for zero
MIN_PRICE = 1e-8


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
