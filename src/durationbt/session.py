"""One session: the universe, the strategy registry, the market data with its signal, the
strategies' context and the lookahead probe, each built once (on first use) and shared by
every command (run, compare, sweep, walk-forward, strategies check, now), so the commands
cannot drift apart in how they load or check anything."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from .book import Book, BookOptions, resolve_book
from .data import MarketData, load_market_data, rebalance_dates, resolve_provider
from .engine import DEFAULT_INIT_CASH, Costs
from .inference.placebo import DEFAULT_PLACEBOS
from .lookahead import SEED, LookaheadProbe, LookaheadSettings
from .plugins import StrategyRegistry, discover_strategies
from .riskfree import BILL_YIELD, DEFAULT_CASH, DEFAULT_RISK_FREE, RiskFree, resolve_risk_free
from .shipping import Shared
from .strategy import Context, Strategy, parse_param_overrides
from .universe import Universe, load_universe
from .weights import DEFAULT_TIMEOUT

__all__ = ["RunSettings", "Session", "Progress", "load_data", "build_context", "lookahead_probe"]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class RunSettings:
    """Everything a run depends on besides the strategy's name."""

    universe: str | Path = "ai_capex"
    start: dt.date | None = None
    end: dt.date | None = None
    rebalance: str = "monthly"
    costs: Costs = field(default_factory=Costs)
    init_cash: float = DEFAULT_INIT_CASH
    params: dict[str, Any] = field(default_factory=dict)
    data: str | Path | None = None
    out: Path = Path("results")
    strategies_dir: Path | None = None
    strict_prices: bool = False   # a suspicious price spike is an error, not a warning
    timeout: float = DEFAULT_TIMEOUT   # seconds one call of the strategy plugin may take
    tearsheet: bool = True             # write the quantstats tearsheet.html
    cache: bool = True                 # reuse validated market data and signal (data.cache)
    cache_dir: str | Path | None = None   # where the caches live (default ~/.cache/durationbt)
    entry_points: bool = True          # load plugins installed by other packages
    risk_free: str = DEFAULT_RISK_FREE   # "bills", "0" or a ticker (see durationbt.riskfree)
    cash: str = DEFAULT_CASH             # "risk-free" or "zero": what uninvested weight earns
    book: BookOptions = field(default_factory=BookOptions)   # limits, borrow, financing, band
    placebos: int = DEFAULT_PLACEBOS     # re-timed schedules of the timing attribution (0: none)
    seed: int = 0                        # of the timing attribution's placebos and bootstrap

    def risk_free_for(self, universe: Universe) -> RiskFree:
        """The risk-free and cash conventions of these settings on ``universe``."""
        return resolve_risk_free(self.risk_free, self.cash, universe)


def load_data(universe: Universe, settings: RunSettings) -> MarketData:
    """Market data for ``universe`` from the provider the settings point at, with its
    scarcity signal; from the market cache when the same files were loaded for the same
    request before (see ``data.cache``)."""
    from .data.cache import MarketCache
    from .data.fetch import default_cache_dir
    from .signals import build_signal, discover_components, signal_data_from_market, signal_series

    cache_dir = Path(settings.cache_dir).expanduser() if settings.cache_dir else default_cache_dir()
    provider = resolve_provider(settings.data, cache_dir=cache_dir)
    components = discover_components(entry_points_enabled=settings.entry_points)
    series = signal_series(universe, components)
    # the bill yield stands in for a risk-free instrument on days it has no price (riskfree)
    series = replace(series, tickers=tuple(dict.fromkeys([*series.tickers, BILL_YIELD])))
    cache = MarketCache(cache_dir / "market") if settings.cache else None
    request = {"start": settings.start, "end": settings.end, "strict": settings.strict_prices}
    key = cache.key(provider, universe, request, series, components) if cache else None
    hit, damaged = cache.get(key) if cache else (None, None)
    if hit is not None:
        return hit
    market = load_market_data(universe, provider, start=settings.start, end=settings.end,
                              strict_prices=settings.strict_prices, series=series)
    signal = build_signal(signal_data_from_market(market), universe.signal,
                          str(universe.path or universe.name), components)
    market = replace(market, signal=signal)
    if cache:
        cache.put(key, market)
    if damaged:   # this run's note, not the data's: kept out of the entry just written
        market = replace(market, warnings=(*market.warnings, damaged))
    return market


def build_context(universe: Universe, market: MarketData, rebalance: str) -> Context:
    """Context for a strategy: decisions on the schedule plus the first day, so the
    portfolio is invested from the second trading day on; the scarcity signal included."""
    from .signals import build_signal, signal_data_from_market

    calendar = market.calendar
    scheduled = rebalance_dates(calendar, rebalance)
    in_range = scheduled[(scheduled >= market.start) & (scheduled <= market.end)]
    decisions = in_range.union(pd.DatetimeIndex([market.start]))
    signal = market.signal or build_signal(signal_data_from_market(market), universe.signal,
                                           str(universe.path or universe.name))
    return Context(universe=universe, prices=market.prices, inputs=market.inputs,
                   rebalance_dates=pd.DatetimeIndex(decisions, name="date"),
                   start=market.start, end=market.end, signal=signal)


