"""The network boundary shared by the online providers: retries with exponential backoff, and
a context that keeps third-party chatter (yfinance's log lines, pandas deprecation warnings
raised inside yfinance) off the user's terminal while a download runs.

Offline, yfinance logs two or three lines per ticker and pandas adds four more per call:
about 60 lines before durationbt's own one-paragraph error. The noise is captured, not
printed, so the error can still quote the first reason (e.g. "Could not resolve host")."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import pandas as pd

__all__ = ["Noise", "quiet_libraries", "with_retries", "NOISY_LOGGERS", "default_cache_dir",
           "SeriesCache"]

T = TypeVar("T")

NOISY_LOGGERS = ("yfinance", "curl_cffi", "peewee", "urllib3")


def default_cache_dir() -> Path:
    """``~/.cache/durationbt``: one root for every online provider (``yahoo/``, ``fred/``
    below it) when the caller names none (the CLI passes ``DURATIONBT_CACHE``'s)."""
    return Path.home() / ".cache" / "durationbt"


class SeriesCache:
    """One parquet file per downloaded series (yahoo prices, FRED series) in ``folder``,
    fresh for ``max_age_hours``; written through a temporary file and a rename."""

    def __init__(self, folder: Path, column: str, max_age_hours: float) -> None:
        self.folder = folder
        self.column = column
        self.max_age_seconds = max_age_hours * 3600

    def path(self, name: str) -> Path:
        return self.folder / f"{quote(name, safe='')}.parquet"

    def has(self, name: str) -> bool:
        return self.path(name).is_file()

    def fresh(self, name: str) -> bool:
        path = self.path(name)
        return path.is_file() and time.time() - path.stat().st_mtime < self.max_age_seconds

    def read(self, name: str) -> pd.Series:
        frame = pd.read_parquet(self.path(name))
        series = frame[self.column].rename(name)
        series.index = pd.DatetimeIndex(series.index).as_unit("ns")
        series.index.name = "date"
        return series

    def write(self, name: str, series: pd.Series) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path(name)
        tmp = path.with_suffix(".parquet.tmp")
        series.rename(self.column).to_frame().to_parquet(tmp)
        os.replace(tmp, path)


class Noise(logging.Handler):
    """Collects the log records silenced by ``quiet_libraries``."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def first_reason(self) -> str:
        """The first non-empty line of the first error logged, shortened: a reason to quote."""
        for record in self.records:
            if record.levelno < logging.ERROR:
                continue
            for line in record.getMessage().splitlines():
                line = line.strip()
                if line and not line.endswith(":"):
                    # "Failed to get ticker 'X' reason: Failed to perform, curl: (6) <why>.
                    # See <link>" -> "<why>": the ticker is named by the caller's message
                    line = re.sub(r"^Failed to get ticker '[^']*' reason: ", "", line)
                    line = re.sub(r"^Failed to perform, curl: \(\d+\) ", "", line)
                    cut = line.find(". See ")
                    return line if cut < 0 else line[:cut]
        return ""


@contextlib.contextmanager
def quiet_libraries(loggers: tuple[str, ...] = NOISY_LOGGERS) -> Iterator[Noise]:
    """Within the block, records of ``loggers`` go to the yielded ``Noise`` instead of the
    terminal and warnings are ignored; every logger and the warning filters are restored on
    exit, so nothing global changes for the rest of the process."""
    noise = Noise()
    saved = []
    for name in loggers:
        logger = logging.getLogger(name)
        saved.append((logger, logger.handlers[:], logger.propagate))
        logger.handlers = [noise]
        logger.propagate = False
    try:
        # record=True as well as "ignore": yfinance adds its own "default" filter when first
        # imported (inside this block); recorded warnings are dropped instead of printed
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("ignore")
            yield noise
    finally:
        for logger, handlers, propagate in saved:
            logger.handlers = handlers
            logger.propagate = propagate


def with_retries(call: Callable[[], T], *, attempts: int = 3, backoff: float = 1.0,
                 retry_on: tuple[type[BaseException], ...] = (OSError,),
                 sleep: Callable[[float], None] = time.sleep) -> T:
    """``call()``, tried up to ``attempts`` times while it raises one of ``retry_on``,
    waiting ``backoff``, then 2x, 4x... seconds between tries; the last error propagates.
    Transient failures (a dropped connection, a 503) usually pass within seconds."""
    for attempt in range(attempts - 1):
        try:
            return call()
        except retry_on:
            sleep(backoff * 2 ** attempt)
    return call()
