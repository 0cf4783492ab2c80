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

from ..engine import Costs, close_out_delisted, execution_schedule, fillable, valuation_prices
from ..errors import EngineError

__all__ = ["simulate_many", "simulate_stats", "STATS", "execution_rows"]


@numba.njit(cache=True)
def _block_sum(a, lo, n):
    """numpy's pairwise-summation leaf (n <= 128): eight running sums, then the rest."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    stop = n - n % 8
    while i < stop:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@numba.njit(cache=True)
def _pairwise_sum(a, n):
    """``np.sum(a[:n])`` bit for bit (numpy's pairwise summation): the portfolio value
    decides which buy is trimmed at a fully invested rebalance, so it must round exactly as
    vectorbt's does. Iterative post-order walk: numba's cache cannot hold recursive code."""
    if n <= 128:
        return _block_sum(a, 0, n)
    los = np.empty(64, dtype=np.int64)
    sizes = np.empty(64, dtype=np.int64)
    states = np.zeros(64, dtype=np.int64)
    values = np.empty(64)
    depth, filled = 0, 0
    los[0], sizes[0], states[0] = 0, n, 0
    while depth >= 0:
        lo, size = los[depth], sizes[depth]
        half = size // 2
        half -= half % 8
        if size <= 128:
            values[filled] = _block_sum(a, lo, size)
            filled += 1
            depth -= 1
        elif states[depth] == 0:
            states[depth] = 1
            depth += 1
            los[depth], sizes[depth], states[depth] = lo, half, 0
        elif states[depth] == 1:
            states[depth] = 2
            depth += 1
            los[depth], sizes[depth], states[depth] = lo + half, size - half, 0
        else:
            filled -= 1
            values[filled - 1] = values[filled - 1] + values[filled]
            depth -= 1
    return values[0]


@numba.njit(cache=True, nogil=True)
def _simulate(valuation, live, exec_rows, targets, fees, slippage, init_cash, keep_equity,
              risk_free, equity, traded, stats, block_of_day, blocks):
    """Simulate every combination; always fill ``traded`` and the streaming ``stats`` (see
    STATS) and per-block moments of excess returns (return - ``risk_free`` that day)
    ``blocks``; fill ``equity`` only if asked."""
    n_combos, n_exec, n_assets = targets.shape
    n_days = valuation.shape[0]
    shares = np.zeros(n_assets)
    delta = np.zeros(n_assets)
    order_value = np.zeros(n_assets)
    holding = np.zeros(n_assets)
    buy_unit = 1.0 + slippage
    sell_unit = 1.0 - slippage
    for c in range(n_combos):
        cash = init_cash
        shares[:] = 0.0
        turnover = 0.0
        r = 0
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
        for i in range(n_days):
            if r < n_exec and exec_rows[r] == i:
                for j in range(n_assets):
                    holding[j] = shares[j] * valuation[i, j]
                value = cash + _pairwise_sum(holding, n_assets)
                for j in range(n_assets):
                    w = targets[c, r, j]
                    if live[i, j] and w == w:
                        delta[j] = w * value / valuation[i, j] - shares[j]
                        # vectorbt's approximate order value, sorted stably (insertion sort)
                        order_value[j] = w * value - shares[j] * valuation[i, j]
                    else:
                        delta[j] = 0.0
                        order_value[j] = np.nan
                order = np.argsort(order_value, kind="mergesort")
                for k in range(n_assets):
                    j = order[k]
                    d = delta[j]
                    p = valuation[i, j]
                    if d < 0.0:
                        fill = p * sell_unit
                        cash += -d * fill * (1.0 - fees)
                        shares[j] += d
                        turnover += -d * fill
                    elif d > 0.0:
                        fill = p * buy_unit
                        unit = fill * (1.0 + fees)
                        if d * unit > cash:
                            d = cash / unit if cash > 0.0 else 0.0
                        cash -= d * unit
                        shares[j] += d
                        turnover += d * fill
                r += 1
            v = 0.0  # daily value: plain sum (only rebalance-day values decide trades)
            for j in range(n_assets):
                v += shares[j] * valuation[i, j]
            v += cash
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
        traded[c] = turnover
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


def _prepare(prices: pd.DataFrame, targets: np.ndarray, rows: np.ndarray):
    if targets.ndim != 3 or targets.shape[1:] != (len(rows), prices.shape[1]):
        raise EngineError(f"targets must be combos x {len(rows)} x {prices.shape[1]}, "
                          f"got {targets.shape}.")
    valuation = valuation_prices(prices).to_numpy(dtype=np.float64)
    targets = close_out_delisted(prices, rows, targets)
    return (np.ascontiguousarray(valuation), np.ascontiguousarray(fillable(prices).to_numpy()),
            np.ascontiguousarray(rows, dtype=np.int64),
            np.ascontiguousarray(targets, dtype=np.float64))


def _block_of_day(days: int, n_blocks: int) -> np.ndarray:
    """Block number of each day's return (day 0 has none), as ``np.array_split`` of the
    ``days - 1`` returns into ``n_blocks`` consecutive blocks."""
    out = np.zeros(days, dtype=np.int64)
    for b, part in enumerate(np.array_split(np.arange(1, days), n_blocks)):
        out[part] = b
    return out


def _run(prices, targets, rows, costs, init_cash, keep_equity, n_blocks, risk_free=None):
    valuation, live, rows, targets = _prepare(prices, targets, rows)
    costs = costs or Costs()
    n, days = targets.shape[0], len(prices)
    rf = (np.zeros(days) if risk_free is None
          else np.ascontiguousarray(risk_free, dtype=np.float64))
    if rf.shape != (days,):
        raise EngineError(f"risk_free must hold one return per day ({days}), got {rf.shape}.")
    equity = np.empty((n, days) if keep_equity else (1, 1))
    traded = np.empty(n)
    stats = np.empty((n, len(STATS)))
    blocks = np.empty((n, n_blocks, 3))
    _simulate(valuation, live, rows, targets, costs.fees, costs.slippage, float(init_cash),
              keep_equity, rf, equity, traded, stats, _block_of_day(days, n_blocks), blocks)
    return equity, traded, stats, blocks


def simulate_many(prices: pd.DataFrame, targets: np.ndarray, rows: np.ndarray, *,
                  costs: Costs | None = None,
                  init_cash: float = 1_000_000.0) -> tuple[np.ndarray, np.ndarray]:
    """Daily equity (combos x days) and traded notional per combination. ``targets`` holds
    the weights traded on each execution row: combos x len(rows) x assets (prices' columns)."""
    equity, traded, _, _ = _run(prices, targets, rows, costs, init_cash, True, 1)
    return equity, traded


def simulate_stats(prices: pd.DataFrame, targets: np.ndarray, rows: np.ndarray, *,
                   costs: Costs | None = None, init_cash: float = 1_000_000.0,
                   n_blocks: int = 16, keep_equity: bool = False,
                   risk_free: np.ndarray | None = None):
    """The sweep's call: traded notional, the streaming statistics STATS (combos x 8) and
    excess-return moments per block (combos x n_blocks x 3: count, sum, sum of squares),
    and the daily equity only with ``keep_equity`` (else None): memory O(combos), not
    O(combos x days). ``risk_free``: one daily return per day of ``prices`` (None: 0)."""
    equity, traded, stats, blocks = _run(prices, targets, rows, costs, init_cash, keep_equity,
                                         n_blocks, risk_free)
    return (equity if keep_equity else None), traded, stats, blocks
