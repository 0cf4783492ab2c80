"""Validated market data and the scarcity signal, kept between runs on the same data.

Loading, validating and aligning 20-odd CSV files, checking the calendar against the
exchange's and computing the signal take about a second and give the same result every
time the files and the request are the same. The entry is keyed by what decides it: the
provider and the content (a SHA-256 of the bytes) of every file it reads, so an edit that
keeps a file's size and modification time still makes a new key and a ``touch`` does not;
the universe's definition, the requested range, the validation switches, today's date
(rows after today are refused) and the versions of durationbt and pandas. Hashing the 30
files the default universe reads from the snapshot takes about 26 ms, a 2,000-asset
folder's 535 MB 0.95 s: each file's digest is remembered beside the entries
(``data.digests``: kept while the file's size, times, inode and status-change time are
unchanged), so a warm run reads only files that changed. Providers without a ``stamp``
(yahoo: it has its own cache) are not cached here.

An entry carries a SHA-256 of its own bytes, checked before it is unpickled: a damaged
entry (flipped bytes, a truncated write, another pickle put in its place) is discarded and
named, and the data are read from the source."""

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

from .digests import MEMO_NAME, FileDigests
from .market import MarketData

__all__ = ["MarketCache", "CACHE_VERSION"]

CACHE_VERSION = 5   # 2: an entry is the MarketData alone (its signal on it); 3: custom
# components; 4: suspicious moves (data.moves) on it; 5: keyed on file contents, checksummed
MAGIC = b"durationbt-market-cache\n"


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


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
        digests = FileDigests(self.folder / MEMO_NAME)
        identity = {
            "version": CACHE_VERSION, "durationbt": _version("durationbt"),
            "pandas": _version("pandas"), "source": provider.describe(),
            "files": stamp(assets, list(fred), digests.of),
            "custom": digests.of([Path(spec.csv) for spec in universe.signal.custom]),
            "components": ({name: components.source(name) for name in components}
                           if components is not None else None),
            "universe": universe.model_dump(mode="json", exclude={"path"}),
            "request": request, "today": str(pd.Timestamp.now(tz="UTC").date()),
        }
        digests.save()
        blob = json.dumps(identity, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:32]

    def get(self, key: str | None) -> tuple[Any, str | None]:
        """The entry stored under ``key`` (None when there is none) and a note when one
        was there but damaged: that entry is deleted, so the caller reads the source."""
        if key is None:
            return None, None
        path = self.folder / f"{key}.pkl"
        try:
            blob = path.read_bytes()
        except OSError:
            return None, None
        problem = _damage(blob)
        if problem is None:
            try:
                market = pickle.loads(memoryview(blob)[len(MAGIC) + 65:])   # no copy
            except Exception as exc:   # noqa: BLE001  any failure of a checksummed pickle
                problem = f"it cannot be unpickled ({type(exc).__name__})"
            else:
                if isinstance(market, MarketData) and market.signal is not None:
                    return market, None
                problem = f"it holds a {type(market).__name__}, not market data"
        with contextlib.suppress(OSError):
            path.unlink()
        return None, (f"market cache entry {path} was damaged ({problem}); it was deleted and "
                      "the data read from the source")

    def put(self, key: str | None, market: Any) -> None:
        """Store atomically (a reader never sees half an entry); a cache that cannot be
        written (read-only home, full disk) is skipped, not an error."""
        if key is None:
            return
        with contextlib.suppress(OSError):
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}.pkl"
            try:
                payload = pickle.dumps(market, protocol=pickle.HIGHEST_PROTOCOL)
                digest = hashlib.sha256(payload).hexdigest().encode()
                with tmp.open("wb") as handle:       # two writes: no joined copy of it all
                    handle.write(MAGIC + digest + b"\n")
                    handle.write(payload)
                os.replace(tmp, self.folder / f"{key}.pkl")
            finally:
                tmp.unlink(missing_ok=True)


def _damage(blob: bytes) -> str | None:
    """What is wrong with an entry's bytes, or None when its checksum holds."""
    head = len(MAGIC) + 65
    if not blob.startswith(MAGIC) or len(blob) < head or blob[head - 1:head] != b"\n":
        return "no durationbt header: not an entry written by this version"
    if hashlib.sha256(memoryview(blob)[head:]).hexdigest().encode() != blob[len(MAGIC):head - 1]:
        return "its checksum does not match its content"
    return None
