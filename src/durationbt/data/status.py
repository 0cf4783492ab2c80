"""``durationbt data status``: what the data hold for a universe, ticker by ticker, which
tickers limit the common date range, and every suspicious move in them."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..errors import DataError
from ..universe import Universe
from .calendar import is_continuous, trading_calendar, true_runs
from .market import SignalSeries, coverage_ends
from .moves import Suspicious, find_suspicious
from .providers import PriceProvider
from .validate import check_calendar

__all__ = ["TickerStatus", "DataStatus", "data_status"]


@dataclass(frozen=True)
class TickerStatus:
    ticker: str
    role: str                 # bucket name, "benchmark", "signal" or "fred"
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    rows: int
    missing_days: int         # expected days without a row, between first and last
    longest_gap: int          # longest run of such days
    calendar: str             # "trading days", "7-day" or "macro"
    error: str = ""
    optional: bool = False    # a component's input the universe does not list itself


@dataclass(frozen=True)
class DataStatus:
    source: str
    tickers: tuple[TickerStatus, ...]
    common_start: pd.Timestamp | None   # first date on which every asset has a price
    default_end: pd.Timestamp | None    # last date the benchmark and every bucket have a price
    limits_start: tuple[str, ...]
    limits_end: tuple[str, ...]
    ends_early: tuple[str, ...] = ()    # assets whose data stop before the default end
    calendar_notes: tuple[str, ...] = ()  # the trading calendar against the exchange's
    suspicious: tuple[Suspicious, ...] = ()   # every suspicious move in the series (data.moves)

    @property
    def missing(self) -> tuple[str, ...]:
        """Tickers and FRED series the universe names but the data lack (a component's
        input that is missing only drops or switches that component)."""
        return tuple(r.ticker for r in self.tickers if r.error and not r.optional)


def _gaps(series: pd.Series, calendar: pd.DatetimeIndex) -> tuple[int, int]:
    if series.empty:
        return 0, 0
    if is_continuous(series):
        expected = pd.date_range(series.index[0], series.index[-1], freq="D")
    else:
        expected = calendar[(calendar >= series.index[0]) & (calendar <= series.index[-1])]
    missing = pd.Series(~expected.isin(series.index), index=expected)
    runs = true_runs(missing)
    return int(missing.sum()), max((r[2] for r in runs), default=0)


def data_status(universe: Universe, provider: PriceProvider,
                series: SignalSeries | None = None) -> DataStatus:
    """Per-ticker coverage of a universe's assets, benchmark and signal inputs (``series``:
    what the signal's components declare; default: what the universe lists). Raises
    DataError when no ticker has data at all (offline without a cache, a wrong folder)."""
    wanted = series if series is not None else SignalSeries.of_universe(universe)
    roles: dict[str, str] = {}
    for bucket in universe.buckets:
        for ticker in bucket.tickers:
            roles[ticker] = bucket.name
    roles.setdefault(universe.benchmark, "benchmark")
    for ticker in wanted.tickers:
        roles.setdefault(ticker, "signal")
    loaded: dict[str, pd.Series] = {}
    errors: dict[str, str] = {}
    for ticker in roles:
        try:
            loaded.update(provider.load_prices([ticker]))
        except DataError as exc:
            errors[ticker] = str(exc)
    if not loaded:
        raise DataError(f"None of the {len(roles)} tickers of universe {universe.name} has data "
                        f"from {provider.describe()}. {next(iter(errors.values()))}")
    for ticker, first in universe.ticker_start.items():
        if ticker in loaded:
            loaded[ticker] = loaded[ticker][loaded[ticker].index >= pd.Timestamp(first)]
    exchange = {t: s for t, s in loaded.items() if roles[t] != "signal"}
    calendar = trading_calendar(exchange) if exchange else pd.DatetimeIndex([])
    rows: list[TickerStatus] = []
    for ticker, role in roles.items():
        if ticker not in loaded:
            rows.append(TickerStatus(ticker, role, None, None, 0, 0, 0, "", errors[ticker],
                                     role == "signal" and ticker not in wanted.listed))
            continue
        series = loaded[ticker]
        missing, longest = _gaps(series, calendar)
        rows.append(TickerStatus(ticker, role, series.index[0], series.index[-1], len(series),
                                 missing, longest,
                                 "7-day" if is_continuous(series) else "trading days",
                                 optional=role == "signal" and ticker not in wanted.listed))
    fred = provider.load_fred(list(wanted.fred))
    for sid in wanted.fred:
        if sid in fred and not fred[sid].empty:
            s = fred[sid]
            rows.append(TickerStatus(sid, "fred", s.index[0], s.index[-1], len(s), 0, 0, "macro",
                                     optional=sid not in wanted.listed))
        else:
            rows.append(TickerStatus(sid, "fred", None, None, 0, 0, 0, "macro",
                                     f"not available from {provider.describe()}",
                                     sid not in wanted.listed))
    assets = [r for r in rows if r.role not in ("signal", "fred") and r.first is not None]
    common_start = default_end = None
    limits_start = limits_end = ends_early = ()
    if assets:
        common_start = max(r.first for r in assets)
        limits_start = tuple(r.ticker for r in assets if r.first == common_start)
        last = {r.ticker: r.last for r in assets}
        ends = coverage_ends(last, universe)
        if ends:
            default_end = min(day for day, _ in ends.values())
            limits_end = tuple(dict.fromkeys(t for day, tickers in ends.values()
                                             if day == default_end for t in tickers))
            ends_early = tuple(t for t, d in last.items() if d < default_end)
    calendar_notes = tuple(check_calendar(calendar).notes()) if len(calendar) else ()
    suspicious = tuple(find_suspicious(loaded, fred))
    return DataStatus(provider.describe(), tuple(rows), common_start, default_end,
                      limits_start, limits_end, ends_early, calendar_notes, suspicious)
