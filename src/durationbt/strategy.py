"""The strategy contract. A strategy is a class with a unique ``name``, a docstring that is
its help, parameters declared as ``Param`` class attributes, and one method,
``target_weights(ctx)``, that maps a typed Context to target weights per decision date.

Weights are decided on the close of day t and traded on the close of day t+1 by the engine.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import pandas as pd

from .errors import ParameterError, StrategyError, did_you_mean
from .universe import Universe

if TYPE_CHECKING:
    from .signals import Signal

__all__ = ["Param", "Context", "Strategy", "parse_param_overrides"]


@dataclass(frozen=True)
class Param:
    """A strategy parameter: default value (its type is the parameter's type), a help line
    with units, optional bounds, and an optional sweep grid."""

    default: float | int | str | bool
    help: str = ""
    low: float | None = None
    high: float | None = None
    grid: tuple[Any, ...] = ()

    @property
    def type(self) -> type:
        return type(self.default)

    def coerce(self, name: str, value: Any, owner: str) -> Any:
        """``value`` (a string from the CLI, or a Python value) as this parameter's type."""
        kind = self.type
        try:
            if kind is bool and isinstance(value, str):
                lowered = value.strip().lower()
                if lowered not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(value)
                result: Any = lowered in ("true", "1", "yes")
            elif kind is int and isinstance(value, str | float):
                as_float = float(value)
                if not as_float.is_integer():
                    raise ValueError(value)
                result = int(as_float)
            else:
                result = kind(value)
        except (TypeError, ValueError):
            raise ParameterError(f'Parameter "{name}" of strategy "{owner}" must be '
                                 f"{kind.__name__}, got {value!r}.") from None
        if kind in (int, float):
            if result != result or result in (float("inf"), float("-inf")):
                raise ParameterError(f'Parameter "{name}" of strategy "{owner}" must be finite.')
            if (self.low is not None and result < self.low) or (
                    self.high is not None and result > self.high):
                raise ParameterError(f'Parameter "{name}" of strategy "{owner}" must lie in '
                                     f"[{self.low}, {self.high}], got {result}.")
        return result


@dataclass(frozen=True)
class Context:
    """What a strategy sees. Every frame is on one trading calendar and holds history up to
    the backtest's last day; a strategy must use only rows <= t for the weight at t."""

    universe: Universe
    prices: pd.DataFrame            # date x tickers (bucket members + benchmark), adjusted close
    inputs: pd.DataFrame            # date x signal inputs (e.g. ^TNX), levels in percent for yields
    rebalance_dates: pd.DatetimeIndex  # decision dates inside [start, end]
    start: pd.Timestamp
    end: pd.Timestamp
    signal: Signal | None = None    # scarcity composite, z-scored components, regimes

    def as_of(self, date: pd.Timestamp) -> Context:
        """This context as seen on ``date``: every frame cut after it, decision dates up to
        it, ``end`` = ``date``. What the point-in-time form receives, and the reference the
        lookahead replay holds vectorised strategies to."""
        return replace(self, prices=self.prices.loc[:date], inputs=self.inputs.loc[:date],
                       rebalance_dates=self.rebalance_dates[self.rebalance_dates <= date],
                       end=pd.Timestamp(date),
                       signal=None if self.signal is None else self.signal.as_of(date))

    def private(self) -> Context:
        """A copy for one plugin call: every frame and series a new object (shallow: with
        pandas' copy-on-write a write to it copies first, so nothing is duplicated until a
        plugin writes) and the signal's tables copied, so what a plugin assigns
        (``ctx.prices.loc[...] *= 2``, ``ctx.signal.regime[:] = ...``) reaches no other
        call. (The universe is a frozen model of tuples. Commands also run every plugin in
        a process of its own, ``sandbox``, so even a plugin that digs into pandas'
        internals reaches nothing of theirs.)"""
        signal = self.signal
        if signal is not None:
            signal = replace(signal, composite=signal.composite.copy(deep=False),
                             components=signal.components.copy(deep=False),
                             regime=signal.regime.copy(deep=False),
                             weights=dict(signal.weights), dropped=dict(signal.dropped),
                             inputs=dict(signal.inputs))
        return replace(self, prices=self.prices.copy(deep=False),
                       inputs=self.inputs.copy(deep=False), signal=signal)

    @property
    def returns(self) -> pd.DataFrame:
        """Daily simple returns (NaN where a price is missing)."""
        return self.prices.pct_change(fill_method=None)

    def bucket_prices(self, bucket: str) -> pd.DataFrame:
        """The adjusted closes of ``bucket``'s members."""
        return self.prices[list(self.universe.bucket(bucket).tickers)]

    @property
    def bucket_ranks(self) -> pd.Series:
        """Each bucket's declared cash-flow-duration rank (0 = cash-like), by name, in the
        universe's order."""
        return pd.Series({b.name: b.rank for b in self.universe.buckets}, dtype=int)

    def buckets_ranked(self, low: int | None = None, high: int | None = None) -> list[str]:
        """Names of the buckets whose rank lies in ``[low, high]`` (an end left None is
        open), in the universe's order: ``buckets_ranked(high=0)`` is the cash-like ones."""
        if low is not None and high is not None and low > high:
            raise StrategyError(f"buckets_ranked(low={low}, high={high}): low is above high, "
                                "so no bucket could match.")
        # plain Python, no pandas: sweeps call this per combination and per replay
        return [b.name for b in self.universe.buckets
                if (low is None or b.rank >= low) and (high is None or b.rank <= high)]

    def bucket_levels(self) -> pd.DataFrame:
        """Each bucket as an equal-weight index of its members listed that day (a price
        level), on this context's prices: in ``as_of(t)`` it sees rows up to t only."""
        from .duration import bucket_levels

        return bucket_levels(self.prices, self.universe)

    def require_signal(self, owner: str) -> Signal:
        """The scarcity signal, or a StrategyError saying why it is missing."""
        if self.signal is None or self.signal.components.empty:
            raise StrategyError(f'Strategy "{owner}" trades on the scarcity signal, but no '
                                "signal component could be computed from the data.")
        return self.signal

    def require_inputs(self, owner: str, *tickers: str) -> None:
        """Fail clearly when a signal input this strategy needs is absent."""
        missing = [t for t in tickers if t not in self.inputs.columns
                   or self.inputs[t].loc[self.start:self.end].isna().all()]
        if missing:
            raise StrategyError(f'Strategy "{owner}" needs signal input(s) {", ".join(missing)}, '
                                f"which the data do not provide. Add them to the universe's "
                                "[signal] tickers and make sure the data folder has them.")


class Strategy:
    """Base class. Subclasses set ``name``, document themselves, declare ``Param``s and
    implement ``target_weights``."""

    name: ClassVar[str] = ""
    _declared_params: ClassVar[dict[str, Param] | None] = None
    weights_by: ClassVar[Literal["bucket", "ticker"]] = "bucket"
    # how a bucket's weight meets its members listed that day: equally or by inverse
    # volatility (``spread``, the older name, is still read from a plugin)
    within_bucket: ClassVar[Literal["equal", "inverse_vol"]] = "equal"
    # True: trade the first decision date's weights and never again (positions drift), as
    # buy-and-hold does; the later rows of ``target_weights`` are validated, then unused
    holds: ClassVar[bool] = False
    # True: the strategy may return negative weights (shorts); the gate then allows a
    # gross exposure up to 2 by default (see ``durationbt.book``)
    allow_short: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Check the class settings when the plugin is imported (a typo would otherwise
        fall back to a default silently); ``spread`` is ``within_bucket``'s older name."""
        super().__init_subclass__(**kwargs)
        if "spread" in cls.__dict__:
            if "within_bucket" in cls.__dict__:
                raise StrategyError(f"Strategy class {cls.__name__} sets both spread and "
                                    "within_bucket; keep within_bucket (spread is its older "
                                    "name).")
            cls.within_bucket = cls.__dict__["spread"]
        for attr, allowed in (("within_bucket", ("equal", "inverse_vol")),
                              ("weights_by", ("bucket", "ticker"))):
            value = getattr(cls, attr)
            if value not in allowed:
                hint = did_you_mean(value, allowed).strip() if isinstance(value, str) else ""
                raise StrategyError(
                    f"Strategy class {cls.__name__}: {attr} = {value!r} must be one of "
                    + ", ".join(f'"{a}"' for a in allowed) + (f" ({hint})" if hint else ""))
        for attr in ("holds", "allow_short"):
            if not isinstance(getattr(cls, attr), bool):
                raise StrategyError(f"Strategy class {cls.__name__}: {attr} = "
                                    f"{getattr(cls, attr)!r} must be True or False")

    def __init__(self, **overrides: Any) -> None:
        params = self.params()
        for key, value in overrides.items():
            if key not in params:
                known = ", ".join(params) or "none"
                raise ParameterError(f'Strategy "{self.name}" has no parameter "{key}".'
                                     + did_you_mean(key, params) + f" Parameters: {known}.")
            setattr(self, key, params[key].coerce(key, value, self.name))
        for key, param in params.items():
            if key not in overrides:
                setattr(self, key, param.default)

    @classmethod
    def params(cls) -> dict[str, Param]:
        """Declared parameters in definition order (base classes first). Collected once
        per class and kept on it: a sweep constructs the class for every combination."""
        cached = cls.__dict__.get("_declared_params")
        if cached is None:
            cached = {}
            for klass in reversed(cls.__mro__):
                for key, value in vars(klass).items():
                    if isinstance(value, Param):
                        cached[key] = value
            cls._declared_params = cached
        return dict(cached)

    @classmethod
    def summary(cls) -> str:
        """The docstring's first paragraph as plain text (reStructuredText markup removed,
        lines joined): what ``strategies list`` shows."""
        from .formatting import plain_text

        doc = (inspect.getdoc(cls) or "").strip()
        return plain_text(doc.split("\n\n")[0]) if doc else ""

    def values(self) -> dict[str, Any]:
        """This instance's parameter values."""
        return {key: getattr(self, key) for key in self.params()}

    def traded(self, targets: pd.DataFrame) -> pd.DataFrame:
        """The validated targets the engine trades: every decision, or only the first for a
        strategy that ``holds`` (the engine trades each row it is given)."""
        return targets.iloc[:1] if self.holds else targets

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        """Target weights indexed by (at least) ``ctx.rebalance_dates``; columns are bucket
        names when ``weights_by == "bucket"``, else tickers. Rows sum to <= 1; the rest is cash.

        The vectorised form: override this and the framework replays it on data cut at the
        decision dates to prove it does not look ahead. Or override ``weights_on`` (the
        point-in-time form) and this default calls it once per decision date."""
        if not self.point_in_time():
            raise NotImplementedError(f"{type(self).__name__} implements neither "
                                      "target_weights nor weights_on")
        rows = {}
        for date in ctx.rebalance_dates:
            day = self.weights_on(ctx.as_of(date))
            if not isinstance(day, Mapping | pd.Series):   # None is not "all cash": {} is
                raise StrategyError(f'Strategy "{self.name}": weights_on returned '
                                    f"{type(day).__name__} on {date.date()}; return a dict or "
                                    "Series of weights ({} holds everything in cash).")
            rows[date] = pd.Series(day, dtype=float)
        return pd.DataFrame.from_dict(rows, orient="index").reindex(ctx.rebalance_dates)

    def weights_on(self, ctx: Context) -> Mapping[str, float] | pd.Series:
        """The point-in-time form: weights for the decision date ``ctx.end``, given a context
        that holds data up to that day only (safe by construction, as in backtesting.py or
        zipline; one call per decision date, so slower than a vectorised ``target_weights``).
        Keys are bucket names or tickers as ``weights_by`` says; the rest is cash."""
        raise NotImplementedError

    @classmethod
    def target_weights_grid(cls, ctx: Context,
                            combos: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
        """Optional, the sweep's fast path: the weights of many parameter combinations in
        one call, as ``{column: array of combinations x ctx.rebalance_dates}`` (columns as
        in ``target_weights``; left-out columns hold 0). A sweep then calls it once per
        batch of combinations instead of one ``target_weights`` call and its replays per
        combination (every built-in strategy with parameters has one: 0.5-2.5 ms per
        combination end to end against 53-438 ms). It must give, for every combination,
        what ``cls(**combo).target_weights(ctx)`` gives (a sweep compares them on the first
        combination of every batch: share the helpers, docs/strategies.md §7) and obey the
        same timing rule: it is replayed on cut contexts like ``target_weights``."""
        raise NotImplementedError

    @classmethod
    def has_grid(cls) -> bool:
        """True when the class implements ``target_weights_grid``."""
        return cls.target_weights_grid.__func__ is not Strategy.target_weights_grid.__func__  # type: ignore[attr-defined]

    @classmethod
    def point_in_time(cls) -> bool:
        """True for strategies written in the per-date form (``weights_on``), which see
        only past data by construction and need no lookahead replay."""
        return (cls.weights_on is not Strategy.weights_on
                and cls.target_weights is Strategy.target_weights)


def parse_param_overrides(pairs: Sequence[str] | Mapping[str, Any]) -> dict[str, Any]:
    """``["k=v", ...]`` from the CLI into a dict; a malformed pair is a ParameterError."""
    if isinstance(pairs, Mapping):
        return dict(pairs)
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f'--param "{pair}" is not of the form name=value.')
        if key.strip() in out:
            raise ParameterError(f'--param names "{key.strip()}" twice ({out[key.strip()]!r} and '
                                 f"{value.strip()!r}); give each parameter once.")
        out[key.strip()] = value.strip()
    return out