def lookahead_probe(ctx: Context, rebalance: str,
                    timeout: float | None = DEFAULT_TIMEOUT) -> LookaheadProbe:
    """The replay contexts of ``ctx`` for the lookahead check, built once and shared by
    every strategy run on it: every decision date on a monthly schedule, a sample else."""
    return LookaheadProbe(ctx, every_date=rebalance == "monthly", timeout=timeout)


class Session:
    """What a command works on. Opening it is cheap and checks what can be checked before
    any data are read (the universe file); the risk-free convention, the strategy registry,
    the market data, the context and the lookahead probe are built on first use, once, so
    a typo in a strategy name or a grid fails before a single price is loaded."""

    def __init__(self, settings: RunSettings, registry: StrategyRegistry | None = None,
                 progress: Progress | None = None, *, universe: Universe | None = None,
                 market: MarketData | None = None) -> None:
        """``universe`` and ``market``: already loaded (a notebook, a test), else read from
        the settings."""
        self.settings = settings
        self.say: Progress = progress or (lambda _msg: None)
        self.universe: Universe = universe or load_universe(settings.universe)
        for name, value in (("registry", registry), ("market", market)):
            if value is not None:
                self.__dict__[name] = value     # given: the cached property is not built

    @cached_property
    def risk_free(self) -> RiskFree:
        """The risk-free and cash conventions on this universe. A command that scores or
        places cash reads it before the data (a bad --risk-free fails first); one that
        does neither, like ``strategies check``, never needs the universe to name bills."""
        return self.settings.risk_free_for(self.universe)

    @cached_property
    def risk_free_returns(self) -> pd.Series:
        """The daily risk-free return on the backtest's days (``RiskFree.returns``: the
        bill yield where the instrument has no price; refused when there is none), read by
        commands before any strategy runs, so a refusal comes first."""
        return self.risk_free.returns(self.window, self.market.inputs)

    def risk_free_notes(self) -> list[str]:
        """The run notes of the risk-free and cash conventions on the backtest's days."""
        return self.risk_free.notes(self.window, self.market.inputs)

    def notes(self) -> list[str]:
        """What a reader of any result on this session's data must know: the data's own
        warnings (late listings, delistings, fills, suspicious prices), the risk-free and
        cash conventions' gaps, and signal components dropped or stopped in the range."""
        from .signals import signal_data_from_market

        market = self.market
        return [*market.warnings, *self.risk_free_notes(),
                *self.ctx.signal.notes(market.start, market.end, signal_data_from_market(market))]

    def risk_free_conventions(self) -> dict[str, object]:
        """``metrics.json``'s ``conventions`` for the backtest's days."""
        return self.risk_free.conventions(self.window, self.market.inputs)

    @cached_property
    def registry(self) -> StrategyRegistry:
        """The strategies this session can run: built-ins, the strategies folder, plugins."""
        return discover_strategies(self.settings.strategies_dir,
                                   entry_points_enabled=self.settings.entry_points,
                                   timeout=self.settings.timeout)

    def strategy_class(self, name: str) -> type[Strategy]:
        """The plugin class registered as ``name`` (a clear error naming the known ones)."""
        return self.registry.get(name)

    def strategy(self, name: str, params: dict[str, Any] | list[str] | None = None) -> Strategy:
        """An instance of ``name`` with ``params`` (a dict, or ``name=value`` strings)."""
        values = parse_param_overrides(params) if isinstance(params, list) else (params or {})
        return self.strategy_class(name)(**values)

    def book(self, strategy: Strategy | type[Strategy]) -> Book:
        """The limits and carry ``strategy`` runs with: the settings' options over the
        universe's ``[portfolio]`` over the defaults (see ``durationbt.book``)."""
        return resolve_book(self.settings.book, self.universe, strategy)

    def source(self, name: str) -> str:
        """Where strategy ``name`` was loaded from (recorded in manifests)."""
        return self.registry.source(name)

    @cached_property
    def market(self) -> MarketData:
        """The universe's validated market data and signal (read once)."""
        self.say(f"Loading prices for {len(self.universe.tickers)} tickers")
        return load_data(self.universe, self.settings)

    @cached_property
    def ctx(self) -> Context:
        """What every strategy of this session is called with."""
        return build_context(self.universe, self.market, self.settings.rebalance)

    @cached_property
    def shared_ctx(self) -> Shared:
        """``ctx`` as the strategies' child processes receive it: packed into shared
        memory once, mapped by each of them (``shipping``)."""
        return Shared(self.ctx)

    @cached_property
    def probe(self) -> LookaheadProbe:
        """The point-in-time replays every strategy of this session is checked against."""
        self.say("Preparing the lookahead check")
        return lookahead_probe(self.ctx, self.settings.rebalance, self.settings.timeout)

    @property
    def lookahead(self) -> LookaheadSettings:
        """The recipe of ``probe`` (every date on a monthly schedule, the seed, the time
        limit): what a strategy's own process builds its replays from."""
        return (self.settings.rebalance == "monthly", SEED, self.settings.timeout)

    @property
    def window(self) -> pd.DataFrame:
        """Prices on the backtest's days."""
        return self.market.prices.loc[self.market.start:self.market.end]
