"""Target weights -> a vectorbt portfolio, with the timing and cost conventions durationbt
promises:

* decisions on the close of day t trade at the close of the next trading day t+1;
* between rebalances positions drift; weight the targets leave uninvested is cash earning
  nothing here (runs first place it in the cash asset, see ``durationbt.riskfree``);
* an asset whose data end (delisted, a stale feed) is held at its last price until the
  next execution and sold there, with costs; the weight it was still targeted (a decision
  made on its last day, before its end was known) goes to the cash asset at that same
  execution, so the proceeds earn bills rather than sitting a period as idle cash;
* fees (bps of traded notional) and slippage (bps on the fill price: buys pay more, sells
  receive less) are on by default;
* targets are fractions of the portfolio's value at t+1's close *before* the rebalance
  (vectorbt's ``targetpercent``). Sells run before buys; costs are paid from cash, so a
  fully invested target leaves the last buy slightly short by the rebalance's costs, and
  that sliver stays in cash until the next rebalance.

vectorbt silently skips orders whose price is NaN; the engine refuses to hand it one.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from types import ModuleType

import numpy as np
import pandas as pd

from .errors import EngineError
from .sandbox import importing

__all__ = ["Costs", "EngineResult", "simulate", "execution_schedule", "check_prices_to_trade",
           "valuation_prices", "delisted", "fillable", "close_out_delisted", "close_out_to_cash",
           "check_init_cash", "import_vectorbt", "order_log", "ORDER_COLUMNS", "DEFAULT_INIT_CASH",
           "CARRY_COLUMNS"]

DEFAULT_INIT_CASH = 1_000_000.0
CARRY_COLUMNS = ("borrow", "financing")


@dataclass(frozen=True)
class Costs:
    """Trading costs in basis points: fees on traded notional, slippage on the fill price."""

    fees_bps: float = 10.0
    slippage_bps: float = 5.0

    def __post_init__(self) -> None:
        for name in ("fees_bps", "slippage_bps"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0 or value >= 10_000:
                raise EngineError(f"--{name.replace('_', '-')} must be a number in [0, 10000), "
                                  f"got {value}.")

    @property
    def fees(self) -> float:
        return self.fees_bps / 10_000

    @property
    def slippage(self) -> float:
        return self.slippage_bps / 10_000


@dataclass(frozen=True)
class EngineResult:
    """The simulated path. ``weights`` are end-of-day weights after that day's trades."""

    equity: pd.Series           # portfolio value at each close
    weights: pd.DataFrame       # date x ticker, fraction of equity at each close
    cash: pd.Series             # uninvested cash at each close
    traded: pd.Series           # traded notional at each close (fills x price, both sides)
    costs_paid: pd.Series       # fees + slippage paid at each close, in currency
    orders: int                 # number of filled orders
    targets: pd.DataFrame       # execution date x ticker, the weights that were traded
    order_log: pd.DataFrame     # one row per fill: ORDER_COLUMNS (see ``order_log``)
    # borrow and financing paid each day (``durationbt.book``); None: a long-only book
    carry: pd.DataFrame | None = None

    def carry_paid(self) -> pd.DataFrame:
        """Daily borrow and financing paid, in currency (zeros for a long-only book)."""
        if self.carry is not None:
            return self.carry
        return pd.DataFrame(0.0, index=self.equity.index, columns=list(CARRY_COLUMNS))


_vectorbt_lock = threading.Lock()


def import_vectorbt() -> ModuleType:
    """``import vectorbt`` without its optional quantstats adapter, which durationbt does
    not use and which pulls in quantstats, matplotlib and seaborn (about a third of the
    import). quantstats stays importable afterwards for whoever needs it (the tearsheet)."""
    with _vectorbt_lock, importing():    # no sandbox child is forked mid-import
        if "vectorbt" in sys.modules:
            return sys.modules["vectorbt"]
        hide = "quantstats" not in sys.modules
        if hide:
            sys.modules["quantstats"] = None  # type: ignore[assignment]  # -> ImportError
        try:
            import vectorbt
        finally:
            if hide and sys.modules.get("quantstats", 0) is None:
                del sys.modules["quantstats"]
        return vectorbt


