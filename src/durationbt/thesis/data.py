"""What claims are scored on: the session's market data and signal, the legs a claim names
(buckets, tickers, or several of them at equal weight), the series it explains (FRED,
tickers, the user's own), its drivers (the composite, a component, a user series), the
composite without the components built from given tickers' prices, and the windows
(the whole history, before and after the thesis was written)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd

from ..data.calendar import align_to_calendar
from ..duration import bucket_daily_returns
from ..errors import DataError, did_you_mean
from ..signals.composite import regimes_with_hysteresis
from ..signals.inputs import point_in_time
from .series import UserSeries

__all__ = ["ThesisData", "Window", "ClaimFieldError", "Guarded", "MIN_SPELLS", "MIN_OBSERVATIONS"]

MIN_SPELLS = 3           # fewer spells of a regime: no verdict
MIN_OBSERVATIONS = 30    # fewer non-overlapping observations: no verdict
OUTCOME_STALE_DAYS = 10  # a daily FRED value older than this is missing, not carried


class ClaimFieldError(Exception):
    """A claim field that names something the data do not have (the scorecard adds the
    universe file and the claim's id)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Window:
    """A span of decision days ``[start, end]``: the whole history, or before/after the
    date the thesis was written. Forward windows must end inside it."""

    name: str
    start: pd.Timestamp
    end: pd.Timestamp


@dataclass(frozen=True)
class Guarded:
    """The composite without some components (those built from a leg's own prices), its
    regimes, and which components were left out."""

    composite: pd.Series
    regime: pd.Series
    left_out: tuple[str, ...]


def as_list(names: str | Sequence[str]) -> list[str]:
    """A leg written as one name or a list of names."""
    return [names] if isinstance(names, str) else list(names)


@dataclass
class ThesisData:
    """The session's data seen as a claim needs them. ``provider`` loads series a claim
    names that the signal did not (another FRED id, another ticker); ``series`` are the
    user series by name (a string: why one is missing)."""

    session: Any
    provider: Any
    series: dict[str, UserSeries | str] = field(default_factory=dict)
    memo: dict[Any, Any] = field(default_factory=dict)   # work a kind shares across windows
    _levels: dict[str, pd.Series] = field(default_factory=dict)
    _fred_loaded: set[str] = field(default_factory=set)

    @property
    def universe(self):
        return self.session.universe

    @property
    def market(self):
        return self.session.market

    @property
    def signal(self):
        return self.market.signal

    @property
    def calendar(self) -> pd.DatetimeIndex:
        return self.market.calendar

    @cached_property
    def bucket_returns(self) -> pd.DataFrame:
        """Daily equal-weight return of each bucket over its listed members, full history."""
        return bucket_daily_returns(self.market.prices, self.universe)

    # -- legs -------------------------------------------------------------------------
    def leg_names(self) -> list[str]:
        return [*self.universe.bucket_names, *self.market.prices.columns]

    def check_leg(self, field_name: str, names: str | Sequence[str]) -> None:
        """Every name of a leg is a bucket or a priced ticker."""
        known = self.leg_names()
        for name in as_list(names):
            if name not in known:
                raise ClaimFieldError(field_name, f'"{name}" is neither a bucket nor a ticker '
                                      "of the universe." + did_you_mean(name, known)
                                      + f" Buckets: {', '.join(self.universe.bucket_names)}.")

    def leg_returns(self, names: str | Sequence[str]) -> pd.Series:
        """Daily return of a leg: a bucket (equal weight over its listed members), a ticker,
        or the equal-weight mean of several, over the members priced that day."""
        parts = []
        for name in as_list(names):
            if name in self.universe.bucket_names:
                parts.append(self.bucket_returns[name])
            else:
                parts.append(self.market.prices[name].pct_change(fill_method=None))
        return pd.concat(parts, axis=1).mean(axis=1)

    def leg_tickers(self, names: str | Sequence[str]) -> set[str]:
        """The tickers whose prices make a leg."""
        out: set[str] = set()
        for name in as_list(names):
            out |= set(self.universe.bucket(name).tickers) if name in self.universe.bucket_names \
                else {name}
        return out

    # -- the signal -------------------------------------------------------------------
    def guarded(self, tickers: set[str]) -> Guarded:
        """The composite without the components whose declared inputs read any of
        ``tickers`` (``Signal.components_reading``, ``Signal.composite_without``: same
        z-scores, same weights over the rest), and its regimes."""
        sig = self.signal
        left_out = tuple(sig.components_reading(tickers))
        if not left_out:
            return Guarded(sig.composite, sig.regime, ())
        composite = sig.composite_without(left_out)
        return Guarded(composite, regimes_with_hysteresis(composite, sig.config), left_out)

    def driver_names(self) -> list[str]:
        return ["composite", *self.signal.components.columns, *self.series]

    def check_driver(self, field_name: str, name: str) -> None:
        if name not in self.driver_names():
            raise ClaimFieldError(field_name, f'unknown driver "{name}".'
                                  + did_you_mean(name, self.driver_names())
                                  + " A driver is the composite, a component of the signal ("
                                  + ", ".join(self.signal.components.columns)
                                  + ") or a [[thesis.series]] name.")

    def driver(self, name: str, leave_out: set[str] | None = None) -> pd.Series | str:
        """The driver known at each close (a string: why it is missing). ``leave_out``: for
        the composite, the tickers whose components are left out."""
        if name == "composite":
            return self.guarded(leave_out or set()).composite
        if name in self.signal.components.columns:
            return self.signal.components[name]
        return self.user_series(name)

    def user_series(self, name: str) -> pd.Series | str:
        series = self.series[name]
        return series if isinstance(series, str) else series.on_calendar(self.calendar)

    # -- series a claim explains ------------------------------------------------------------
    def check_level(self, field_name: str, name: str) -> None:
        """``name`` is a user series, a ticker loaded or in the data, or a FRED series."""
        if name in self.series or name in self._levels:
            return
        try:
            self._levels[name] = self._load_level(name)
        except DataError:
            folder = getattr(self.provider, "folder", None)   # a CSV folder lists its files
            files = [p.stem for p in [*folder.glob("*.csv"), *folder.glob("fred/*.csv")]] \
                if folder is not None else []
            known = [*self.series, *self.market.inputs.columns, *self.market.prices.columns,
                     *self.market.fred, *files]
            raise ClaimFieldError(field_name, f'no series "{name}" in the data (a FRED id in '
                                  "fred/, a ticker, or a [[thesis.series]] name)."
                                  + did_you_mean(name, known)) from None

    def _load_level(self, name: str) -> pd.Series:
        cal = self.calendar
        if name in self.market.inputs.columns:
            return self.market.inputs[name]
        if name in self.market.prices.columns:
            return self.market.prices[name]
        fred = self.market.fred.get(name)
        if fred is None:
            fred = self.provider.load_fred([name]).get(name)
        if fred is not None and not fred.dropna().empty:
            self._fred_loaded.add(name)
            return point_in_time(fred, cal, 0, OUTCOME_STALE_DAYS).rename(name)
        raw = self.provider.load_prices([name])[name]
        return align_to_calendar(raw.rename(name), cal)[0]

    def level(self, name: str) -> pd.Series | str:
        """The series on the calendar (levels as observed that day)."""
        if name in self.series:
            return self.user_series(name)
        if name not in self._levels:
            self._levels[name] = self._load_level(name)
        return self._levels[name]

    def is_price(self, name: str) -> bool:
        """Prices change in percent (log returns); levels (yields and spreads: FRED series,
        ^ tickers such as ^TNX, user series) change in their own units."""
        return not (name in self.series or name.startswith("^") or name in self.market.fred
                    or name in self._fred_loaded)
