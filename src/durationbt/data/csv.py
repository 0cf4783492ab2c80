"""The ``csv`` provider: a folder of per-ticker CSVs in Yahoo's layout
(``Date,Open,High,Low,Close,Adj Close,Volume``; only Date and a close are needed) and
``fred/SERIES.csv`` files in FRED's ``Date,Value`` layout."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError, did_you_mean

__all__ = ["CsvProvider", "read_price_csv", "read_fred_csv", "read_user_csv"]


DATE_COLUMNS = ("Date", "observation_date", "DATE", "date")  # Yahoo's, FRED's own headers
MISSING = ("", ".", "null", "NaN", "nan")   # FRED writes "." for a holiday
_TIME_AND_OFFSET = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?$")


def _exchange_dates(raw: pd.Series) -> pd.Series:
    """Dates as written: a timestamp such as yfinance's ``2024-01-02 00:00:00-05:00`` is
    the exchange's own calendar date, so its time and UTC offset are dropped, not converted
    (converting would move an Asian or UTC-stamped close to another day)."""
    text = raw.str.strip()
    stamped = text.str.extract(_TIME_AND_OFFSET, expand=False)
    return pd.to_datetime(stamped.fillna(text), format="ISO8601", errors="coerce")


def _read_dated_csv(path: Path, value_columns: tuple[str, ...],
                    today: dt.date | None = None,
                    date_columns: tuple[str, ...] = DATE_COLUMNS) -> pd.Series:
    """Read a date column plus the first present, non-empty column of ``value_columns``.
    Refuses what cannot be trusted: no rows, dates after ``today``, one date with two
    different values. Exact duplicate rows are merged."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty (no header, no rows). Re-download it or "
                        "remove the ticker from the universe.") from None
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read as CSV ({exc}).") from exc
    date_column = next((c for c in date_columns if c in frame.columns), None)
    if date_column is None:
        raise DataError(f"{path}: no '{date_columns[0]}' column (found: "
                        f"{', '.join(frame.columns)}).")
    if frame.empty:
        raise DataError(f"{path}: has a header but no rows. Re-download it or remove the "
                        "ticker from the universe.")
    column = next((c for c in value_columns if c in frame.columns
                   and (frame[c].str.strip() != "").any()), None)
    if column is None:
        raise DataError(f"{path}: needs a non-empty column among {', '.join(value_columns)} "
                        f"(found: {', '.join(frame.columns)}).")
    raw = frame[column].str.strip()
    keep = ~raw.isin(MISSING)
    dates = _exchange_dates(frame.loc[keep, date_column])
    if dates.isna().any():
        bad = frame.loc[keep, date_column][dates.isna()].iloc[0]
        raise DataError(f"{path}: field '{date_column}' has a value that is not a date: {bad!r}.")
    values = pd.to_numeric(raw[keep], errors="coerce")
    if values.isna().any() or not np.isfinite(values).all():
        bad = raw[keep][values.isna() | ~np.isfinite(values.fillna(0))].iloc[0]
        raise DataError(f"{path}: field '{column}' has a value that is not a number: {bad!r}.")
    series = pd.Series(values.to_numpy(dtype=float), index=pd.DatetimeIndex(dates.to_numpy()),
                       name=path.stem)
    if series.index.has_duplicates:
        repeated = series[series.index.duplicated(keep=False)]
        differ = repeated.groupby(level=0).nunique() > 1
        if differ.any():
            day = differ.index[differ.to_numpy()][0]
            shown = ", ".join(f"{v:g}" for v in repeated.loc[day])
            raise DataError(f"{path}: date {day.date()} appears more than once with different "
                            f"values ({shown}); keep the right row and delete the other.")
        series = series[~series.index.duplicated()]
    limit = pd.Timestamp(today or dt.datetime.now(dt.UTC).date())
    if (series.index > limit).any():
        day = series.index[series.index > limit].min()
        raise DataError(f"{path}: a row is dated {day.date()}, after today ({limit.date()}); "
                        "fix or delete the rows dated in the future.")
    series.index = series.index.as_unit("ns")
    series.index.name = "date"
    return series.sort_index()