def check_init_cash(init_cash: float) -> None:
    """Capital between 1 and 1e15: below a unit, share quantities and costs underflow; above,
    float precision of the cash balance is gone."""
    if not np.isfinite(init_cash) or not 1.0 <= init_cash <= 1e15:
        raise EngineError(f"--init-cash must be a number between 1 and 1e15, got {init_cash:g}.")


def execution_schedule(calendar: pd.DatetimeIndex, decisions: pd.DatetimeIndex) -> pd.Series:
    """Map each decision date to the next trading day; the last day's decision has no next
    day and is dropped. Returns a Series execution date -> decision date."""
    if decisions.has_duplicates:
        raise EngineError(f"Decision date {decisions[decisions.duplicated()][0].date()} appears "
                          "more than once in the targets; give each date one row.")
    positions = calendar.get_indexer(decisions)
    if (positions < 0).any():
        bad = decisions[positions < 0][0]
        raise EngineError(f"Decision date {bad.date()} is not a trading day of the calendar.")
    nxt = positions + 1
    keep = nxt < len(calendar)
    return pd.Series(decisions[keep], index=calendar[nxt[keep]], name="decided")


def _last_priced(close: pd.DataFrame) -> np.ndarray:
    """Each asset's last priced row; ``len(close)`` for an asset never priced (never
    delisted). Only the assets unpriced on the last day are searched (usually none)."""
    values = close.to_numpy(dtype=np.float64)
    n = len(values)
    last = np.full(values.shape[1], n - 1)
    ended = np.flatnonzero(np.isnan(values[-1])) if n else last[:0]
    if len(ended):
        priced = ~np.isnan(values[:, ended])
        last[ended] = np.where(priced.any(axis=0), n - 1 - np.argmax(priced[::-1], axis=0), n)
    return last


