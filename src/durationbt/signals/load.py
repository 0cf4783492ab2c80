"""SignalData from what the data layer loaded: a backtest's MarketData, or (for
``durationbt signal``) the inputs the universe's components declare, read up to the latest
day the benchmark has."""

from __future__ import annotations

import pandas as pd

from ..data import market as data_market
from ..data.calendar import align_to_calendar, trading_calendar
from ..data.market import MarketData, load_custom_series
from ..data.moves import find_suspicious, suspicious_notes
from ..data.providers import PriceProvider
from ..errors import DataError
from ..universe import Universe
from .inputs import SignalData
from .registry import ComponentRegistry, signal_series

__all__ = ["signal_data_from_market", "load_signal_data", "load_market_data"]


def load_market_data(universe: Universe, provider: PriceProvider, *,
                     registry: ComponentRegistry | None = None, **options) -> MarketData:
    """A universe's MarketData with the input series its signal components declare (what
    ``run`` loads; ``durationbt.load_market_data``). ``options`` are those of
    ``data.load_market_data`` (start, end, max_fill, strict_prices), which on its own loads
    only the series the universe lists."""
    series = signal_series(universe, registry)
    return data_market.load_market_data(universe, provider, series=series, **options)


def signal_data_from_market(market: MarketData) -> SignalData:
    """Signal inputs from a backtest's MarketData (prices and inputs share one calendar)."""
    extra = [c for c in market.inputs.columns if c not in market.prices.columns]
    return SignalData(pd.concat([market.prices, market.inputs[extra]], axis=1), market.fred,
                      dict(market.user))


def load_signal_data(universe: Universe, provider: PriceProvider,
                     end: pd.Timestamp | None = None,
                     registry: ComponentRegistry | None = None) -> tuple[SignalData, list[str]]:
    """Inputs for ``durationbt signal``: runs to the benchmark's last day (not the assets'
    common end), so the reading is as recent as the data allow. An input the universe
    lists itself that is missing is a warning; a component's missing input drops it; a
    suspicious move in an input (``data.moves``) is a warning."""
    series = signal_series(universe, registry)
    wanted = list(dict.fromkeys([universe.benchmark, *series.tickers]))
    raw: dict[str, pd.Series] = {}
    warnings: list[str] = []
    for ticker in wanted:
        try:
            raw.update(provider.load_prices([ticker]))
        except DataError as exc:
            if ticker == universe.benchmark:
                raise
            if ticker in series.listed:
                warnings.append(f"input {ticker} unavailable ({exc})")
    calendar = trading_calendar(raw)
    last = raw[universe.benchmark].index[-1] if end is None else pd.Timestamp(end)
    calendar = calendar[calendar <= last]
    if len(calendar) == 0:
        raise DataError(f"No trading days up to {last.date()} in the data.")
    market = pd.DataFrame({t: align_to_calendar(s, calendar)[0] for t, s in raw.items()},
                          index=calendar)
    fred = {k: v.loc[:last] for k, v in provider.load_fred(list(series.fred)).items()}
    user = {k: v.loc[:last] for k, v in load_custom_series(universe).items()}
    warnings += suspicious_notes(find_suspicious(raw, fred, until=last))
    return SignalData(market, fred, user), warnings
