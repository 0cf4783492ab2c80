"""Many target-weight portfolios at once: a numba kernel with the single-run engine's
conventions (``durationbt.engine``: vectorbt ``targetpercent`` of the pre-trade value, sells
first then buys by ascending order value, each buy trimmed to the cash left, fees on the
slipped fill price, costs from cash, no order where the price is missing).

It exists for speed: one vectorbt ``Portfolio.from_orders`` column per combination manages
a few hundred combinations a second; this kernel, tens of thousands. Validated against
``durationbt.engine.simulate`` in the tests (1e-9 relative without costs)."""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd

from ..engine import Costs, close_out_to_cash, execution_schedule
from ..errors import EngineError
from .orders import rebalance
from .prepared import PreparedPrices, prepare_prices
from .sums import segment_values, segment_values_and_carry

__all__ = ["simulate_many", "simulate_stats", "simulate_path", "STATS", "execution_rows"]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _simulate(valuation, by_segment, live, gone, exec_rows, targets, fees, slippage, init_cash,
              keep_equity, risk_free, equity, traded, stats, block_of_day, blocks, carry_rate,
              carry_paid, keep_path, holdings, carry_day, band):
    """Simulate every combination; always fill ``traded``, ``carry_paid`` and the streaming
    ``stats`` (see STATS) and per-block moments of excess returns (return - ``risk_free``
    that day) ``blocks``; fill ``equity`` only if asked, and for the first combination with
    ``keep_path`` the shares held after each rebalance (``holdings``) and each day's carry
    (``carry_day``). ``by_segment``: ``valuation`` laid out by segment between rebalances
    (``prepared.segment_layout``), where the holdings are fixed.

    Carry (``durationbt.book``): each day, before that day's trades, cash pays
    ``carry_rate[j]`` (borrow, or financing for the cash asset) of every short position's
    value at the previous close; a book without shorts does no extra arithmetic.

    The helpers it calls per rebalance or segment are inlined (numba's ``inline="always"``):
    a call passes each array with an atomic reference count up and down, a fifth of the
    kernel's time at 10 assets."""
    n_combos, n_exec, n_assets = targets.shape
    n_days = valuation.shape[0]
    shares = np.zeros(n_assets)
    scratch = np.empty((3, n_assets))
    order = np.empty(n_assets, dtype=np.int64)
    sort_work = np.empty((4, n_assets))
    sum_work = np.empty((4, 64))
    bounds = np.empty(n_exec + 2, dtype=np.int64)   # segment starts: day 0, rebalances, end
    bounds[0] = 0
    bounds[1:n_exec + 1] = exec_rows
    bounds[n_exec + 1] = n_days
    longest = 0
    for s in range(n_exec + 1):
        longest = max(longest, bounds[s + 1] - bounds[s])
    held = np.empty(longest)
    charge = np.zeros(longest)
    weighted = np.empty(n_assets)
    has_carry = False
    for j in range(n_assets):
        if carry_rate[j] > 0.0:
            has_carry = True
    for c in range(n_combos):
        cash = init_cash
        pending = 0.0
        paid = 0.0
        shares[:] = 0.0
        turnover = 0.0
        prev = init_cash
        peak = init_cash
        worst = 0.0
        sum_r = 0.0
        sum_r2 = 0.0
        sum_x = 0.0
        sum_x2 = 0.0
        sum_down2 = 0.0
        sum_equity = 0.0
        for b in range(blocks.shape[1]):
            blocks[c, b, 0] = 0.0
            blocks[c, b, 1] = 0.0
            blocks[c, b, 2] = 0.0
        for s in range(n_exec + 1):
            lo, hi = bounds[s], bounds[s + 1]
            if s > 0:
                r = s - 1
                cash -= pending      # the carry of the day, on the previous close's shorts
                paid += pending
                if keep_path and c == 0:
                    carry_day[lo] = pending
                cash, done = rebalance(valuation[lo], targets[c, r], gone[r], live[lo], shares,
                                        cash, fees, slippage, scratch, order, sort_work, sum_work,
                                        band)
                turnover += done
                if keep_path and c == 0:
                    holdings[r, :] = shares
            m = hi - lo
            shorted = False
            if has_carry:
                for j in range(n_assets):
                    q = shares[j]
                    weighted[j] = -q * carry_rate[j] if q < 0.0 else 0.0
                    if q < 0.0 and carry_rate[j] > 0.0:
                        shorted = True
            if shorted:
                segment_values_and_carry(by_segment, lo * n_assets, m, shares, weighted, held,
                                         charge)
            else:
                segment_values(by_segment, lo * n_assets, m, shares, held)
            for t in range(m):
                i = lo + t
                if shorted and t > 0:
                    cash -= charge[t - 1]
                    paid += charge[t - 1]
                    if keep_path and c == 0:
                        carry_day[i] = charge[t - 1]
                v = held[t] + cash
                if keep_equity:
                    equity[c, i] = v
                sum_equity += v
                if i > 0:
                    ret = v / prev - 1.0
                    sum_r += ret
                    sum_r2 += ret * ret
                    x = ret - risk_free[i]
                    sum_x += x
                    sum_x2 += x * x
                    if x < 0.0:
                        sum_down2 += x * x
                    b = block_of_day[i]
                    blocks[c, b, 0] += 1.0
                    blocks[c, b, 1] += x
                    blocks[c, b, 2] += x * x
                if v > peak:
                    peak = v
                dd = v / peak - 1.0
                if dd < worst:
                    worst = dd
                prev = v
            pending = charge[m - 1] if shorted else 0.0
        traded[c] = turnover
        carry_paid[c] = paid
        stats[c, 0] = sum_r
        stats[c, 1] = sum_r2
        stats[c, 2] = sum_x
        stats[c, 3] = sum_x2
        stats[c, 4] = sum_down2
        stats[c, 5] = worst
        stats[c, 6] = sum_equity / n_days
        stats[c, 7] = prev


