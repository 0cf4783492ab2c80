"""The FRED provider: macro series from FRED's public ``fredgraph.csv`` download (no API key),
cached as one parquet file per series like the Yahoo prices, so a second run is offline.

It returns each series on its own observation dates, exactly as published: the publication
lags (a daily series usable the next day, the H.4.1 Wednesday levels from Friday) are applied
by the signal components, the same way for a CSV folder and for this provider."""

from __future__ import annotations

import io
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

from ..errors import DataError
from .fetch import SeriesCache, default_cache_dir, with_retries

__all__ = ["FredProvider", "FREDGRAPH_URL", "parse_fredgraph_csv", "fredgraph_url"]

FREDGRAPH_URL = "https://fred.stlouisfed.org/graph/fredgraph.csv?id={series}"

HttpGet = Callable[[str], bytes]


def fredgraph_url(series: str) -> str:
    """The download address of one series, e.g. ``...fredgraph.csv?id=DGS10``."""
    return FREDGRAPH_URL.format(series=quote(series, safe=""))


def _urllib_get(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "durationbt"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


class _Refused(Exception):
    """FRED answered, and asking again will not help (an unknown series: HTTP 400/404)."""


def parse_fredgraph_csv(body: bytes | str, series: str) -> pd.Series:
    """A fredgraph response as a float series indexed by date. Both header styles are read
    (``observation_date,ID`` today, ``DATE,ID`` before 2024); empty or ``.`` values are days
    without an observation (holidays) and are dropped, as in the CSV folder's files."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    where = f"FRED series {series} ({fredgraph_url(series)})"
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{where}: the response is not a CSV ({exc}).") from exc
    if len(frame.columns) != 2 or frame.columns[0] not in ("observation_date", "DATE"):
        head = text.strip().splitlines()[0][:80] if text.strip() else "an empty body"
        raise DataError(f"{where}: expected the columns observation_date,{series}; got {head!r}.")
    raw = frame.iloc[:, 1].str.strip()
    keep = ~raw.isin(["", "."])
    dates = pd.to_datetime(frame.iloc[:, 0][keep].str.strip(), format="%Y-%m-%d", errors="coerce")
    values = pd.to_numeric(raw[keep], errors="coerce")
    if dates.isna().any() or values.isna().any() or not np.isfinite(values).all():
        raise DataError(f"{where}: a row is not a date and a number.")
    out = pd.Series(values.to_numpy(dtype=float), index=pd.DatetimeIndex(dates.to_numpy()),
                    name=series)
    out.index = out.index.as_unit("ns")
    out.index.name = "date"
    return out[~out.index.duplicated(keep="last")].sort_index()


class FredProvider:
    """FRED series by id, from the cache when younger than ``max_age_hours``, else downloaded
    (``attempts`` tries, exponential backoff); when a download fails a stale cache is used,
    and without one the series is left out with its reason in ``failures``. After a network
    failure the remaining series are served from the cache only: offline, one series pays
    the retries, not all of them."""

    name = "fred"

    def __init__(self, cache_dir: Path | None = None, *, max_age_hours: float = 12.0,
                 get: HttpGet | None = None, attempts: int = 3, backoff: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.cache_dir = (cache_dir or default_cache_dir()) / "fred"
        self.cache = SeriesCache(self.cache_dir, "value", max_age_hours)
        self._get = get or _urllib_get
        self._attempts = attempts
        self._backoff = backoff
        self._sleep = sleep
        self.failures: dict[str, str] = {}

    def describe(self) -> str:
        return f"FRED fredgraph.csv (cache {self.cache_dir})"

    def _get_once(self, url: str) -> bytes:
        try:
            return self._get(url)
        except urllib.error.HTTPError as exc:
            if exc.code == 429 or exc.code >= 500:
                raise                       # busy or failing server: worth another try
            raise _Refused(f"FRED answered HTTP {exc.code} (is the series id right?)") from exc

    def download(self, series: str) -> pd.Series:
        """The full published history of ``series``, fetched now (no cache). Raises DataError
        naming the series when FRED cannot be reached or refuses it."""
        url = fredgraph_url(series)
        try:
            body = with_retries(lambda: self._get_once(url), attempts=self._attempts,
                                backoff=self._backoff, sleep=self._sleep)
        except _Refused as exc:
            raise DataError(f"FRED series {series}: {exc} ({url}).") from exc
        except OSError as exc:
            raise DataError(f"FRED series {series}: download failed after {self._attempts} "
                            f"tries ({type(exc).__name__}: {exc}).") from exc
        values = parse_fredgraph_csv(body, series)
        if values.empty:
            raise DataError(f"FRED series {series}: the response has no observations ({url}).")
        return values

    def load(self, series: list[str]) -> dict[str, pd.Series]:
        """Each series from a fresh cache, a new download, or a stale cache, in that order."""
        out: dict[str, pd.Series] = {}
        offline = ""
        for sid in series:
            if self.cache.fresh(sid):
                out[sid] = self.cache.read(sid)
                continue
            reason = offline
            if not offline:
                try:
                    out[sid] = self.download(sid)
                    self.cache.write(sid, out[sid])
                    continue
                except DataError as exc:
                    reason = str(exc)
                    if isinstance(exc.__cause__, OSError):
                        offline = f"FRED unreachable ({reason})"
            if self.cache.has(sid):
                out[sid] = self.cache.read(sid)
            else:
                self.failures[sid] = f"{reason} No cached copy in {self.cache_dir}."
        return out
