"""What the signal reads: market series on the trading calendar, and FRED series made
point-in-time by their publication lag (a value is used only from the day it was public)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..data.calendar import align_to_calendar, trading_calendar
from ..data.market import MarketData
from ..data.providers import PriceProvider
from ..errors import DataError
from ..universe import Universe

__all__ = ["SignalData", "signal_data_from_market", "load_signal_data", "MARKET_EXTRAS"]

# market series the built-in components read besides the universe's [signal] tickers
MARKET_EXTRAS = ("^TNX", "^IRX", "HYG", "IEF", "UUP", "DX-Y.NYB", "BTC-USD", "^VIX")


@dataclass(frozen=True)
class SignalData:
    """Market levels (date x ticker on one calendar) and raw FRED series by id."""

    market: pd.DataFrame
    fred: dict[str, pd.Series]

    @property
    def calendar(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.market.index)

    def has(self, ticker: str) -> bool:
        return ticker in self.market.columns and self.market[ticker].notna().any()

    def fred_on_calendar(self, sid: str, lag_days: int, max_stale_days: int) -> pd.Series:
        """FRED ``sid`` as known on each calendar day: the latest observation published
        ``lag_days`` calendar days after its date, and at most ``max_stale_days`` old."""
        raw = self.fred[sid].dropna()
        available = raw.copy()
        available.index = raw.index + pd.Timedelta(days=lag_days)
        cal = self.calendar
        as_of = available.reindex(cal.union(available.index)).ffill().reindex(cal)
        obs_date = pd.Series(raw.index, index=available.index).reindex(
            cal.union(available.index)).ffill().reindex(cal)
        stale = (pd.Series(cal, index=cal) - obs_date).dt.days > max_stale_days
        return as_of.mask(stale).rename(sid)

    def truncated(self, end: pd.Timestamp) -> SignalData:
        """The data as they stood at ``end``'s close (rows dated after it removed)."""
        return SignalData(self.market.loc[:end],
                          {k: v.loc[:end] for k, v in self.fred.items()})


def signal_data_from_market(market: MarketData) -> SignalData:
    """Signal inputs from a backtest's MarketData (prices and inputs share one calendar)."""
    extra = [c for c in market.inputs.columns if c not in market.prices.columns]
    return SignalData(pd.concat([market.prices, market.inputs[extra]], axis=1), market.fred)


def load_signal_data(universe: Universe, provider: PriceProvider,
                     end: pd.Timestamp | None = None) -> tuple[SignalData, list[str]]:
    """Inputs for ``durationbt signal``: runs to the benchmark's last day (not the assets'
    common end), so the reading is as recent as the data allow. Missing inputs are warnings."""
    wanted = list(dict.fromkeys([universe.benchmark, *universe.signal.tickers, *MARKET_EXTRAS]))
    raw: dict[str, pd.Series] = {}
    warnings: list[str] = []
    for ticker in wanted:
        try:
            raw.update(provider.load_prices([ticker]))
        except DataError as exc:
            if ticker == universe.benchmark:
                raise
            warnings.append(f"input {ticker} unavailable ({exc})")
    calendar = trading_calendar(raw)
    last = raw[universe.benchmark].index[-1] if end is None else pd.Timestamp(end)
    calendar = calendar[calendar <= last]
    if len(calendar) == 0:
        raise DataError(f"No trading days up to {last.date()} in the data.")
    market = pd.DataFrame({t: align_to_calendar(s, calendar)[0] for t, s in raw.items()},
                          index=calendar)
    fred_ids = list(dict.fromkeys([*universe.signal.fred, "DGS10", "DFII10", "BAMLH0A0HYM2",
                                   "WALCL", "WTREGEN", "RRPONTSYD"]))
    fred = {k: v.loc[:last] for k, v in provider.load_fred(fred_ids).items()}
    return SignalData(market, fred), warnings