def execution_rows(calendar: pd.DatetimeIndex,
                   decisions: pd.DatetimeIndex) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Row numbers in ``calendar`` where each decision trades (the next day), and the
    decision dates that do trade (the last day's decision has no next day)."""
    schedule = execution_schedule(calendar, decisions)
    return calendar.get_indexer(schedule.index).astype(np.int64), pd.DatetimeIndex(schedule.to_numpy())


# r: daily return; x: daily return in excess of the risk-free return; down2: x < 0 only
STATS = ("sum_r", "sum_r2", "sum_x", "sum_x2", "sum_down2", "max_drawdown", "mean_equity",
         "final_equity")


def _prepare(prices: pd.DataFrame | PreparedPrices, targets: np.ndarray, rows: np.ndarray,
             cash: str | None):
    """The kernel's arrays: the prices' (``prepare_prices``, made here unless the caller
    made them once for several calls: ``prices`` may be a ``PreparedPrices`` for ``rows``).
    Targets are passed as they are (no copy when already C-ordered float64 and no
    closed-out weight moves to ``cash``: at 200 assets a chunk of them is hundreds of MB);
    the delisted close-out is a mask the kernel applies."""
    if targets.ndim != 3 or targets.shape[1:] != (len(rows), prices.shape[1]):
        raise EngineError(f"targets must be combos x {len(rows)} x {prices.shape[1]}, "
                          f"got {targets.shape}.")
    if not isinstance(prices, PreparedPrices):
        prices = prepare_prices(prices, rows)
    elif not np.array_equal(prices.rows, rows):
        raise EngineError("the prices were prepared for another execution schedule.")
    return (prices.valuation, prices.by_segment, prices.live, prices.gone, prices.rows,
            np.ascontiguousarray(close_out_to_cash(prices.prices, rows, targets, cash),
                                 dtype=np.float64))


def _block_of_day(days: int, n_blocks: int) -> np.ndarray:
    """Block number of each day's return (day 0 has none), as ``np.array_split`` of the
    ``days - 1`` returns into ``n_blocks`` consecutive blocks."""
    out = np.zeros(days, dtype=np.int64)
    for b, part in enumerate(np.array_split(np.arange(1, days), n_blocks)):
        out[part] = b
    return out


def _carry(carry_rate, n_assets):
    rate = (np.zeros(n_assets) if carry_rate is None
            else np.ascontiguousarray(carry_rate, dtype=np.float64))
    if rate.shape != (n_assets,) or not (np.isfinite(rate).all() and (rate >= 0).all()):
        raise EngineError(f"carry_rate must hold one finite daily rate >= 0 per asset "
                          f"({n_assets}), got {rate}.")
    return rate


def _run(prices, targets, rows, costs, init_cash, keep_equity, n_blocks, risk_free=None,
         cash=None, carry_rate=None, keep_path=False, band=0.0):
    valuation, by_segment, live, gone, rows, targets = _prepare(prices, targets, rows, cash)
    costs = costs or Costs()
    n, days = targets.shape[0], len(prices)
    rf = (np.zeros(days) if risk_free is None
          else np.ascontiguousarray(risk_free, dtype=np.float64))
    if rf.shape != (days,):
        raise EngineError(f"risk_free must hold one return per day ({days}), got {rf.shape}.")
    rate = _carry(carry_rate, prices.shape[1])
    equity = np.empty((n, days) if keep_equity else (1, 1))
    traded = np.empty(n)
    paid = np.empty(n)
    stats = np.empty((n, len(STATS)))
    blocks = np.empty((n, n_blocks, 3))
    holdings = np.zeros((len(rows), prices.shape[1]) if keep_path else (1, 1))
    carry_day = np.zeros(days if keep_path else 1)
    _simulate(valuation, by_segment, live, gone, rows, targets, costs.fees, costs.slippage, float(init_cash),
              keep_equity, rf, equity, traded, stats, _block_of_day(days, n_blocks), blocks,
              rate, paid, keep_path, holdings, carry_day, float(band))
    return equity, traded, stats, blocks, paid, holdings, carry_day


def simulate_many(prices: pd.DataFrame | PreparedPrices, targets: np.ndarray, rows: np.ndarray, *,
                  costs: Costs | None = None, init_cash: float = 1_000_000.0,
                  cash: str | None = None, carry_rate: np.ndarray | None = None,
                  band: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Daily equity (combos x days) and traded notional per combination. ``targets`` holds
    the weights traded on each execution row: combos x len(rows) x assets (prices' columns).
    ``prices``: the frame, or a ``PreparedPrices`` made once for several calls over it.
    ``cash``: the cash asset, as in ``engine.simulate``; ``carry_rate``: each asset's daily
    borrow (or financing) rate on a short in it; ``band``: the rebalance band
    (``orders.rebalance``)."""
    equity, traded, *_ = _run(prices, targets, rows, costs, init_cash, True, 1, cash=cash,
                              carry_rate=carry_rate, band=band)
    return equity, traded


def simulate_path(prices: pd.DataFrame | PreparedPrices, targets: np.ndarray, rows: np.ndarray, *,
                  costs: Costs | None = None, init_cash: float = 1_000_000.0,
                  cash: str | None = None, carry_rate: np.ndarray | None = None,
                  band: float = 0.0):
    """One portfolio in full (the single-run engine of long/short books): daily equity,
    the shares held after each execution row (executions x assets) and each day's carry
    paid. ``targets``: executions x assets."""
    equity, _, _, _, _, holdings, carry_day = _run(prices, targets[None], rows, costs, init_cash,
                                                   True, 1, cash=cash, carry_rate=carry_rate,
                                                   keep_path=True, band=band)
    return equity[0], holdings, carry_day


def simulate_stats(prices: pd.DataFrame | PreparedPrices, targets: np.ndarray, rows: np.ndarray, *,
                   costs: Costs | None = None, init_cash: float = 1_000_000.0,
                   n_blocks: int = 16, keep_equity: bool = False,
                   risk_free: np.ndarray | None = None, cash: str | None = None,
                   carry_rate: np.ndarray | None = None, band: float = 0.0):
    """The sweep's call: traded notional, the streaming statistics STATS (combos x 8) and
    excess-return moments per block (combos x n_blocks x 3: count, sum, sum of squares),
    and the daily equity only with ``keep_equity`` (else None): memory O(combos), not
    O(combos x days). ``risk_free``: one daily return per day of ``prices`` (None: 0);
    ``cash``: the cash asset, as in ``engine.simulate``; ``carry_rate`` and ``band`` as in
    ``simulate_many``."""
    equity, traded, stats, blocks, *_ = _run(prices, targets, rows, costs, init_cash,
                                             keep_equity, n_blocks, risk_free, cash, carry_rate,
                                             band=band)
    return (equity if keep_equity else None), traded, stats, blocks
