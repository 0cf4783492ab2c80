"""``durationbt now``: today's decision from the latest data. The as-of date is the last day
of the data; on it, each strategy decides exactly as a full run would on that day (the same
loading, context, weight validation and lookahead guard), and its weights trade at the next
execution, the following NYSE trading day. With the user's holdings, the orders to get there.

Nothing here settles data, builds signals or checks lookahead itself: it works on a
``session.Session`` (data, context and lookahead probe as every command builds them) and
the strategy call and weight validation of ``weights``, so ``now`` cannot drift from
``run``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from .errors import DataError
from .session import Progress

if TYPE_CHECKING:
    from .plugins import StrategyRegistry
    from .session import RunSettings
    from .signals import Signal

__all__ = ["ComponentReading", "Order", "Decision", "NowReport", "Holdings", "now",
           "read_holdings", "orders_for", "next_trading_day", "STALE_AFTER_DAYS"]


STALE_AFTER_DAYS = 14   # FRED inputs older than this at the as-of date are named as the reason
_DUST = 1e-9            # weight changes below this are not orders


def next_trading_day(day: pd.Timestamp) -> pd.Timestamp:
    """The first NYSE session after ``day`` (exchange-calendars' XNYS, holidays and special
    closures included): when a decision taken on ``day``'s close is filled, the engine's
    one-bar delay."""
    import warnings

    with warnings.catch_warnings():   # its pandas deprecations are not ours to see
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        import exchange_calendars as xcals

        day = pd.Timestamp(day).normalize()
        xnys = xcals.get_calendar("XNYS", start=day - pd.Timedelta(days=7),
                                  end=day + pd.Timedelta(days=30))
        session = xnys.date_to_session(day + pd.Timedelta(days=1), direction="next")
    return pd.Timestamp(session).tz_localize(None) if session.tz else pd.Timestamp(session)


@dataclass(frozen=True)
class ComponentReading:
    """One signal component on the as-of date; ``missing`` says why it has no value."""

    z: float | None
    weight: float
    contribution: float | None
    missing: str | None


@dataclass(frozen=True)
class Order:
    """A trade toward the target: weights as fractions of the portfolio; with quantities
    held, the shares and value at the as-of close (before costs)."""

    ticker: str
    side: Literal["buy", "sell", "short", "cover"]
    weight_from: float
    weight_to: float
    quantity: float | None = None
    value: float | None = None
    price: float | None = None


@dataclass(frozen=True)
class Decision:
    """A strategy's target on the as-of date, traded at ``next_execution``."""

    strategy: str
    weights: dict[str, float]       # non-zero target weights by ticker; the rest is cash
    next_execution: pd.Timestamp
    orders: tuple[Order, ...] | None

    @property
    def cash(self) -> float:
        return max(0.0, 1.0 - sum(self.weights.values()))


