"""Validated market data and the scarcity signal, kept between runs on the same data.

Loading, validating and aligning 20-odd CSV files, checking the calendar against the
exchange's and computing the signal take about a second and give the same result every
time the files and the request are the same. The entry is keyed by what decides it: the
provider and the size and modification time of every file it reads (any edit, even
``touch``, makes a new key), the universe's definition, the requested range, the
validation switches, today's date (rows after today are refused) and the versions of
durationbt and pandas. Providers without a ``stamp`` (yahoo: it has its own cache) are not
cached here. A damaged entry is ignored and rewritten."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import uuid
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["MarketCache", "CACHE_VERSION"]

CACHE_VERSION = 4   # 2: an entry is the MarketData alone (its signal on it); 3: custom components;
#                     4: suspicious moves (data.moves) on it


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def _file_stamp(path: Path) -> str:
    try:
        info = path.stat()
    except OSError:
        return f"{path}:absent"
    return f"{path}:{info.st_size}:{info.st_mtime_ns}"


@dataclass(frozen=True)
class MarketCache:
    """A folder of pickled MarketData, each carrying its signal."""

    folder: Path

    def key(self, provider: Any, universe: Any, request: dict[str, Any], series: Any = None,
            components: Any = None) -> str | None:
        """The entry's name, or None when the provider cannot stamp its files. ``series``
        (a SignalSeries: what was loaded for the signal) and ``components`` (the component
        registry: each name's source) are part of what decides the entry, and so are the
        universe's own ``[[signal.custom]]`` CSV files."""
        stamp = getattr(provider, "stamp", None)
        if stamp is None:
            return None
        tickers = series.tickers if series is not None else universe.signal.tickers
        fred = series.fred if series is not None else universe.signal.fred
        assets = list(dict.fromkeys([*universe.tickers, universe.benchmark, *tickers]))
        identity = {
            "version": CACHE_VERSION, "durationbt": _version("durationbt"),
            "pandas": _version("pandas"), "source": provider.describe(),
            "files": stamp(assets, list(fred)),
            "custom": [_file_stamp(Path(spec.csv)) for spec in universe.signal.custom],
            "components": ({name: components.source(name) for name in components}
                           if components is not None else None),
            "universe": universe.model_dump(mode="json", exclude={"path"}),
            "request": request, "today": str(pd.Timestamp.now(tz="UTC").date()),
        }
        blob = json.dumps(identity, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:32]

    def get(self, key: str | None) -> Any:
        if key is None:
            return None
        path = self.folder / f"{key}.pkl"
        try:
            with path.open("rb") as handle:
                return pickle.load(handle)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError,
                ValueError):
            return None

    def put(self, key: str | None, market: Any) -> None:
        """Store atomically (a reader never sees half an entry); a cache that cannot be
        written (read-only home, full disk) is skipped, not an error."""
        if key is None:
            return
        with contextlib.suppress(OSError):
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}.pkl"
            try:
                with tmp.open("wb") as handle:
                    pickle.dump(market, handle, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, self.folder / f"{key}.pkl")
            finally:
                tmp.unlink(missing_ok=True)
