"""durationbt: a duration-sensitivity backtester.

Buckets assets by cash-flow duration, builds signals of capital scarcity, rotates between
buckets with strategy plugins, and scores the result honestly. Heavy dependencies
(vectorbt, quantstats) load only when a backtest runs."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> module; resolved on first access so `import durationbt` stays fast
_EXPORTS = {
    "Bucket": "universe", "Universe": "universe", "SignalSettings": "universe",
    "load_universe": "universe", "list_universes": "universe",
    "Param": "strategy", "Context": "strategy", "Strategy": "strategy",
    "Costs": "engine", "EngineResult": "engine", "simulate": "engine",
    "RunSettings": "session", "Session": "session", "BacktestResult": "publish",
    "run_backtest": "api", "Backtest": "pipeline", "backtest": "pipeline",
    "timing_attribution": "inference.timing", "TimingAttribution": "inference.timing",
    "MarketData": "data", "load_market_data": "signals.load", "resolve_provider": "data",
    "CsvProvider": "data", "YahooProvider": "data",
    "StrategyRegistry": "plugins", "discover_strategies": "plugins",
    "DurationbtError": "errors", "UniverseError": "errors", "DataError": "errors",
    "StrategyError": "errors", "ParameterError": "errors", "EngineError": "errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'durationbt' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # for type checkers and IDEs
    from .api import run_backtest
    from .data import CsvProvider, MarketData, YahooProvider, resolve_provider
    from .engine import Costs, EngineResult, simulate
    from .errors import (
        DataError,
        DurationbtError,
        EngineError,
        ParameterError,
        StrategyError,
        UniverseError,
    )
    from .inference.timing import TimingAttribution, timing_attribution
    from .pipeline import Backtest, backtest
    from .plugins import StrategyRegistry, discover_strategies
    from .publish import BacktestResult
    from .session import RunSettings, Session
    from .signals.load import load_market_data
    from .strategy import Context, Param, Strategy
    from .universe import Bucket, SignalSettings, Universe, list_universes, load_universe
