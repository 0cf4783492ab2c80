"""Load a universe's prices and signal inputs onto one trading calendar and settle the
backtest's date range. The result, MarketData, is what strategies and the engine see.
Which input series to load is the caller's to say (``SignalSeries``: the signal's
components declare them, see ``signals.registry.signal_series``); this layer knows nothing
about components."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, UniverseError
from ..universe import Universe
from .calendar import MAX_FILL_DAYS, Gap, align_frame, trading_calendar
from .csv import read_user_csv
from .moves import Suspicious, check_suspicious, find_suspicious, suspicious_notes
from .providers import PriceProvider
from .validate import check_calendar, refuse_nonpositive

__all__ = ["MarketData", "SignalSeries", "load_market_data", "load_custom_series", "settle_range",
           "coverage_ends"]


@dataclass(frozen=True)
class SignalSeries:
    """Input series to load for the signal besides the assets: market tickers (levels) and
    FRED ids. ``listed`` are the ones the universe names itself (a missing one is a
    warning); the others are declared by components (a missing one drops its component,
    which says so)."""

    tickers: tuple[str, ...] = ()
    fred: tuple[str, ...] = ()
    listed: tuple[str, ...] = ()

    @classmethod
    def of_universe(cls, universe: Universe) -> SignalSeries:
        """Only the series the universe's ``[signal]`` table lists itself."""
        listed = (*universe.signal.tickers, *universe.signal.fred)
        return cls(universe.signal.tickers, universe.signal.fred, listed)


@dataclass(frozen=True)
class MarketData:
    """Prices and inputs on one calendar, full history up to ``end``; the backtest runs
    over ``[start, end]`` while strategies may look back before ``start``."""

    prices: pd.DataFrame          # date x (universe tickers + benchmark), adjusted closes
    inputs: pd.DataFrame          # date x signal-input tickers, levels (yields in percent)
    fred: dict[str, pd.Series]    # FRED series on their own dates (no lag applied here)
    start: pd.Timestamp
    end: pd.Timestamp
    source: str
    gaps: tuple[Gap, ...] = ()
    warnings: tuple[str, ...] = field(default=())
    absent: tuple[str, ...] = ()                  # assets without a price in [start, end]
    ended: dict[str, pd.Timestamp] = field(default_factory=dict)  # data end before ``end``
    # the scarcity signal built on these data (a signals.Signal; typed loosely because the
    # data layer sits below signals)
    signal: Any = None
    user: dict[str, pd.Series] = field(default_factory=dict)   # [[signal.custom]] series
    # suspicious moves up to ``end`` in prices, inputs and FRED series (named in warnings)
    suspicious: tuple[Suspicious, ...] = ()

    @property
    def calendar(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.prices.index)

    def fingerprint(self) -> str:
        """SHA-256 of every number, date and name the backtest can see; taken once (the
        data do not change once loaded; a run's manifest asks twice)."""
        known = self.__dict__.get("_fingerprint")
        if known is None:
            known = self._digest()
            object.__setattr__(self, "_fingerprint", known)
        return known

    def _digest(self) -> str:
        digest = hashlib.sha256()
        for frame in (self.prices, self.inputs):
            digest.update("|".join(map(str, frame.columns)).encode())
            digest.update(frame.index.asi8.tobytes())
            values = frame.to_numpy(dtype=float)      # row by row, a block of rows at a time
            for first in range(0, len(values), 4096):
                digest.update(np.ascontiguousarray(values[first:first + 4096]))
        for sid in sorted(self.fred):
            series = self.fred[sid]
            digest.update(sid.encode())
            digest.update(series.index.asi8.tobytes())
            digest.update(series.to_numpy(dtype=float).tobytes())
        for name in sorted(self.user):
            series = self.user[name]
            digest.update(f"user:{name}".encode())
            digest.update(series.index.asi8.tobytes())
            digest.update(series.to_numpy(dtype=float).tobytes())
        digest.update(f"{self.start.date()}|{self.end.date()}".encode())
        return digest.hexdigest()


def _trim_starts(raw: dict[str, pd.Series], universe: Universe) -> dict[str, pd.Series]:
    out = dict(raw)
    for ticker, first in universe.ticker_start.items():
        if ticker in out:
            out[ticker] = out[ticker][out[ticker].index >= pd.Timestamp(first)]
            if out[ticker].empty:
                raise DataError(f"No data for ticker {ticker} on or after its ticker_start "
                                f"{first} (universe {universe.path or universe.name}).")
    return out


