"""The ``csv`` provider: a folder of per-ticker CSVs in Yahoo's layout
(``Date,Open,High,Low,Close,Adj Close,Volume``; only Date and a close are needed) and
``fred/SERIES.csv`` files in FRED's ``Date,Value`` layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError, did_you_mean

__all__ = ["CsvProvider", "read_price_csv", "read_fred_csv"]


def _read_dated_csv(path: Path, value_columns: tuple[str, ...]) -> pd.Series:
    """Read ``Date`` plus the first present, non-empty column of ``value_columns``."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read as CSV ({exc}).") from exc
    if "Date" not in frame.columns:
        raise DataError(f"{path}: no 'Date' column (found: {', '.join(frame.columns)}).")
    column = next((c for c in value_columns if c in frame.columns
                   and (frame[c].str.strip() != "").any()), None)
    if column is None:
        raise DataError(f"{path}: needs a non-empty column among {', '.join(value_columns)} "
                        f"(found: {', '.join(frame.columns)}).")
    raw = frame[column].str.strip()
    keep = ~raw.isin(["", ".", "null", "NaN", "nan"])
    dates = pd.to_datetime(frame.loc[keep, "Date"].str.strip(), format="ISO8601", errors="coerce")
    if dates.isna().any():
        bad = frame.loc[keep, "Date"][dates.isna()].iloc[0]
        raise DataError(f"{path}: field 'Date' has a value that is not a date: {bad!r}.")
    values = pd.to_numeric(raw[keep], errors="coerce")
    if values.isna().any() or not np.isfinite(values).all():
        bad = raw[keep][values.isna() | ~np.isfinite(values.fillna(0))].iloc[0]
        raise DataError(f"{path}: field '{column}' has a value that is not a number: {bad!r}.")
    series = pd.Series(values.to_numpy(dtype=float), index=pd.DatetimeIndex(dates.to_numpy()),
                       name=path.stem)
    if series.index.has_duplicates:
        dup = series.index[series.index.duplicated()][0].date()
        raise DataError(f"{path}: date {dup} appears more than once.")
    series.index = series.index.as_unit("ns")
    series.index.name = "date"
    return series.sort_index()


def read_price_csv(path: Path) -> pd.Series:
    """A Yahoo-layout CSV's adjusted close (``Adj Close``, else ``Close``)."""
    return _read_dated_csv(path, ("Adj Close", "Close"))


def read_fred_csv(path: Path) -> pd.Series:
    """A FRED-layout CSV (``Date,Value``)."""
    return _read_dated_csv(path, ("Value",))


class CsvProvider:
    """Reads ``<folder>/<TICKER>.csv`` and ``<folder>/fred/<SERIES>.csv``."""

    name = "csv"

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder).expanduser()
        if not self.folder.is_dir():
            raise DataError(f"Data folder {self.folder} does not exist. Pass --data DIR "
                            "(a folder of per-ticker CSVs, e.g. ../shared/market-data) or set "
                            "DURATIONBT_DATA.")

    def describe(self) -> str:
        return f"csv:{self.folder.resolve()}"

    def _path(self, ticker: str) -> Path:
        return self.folder / f"{ticker}.csv"

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
