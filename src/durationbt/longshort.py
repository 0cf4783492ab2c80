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
    prices_now = valuation.to_numpy()
    positions = np.full(prices_now.shape, np.nan)
    positions[0] = 0.0
    positions[rows] = holdings
    positions = pd.DataFrame(positions, index=close.index, columns=tickers).ffill().to_numpy()
    asset_value = positions * prices_now
    equity_s = pd.Series(equity, index=close.index, name="equity")
    financing = np.zeros(len(close))
    if cash_ticker in tickers:
        j = tickers.index(cash_ticker)
        loan = np.maximum(-positions[:-1, j], 0.0) * prices_now[:-1, j]
        financing[1:] = np.where(carry_day[1:] > 0, loan * book.financing_rate, 0.0)
    carry = pd.DataFrame({"borrow": carry_day - financing, "financing": financing},
                         index=close.index, columns=list(CARRY_COLUMNS))
    log = fills(holdings, rows, valuation, costs)
    day = close.index.get_indexer(pd.DatetimeIndex(log["date"]))
    traded = np.bincount(day, weights=log["notional"].to_numpy(), minlength=len(close))
    paid = np.bincount(day, weights=(log["fees"] + log["slippage"]).to_numpy(),
                       minlength=len(close))
    return EngineResult(
        equity=equity_s,
        weights=pd.DataFrame(asset_value, index=close.index, columns=tickers).div(equity_s, axis=0),
        cash=(equity_s - asset_value.sum(axis=1)).rename("cash"),
        traded=pd.Series(traded, index=close.index, name="traded"),
        costs_paid=pd.Series(paid, index=close.index, name="costs"),
        orders=int(len(log)), targets=pd.DataFrame(array, index=executed.index, columns=tickers),
        order_log=log, carry=carry)


def fills(holdings: np.ndarray, rows: np.ndarray, valuation: pd.DataFrame,
          costs: Costs) -> pd.DataFrame:
    """The order log (``engine.ORDER_COLUMNS``) from the shares held after each execution
    row: a buy or cover fills at close x (1 + slippage), a sell or short at close x
    (1 - slippage), fees on the fill. A trade through zero (long to short, or back) is two
    rows, a sell and a short (a cover and a buy), costs split by quantity."""
    before = np.vstack([np.zeros((1, holdings.shape[1])), holdings[:-1]])
    change = holdings - before
    out: list[tuple] = []
    close = valuation.to_numpy()
    for r, j in zip(*np.nonzero(change), strict=True):
        q, was = change[r, j], before[r, j]
        price = close[rows[r], j]
        fill = price * (1 + costs.slippage if q > 0 else 1 - costs.slippage)
        if q > 0:
            first = min(q, max(-was, 0.0))          # covering a short first
            parts = (("cover", first), ("buy", q - first))
        else:
            first = min(-q, max(was, 0.0))          # selling a long first
            parts = (("sell", first), ("short", -q - first))
        for side, quantity in parts:
            if quantity > 0:
                out.append((valuation.index[rows[r]], valuation.columns[j], side, quantity, fill,
                            quantity * fill, quantity * fill * costs.fees,
                            abs(fill - price) * quantity))
    frame = pd.DataFrame(out, columns=list(ORDER_COLUMNS))
    return frame.sort_values(["date"], kind="stable").reset_index(drop=True)
