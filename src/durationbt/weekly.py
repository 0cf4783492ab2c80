"""Weekly bars (weeks ending Friday) of daily series, and their row-on-row changes, in
numpy: what pandas' resample, groupby, pct_change and diff give, bit for bit, without their
per-call cost, which a sweep pays at every replay of the rolling duration estimates."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["weekly", "fridays", "week_index", "last_of_week", "change"]


def weekly(daily: pd.DataFrame) -> pd.DataFrame:
    """Last value of each week (weeks ending Friday) of daily levels or prices: every week
    from the first to the last, NaN where a column has no value in it. What
    ``daily.resample("W-FRI").last()`` gives (index frequency aside), without resample's
    bins, which pandas builds one week at a time in Python (decades of dates cost 35 ms a
    call), nor groupby's (float columns: in numpy): a sweep replays the rolling durations
    many times."""
    friday = fridays(daily.index)
    if friday is None:
        return daily.resample("W-FRI").last()
    weeks = week_index(friday, daily.index)
    if not all(dtype == np.float64 for dtype in daily.dtypes):
        return daily.groupby(pd.DatetimeIndex(friday.astype(daily.index.dtype),
                                              name=daily.index.name)).last().reindex(weeks)
    return pd.DataFrame(last_of_week(friday, daily.to_numpy()), index=weeks,
                        columns=daily.columns)


def fridays(index: pd.Index) -> np.ndarray | None:
    """The Friday ending each row's week (datetime64[D]); None unless ``index`` is plain
    dates in order."""
    if not (isinstance(index, pd.DatetimeIndex) and index.tz is None and len(index) > 0
            and index.is_monotonic_increasing):
        return None
    days = index.values.astype("datetime64[D]")
    if not (days == index.values).all():           # times of day
        return None
    return days + (4 - (days.astype(np.int64) + 3)) % 7   # 1970-01-01 was a Thursday


def week_index(friday: np.ndarray, index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Every Friday from the first week to the last, as ``index``'s type."""
    weeks = np.arange(friday[0], friday[-1] + np.timedelta64(1, "D"), np.timedelta64(7, "D"))
    return pd.DatetimeIndex(weeks.astype(index.dtype), name=index.name)


def last_of_week(friday: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Weeks x columns: each column's last non-NaN value in each week (rows in order): the
    week's last row, and for a column without a value there, the row before it, and so on
    (only the missing ones are looked up again)."""
    starts = np.flatnonzero(np.concatenate([[True], friday[1:] != friday[:-1]]))
    ends = np.append(starts[1:], len(friday)) - 1
    # a frame's values are column-major: work along each column, not across them
    by_column = values.flags.f_contiguous
    picked = values.T[:, ends].T if by_column else values[ends]
    missing = np.isnan(picked)
    if missing.any():          # looked up again: those of a week with a value in it
        priced = ~np.isnan(values.T if by_column else values)
        missing &= (np.logical_or.reduceat(priced, starts, axis=1).T if by_column
                    else np.logical_or.reduceat(priced, starts, axis=0))
    week, column = np.nonzero(missing)
    for back in range(1, int((ends - starts).max()) + 1):
        if not len(week):
            break
        row = ends[week] - back
        inside = row >= starts[week]
        found = values[np.where(inside, row, 0), column]
        hit = inside & ~np.isnan(found)
        picked[week[hit], column[hit]] = found[hit]
        week, column = week[inside & ~hit], column[inside & ~hit]
    out = np.full((int((friday[-1] - friday[0]) // np.timedelta64(7, "D")) + 1,
                   values.shape[1]), np.nan)
    out[(friday[starts] - friday[0]) // np.timedelta64(7, "D")] = picked
    return out


def change(values: np.ndarray, ratio: bool) -> np.ndarray:
    """Row-on-row change (NaN first): ``pct_change`` or ``diff``, bit for bit."""
    out = np.full(values.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[1:] = values[1:] / values[:-1] - 1 if ratio else values[1:] - values[:-1]
    return out