@dataclass(frozen=True)
class NowReport:
    """The regime and every strategy's decision on the last day of the data."""

    as_of: pd.Timestamp
    source: str
    regime: str
    regime_since: pd.Timestamp
    composite: float | None
    components: dict[str, ComponentReading]
    strategies: dict[str, Decision]
    notes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document: dates as YYYY-MM-DD, numbers rounded for reading."""
        def num(x: float | None, digits: int) -> float | None:
            return None if x is None else round(x, digits)

        return {
            "as_of": str(self.as_of.date()), "source": self.source,
            "regime": self.regime, "regime_since": str(self.regime_since.date()),
            "composite": num(self.composite, 4),
            "components": {name: {"z": num(c.z, 4), "weight": c.weight,
                                  "contribution": num(c.contribution, 4), "missing": c.missing}
                           for name, c in self.components.items()},
            "strategies": {name: {
                "weights": {t: round(w, 6) for t, w in d.weights.items()},
                "cash": round(d.cash, 6),
                "next_execution": str(d.next_execution.date()),
                "orders": None if d.orders is None else [
                    {"ticker": o.ticker, "side": o.side, "weight_from": round(o.weight_from, 6),
                     "weight_to": round(o.weight_to, 6), "quantity": num(o.quantity, 6),
                     "value": num(o.value, 2), "price": num(o.price, 6)} for o in d.orders]}
                for name, d in self.strategies.items()},
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Holdings:
    """What the user holds now: quantities (shares, units; ``CASH`` in currency) or portfolio
    weights, by ticker."""

    kind: Literal["quantity", "weight"]
    amounts: dict[str, float]
    cash: float
    path: Path


def read_holdings(path: Path | str) -> Holdings:
    """A CSV with a ``ticker`` column and either ``quantity`` or ``weight``; a ``CASH`` row
    holds cash (>= 0). A negative quantity or weight is a short. Each ticker once, weights
    summing to at most 1."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"Holdings file {path} cannot be read as CSV ({exc}).") from exc
    columns = [c.strip().lower() for c in frame.columns]
    frame.columns = columns
    kinds = [k for k in ("quantity", "weight") if k in columns]
    if "ticker" not in columns or len(kinds) != 1 or len(columns) != 2:
        raise DataError(f"Holdings file {path}: expected the columns ticker,quantity or "
                        f"ticker,weight; found {','.join(columns) or 'none'}.")
    kind = kinds[0]
    amounts: dict[str, float] = {}
    cash = 0.0
    for line, (ticker, text) in enumerate(zip(frame["ticker"].str.strip(), frame[kind],
                                              strict=True), start=2):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not ticker or not math.isfinite(value) or (value < 0 and ticker.upper() == "CASH"):
            raise DataError(f"Holdings file {path}, line {line}: field '{kind}' must be a "
                            f"number for a named ticker (negative: a short), >= 0 for CASH, got "
                            f"{ticker!r} {text!r}.")
        if ticker.upper() == "CASH":
            cash += value
            continue
        if ticker in amounts:
            raise DataError(f"Holdings file {path}: ticker {ticker} appears more than once.")
        amounts[ticker] = value
    if kind == "weight" and sum(amounts.values()) + cash > 1 + 1e-6:
        raise DataError(f"Holdings file {path}: weights sum to "
                        f"{sum(amounts.values()) + cash:.6g}; they must sum to at most 1.")
    return Holdings(kind, amounts, cash, path)


def orders_for(target: pd.Series, holdings: Holdings, prices: pd.DataFrame,
               as_of: pd.Timestamp) -> tuple[tuple[Order, ...], list[str]]:
    """Orders from ``holdings`` to the ``target`` weights, sells first, then by ticker; and
    notes. Quantities are valued at the as-of close; a holding whose price stops earlier is
    valued at its last price (named in a note) and one with no price at all is an error."""
    notes: list[str] = []
    tickers = sorted(set(target.index[target != 0]) | set(holdings.amounts))
    target = target.reindex(tickers, fill_value=0.0)
    if holdings.kind == "weight":
        current = pd.Series(holdings.amounts, dtype=float).reindex(tickers, fill_value=0.0)
        price = pd.Series(math.nan, index=tickers)
        total = math.nan
    else:
        price = pd.Series(index=tickers, dtype=float)
        for ticker in tickers:
            known = prices[ticker].loc[:as_of].dropna() if ticker in prices else pd.Series()
            if known.empty:
                raise DataError(f"Holdings file {holdings.path}: ticker {ticker} has no price in "
                                "the data, so its quantity cannot be valued; sell it outside "
                                "durationbt or give weights instead of quantities.")
            price[ticker] = float(known.iloc[-1])
            if known.index[-1] < as_of:
                notes.append(f"{ticker} valued at its last price, on {known.index[-1].date()}")
        held = pd.Series(holdings.amounts, dtype=float).reindex(tickers, fill_value=0.0)
        total = float((held * price).sum()) + holdings.cash
        if total <= 0:
            raise DataError(f"Holdings file {holdings.path}: the holdings are worth nothing, so "
                            "there is nothing to allocate.")
        current = held * price / total
    orders = []
    for ticker in tickers:
        change = float(target[ticker] - current[ticker])
        if abs(change) < _DUST:
            continue
        for side, begin, end in _legs(float(current[ticker]), float(target[ticker])):
            value = None if holdings.kind == "weight" else abs(end - begin) * total
            orders.append(Order(ticker, side, begin, end,
                                None if value is None else value / float(price[ticker]),
                                value, None if value is None else float(price[ticker])))
    # what raises cash first (sells and shorts), then what spends it
    orders.sort(key=lambda o: (o.side not in ("sell", "short"), o.ticker))
    return tuple(orders), notes


