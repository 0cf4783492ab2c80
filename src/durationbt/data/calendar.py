"""One trading calendar for every series. The calendar is the union of the dates of the
exchange-traded series (NYSE days); 7-day series such as crypto are sampled at those dates.
Short holes are forward-filled and reported; long ones are never filled silently."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..errors import DataError, ParameterError, did_you_mean

__all__ = ["Gap", "true_runs", "is_continuous", "trading_calendar", "align_to_calendar",
           "as_seen_at_the_close", "rebalance_dates",
           "SCHEDULES", "MAX_FILL_DAYS"]

SCHEDULES = ("daily", "weekly", "monthly")
MAX_FILL_DAYS = 3  # trading days a price may be carried forward, each fill reported


@dataclass(frozen=True)
class Gap:
    """Calendar days on which ``ticker`` had no price inside its own history."""

    ticker: str
    first: pd.Timestamp
    last: pd.Timestamp
    days: int
    filled: bool

    def __str__(self) -> str:
        span = f"{self.first.date()}" if self.days == 1 else f"{self.first.date()}..{self.last.date()}"
        action = "filled with the previous close" if self.filled else "left empty"
        return f"{self.ticker}: {self.days} trading day(s) without a price ({span}), {action}"


def is_continuous(series: pd.Series) -> bool:
    """True for series that trade every day (crypto): more than 10% of dates on weekends."""
    if series.empty:
        return False
    return float((series.index.day_of_week >= 5).mean()) > 0.10


def trading_calendar(series: dict[str, pd.Series]) -> pd.DatetimeIndex:
    """Exchange trading days: dates on which at least half of the exchange-traded (not
    7-day) series that are alive that day have a price. One file with a stray holiday row
    therefore cannot add a day on which everything else is missing."""
    traded = [s.index for s in series.values() if not is_continuous(s) and len(s)]
    if not traded:
        raise DataError("Cannot build a trading calendar: every series trades 7 days a week. "
                        "Add at least one exchange-traded ticker (e.g. the benchmark).")
    union = traded[0]
    for index in traded[1:]:
        union = union.union(index)
    present = pd.Series(0, index=union)
    alive = pd.Series(0, index=union)
    for index in traded:
        present.loc[index] += 1
        alive.loc[(union >= index[0]) & (union <= index[-1])] += 1
    return pd.DatetimeIndex(union[(present >= 0.5 * alive).to_numpy()], name="date")


def true_runs(mask: pd.Series) -> list[tuple[pd.Timestamp, pd.Timestamp, int]]:
    """Consecutive True runs of a boolean series as (first, last, length)."""
    runs: list[tuple[pd.Timestamp, pd.Timestamp, int]] = []
    start = None
    count = 0
    prev = None
    for date, flag in mask.items():
        if flag:
            if start is None:
                start, count = date, 0
            count += 1
        elif start is not None:
            runs.append((start, prev, count))
            start = None
        prev = date
    if start is not None:
        runs.append((start, prev, count))
    return runs


def as_seen_at_the_close(series: pd.Series) -> pd.Series:
    """A 7-day series as a decision at the 16:00 New York close can see it. Yahoo stamps a
    crypto close with its UTC day: the row dated d closes at 00:00 UTC of d+1, 19:00-20:00
    in New York on d, hours after that day's decision. So trading day t gets the close
    stamped t-1 (the last one complete before 16:00 New York), for signals, strategies
    and fills alike. Exchange-traded series are returned unchanged."""
    if not is_continuous(series):
        return series
    return series.set_axis(series.index + pd.Timedelta(days=1))


def align_to_calendar(series: pd.Series, calendar: pd.DatetimeIndex,
                      max_fill: int = MAX_FILL_DAYS) -> tuple[pd.Series, list[Gap]]:
    """``series`` on ``calendar`` (7-day series one day later, see ``as_seen_at_the_close``):
    NaN before its first and after its last price; holes of up to ``max_fill`` trading days
    carry the previous close, longer holes stay NaN. Every hole is returned as a Gap."""
    series = as_seen_at_the_close(series)
    aligned = series.reindex(calendar)
    if series.empty:
        return aligned, []
    inside = (calendar >= series.index[0]) & (calendar <= series.index[-1])
    missing = pd.Series(aligned.isna().to_numpy() & inside, index=calendar)
    gaps: list[Gap] = []
    if missing.any():
        filled = aligned.ffill(limit=max_fill).where(inside)
        for first, last, days in true_runs(missing):
            gaps.append(Gap(str(series.name), first, last, days, days <= max_fill))
        # a long hole must stay empty in full, not be filled for its first max_fill days
        for gap in gaps:
            if not gap.filled:
                filled.loc[gap.first:gap.last] = float("nan")
        aligned = filled
    return aligned, gaps


def rebalance_dates(calendar: pd.DatetimeIndex, schedule: str) -> pd.DatetimeIndex:
    """Decision dates on ``calendar``: every day, the last trading day of each week
    (Monday-Sunday), or the last trading day of each month."""
    if schedule not in SCHEDULES:
        raise ParameterError(f'Unknown rebalance schedule "{schedule}".'
                             + did_you_mean(schedule, SCHEDULES)
                             + f" Choose one of: {', '.join(SCHEDULES)}.")
    if schedule == "daily" or len(calendar) == 0:
        return calendar
    freq = "W-SUN" if schedule == "weekly" else "M"
    periods = calendar.to_period(freq)
    last_of_period = pd.Series(calendar, index=calendar).groupby(periods).max()
    return pd.DatetimeIndex(last_of_period.to_numpy(), name="date")
