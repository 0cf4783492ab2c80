"""The ``csv`` provider: a folder of per-ticker CSVs in Yahoo's layout
(``Date,Open,High,Low,Close,Adj Close,Volume``; only Date and a close are needed) and
``fred/SERIES.csv`` files in FRED's ``Date,Value`` layout."""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import DataError, did_you_mean
from .digests import digest_files
from .validate import MIN_PRICE

__all__ = ["CsvProvider", "read_price_csv", "read_fred_csv", "read_user_csv", "not_a_file"]


DATE_COLUMNS = ("Date", "observation_date", "DATE", "date")  # Yahoo's, FRED's own headers
MISSING = ("", ".", "null", "NaN", "nan")   # FRED writes "." for a holiday
EARLIEST = pd.Timestamp("1800-01-01")   # a row before this is a typo, not a price history
# a calendar day (YYYY-MM-DD, or YYYYMMDD), optionally a time and a UTC offset as tools
# write them: "2024-01-02 00:00:00-05:00" (yfinance), "2024-01-02T00:00:00Z",
# "2024-01-02T00:00:00 Z", "2024-01-02 00:00:00 +00:00", "... UTC"
_DATE = re.compile(
    r"^(?:(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})|(?P<y8>\d{4})(?P<m8>\d{2})(?P<d8>\d{2}))"
    r"(?:[T ]\s*(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?"
    r"(?:\s*(?:Z|UTC|GMT|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?))?)?$", re.IGNORECASE)
_MONTH = re.compile(r"^\d{4}-\d{1,2}$|^\d{4}$")
_ONE_THREAD = pacsv.ReadOptions(use_threads=False)   # one file per thread (READERS of them)
READERS = min(4, os.cpu_count() or 1)


def _exchange_dates(raw: pd.Series) -> pd.Series:
    """Dates as written: a timestamp such as yfinance's ``2024-01-02 00:00:00-05:00`` is
    the exchange's own calendar date, so its time and UTC offset are dropped, not converted
    (converting would move an Asian or UTC-stamped close to another day); a file may mix
    stamped and plain rows. Anything else (a month, ``01/02/2024``, a day that does not
    exist) is NaT. The common layouts take a fast path (a regex per row costs 60 ms per
    8,000 rows, more than the rest of a file's reading)."""
    text = raw.str.strip()
    dates = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    stamped = text.str.len() > 10
    if stamped.any():    # what follows the day must be a time and offset
        whole = text[stamped].str.fullmatch(_DATE).astype(bool)
        dates[whole.index[~whole.to_numpy()]] = pd.NaT
    rest = dates.isna()
    if rest.any():       # 2024-6-1 00:00, 20240102, or not a date at all
        part = text[rest].str.extract(_DATE)
        year = part["y"].fillna(part["y8"])
        month = part["m"].fillna(part["m8"]).str.zfill(2)
        day = part["d"].fillna(part["d8"]).str.zfill(2)
        dates[rest] = pd.to_datetime(year + month + day, format="%Y%m%d", errors="coerce")
    return dates


def _not_a_date(path: Path, column: str, text: str, row: int) -> DataError:
    text = text.strip()
    why = ("a month or a year, not a day" if _MONTH.match(text) else
           "no such day in the calendar" if _DATE.match(text) else
           "not in a form durationbt reads")
    return DataError(f"{path}: field '{column}' has a value that is not a date on data row "
                     f"{row}: {text!r}, {why}. Write dates as YYYY-MM-DD, optionally followed "
                     "by a time and a UTC offset (2024-01-02 00:00:00-05:00); fix or delete "
                     "that row.")


def not_a_file(path: Path) -> str:
    """Why ``path`` cannot be read as a file, in words: it is a folder, a symbolic link that
    loops or leads nowhere, or it does not exist."""
    if path.is_dir():
        return "is a folder, not a file"
    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symbolic link that loops back on itself"
        if path.is_symlink():
            return f"is a symbolic link to {os.readlink(path)}, which does not exist"
        return "does not exist"
    return "is not a regular file"


