"""Choose the provider: ``--data DIR``, else ``$DURATIONBT_DATA``, else Yahoo with its cache."""

from __future__ import annotations

import os
from pathlib import Path

from .csv import CsvProvider
from .providers import PriceProvider
from .yahoo import YahooProvider

__all__ = ["resolve_provider", "DATA_ENV"]

DATA_ENV = "DURATIONBT_DATA"


def resolve_provider(data: str | Path | None = None, *, cache_dir: Path | None = None,
                     environ: dict[str, str] | None = None) -> PriceProvider:
    """The CSV folder given explicitly or by environment, else the cached Yahoo provider."""
    env = os.environ if environ is None else environ
    folder = data or env.get(DATA_ENV)
    if folder:
        return CsvProvider(folder)
    return YahooProvider(cache_dir)
