"""Load a universe's prices and signal inputs onto one trading calendar and settle the
backtest's date range. The result, MarketData, is what strategies and the engine see."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import DataError
from ..universe import Universe
from .calendar import MAX_FILL_DAYS, Gap, align_to_calendar, trading_calendar
from .providers import PriceProvider

__all__ = ["MarketData", "load_market_data", "settle_range"]


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

    @property
    def calendar(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.prices.index)

    def fingerprint(self) -> str:
        """SHA-256 of every number, date and name the backtest can see."""
        digest = hashlib.sha256()
        for frame in (self.prices, self.inputs):
            digest.update("|".join(map(str, frame.columns)).encode())
            digest.update(frame.index.asi8.tobytes())
            digest.update(np.ascontiguousarray(frame.to_numpy(dtype=float)).tobytes())
        for sid in sorted(self.fred):
            series = self.fred[sid]
            digest.update(sid.encode())
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


def settle_range(raw: dict[str, pd.Series], universe: Universe, benchmark: str,
                 start: dt.date | None, end: dt.date | None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The backtest's first and last date. The default end is the last date on which every
    asset still has prices; an explicit end beyond it is an error naming the tickers."""
    start_ts = pd.Timestamp(start or universe.start)
    if end is not None and pd.Timestamp(end) <= start_ts:
        raise DataError(f"Start {start_ts.date()} is not before end {end}: choose --start "
                        "earlier than --end.")
    last = {t: s.index[-1] for t, s in raw.items()}
    common_end = min(last.values())
    limiting = sorted(t for t, d in last.items() if d == common_end)
    if end is None:
        end_ts = common_end
        if universe.end is not None:
            end_ts = min(end_ts, pd.Timestamp(universe.end))
    else:
        end_ts = pd.Timestamp(end)
        if end_ts > common_end:
            short = sorted((t for t, d in last.items() if d < end_ts), key=lambda t: last[t])
            detail = ", ".join(f"{t} ends {last[t].date()}" for t in short)
            raise DataError(f"The data do not reach --end {end_ts.date()}: {detail}. Choose "
                            f"--end {common_end.date()} or earlier, or remove those tickers "
                            "from the universe.")
    first_bench = raw[benchmark].index[0]
    if start_ts < first_bench:
        raise DataError(f"Benchmark {benchmark} has no data before {first_bench.date()}; "
                        f"choose --start {first_bench.date()} or later.")
    if start_ts >= end_ts:
        raise DataError(f"No overlapping data between {start_ts.date()} and "
                        f"{(pd.Timestamp(end) if end else end_ts).date()}: the universe's "
                        f"common data end on {common_end.date()} (limited by "
                        f"{', '.join(limiting)}). Choose an earlier --start.")
    return start_ts, end_ts


def load_market_data(universe: Universe, provider: PriceProvider, *,
                     start: dt.date | None = None, end: dt.date | None = None,
                     max_fill: int = MAX_FILL_DAYS) -> MarketData:
    """Prices of every bucket member and the benchmark, plus the signal inputs that exist."""
    assets = list(dict.fromkeys([*universe.tickers, universe.benchmark]))
    raw = _trim_starts(provider.load_prices(assets), universe)
    warnings: list[str] = []
    input_raw: dict[str, pd.Series] = {}
    for ticker in universe.signal.tickers:
        if ticker in raw:
            input_raw[ticker] = raw[ticker]
            continue
        try:
            input_raw.update(provider.load_prices([ticker]))
        except DataError as exc:
            warnings.append(f"signal input {ticker} unavailable: {exc}")
    fred = provider.load_fred(list(universe.signal.fred))
    warnings += [f"FRED series {s} unavailable from {provider.describe()}"
                 for s in universe.signal.fred if s not in fred]

    start_ts, end_ts = settle_range(raw, universe, universe.benchmark, start, end)
    calendar = trading_calendar(raw)
    calendar = calendar[calendar <= end_ts]
    if not ((calendar >= start_ts).sum() >= 2):
        raise DataError(f"No trading days between {start_ts.date()} and {end_ts.date()} in the "
                        "data; choose a wider date range.")

    gaps: list[Gap] = []
    prices = {}
    for ticker in assets:
        prices[ticker], found = align_to_calendar(raw[ticker], calendar, max_fill)
        gaps += found
    price_frame = pd.DataFrame(prices, index=calendar)
    in_range = price_frame.loc[start_ts:end_ts]
    for gap in gaps:
        if not gap.filled and gap.last >= start_ts:
            raise DataError(f"Ticker {gap.ticker} has no price for {gap.days} trading days "
                            f"({gap.first.date()}..{gap.last.date()}), more than the {max_fill} "
                            "that may be carried forward. Fix the data or start after the hole.")
    if in_range[list(universe.tickers)].iloc[0].isna().all():
        raise DataError(f"No asset of universe {universe.name} has a price on "
                        f"{in_range.index[0].date()}; choose a later --start.")

    inputs = {}
    for ticker, series in input_raw.items():
        inputs[ticker], found = align_to_calendar(series, calendar, max_fill)
        gaps += [g for g in found if g.ticker not in prices]
    input_frame = pd.DataFrame(inputs, index=calendar, columns=list(input_raw))
    calendar_start = in_range.index[0]
    return MarketData(prices=price_frame, inputs=input_frame, fred=fred, start=calendar_start,
                      end=in_range.index[-1], source=provider.describe(),
                      gaps=tuple(g for g in gaps if g.last >= start_ts),
                      warnings=tuple(warnings))