def coverage_ends(last: Mapping[str, pd.Timestamp],
                  universe: Universe) -> dict[str, tuple[pd.Timestamp, tuple[str, ...]]]:
    """The last priced day of the benchmark and of each bucket (its longest-lived member),
    with the tickers that reach it, by label ("benchmark SPY", "bucket memory"): a
    backtest's default end is the earliest of them. Tickers missing from ``last`` are
    skipped."""
    out: dict[str, tuple[pd.Timestamp, tuple[str, ...]]] = {}
    if universe.benchmark in last:
        out[f"benchmark {universe.benchmark}"] = (last[universe.benchmark], (universe.benchmark,))
    for bucket in universe.buckets:
        priced = [t for t in bucket.tickers if t in last]
        if priced:
            best = max(last[t] for t in priced)
            out[f"bucket {bucket.name}"] = (best, tuple(t for t in priced if last[t] == best))
    return out


def settle_range(raw: dict[str, pd.Series], universe: Universe, benchmark: str,
                 start: dt.date | None, end: dt.date | None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The backtest's first and last date. One asset never decides them: the default end is
    the last day on which the benchmark and every bucket still have a priced member; an
    explicit range only needs the benchmark (assets outside it are left out or delisted)."""
    start_ts = pd.Timestamp(start or universe.start)
    if end is not None and pd.Timestamp(end) <= start_ts:
        raise DataError(f"Start {start_ts.date()} is not before end {end}: choose --start "
                        "earlier than --end.")
    bench = raw[benchmark].index
    if start_ts < bench[0]:
        raise DataError(f"Benchmark {benchmark} has no data before {bench[0].date()}; "
                        f"choose --start {bench[0].date()} or later.")
    if end is None:
        ends = coverage_ends({t: s.index[-1] for t, s in raw.items()}, universe)
        end_ts = min(day for day, _ in ends.values())
        if universe.end is not None:
            end_ts = min(end_ts, pd.Timestamp(universe.end))
        if start_ts >= end_ts:
            limiting = ", ".join(label if label.startswith("benchmark") else
                                 f"{label} ({', '.join(tickers)})"
                                 for label, (day, tickers) in ends.items() if day == end_ts)
            raise DataError(f"No data after --start {start_ts.date()}: the default end is "
                            f"{end_ts.date()}, limited by {limiting}. Choose an earlier --start.")
    else:
        end_ts = pd.Timestamp(end)
        if end_ts > bench[-1]:
            raise DataError(f"The data do not reach --end {end_ts.date()}: benchmark "
                            f"{benchmark} ends {bench[-1].date()}. Choose --end "
                            f"{bench[-1].date()} or earlier.")
    return start_ts, end_ts


def _names(tickers: list[str], shown: int = 10) -> str:
    """Tickers for a note: all of a small bucket, the first ``shown`` of a large one and a
    count (a note per delisting naming 2,000 members each would be quadratic text)."""
    more = f" and {len(tickers) - shown} more" if len(tickers) > shown else ""
    return ", ".join(tickers[:shown]) + more


def _coverage_notes(window: pd.DataFrame, universe: Universe) -> tuple[tuple[str, ...],
                                                                          dict[str, pd.Timestamp],
                                                                          list[str]]:
    """Assets without a price in the window (left out) and assets whose data end inside it
    (delisted from then on), with one note each saying what happens to their bucket."""
    absent: list[str] = []
    ended: dict[str, pd.Timestamp] = {}
    notes: list[str] = []
    for bucket in universe.buckets:
        members = list(bucket.tickers)
        priced = window[members].notna()
        ever, at_end = priced.any().to_dict(), priced.iloc[-1].to_dict()
        for ticker in [t for t in members if not (ever[t] and at_end[t])]:
            column = priced[ticker]
            others = [t for t in members if t != ticker]
            if not ever[ticker]:
                absent.append(ticker)
                rest = [t for t in others if ever[t]]
                notes.append(f"{ticker} has no price between {window.index[0].date()} and "
                             f"{window.index[-1].date()}: not part of this backtest; bucket "
                             f"{bucket.name} " + (f"spreads over {_names(rest)}" if rest else
                                                  "has no member, its weight stays in cash"))
            else:
                last = column[column].index[-1]
                ended[ticker] = last
                rest = [t for t in others if at_end[t]]
                notes.append(f"{ticker}'s prices end {last.date()} (on the trading calendar), "
                             f"before the backtest's end "
                             f"{window.index[-1].date()}: treated as delisted from then on (held "
                             "at its last price until the next execution, then sold); bucket "
                             f"{bucket.name} " + (f"continues with {_names(rest)}" if rest else
                                                  "has no member left, its weight stays in cash"))
    return tuple(absent), ended, notes


def load_custom_series(universe: Universe) -> dict[str, pd.Series]:
    """The series behind the universe's ``[[signal.custom]]`` components, by name, on their
    own dates (the publication lag is the signal's to apply). A missing file or column, or
    a value that is not a number, is an error naming the universe file and the field."""
    out: dict[str, pd.Series] = {}
    where = universe.path or universe.name
    for spec in universe.signal.custom:
        field_name = "csv" if not spec.csv.is_file() else "column"
        try:
            out[spec.name] = read_user_csv(spec.csv, spec.column, spec.date_column)
        except DataError as exc:
            raise UniverseError(f"{where}: field 'signal.custom.{spec.name}.{field_name}': "
                                f"{exc} Fix the [[signal.custom]] entry \"{spec.name}\" or "
                                "its file.") from exc
    return out


def load_market_data(universe: Universe, provider: PriceProvider, *,
                     start: dt.date | None = None, end: dt.date | None = None,
                     max_fill: int = MAX_FILL_DAYS, strict_prices: bool = False,
                     series: SignalSeries | None = None) -> MarketData:
    """Prices of every bucket member and the benchmark, plus the signal inputs that exist
    (``series``; default: only those the universe's ``[signal]`` table lists) and the
    universe's own CSV series. A suspicious move (``data.moves``) in any of them up to the
    end is a warning; ``strict_prices`` (or the universe's ``strict_prices``) makes it an
    error."""
    series = series if series is not None else SignalSeries.of_universe(universe)
    assets = list(dict.fromkeys([*universe.tickers, universe.benchmark]))
    raw = _trim_starts(provider.load_prices(assets), universe)
    refuse_nonpositive(raw, provider.describe())
    user = load_custom_series(universe)
    warnings: list[str] = []
    input_raw: dict[str, pd.Series] = {}
    for ticker in dict.fromkeys(series.tickers):
        if ticker in raw:
            input_raw[ticker] = raw[ticker]
            continue
        try:
            input_raw.update(provider.load_prices([ticker]))
        except DataError as exc:
            if ticker in series.listed:
                warnings.append(f"signal input {ticker} unavailable: {exc}")
    fred_ids = list(dict.fromkeys(series.fred))
    fred = provider.load_fred(fred_ids)
    warnings += [f"FRED series {s} unavailable from {provider.describe()}"
                 for s in fred_ids if s not in fred and s in series.listed]

    start_ts, end_ts = settle_range(raw, universe, universe.benchmark, start, end)
    suspicious = find_suspicious({**raw, **input_raw}, fred, until=end_ts)
    check_suspicious(suspicious, strict_prices or universe.strict_prices, provider.describe())
    calendar = trading_calendar(raw)
    calendar = calendar[calendar <= end_ts]
    if not ((calendar >= start_ts).sum() >= 2):
        raise DataError(f"No trading days between {start_ts.date()} and {end_ts.date()} in the "
                        "data; choose a wider date range.")

    price_frame, gaps = align_frame({ticker: raw[ticker] for ticker in assets}, calendar, max_fill)
    in_range = price_frame.loc[start_ts:end_ts]
    for gap in gaps:
        if not gap.filled and gap.last >= start_ts:
            raise DataError(f"Ticker {gap.ticker} has no price for {gap.days} trading days "
                            f"({gap.first.date()}..{gap.last.date()}), more than the {max_fill} "
                            "that may be carried forward. Fix the data or start after the hole.")
    if in_range[list(universe.tickers)].isna().all().all():
        raise DataError(f"No asset of universe {universe.name} has a price between "
                        f"{in_range.index[0].date()} and {in_range.index[-1].date()}; choose "
                        "another date range.")
    absent, ended, notes = _coverage_notes(in_range, universe)
    warnings += notes
    warnings += suspicious_notes(suspicious)
    warnings += check_calendar(pd.DatetimeIndex(calendar)).notes(in_range.index[0],
                                                                 in_range.index[-1])

    input_frame, found = align_frame(input_raw, calendar, max_fill)
    gaps += [g for g in found if g.ticker not in price_frame.columns]
    calendar_start = in_range.index[0]
    return MarketData(prices=price_frame, inputs=input_frame, fred=fred, start=calendar_start,
                      end=in_range.index[-1], source=provider.describe(),
                      gaps=tuple(g for g in gaps if g.last >= start_ts),
                      warnings=tuple(warnings), absent=absent, ended=ended, user=user,
                      suspicious=tuple(suspicious))
