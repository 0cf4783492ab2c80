"""User series for claims (``[[thesis.series]]``): one column of a CSV, each value used only
from the day it became public (its ``available_from`` date, or its date plus ``lag_days``),
so a claim about quarterly capex never sees a quarter before its filing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.csv import read_user_csv
from ..errors import DataError, UniverseError, did_you_mean
from ..signals.custom import transformed
from .table import STALE_SLACK_DAYS, SeriesSpec

__all__ = ["UserSeries", "load_user_series", "published", "DATE_COLUMNS"]

#: date columns tried when a series names none (Yahoo's, FRED's, a quarterly filing's)
DATE_COLUMNS = ("Date", "date", "observation_date", "DATE", "quarter_end")


def published(values: pd.Series, available: pd.Series, calendar: pd.DatetimeIndex,
              stale_after: int) -> pd.Series:
    """``values`` (by observation date) as known at each ``calendar`` close: among the
    observations whose ``available`` date is on or before that day, the latest one; NaN
    when none is, or when it is more than ``stale_after`` days past its observation date."""
    frame = pd.DataFrame({"value": values, "available": available}).dropna()
    frame = frame.sort_values("available", kind="stable")
    obs = pd.DatetimeIndex(frame.index).as_unit("ns").asi8      # one unit for every date
    days = pd.DatetimeIndex(calendar).as_unit("ns").asi8
    latest = np.maximum.accumulate(obs) if len(obs) else obs
    row_of = {o: i for i, o in enumerate(obs)}
    when = pd.DatetimeIndex(frame["available"]).as_unit("ns").asi8
    known = np.searchsorted(when, days, side="right")
    out = np.full(len(calendar), np.nan)
    has = known > 0
    if has.any():
        chosen = latest[known[has] - 1]
        rows = np.array([row_of[o] for o in chosen])
        value = frame["value"].to_numpy(dtype=float)[rows]
        age_days = (days[has] - chosen) / 86_400e9
        out[has] = np.where(age_days <= stale_after, value, np.nan)
    return pd.Series(out, index=calendar, name=values.name)


@dataclass(frozen=True)
class UserSeries:
    """A loaded user series: transformed values and publication dates, by observation date."""

    spec: SeriesSpec
    path: Path
    values: pd.Series
    available: pd.Series

    @property
    def stale_after(self) -> int:
        """Days after its observation date a value stops being used (default: its longest
        publication delay plus a quarter and a week)."""
        if self.spec.max_stale_days is not None:
            return self.spec.max_stale_days
        delays = (self.available - self.available.index).dt.days
        return int(delays.max()) + STALE_SLACK_DAYS if len(delays) else STALE_SLACK_DAYS

    def on_calendar(self, calendar: pd.DatetimeIndex) -> pd.Series:
        """The series as known at each close of ``calendar``."""
        return published(self.values, self.available, calendar, self.stale_after)

    def describe(self) -> str:
        """One line: what it is and how it is made point in time."""
        change = {"level": "level", "change": f"change over {self.spec.periods} observation(s)",
                  "pct_change": f"% change over {self.spec.periods} observation(s)"}
        when = (f"from its {self.spec.available_from} date" if self.spec.available_from
                else f"{self.spec.lag_days} days after its date")
        return (f"{change[self.spec.transform]} of {self.spec.column} in {self.path.name}, "
                f"used {when}")


def _where(universe_path: Path | None, spec: SeriesSpec, fundamentals: Path | None
           ) -> tuple[Path | None, str | None]:
    """The series' file, or why it is not there (a fundamentals file without a folder)."""
    if spec.csv is not None:
        base = universe_path.parent if universe_path is not None else Path.cwd()
        return (base / spec.csv.expanduser()).resolve(), None
    if fundamentals is None:
        return None, (f"needs {spec.fundamentals} from the fundamentals folder: pass "
                      "--fundamentals DIR or set DURATIONBT_FUNDAMENTALS")
    path = fundamentals / str(spec.fundamentals)
    if not path.is_file():
        return None, f"needs {path}, which does not exist"
    return path, None


def _availability(path: Path, spec: SeriesSpec, observed: pd.DatetimeIndex) -> pd.Series:
    """The publication date of each observation: its ``available_from`` cell, or its date
    plus ``lag_days``."""
    if spec.lag_days is not None:
        return pd.Series(observed + pd.Timedelta(days=spec.lag_days), index=observed)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    column = str(spec.available_from)
    if column not in frame.columns:
        raise DataError(f"{path} has no column {column!r} with the dates its values became "
                        "public." + did_you_mean(column, frame.columns)
                        + f" Columns: {', '.join(frame.columns)}. Add it, or give lag_days.")
    date_col = spec.date_column or next(c for c in DATE_COLUMNS if c in frame.columns)
    dates = pd.to_datetime(frame[date_col].str.strip(), format="ISO8601", errors="coerce")
    when = pd.to_datetime(frame[column].str.strip(), format="ISO8601", errors="coerce")
    bad = frame[column][when.isna() & dates.notna()]
    if len(bad):
        raise DataError(f"{path}: field '{column}' has a value that is not a date: "
                        f"{bad.iloc[0]!r}. Every row needs the date it became public.")
    table = pd.Series(when.to_numpy(), index=pd.DatetimeIndex(dates)).dropna()
    table = table[~table.index.duplicated()]
    early = table[table < table.index]
    if len(early):
        raise DataError(f"{path}: the value dated {early.index[0].date()} is said to be public "
                        f"on {early.iloc[0].date()}, before its own date; fix '{column}'.")
    return table.reindex(observed)


def load_user_series(spec: SeriesSpec, universe_path: Path | None,
                     fundamentals: Path | None) -> UserSeries | str:
    """The series, or (a fundamentals file without its folder) the reason it is missing,
    which its claims report as insufficient data. A file given by the universe that cannot
    be read, a missing column or publication date is an error naming the universe file and
    the series' field."""
    where = universe_path or "universe"
    path, missing = _where(universe_path, spec, fundamentals)
    if path is None:
        return str(missing)
    field = "csv" if spec.csv is not None else "fundamentals"
    try:
        header = pd.read_csv(path, dtype=str, nrows=0).columns if path.is_file() else []
        if path.is_file():
            field = "column" if spec.column not in header else (
                "date_column" if spec.date_column and spec.date_column not in header else field)
        date_column = spec.date_column or next((c for c in DATE_COLUMNS if c in header), None)
        raw = read_user_csv(path, spec.column, date_column)
        field = "available_from" if spec.available_from else "lag_days"
        available = _availability(path, spec, pd.DatetimeIndex(raw.index))
    except (DataError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError,
            UnicodeDecodeError) as exc:
        raise UniverseError(f"{where}: field 'thesis.series.{spec.name}.{field}': {exc} Fix the "
                            f"[[thesis.series]] entry \"{spec.name}\" or its file.") from exc
    values = transformed(raw, spec.transform, spec.periods).rename(spec.name)
    return UserSeries(spec, path, values, available.reindex(values.index))