def _delisted_at(close: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """``delisted(close)`` on ``rows`` only (rows x assets)."""
    return np.asarray(rows)[:, None] > _last_priced(close)[None, :]


def _fillable_at(close: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """``fillable(close)`` on ``rows`` only (rows x assets)."""
    return ~np.isnan(close.to_numpy(dtype=np.float64)[rows]) | _delisted_at(close, rows)


def delisted(close: pd.DataFrame) -> pd.DataFrame:
    """True after an asset's last price: its data stopped (a delisting or a stale feed).
    A hole with prices after it is not a delisting (and stays an error to trade in)."""
    return pd.DataFrame(_delisted_at(close, np.arange(len(close))), index=close.index,
                        columns=close.columns)


def fillable(close: pd.DataFrame) -> pd.DataFrame:
    """Where an order can fill: on a price, or after the asset's last price, where a
    position left over is sold at that last price."""
    out = ~np.isnan(close.to_numpy(dtype=np.float64))
    out |= np.arange(len(close))[:, None] > _last_priced(close)[None, :]
    return pd.DataFrame(out, index=close.index, columns=close.columns, copy=False)


def close_out_delisted(close: pd.DataFrame, rows: np.ndarray, executed: np.ndarray) -> np.ndarray:
    """``executed`` (executions x assets, or combos x executions x assets) with a zero
    target for every asset whose data ended before the execution row: a position in it was
    held at its last price since and is sold now, with costs, at that price."""
    return np.where(_delisted_at(close, rows), 0.0, executed)


def close_out_to_cash(close: pd.DataFrame, rows: np.ndarray, executed: np.ndarray,
                      cash: str | None) -> np.ndarray:
    """``executed`` (executions x assets, or combos x executions x assets) with the weight
    targeted in each asset closed out on an execution row (``close_out_delisted``) added to
    the ``cash`` asset on that row when it is priced there: a decision made on an asset's
    last day still holds it, and its proceeds go to bills at once, as a decision made after
    the end would have put them. The same array when nothing moves (the usual case: a
    monthly schedule rarely decides on an asset's last day), a new one otherwise."""
    if cash is None or cash not in close.columns:
        return executed
    freed = np.where(_delisted_at(close, rows), np.nan_to_num(executed), 0.0).sum(axis=-1)
    priced = close[cash].notna().to_numpy()[rows]
    moved = np.where(priced, freed, 0.0)
    if not moved.any():
        return executed
    out = np.array(executed, dtype=np.float64, copy=True)
    out[..., close.columns.get_loc(cash)] += moved
    return out


def check_prices_to_trade(close: pd.DataFrame, rows: np.ndarray, executed: np.ndarray) -> None:
    """Refuse a missing price on an execution row (``rows`` of ``close``) for an asset
    targeted then or at an earlier rebalance, i.e. possibly held, unless its data ended
    (then it is sold at its last price): vectorbt would skip the order silently.
    ``executed``: executions x assets, or combos x executions x assets."""
    held = np.maximum.accumulate(np.nan_to_num(executed) != 0, axis=-2)
    if held.ndim == 3:
        held = held.any(axis=0)
    missing = ~_fillable_at(close, rows) & held
    if missing.any():
        row, col = np.argwhere(missing)[0]
        raise EngineError(f"No price for {close.columns[col]} on {close.index[rows[row]].date()}, a "
                          "day the portfolio must trade it (vectorbt would skip the order "
                          "silently). Check the data for a gap or a delisting.")


def valuation_prices(close: pd.DataFrame) -> pd.DataFrame:
    """Prices that value every position: the last close carried forward after an asset's
    data end (a position is worth its last price until it is sold), back-filled before its
    listing (a zero position must not value as NaN), and 1 for an asset never priced in
    the window (never held). ``close`` itself when it has no hole (nothing mutates it)."""
    values = close.to_numpy(dtype=np.float64)
    if not np.isnan(values).any():
        return close
    from .fills import filled_for_valuation

    return pd.DataFrame(filled_for_valuation(values), index=close.index, columns=close.columns,
                        copy=False)


def simulate(prices: pd.DataFrame, targets: pd.DataFrame, *, costs: Costs = Costs(),
             init_cash: float = DEFAULT_INIT_CASH, cash: str | None = None) -> EngineResult:
    """Run ``targets`` (decision date x ticker) over ``prices`` (date x ticker, the backtest's
    calendar from its first to its last day) with vectorbt's ``Portfolio.from_orders``.
    ``cash``: the cash asset, which takes the weight of a position closed out because its
    data ended (``close_out_to_cash``); None leaves that weight as cash earning nothing.

    vectorbt simulates the execution rows only: on any other day no order is given and
    nothing it tracks changes, but its automatic call sequence still insertion-sorts every
    asset's (NaN) order value, quadratic in the assets: 13 of 15 s at 2,000 assets x 10
    years. The daily path is then vectorbt's own accounting (``_accounts``), so every number
    is the one a full-calendar run gives, bit for bit (tests/test_engine_rows.py)."""
    vbt = import_vectorbt()  # heavy: imported only when a backtest runs

    check_init_cash(init_cash)
    tickers = list(targets.columns)
    close = prices if list(prices.columns) == tickers else prices[tickers]
    targets = targets if targets.index.is_monotonic_increasing else targets.sort_index()
    schedule = execution_schedule(pd.DatetimeIndex(close.index), pd.DatetimeIndex(targets.index))
    executed = targets.loc[schedule.to_numpy()].set_axis(schedule.index)

    rows = close.index.get_indexer(executed.index)
    moved = close_out_to_cash(close, rows, executed.to_numpy(), cash)
    executed = pd.DataFrame(close_out_delisted(close, rows, moved),
                            index=executed.index, columns=tickers)
    check_prices_to_trade(close, rows, executed.to_numpy())
    # an asset that is not listed yet is neither held nor traded: no order at all, and a
    # back-filled valuation price so that its zero position does not turn the value into NaN
    size = np.where(_fillable_at(close, rows), executed.to_numpy(dtype=np.float64), np.nan)
    valuation = valuation_prices(close)
    marks = valuation.to_numpy(dtype=np.float64)

    pf = vbt.Portfolio.from_orders(
        close=marks[rows], size=size, size_type="targetpercent", direction="longonly",
        fees=costs.fees, slippage=costs.slippage, init_cash=init_cash,
        cash_sharing=True, group_by=True, call_seq="auto", freq="1D", engine="numba",
    )
    records = pf.order_records        # vectorbt's own array: pf is dropped here
    equity, cash_now, asset_value = _accounts(vbt, records, rows, marks, init_cash)
    records["idx"] = rows[records["idx"]]
    idx = records["idx"]
    notional = records["size"] * records["price"]
    traded = pd.Series(np.bincount(idx, weights=notional, minlength=len(close)),
                       index=close.index, name="traded")
    # slippage is already inside the fill price; its cost is the gap to the close
    slip_cost = np.abs(records["price"] - marks[idx, records["col"]]) * records["size"]
    paid = pd.Series(np.bincount(idx, weights=records["fees"] + slip_cost, minlength=len(close)),
                     index=close.index, name="costs")
    with np.errstate(divide="ignore", invalid="ignore"):
        weights = np.divide(asset_value, equity[:, None], out=asset_value)
    return EngineResult(equity=pd.Series(equity, index=close.index, name="equity"),
                        weights=pd.DataFrame(weights, index=close.index, columns=close.columns,
                                             copy=False),
                        cash=pd.Series(cash_now, index=close.index, name="cash"),
                        traded=traded, costs_paid=paid, orders=int(len(records)),
                        targets=executed, order_log=order_log(records, valuation))


def _accounts(vbt: ModuleType, records: np.ndarray, rows: np.ndarray, valuation: np.ndarray,
              init_cash: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Daily equity, cash and asset value per asset (days x assets) from the order
    ``records`` of a simulation over the execution ``rows`` of ``valuation``, computed by
    vectorbt's own functions (those behind ``Portfolio.value``, ``cash``, ``asset_value``),
    so that each equals its full-calendar value bit for bit. They run on a short grid: a
    zero row, each execution row, and the day after it where that is not an execution row
    (vectorbt adds each day's zero flow to a position, which rounds a dust position to 0
    there and nowhere else); every other day repeats the row before it."""
    nb = vbt.portfolio.nb
    n_days, n_assets = valuation.shape
    rows = np.asarray(rows, dtype=np.int64)
    gap = np.append(rows[1:] - rows[:-1] > 1, rows[-1:] + 1 < n_days).astype(np.int64)
    at = 1 + np.arange(len(rows)) + np.cumsum(gap) - gap      # grid row of each execution
    grid = np.zeros(n_days, dtype=np.int64)
    last = np.searchsorted(rows, np.arange(n_days), side="right") - 1
    seen = last >= 0
    grid[seen] = at[last[seen]] + (rows[last[seen]] != np.arange(n_days)[seen])
    shape = (1 + len(rows) + int(gap.sum()), n_assets)
    records = records.copy()
    records["idx"] = at[records["idx"]]
    col_map = vbt.records.nb.col_map_nb(records["col"], n_assets)
    groups = np.array([n_assets])
    assets = nb.assets_nb(nb.asset_flow_nb(shape, records, col_map,
                                           vbt.portfolio.enums.Direction.Both))
    flows = nb.cash_flow_grouped_nb(nb.cash_flow_nb(shape, records, col_map, False), groups)
    daily_flow = np.zeros((n_days, 1))
    daily_flow[rows, 0] = flows[at, 0]
    cash = nb.cash_grouped_nb((n_days, n_assets), daily_flow, groups, np.array([init_cash]))[:, 0]
    asset_value = assets[grid]
    np.multiply(asset_value, valuation, out=asset_value, where=asset_value != 0)
    equity = cash + nb.asset_value_grouped_nb(asset_value, groups)[:, 0]
    return equity, cash, asset_value


ORDER_COLUMNS = ("date", "ticker", "side", "quantity", "price", "notional", "fees", "slippage")


def order_log(records: np.ndarray, close: pd.DataFrame) -> pd.DataFrame:
    """Every fill of vectorbt's order ``records`` (fields idx, col, size, price, fees, side)
    against ``close`` (the valuation prices they traded at): ``price`` is the fill, slippage
    included; ``notional`` quantity x price; ``fees`` and ``slippage`` in currency, the
    latter |fill - close| x quantity. Fees plus slippage add up to ``costs_paid``."""
    idx, col = records["idx"], records["col"]
    quantity = records["size"]
    fill = records["price"]
    return pd.DataFrame({
        "date": close.index[idx], "ticker": close.columns[col],
        "side": np.where(records["side"] == 0, "buy", "sell"),
        "quantity": quantity, "price": fill, "notional": quantity * fill,
        "fees": records["fees"],
        "slippage": np.abs(fill - close.to_numpy()[idx, col]) * quantity,
    }, columns=list(ORDER_COLUMNS))