def read_price_csv(path: Path) -> pd.Series:
    """A Yahoo-layout CSV's adjusted close (``Adj Close``, else ``Close``)."""
    return _read_dated_csv(path, ("Adj Close", "Close"))


def read_fred_csv(path: Path) -> pd.Series:
    """A FRED series: our ``Date,Value`` layout or FRED's own download
    (``observation_date,SERIES``)."""
    return _read_dated_csv(path, ("Value", path.stem))


def read_user_csv(path: Path, column: str, date_column: str | None = None) -> pd.Series:
    """One numeric ``column`` of the user's own CSV by date (a custom signal component's
    series, e.g. quarterly capex): blank or "." cells are missing; a value that is not a
    number, a date that is not a date, a future row or one date with two values is refused
    with the file and column named."""
    if not path.is_file():
        raise DataError(f"{path} does not exist" + (" (it is a folder)" if path.is_dir() else "")
                        + ".")
    try:
        header = pd.read_csv(path, dtype=str, nrows=0).columns
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty (no header, no rows).") from None
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read as CSV ({exc}).") from exc
    if column not in header:
        raise DataError(f"{path} has no column {column!r}." + did_you_mean(column, header)
                        + f" Columns: {', '.join(header)}.")
    dates = (date_column,) if date_column else DATE_COLUMNS
    return _read_dated_csv(path, (column,), date_columns=dates).rename(column)


class CsvProvider:
    """Reads ``<folder>/<TICKER>.csv`` and ``<folder>/fred/<SERIES>.csv``."""

    name = "csv"

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder).expanduser()
        if self.folder.exists() and not self.folder.is_dir():
            raise DataError(f"--data {self.folder} is a file, not a folder. Pass the folder "
                            "that holds the per-ticker CSVs (e.g. ../shared/market-data).")
        if not self.folder.is_dir():
            raise DataError(f"Data folder {self.folder} does not exist. Pass --data DIR "
                            "(a folder of per-ticker CSVs, e.g. ../shared/market-data) or set "
                            "DURATIONBT_DATA.")

    def describe(self) -> str:
        return f"csv:{self.folder.resolve()}"

    def _path(self, ticker: str) -> Path:
        return self.folder / f"{ticker}.csv"

    def stamp(self, tickers: list[str], series: list[str]) -> str | None:
        """A cheap identity of the files behind ``tickers`` and FRED ``series``: each one's
        name, size and modification time (None when one is missing: nothing to cache)."""
        parts = []
        for path in [*map(self._path, tickers), *(self.folder / "fred" / f"{s}.csv" for s in series)]:
            try:
                info = path.stat()
            except OSError:
                parts.append(f"{path.name}:absent")
                continue
            parts.append(f"{path.name}:{info.st_size}:{info.st_mtime_ns}")
        return "|".join(parts)

    def available(self, ticker: str) -> bool:
        return self._path(ticker).is_file()

    def load_prices(self, tickers: list[str]) -> dict[str, pd.Series]:
        out: dict[str, pd.Series] = {}
        for ticker in tickers:
            path = self._path(ticker)
            if not path.is_file():
                known = [p.stem for p in self.folder.glob("*.csv")]
                raise DataError(f"No data for ticker {ticker}: {path} does not exist."
                                + did_you_mean(ticker, known)
                                + " Add the file or remove the ticker from the universe.")
            series = read_price_csv(path)
            if series.empty:
                raise DataError(f"No data for ticker {ticker}: {path} has no rows with a price.")
            out[ticker] = series.rename(ticker)
        return out

    def load_fred(self, series: list[str]) -> dict[str, pd.Series]:
        out: dict[str, pd.Series] = {}
        for sid in series:
            path = self.folder / "fred" / f"{sid}.csv"
            if path.is_file():
                out[sid] = read_fred_csv(path).rename(sid)
        return out
