"""What the signal reads and how: market series on the trading calendar, FRED series and the
universe's own CSV series made point-in-time by their publication lag (a value is used only
from the day it was public), and the declaration of a component's inputs."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["SignalData", "Inputs", "FredInput", "MissingInput", "ComponentData", "point_in_time"]


class MissingInput(Exception):
    """The component's inputs are not in the data."""


def point_in_time(raw: pd.Series, calendar: pd.DatetimeIndex, lag_days: int,
                  max_stale_days: int) -> pd.Series:
    """``raw`` (values on their observation dates) as known on each ``calendar`` day: the
    latest observation published ``lag_days`` calendar days after its date, and at most
    ``max_stale_days`` old (counted from its observation date); NaN otherwise."""
    raw = raw.dropna()
    available = raw.copy()
    available.index = raw.index + pd.Timedelta(days=lag_days)
    as_of = available.reindex(calendar.union(available.index)).ffill().reindex(calendar)
    obs_date = pd.Series(raw.index, index=available.index).reindex(
        calendar.union(available.index)).ffill().reindex(calendar)
    stale = (pd.Series(calendar, index=calendar) - obs_date).dt.days > max_stale_days
    return as_of.mask(stale)


@dataclass(frozen=True)
class FredInput:
    """A FRED series a component reads, with when its values become usable."""

    id: str
    lag_days: int            # calendar days from the observation date to first use
    max_stale_days: int = 7  # an observation older than this is missing, not carried forward


@dataclass(frozen=True)
class Inputs:
    """Everything a component may read: market tickers (levels on the trading calendar, in
    order of preference where it takes the first available), FRED series with their
    publication lags, and the universe's own CSV series (by custom component name)."""

    tickers: tuple[str, ...] = ()
    fred: tuple[FredInput, ...] = ()
    user: tuple[str, ...] = ()

    @property
    def fred_ids(self) -> tuple[str, ...]:
        return tuple(f.id for f in self.fred)

    def describe(self) -> str:
        """One line for listings: tickers, then FRED ids with their lags."""
        parts = list(self.tickers)
        parts += [f"FRED {f.id} (+{f.lag_days}d)" for f in self.fred]
        return ", ".join(parts)


@dataclass(frozen=True)
class SignalData:
    """Market levels (date x ticker on one calendar), raw FRED series by id, and the
    universe's own CSV series by component name (both on their observation dates)."""

    market: pd.DataFrame
    fred: dict[str, pd.Series]
    user: dict[str, pd.Series] = field(default_factory=dict)

    @property
    def calendar(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.market.index)

    def has(self, ticker: str) -> bool:
        return ticker in self.market.columns and self.market[ticker].notna().any()

    def fred_on_calendar(self, sid: str, lag_days: int, max_stale_days: int) -> pd.Series:
        """FRED ``sid`` as known on each calendar day: the latest observation published
        ``lag_days`` calendar days after its date, and at most ``max_stale_days`` old."""
        return point_in_time(self.fred[sid], self.calendar, lag_days, max_stale_days).rename(sid)

    def truncated(self, end: pd.Timestamp) -> SignalData:
        """The data as they stood at ``end``'s close (rows dated after it removed)."""
        return SignalData(self.market.loc[:end], {k: v.loc[:end] for k, v in self.fred.items()},
                          {k: v.loc[:end] for k, v in self.user.items()})


@dataclass(frozen=True)
class ComponentData:
    """What one component sees: the signal data through its declared inputs only (reading
    anything undeclared is a bug in the component, so the loader can trust declarations)."""

    data: SignalData
    inputs: Inputs

    @property
    def calendar(self) -> pd.DatetimeIndex:
        return self.data.calendar

    def _declared(self, what: str, name: str, declared: tuple[str, ...]) -> None:
        if name not in declared:
            raise KeyError(f"{what} {name} is not among the component's declared inputs "
                           f"({self.inputs.describe() or 'none'}); declare it")

    def has(self, ticker: str) -> bool:
        """Whether the declared ticker has any value."""
        self._declared("ticker", ticker, self.inputs.tickers)
        return self.data.has(ticker)

    def market(self, *tickers: str) -> pd.Series:
        """The first of ``tickers`` that has data (levels on the calendar)."""
        for ticker in tickers:
            if self.has(ticker):
                return self.data.market[ticker]
        raise MissingInput(f"needs one of {', '.join(tickers)}")

    def has_fred(self, sid: str) -> bool:
        self._declared("FRED series", sid, self.inputs.fred_ids)
        return sid in self.data.fred and not self.data.fred[sid].dropna().empty

    def fred(self, sid: str) -> pd.Series:
        """FRED ``sid`` on the calendar, used from its declared publication lag on."""
        if not self.has_fred(sid):
            raise MissingInput(f"needs FRED {sid}")
        spec = next(f for f in self.inputs.fred if f.id == sid)
        return self.data.fred_on_calendar(sid, spec.lag_days, spec.max_stale_days)

    def user(self, name: str) -> pd.Series:
        """The universe's own series ``name`` on its observation dates."""
        self._declared("CSV series", name, self.inputs.user)
        series = self.data.user.get(name)
        if series is None or series.dropna().empty:
            raise MissingInput(f"needs the universe's CSV series {name}")
        return series
