"""One trading calendar for every series. The calendar is the union of the dates of the
exchange-traded series (NYSE days); 7-day series such as crypto are sampled at those dates.
Short holes are forward-filled and reported; long ones are never filled silently."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, ParameterError, did_you_mean

__all__ = ["Gap", "true_runs", "is_continuous", "trading_calendar", "align_to_calendar",
           "align_frame", "gap_notes",
           "as_seen_at_the_close", "rebalance_dates",
           "SCHEDULES", "MAX_FILL_DAYS"]

SCHEDULES = ("daily", "weekly", "monthly")
MAX_FILL_DAYS = 3  # trading days a price may be carried forward, each fill reported
_TICKS_A_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}


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


_GAP = re.compile(r"^(?P<ticker>.+): (?P<days>\d+) trading day\(s\) without a price "
                  r"\((?P<first>[\d-]+)(?:\.\.(?P<last>[\d-]+))?\), (?P<action>.+)$")


def gap_notes(notes: list[str], shown: int = 3) -> list[str]:
    """Gap notes (``str(Gap)``, as a manifest keeps them) as a reader takes them in: a
    ticker with more than ``shown`` holes (a feed that skips every holiday of 30 years)
    gets one line counting them, not one line each; other notes pass unchanged."""
    parsed = [_GAP.match(note) for note in notes]
    holes: dict[str, list[re.Match]] = {}
    for match in parsed:
        if match:
            holes.setdefault(match["ticker"], []).append(match)
    out: list[str] = []
    for note, match in zip(notes, parsed, strict=True):
        mine = holes.get(match["ticker"], []) if match else []
        if len(mine) <= shown:
            out.append(note)
        elif match is mine[0]:                  # its first hole: one line for all of them
            days = [int(m["days"]) for m in mine]
            carried = sum(m["action"] == "filled with the previous close" for m in mine)
            action = ("each filled with the previous close" if carried == len(mine) else
                      "each left empty" if not carried else
                      f"{carried} filled with the previous close, {len(mine) - carried} "
                      "left empty")
            out.append(f"{match['ticker']}: {len(mine)} holes without a price between "
                       f"{mine[0]['first']} and {mine[-1]['last'] or mine[-1]['first']} "
                       f"({sum(days)} trading days, the longest {max(days)}), {action}; "
                       "manifest.json lists each")
    return out


def is_continuous(series: pd.Series) -> bool:
    """True for series that trade every day (crypto): more than 10% of dates on weekends."""
    if series.empty:
        return False
    index = series.index
    if isinstance(index, pd.DatetimeIndex) and index.tz is None:   # 1970-01-01 a Thursday
        weekday = (index.asi8 // _TICKS_A_DAY[index.unit] + 3) % 7
        return float((weekday >= 5).mean()) > 0.10
    return float((index.day_of_week >= 5).mean()) > 0.10


def trading_calendar(series: dict[str, pd.Series]) -> pd.DatetimeIndex:
    """Exchange trading days: dates on which at least half of the exchange-traded (not
    7-day) series that are alive that day have a price. One file with a stray holiday row
    therefore cannot add a day on which everything else is missing. Counted with one sorted
    search per distinct set of dates (weighted by how many series have it), not one update
    per series of the whole union."""
    traded = [s.index for s in series.values() if not is_continuous(s) and len(s)]
    if not traded:
        raise DataError("Cannot build a trading calendar: every series trades 7 days a week. "
                        "Add at least one exchange-traded ticker (e.g. the benchmark).")
    unique = _distinct(traded)     # 2,000 assets mostly share their dates: each set once
    union = unique[0][0]
    for index, _ in unique[1:]:    # pairwise as ever: pandas decides the union's frequency
        union = union.union(index)
    ticks = union.asi8
    present = np.zeros(len(union), dtype=np.int64)
    alive = np.zeros(len(union) + 1, dtype=np.int64)
    for index, times in unique:
        days = index.as_unit(union.unit).asi8
        present[np.searchsorted(ticks, days if index.is_unique else np.unique(days))] += times
        low = np.searchsorted(ticks, days[0])          # the first and last rows as written
        high = np.searchsorted(ticks, days[-1], side="right")
        if low < high:
            alive[low] += times
            alive[high] -= times
    alive = np.cumsum(alive[:-1])
    return pd.DatetimeIndex(union[present >= 0.5 * alive], name="date")


def _distinct(indexes: list[pd.DatetimeIndex]) -> list[tuple[pd.DatetimeIndex, int]]:
    """Each different index once, in order of first appearance, with how many times it
    appears (the same dates in the same order count as the same)."""
    out: list[list] = []
    by_ends: dict[tuple, list[list]] = {}
    for index in indexes:
        ticks = index.asi8
        same = by_ends.setdefault((index.dtype, len(ticks), ticks[0], ticks[-1]), [])
        match = next((entry for entry in same if np.array_equal(entry[0].asi8, ticks)), None)
        if match is None:
            match = [index, 0]
            same.append(match)
            out.append(match)
        match[1] += 1
    return [(index, times) for index, times in out]


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
    frame, gaps = align_frame({series.name: series}, calendar, max_fill)
    return frame.iloc[:, 0], gaps


def align_frame(series: Mapping[object, pd.Series], calendar: pd.DatetimeIndex,
                max_fill: int = MAX_FILL_DAYS) -> tuple[pd.DataFrame, list[Gap]]:
    """Every series on ``calendar`` (sorted, as ``trading_calendar`` makes it) as
    ``align_to_calendar`` puts one, as the columns of one frame (named by the keys), with
    their gaps in column order: one array for all of them, so 2,000 assets cost one pass,
    not 2,000 reindexed Series."""
    names = list(series)
    values = np.full((len(names), len(calendar)), np.nan)   # column j is row j: the layout
    gaps: list[Gap] = []                                    # of a frame built from columns
    for j, name in enumerate(names):
        shown = as_seen_at_the_close(series[name])
        if shown.empty:
            continue
        at = calendar.get_indexer(shown.index)
        values[j, at[at >= 0]] = shown.to_numpy(dtype=float)[at >= 0]
        low = calendar.searchsorted(shown.index[0])       # its own first to last day
        high = calendar.searchsorted(shown.index[-1], side="right")
        row = values[j, low:high]
        missing = np.isnan(row)
        if not missing.any():
            continue
        edges = np.diff(missing.view(np.int8), prepend=0, append=0)   # +1 opens a hole
        for first, end in zip(np.flatnonzero(edges > 0), np.flatnonzero(edges < 0), strict=True):
            days = int(end - first)
            gaps.append(Gap(str(series[name].name), calendar[low + first],
                            calendar[low + end - 1], days, days <= max_fill))
            if days <= max_fill and first > 0:
                row[first:end] = row[first - 1]           # the previous close, carried
    frame = pd.DataFrame(values.T, index=calendar, columns=names, copy=False)
    return frame, gaps


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