def _read_plain(path: Path, value_columns: tuple[str, ...], date_columns: tuple[str, ...],
                limit: pd.Timestamp) -> pd.Series | None:
    """The common file read in one pass by pyarrow, about eight times faster than pandas's
    reader (a 2,000-asset universe is 2,000 files): ASCII, an unquoted header without
    repeated names, YYYY-MM-DD dates from 1800 to ``limit``, each once, and decimal numbers
    (or a MISSING mark) in the first value column present. Anything else is None and
    ``_read_dated_csv`` reads the file with pandas, which names what is wrong; what this
    returns is exactly what that would (tests/test_fuzz.py holds the two to it)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = data[:data.find(b"\n")].removesuffix(b"\r")
    names = head.decode("ascii", "replace").split(",")
    if not data.isascii() or b"\n" not in data or b'"' in head or b"\r" in head \
            or len(set(names)) < len(names):
        return None
    date_column = next((c for c in date_columns if c in names), None)
    column = next((c for c in value_columns if c in names), None)
    if date_column is None or column is None or column == date_column:
        return None
    convert = pacsv.ConvertOptions(include_columns=[date_column, column],
                                   column_types={date_column: pa.date32(), column: pa.float64()},
                                   null_values=list(MISSING), strings_can_be_null=False)
    try:        # a date32 column takes YYYY-MM-DD days only; a number, pandas's numbers
        table = pacsv.read_csv(pa.py_buffer(data), read_options=_ONE_THREAD,
                               convert_options=convert)
    except pa.ArrowException:
        return None
    kept = table.column(column).is_valid()
    values = table.column(column).filter(kept).to_numpy()
    dated = table.column(date_column).filter(kept)
    if not len(values) or dated.null_count or not np.isfinite(values).all() \
            or (np.signbit(values) & (values == 0)).any():
        return None     # only missing marks; a date left empty; inf, nan; -0 (pandas: 0)
    days = dated.to_numpy().astype("datetime64[D]")
    first, last = (np.datetime64(t.date(), "D") for t in (EARLIEST, limit))   # no ns overflow
    if (days < first).any() or (days > last).any():
        return None
    if not (days[1:] > days[:-1]).all():
        order = np.argsort(days)
        values, days = values[order], days[order]
        if not (days[1:] > days[:-1]).all():
            return None     # a date given twice
    index = pd.DatetimeIndex(days.astype("datetime64[ns]"), name="date")
    return pd.Series(values, index=index, name=path.stem)


def _read_dated_csv(path: Path, value_columns: tuple[str, ...],
                    today: dt.date | None = None,
                    date_columns: tuple[str, ...] = DATE_COLUMNS) -> pd.Series:
    """Read a date column plus the first present, non-empty column of ``value_columns``.
    Refuses what cannot be trusted: no rows, dates after ``today``, one date with two
    different values. Exact duplicate rows are merged."""
    limit = pd.Timestamp(today or dt.datetime.now(dt.UTC).date())
    plain = _read_plain(path, value_columns, date_columns, limit)
    if plain is not None:
        return plain
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
        row = dates.index[dates.isna()][0]
        raise _not_a_date(path, date_column, frame.loc[row, date_column], row + 1)
    if (dates < EARLIEST).any():
        row = dates.index[dates < EARLIEST][0]
        raise DataError(f"{path}: data row {row + 1} is dated {dates[row].date()}, before "
                        f"{EARLIEST.date()}: a typo in the year? Fix or delete that row.")
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
    if (series.index > limit).any():
        day = series.index[series.index > limit].min()
        raise DataError(f"{path}: a row is dated {day.date()}, after today ({limit.date()}); "
                        "fix or delete the rows dated in the future.")
    series.index = series.index.as_unit("ns")
    series.index.name = "date"
    return series.sort_index()


def read_price_csv(path: Path) -> pd.Series:
    """A Yahoo-layout CSV's adjusted close (``Adj Close``, else ``Close``). A value nearer
    zero than ``MIN_PRICE`` (other than 0 itself, which a yield may be) is refused: a scaling
    mistake, and beneath the engine's tolerances."""
    series = _read_dated_csv(path, ("Adj Close", "Close"))
    values = series.to_numpy()
    tiny = (values != 0) & (np.abs(values) < MIN_PRICE)
    if tiny.any():
        day = series.index[tiny][0]
        raise DataError(f"{path}: the close on {day.date()} is {series[day]:g}, below "
                        f"{MIN_PRICE:g}: no listed asset trades that low, so the file's scale "
                        "is wrong (a unit or an exponent). Fix the file.")
    return series


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
        raise DataError(f"{path} {not_a_file(path)}.")
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

    def stamp(self, tickers: list[str], series: list[str],
              digests: Callable[[list[Path]], list[str]] = digest_files) -> str:
        """The identity of the files behind ``tickers`` and FRED ``series``: each one's
        name and the SHA-256 of its bytes (content, not size and modification time: an
        edit that restores both is still seen). ``digests``: how the files' are had
        (``data.digests.FileDigests.of`` remembers those of unchanged files)."""
        paths = [*map(self._path, tickers), *(self.folder / "fred" / f"{s}.csv" for s in series)]
        return "|".join(digests(paths))

    def available(self, ticker: str) -> bool:
        return self._path(ticker).is_file()

    def load_prices(self, tickers: list[str]) -> dict[str, pd.Series]:
        """Each ticker's file, read by a few threads (pyarrow parses without the GIL);
        the first problem in ticker order is the one raised, as if read one by one."""
        paths = {ticker: self._path(ticker) for ticker in tickers}
        out: dict[str, pd.Series] = {}
        with ThreadPoolExecutor(max_workers=READERS) as pool:
            reads = {ticker: pool.submit(read_price_csv, path) for ticker, path in paths.items()
                     if path.is_file()}
            try:
                for ticker, path in paths.items():
                    if ticker not in reads:
                        why = not_a_file(path)
                        known = [p.stem for p in self.folder.glob("*.csv")]
                        raise DataError(f"No data for ticker {ticker}: {path} {why}."
                                        + (did_you_mean(ticker, known)
                                           if why == "does not exist" else "")
                                        + " Add the file or remove the ticker from the universe.")
                    series = reads[ticker].result()
                    if series.empty:
                        raise DataError(f"No data for ticker {ticker}: {path} has no rows "
                                        "with a price.")
                    out[ticker] = series.rename(ticker)
            except BaseException:
                for read in reads.values():
                    read.cancel()
                raise
        return out

    def load_fred(self, series: list[str]) -> dict[str, pd.Series]:
        out: dict[str, pd.Series] = {}
        for sid in series:
            path = self.folder / "fred" / f"{sid}.csv"
            if path.is_file():
                out[sid] = read_fred_csv(path).rename(sid)
            elif os.path.lexists(path):   # there, but not a file: a mistake, not an absence
                raise DataError(f"FRED series {sid}: {path} {not_a_file(path)}. Replace it "
                                "with the series' CSV or remove it.")
        return out