def _legs(now: float, target: float) -> list[tuple[str, float, float]]:
    """The weight change ``now`` -> ``target`` as orders: buy/sell on the long side,
    short/cover on the short side; through zero, two (a sell then a short, or a cover then
    a buy), as ``orders.csv`` records fills."""
    if now >= 0 and target >= 0 or now <= 0 and target <= 0:
        if target > now:
            return [("cover" if target <= 0 else "buy", now, target)]
        return [("short" if target < 0 else "sell", now, target)]
    if target < now:
        return [("sell", now, 0.0), ("short", 0.0, target)]
    return [("cover", now, 0.0), ("buy", 0.0, target)]


def _components(signal: Signal, as_of: pd.Timestamp,
                fred: dict[str, pd.Series]) -> dict[str, ComponentReading]:
    """Each selected component on ``as_of``: z-score and contribution, or why it is missing
    (dropped for lack of inputs, or no value that day: naming FRED inputs that ended early)."""
    stale = {sid: s.index[-1] for sid, s in fred.items()
             if len(s) and (as_of - s.index[-1]).days > STALE_AFTER_DAYS}
    contributions = signal.contributions()
    out: dict[str, ComponentReading] = {}
    for name in signal.components.columns:
        z = signal.components.loc[as_of, name]
        if pd.notna(z):
            out[name] = ComponentReading(float(z), signal.weights[name],
                                         float(contributions.loc[as_of, name]), None)
            continue
        last = signal.components[name].loc[:as_of].last_valid_index()
        reason = "too little history" if last is None else f"no value since {last.date()}"
        reads = signal.inputs[name].fred_ids if name in signal.inputs else ()
        ended = [f"FRED {sid} ends {day.date()}" for sid, day in stale.items() if sid in reads]
        out[name] = ComponentReading(None, signal.weights[name], None,
                                     reason + (f" ({', '.join(ended)})" if ended else ""))
    for name, why in signal.dropped.items():
        out[name] = ComponentReading(None, 0.0, None, f"dropped: {why}")
    return out


def now(strategies: Sequence[str], settings: RunSettings, *,
        registry: StrategyRegistry | None = None, holdings: Holdings | None = None,
        progress: Progress | None = None) -> NowReport:
    """The regime and each strategy's target on the last day of the data (every strategy
    the registry knows when ``strategies`` is empty). ``settings`` is a ``RunSettings``:
    universe, data, rebalance schedule, strategies folder, and ``end`` to ask as of an
    earlier day. Strategies that look ahead are refused exactly as by ``run``."""
    from .isolation import StrategyProcess
    from .session import Session
    from .weights import resolve_target_weights

    say = progress or (lambda _msg: None)
    session = Session(settings, registry, say)
    names = list(strategies) or session.registry.names()
    plugins = {n: session.strategy(n) for n in names}      # unknown names fail before loading
    risk_free = session.risk_free                            # so does a bad --risk-free
    market, ctx = session.market, session.ctx
    as_of = market.end
    notes = list(market.warnings)
    decisions: dict[str, Decision] = {}
    for i, (name, strategy) in enumerate(plugins.items(), 1):
        say(f"[{i}/{len(plugins)}] {name}")
        book = session.book(strategy)
        with StrategyProcess(strategy, settings.timeout) as plugin:   # its code runs there
            checked = plugin.weights(session.shared_ctx, session.lookahead, book)
            targets = risk_free.hold_cash(resolve_target_weights(checked.frame, strategy, ctx,
                                                                 book), ctx.prices)
            plugin.check().refuse()                       # the same guard as `run`
        if strategy.holds:
            notes.append(f"{name} buys once and holds (a run trades only its first day): its "
                         "weights are what it would buy if started today")
        target = targets.loc[as_of]
        orders = None
        if holdings is not None:
            orders, valued = orders_for(target, holdings, market.prices, as_of)
            notes += [n for n in valued if n not in notes]
        decisions[name] = Decision(name, {t: float(w) for t, w in target.items() if w != 0},
                                   next_trading_day(as_of), orders)
    signal = ctx.signal
    composite = signal.composite.loc[as_of]
    return NowReport(as_of=as_of, source=market.source, regime=str(signal.regime.loc[as_of]),
                     regime_since=signal.regime_since(as_of),
                     composite=None if pd.isna(composite) else float(composite),
                     components=_components(signal, as_of, market.fred),
                     strategies=decisions, notes=tuple(notes))
