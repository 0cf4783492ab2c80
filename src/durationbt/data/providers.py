"""The provider interface: where raw daily series come from. A provider returns each
series on its own dates; aligning them to one trading calendar is ``calendar``'s job."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import pandas as pd

__all__ = ["PriceProvider"]


@runtime_checkable
class PriceProvider(Protocol):
    """A source of adjusted daily closes (or levels, for yields) and FRED series."""

    name: str

    def describe(self) -> str:
        """One line for manifests and status output, e.g. ``csv:/path/to/folder``."""
        ...

    def available(self, ticker: str) -> bool:
        """Whether ``load_prices`` can return ``ticker`` without a network call failing."""
        ...

    def load_prices(self, tickers: list[str]) -> dict[str, pd.Series]:
        """Adjusted close per ticker, indexed by date, sorted, no NaN. Raises DataError."""
        ...

    def load_fred(self, series: list[str]) -> dict[str, pd.Series]:
        """FRED ``Date,Value`` series by id; series the provider lacks are left out."""
        ...
