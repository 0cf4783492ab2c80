"""Choose the provider: a folder of CSVs when one is given, else Yahoo with its cache."""

from __future__ import annotations

from pathlib import Path

from .csv import CsvProvider
from .providers import PriceProvider
from .yahoo import YahooProvider

__all__ = ["resolve_provider"]


def resolve_provider(data: str | Path | None = None, *,
                     cache_dir: Path | None = None) -> PriceProvider:
    """The CSV folder ``data``, else the cached Yahoo provider (FRED alongside). The CLI
    resolves ``DURATIONBT_DATA`` and the cache root before calling this."""
    if data:
        return CsvProvider(data)
    return YahooProvider(cache_dir)
