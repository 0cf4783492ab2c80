"""Data layer: providers (csv, yahoo), one trading calendar, and market data for a universe."""

from .calendar import (
    SCHEDULES,
    Gap,
    align_frame,
    align_to_calendar,
    rebalance_dates,
    trading_calendar,
)
from .csv import CsvProvider
from .market import MarketData, SignalSeries, load_market_data
from .providers import PriceProvider
from .source import resolve_provider
from .status import DataStatus, TickerStatus, data_status
from .yahoo import YahooProvider

__all__ = [
    "SCHEDULES", "Gap", "align_frame", "align_to_calendar", "rebalance_dates", "trading_calendar",
    "CsvProvider", "MarketData", "SignalSeries", "load_market_data", "PriceProvider",
    "resolve_provider", "YahooProvider", "DataStatus", "TickerStatus", "data_status",
]
