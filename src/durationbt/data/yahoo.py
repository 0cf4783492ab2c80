"""The ``yahoo`` provider: yfinance downloads, cached as one parquet file per ticker so a
second run works offline, with the macro series from FRED (``fred.py``, same cache root). A
failed download falls back to the cache; no network and no cache is a DataError that says
how to use a CSV folder instead."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ..errors import DataError
from .fetch import SeriesCache, default_cache_dir, quiet_libraries
from .fred import FredProvider

__all__ = ["YahooProvider", "yf_download", "extract_field", "NO_NETWORK_HINT"]

Downloader = Callable[..., pd.DataFrame]

NO_NETWORK_HINT = ("Without network access, point durationbt at a folder of per-ticker CSVs: "
                   "pass --data DIR (e.g. --data ../shared/market-data) or set DURATIONBT_DATA.")


def yf_download(*args, **kwargs) -> pd.DataFrame:
    """``yfinance.download``, imported on first use (yfinance is slow to import and only
    needed online). Call it inside ``quiet_libraries``: it logs and warns a lot offline."""
    import yfinance as yf

    return yf.download(*args, **kwargs)


def extract_field(frame: pd.DataFrame, ticker: str,
                  fields: tuple[str, ...] = ("Adj Close", "Close")) -> pd.Series:
    """The first non-empty column among ``fields`` for ``ticker`` from a yfinance download
    frame (any column layout); empty when there is none."""
    if frame is None or frame.empty:
        return pd.Series(dtype=float)
    cols = frame.columns
    for field in fields:
        if isinstance(cols, pd.MultiIndex):
            for key in ((field, ticker), (ticker, field)):
                if key in cols:
                    series = frame[key]
                    if series.notna().any():
                        return series
        elif field in cols and frame[field].notna().any():
            return frame[field]
    return pd.Series(dtype=float)


class YahooProvider:
    """Downloads with yfinance (``auto_adjust=False``, so ``Adj Close`` is Yahoo's own)."""

    name = "yahoo"

    def __init__(self, cache_dir: Path | None = None, *, max_age_hours: float = 12.0,
                 download: Downloader | None = None, fred: FredProvider | None = None) -> None:
        root = cache_dir or default_cache_dir()
        self.cache_dir = root / "yahoo"
        self.cache = SeriesCache(self.cache_dir, "adj_close", max_age_hours)
        self._download = download or yf_download
        self.fred = fred or FredProvider(root, max_age_hours=max_age_hours)

    def describe(self) -> str:
        return f"yahoo + FRED (cache {self.cache_dir.parent})"

    def available(self, ticker: str) -> bool:
        return self.cache.has(ticker)

    def load_prices(self, tickers: list[str]) -> dict[str, pd.Series]:
        stale = [t for t in tickers if not self.cache.fresh(t)]
        downloaded: dict[str, pd.Series] = {}
        failure = ""
        if stale:
            with quiet_libraries() as noise:
                try:
                    frame = self._download(stale, period="max", interval="1d", auto_adjust=False,
                                           actions=False, progress=False, threads=False,
                                           group_by="column")
                except Exception as exc:  # yfinance raises many kinds; each means "no data"
                    frame, failure = pd.DataFrame(), f"{type(exc).__name__}: {exc}"
            failure = failure or noise.first_reason()
            for ticker in stale:
                series = extract_field(frame, ticker).dropna()
                if series.empty:
                    continue
                series = series.astype(float).rename(ticker)
                series.index = pd.DatetimeIndex(series.index).tz_localize(None).normalize()
                series = series[~series.index.duplicated(keep="last")].sort_index()
                series.index = series.index.as_unit("ns")
                series.index.name = "date"
                self.cache.write(ticker, series)
                downloaded[ticker] = series
        lacking = [t for t in tickers if t not in downloaded and not self.available(t)]
        if lacking:
            reason = f" ({failure})" if failure else ""
            more = f" (nor for {len(lacking) - 1} more)" if len(lacking) > 1 else ""
            raise DataError(f"No data for ticker {lacking[0]}{more}: the Yahoo Finance download "
                            f"failed{reason} and there is no cached copy in {self.cache_dir}. "
                            + NO_NETWORK_HINT)
        return {t: downloaded[t] if t in downloaded else self.cache.read(t) for t in tickers}

    def load_fred(self, series: list[str]) -> dict[str, pd.Series]:
        """FRED series from FRED itself (see ``FredProvider``): prices from the network mean
        macro inputs from the network too, so no signal component silently drops out."""
        return self.fred.load(series)
