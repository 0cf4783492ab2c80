"""Books with shorts or net leverage: the simulation every command uses to turn targets
into a path (``simulate_book``), vectorbt for long-only books and the numba kernel for the
rest.

What vectorbt 1.2 does with shorts (checked in tests/test_longshort.py): with
``direction="both"`` a negative ``targetpercent`` is a short of that fraction of the
pre-trade value; a short sale fills at close x (1 - slippage) and its proceeds, less fees,
go to cash (``lock_cash=False``, the default, so they fund the buys of the same
rebalance); a cover is a buy, trimmed to the cash left like any buy; value is cash plus
signed positions. That is durationbt's convention, and the kernel equals it to 1e-9.
What vectorbt cannot do: pay a borrow fee or a financing spread each day. ``from_orders``
has no per-day cash flow, and ``from_order_func`` (where a callback could debit cash)
compiles its simulator anew in every process (it is not cached). So a book that shorts is
simulated by the sweep kernel (``sweep.kernel.simulate_path``), which charges the carry
before each day's trades; long-only books stay on vectorbt, their numbers unchanged."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .book import Book
from .engine import (
    CARRY_COLUMNS,
    DEFAULT_INIT_CASH,
    ORDER_COLUMNS,
    Costs,
    EngineResult,
    check_init_cash,
    check_prices_to_trade,
    close_out_delisted,
    close_out_to_cash,
    execution_schedule,
    import_vectorbt,
    simulate,
    valuation_prices,
)
from .errors import EngineError

__all__ = ["simulate_book", "simulate_long_short", "on_kernel", "carry_rates", "fills"]


def carry_rates(tickers: list[str], book: Book, cash_ticker: str | None) -> np.ndarray:
    """Each asset's daily carry rate on a short in it: borrow, or financing for the cash
    asset (a short there is the loan of net leverage)."""
    rate = np.full(len(tickers), book.borrow_rate)
    if cash_ticker in tickers:
        rate[tickers.index(cash_ticker)] = book.financing_rate
    return rate


def on_kernel(targets: pd.DataFrame, book: Book) -> bool:
    """True when ``targets`` need the kernel: a short (or a leverage loan) or a band."""
    return book.band > 0 or bool((np.nan_to_num(targets.to_numpy(dtype=float)) < 0).any())


def simulate_book(prices: pd.DataFrame, targets: pd.DataFrame, *, costs: Costs | None = None,
                  init_cash: float = DEFAULT_INIT_CASH, book: Book | None = None,
                  cash_ticker: str | None = None) -> EngineResult:
    """The path of ``targets``: vectorbt (``engine.simulate``) when every target is >= 0
    and no rebalance band is set, the kernel below otherwise (a band decides per asset on
    the held weight at the execution, which vectorbt's orders cannot)."""
    costs = costs or Costs()
    book = book or Book(allow_short=True)
    if not on_kernel(targets, book):
        return simulate(prices, targets, costs=costs, init_cash=init_cash, cash=cash_ticker)
    return simulate_long_short(prices, targets, costs=costs, init_cash=init_cash, book=book,
                               cash_ticker=cash_ticker)


def simulate_long_short(prices: pd.DataFrame, targets: pd.DataFrame, *, costs: Costs,
                        init_cash: float, book: Book, cash_ticker: str | None) -> EngineResult:
    """``engine.simulate``'s conventions with shorts, borrow and financing (see the module
    docstring), on the kernel."""
    # ``api.run_backtest`` imports vectorbt (and numba with it) in a thread meanwhile: a
    # second import of numba racing it fails half-initialised, so wait for that one first
    import_vectorbt()
    from .sweep.kernel import simulate_path

    check_init_cash(init_cash)
    tickers = list(targets.columns)
    close = prices[tickers]
    targets = targets if targets.index.is_monotonic_increasing else targets.sort_index()
    schedule = execution_schedule(pd.DatetimeIndex(close.index), pd.DatetimeIndex(targets.index))
    executed = targets.loc[schedule.to_numpy()].set_axis(schedule.index)
    rows = close.index.get_indexer(executed.index)
    # a position closed out because its data ended: its weight goes to the cash asset
    moved = close_out_to_cash(close, rows, executed.to_numpy(dtype=float), cash_ticker)
    array = close_out_delisted(close, rows, moved)
    check_prices_to_trade(close, rows, array)
    rates = carry_rates(tickers, book, cash_ticker)
    equity, holdings, carry_day = simulate_path(close, np.ascontiguousarray(array), rows,
                                                costs=costs, init_cash=init_cash, carry_rate=rates,
                                                band=book.band)
    if (equity <= 0).any():
        day = close.index[int(np.argmax(equity <= 0))]
        raise EngineError(f"The book lost all its capital on {day.date()} (equity "
                          f"{equity[equity <= 0][0]:,.0f} of {init_cash:,.0f}): its shorts or "
                          "leverage lost more than it had, and no return after that day means "
                          "anything. Size the legs down (--max-gross), rebalance more often, "
                          "or start later.")
    valuation = valuation_prices(close)
    prices_now = valuation.to_numpy(dtype=np.float64)
    # the shares held each day: none before the first execution, then those after the last
    # execution on or before the day (the kernel's holdings are always numbers)
    since = np.searchsorted(rows, np.arange(len(close)), side="right")
    positions = np.vstack([np.zeros((1, len(tickers))), holdings])[since]
    equity_s = pd.Series(equity, index=close.index, name="equity")
    financing = np.zeros(len(close))
    if cash_ticker in tickers:
        j = tickers.index(cash_ticker)
        loan = np.maximum(-positions[:-1, j], 0.0) * prices_now[:-1, j]
        financing[1:] = np.where(carry_day[1:] > 0, loan * book.financing_rate, 0.0)
    carry = pd.DataFrame({"borrow": carry_day - financing, "financing": financing},
                         index=close.index, columns=list(CARRY_COLUMNS))
    asset_value = np.multiply(positions, prices_now, out=positions)
    log = fills(holdings, rows, valuation, costs)
    day = close.index.get_indexer(pd.DatetimeIndex(log["date"]))
    traded = np.bincount(day, weights=log["notional"].to_numpy(), minlength=len(close))
    paid = np.bincount(day, weights=(log["fees"] + log["slippage"]).to_numpy(),
                       minlength=len(close))
    cash = (equity_s - asset_value.sum(axis=1)).rename("cash")
    with np.errstate(divide="ignore", invalid="ignore"):
        weights = np.divide(asset_value, equity[:, None], out=asset_value)
    return EngineResult(
        equity=equity_s,
        weights=pd.DataFrame(weights, index=close.index, columns=tickers, copy=False),
        cash=cash,
        traded=pd.Series(traded, index=close.index, name="traded"),
        costs_paid=pd.Series(paid, index=close.index, name="costs"),
        orders=int(len(log)), targets=pd.DataFrame(array, index=executed.index, columns=tickers),
        order_log=log, carry=carry)


def fills(holdings: np.ndarray, rows: np.ndarray, valuation: pd.DataFrame,
          costs: Costs) -> pd.DataFrame:
    """The order log (``engine.ORDER_COLUMNS``) from the shares held after each execution
    row: a buy or cover fills at close x (1 + slippage), a sell or short at close x
    (1 - slippage), fees on the fill. A trade through zero (long to short, or back) is two
    rows, a sell and a short (a cover and a buy), costs split by quantity. Rows by
    execution, then asset, then the two parts in that order."""
    before = np.vstack([np.zeros((1, holdings.shape[1])), holdings[:-1]])
    change = holdings - before
    r, j = np.nonzero(change)
    if not len(r):
        return pd.DataFrame([], columns=list(ORDER_COLUMNS))
    q, was = change[r, j], before[r, j]
    price = valuation.to_numpy()[rows[r], j]
    buy = q > 0
    fill = np.where(buy, price * (1 + costs.slippage), price * (1 - costs.slippage))
    # the part that closes what was held (cover or sell) first, then the part that opens
    first = np.where(buy, np.minimum(q, np.maximum(-was, 0.0)),
                     np.minimum(-q, np.maximum(was, 0.0)))
    quantity = np.column_stack([first, np.where(buy, q, -q) - first]).ravel()
    side = np.column_stack([np.where(buy, "cover", "sell"), np.where(buy, "buy", "short")]).ravel()
    keep = quantity > 0
    quantity = quantity[keep]
    at = np.repeat(np.arange(len(r)), 2)[keep]
    fill = fill[at]
    notional = quantity * fill
    return pd.DataFrame({
        "date": valuation.index[rows[r[at]]], "ticker": valuation.columns[j[at]],
        "side": side[keep], "quantity": quantity, "price": fill, "notional": notional,
        "fees": notional * costs.fees, "slippage": np.abs(fill - price[at]) * quantity,
    }, columns=list(ORDER_COLUMNS))
