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

from ..engine import Costs, delisted, execution_schedule, fillable, valuation_prices
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
    vectorbt's does."""
    return _pairwise_sum_into(a, n, np.empty((4, 64)))


@numba.njit(cache=True)
def _pairwise_sum_into(a, n, work):
    """``_pairwise_sum`` with its walk's stack in ``work`` (4 x 64), allocated once per
    simulation rather than once per rebalance. Iterative post-order walk: numba's cache
    cannot hold recursive code."""
    if n <= 128:
        return _block_sum(a, 0, n)
    los, sizes, states, values = work[0], work[1], work[2], work[3]
    depth, filled = 0, 0
    los[0], sizes[0], states[0] = 0, n, 0
    while depth >= 0:
        lo, size = int(los[depth]), int(sizes[depth])
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


@numba.njit(cache=True)
def _stable_argsort(keys, n, order, work):
    """``np.argsort(keys[:n], kind="stable")`` into ``order`` without allocating: ``work``
    (4 x n floats) holds keys and positions while insertion-sorted runs of 16 are merged
    bottom-up on contiguous values. Keys are finite or NaN (NaN last, as numpy sorts it),
    so NaN can stand as +inf. A stable sort's result is unique, so this equals numpy's;
    np.argsort allocating on every rebalance of every combination was half the kernel's
    time at 200 assets."""
    key, pos, key2, pos2 = work[0], work[1], work[2], work[3]
    for k in range(n):
        x = keys[k]
        key[k] = np.inf if x != x else x
        pos[k] = k
    width = 16
    for lo in range(0, n, width):
        for k in range(lo + 1, min(lo + width, n)):
            x, p = key[k], pos[k]
            m = k
            while m > lo and x < key[m - 1]:
                key[m], pos[m] = key[m - 1], pos[m - 1]
                m -= 1
            key[m], pos[m] = x, p
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            a, b = lo, mid
            for o in range(lo, hi):
                if b >= hi or (a < mid and not key[b] < key[a]):
                    key2[o], pos2[o] = key[a], pos[a]
                    a += 1
                else:
                    key2[o], pos2[o] = key[b], pos[b]
                    b += 1
        key[:n] = key2[:n]
        pos[:n] = pos2[:n]
        width *= 2
    for k in range(n):
        order[k] = int(pos[k])


@numba.njit(cache=True)
def _holdings_value(shares, valuation, i, n):
    """Sum of ``shares[j] * valuation[i, j]`` in eight interleaved running sums: independent
    chains the compiler turns into SIMD lanes, where one running sum waits on each add (at
    200 assets that latency, not memory, bounded the kernel). A fixed order, so the same
    inputs give the same bits on any machine; it differs from a left-to-right sum by
    rounding only, and only the rebalance-day value (``_pairwise_sum``) must match vectorbt."""
    r0 = r1 = r2 = r3 = r4 = r5 = r6 = r7 = 0.0
    stop = n - n % 8
    j = 0
    while j < stop:
        r0 += shares[j] * valuation[i, j]
        r1 += shares[j + 1] * valuation[i, j + 1]
        r2 += shares[j + 2] * valuation[i, j + 2]
        r3 += shares[j + 3] * valuation[i, j + 3]
        r4 += shares[j + 4] * valuation[i, j + 4]
        r5 += shares[j + 5] * valuation[i, j + 5]
        r6 += shares[j + 6] * valuation[i, j + 6]
        r7 += shares[j + 7] * valuation[i, j + 7]
        j += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while j < n:
        res += shares[j] * valuation[i, j]
        j += 1
    return res


@numba.njit(cache=True, nogil=True)
def _simulate(valuation, live, gone, exec_rows, targets, fees, slippage, init_cash, keep_equity,
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
    order = np.empty(n_assets, dtype=np.int64)
    sort_work = np.empty((4, n_assets))
    sum_work = np.empty((4, 64))
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
                value = cash + _pairwise_sum_into(holding, n_assets, sum_work)
                for j in range(n_assets):
                    # an asset whose data ended is sold (``engine.close_out_delisted``)
                    w = 0.0 if gone[r, j] else targets[c, r, j]
                    if live[i, j] and w == w:
                        delta[j] = w * value / valuation[i, j] - shares[j]
                        # vectorbt's approximate order value, by which it orders the orders
                        order_value[j] = w * value - shares[j] * valuation[i, j]
                    else:
                        delta[j] = 0.0
                        order_value[j] = np.nan
                # Sells first, then buys by ascending order value, each trimmed to the cash
                # left. Which buys are trimmed is all the order decides (otherwise it only
                # rounds cash), and usually only the last buy is: then no sort is needed.
                last = -1
                for j in range(n_assets):
                    d = delta[j]
                    if d < 0.0:
                        fill = valuation[i, j] * sell_unit
                        cash += -d * fill * (1.0 - fees)
                        shares[j] += d
                        turnover += -d * fill
                    elif d > 0.0 and (last < 0 or not order_value[j] < order_value[last]):
                        last = j   # the largest order value, the later column among ties
                others = 0.0
                for j in range(n_assets):
                    if delta[j] > 0.0 and j != last:
                        others += delta[j] * valuation[i, j] * buy_unit * (1.0 + fees)
                if others <= cash:
                    for j in range(n_assets):
                        if delta[j] > 0.0 and j != last:
                            fill = valuation[i, j] * buy_unit
                            cash -= delta[j] * fill * (1.0 + fees)
                            shares[j] += delta[j]
                            turnover += delta[j] * fill
                    first, stop = n_assets - 1, n_assets
                    order[n_assets - 1] = last
                else:   # several buys reach the cash limit: the full stable order decides
                    _stable_argsort(order_value, n_assets, order, sort_work)
                    first, stop = 0, n_assets
                for k in range(first, stop):
                    j = order[k]
                    d = delta[j]
                    if j < 0 or d <= 0.0:
                        continue
                    fill = valuation[i, j] * buy_unit
                    unit = fill * (1.0 + fees)
                    if d * unit > cash:
                        d = cash / unit if cash > 0.0 else 0.0
                    cash -= d * unit
                    shares[j] += d
                    turnover += d * fill
                r += 1
            v = _holdings_value(shares, valuation, i, n_assets) + cash
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
    """The kernel's arrays. Targets are passed as they are (no copy when already C-ordered
    float64: at 200 assets a chunk of them is hundreds of MB); the delisted close-out is a
    mask the kernel applies."""
    if targets.ndim != 3 or targets.shape[1:] != (len(rows), prices.shape[1]):
        raise EngineError(f"targets must be combos x {len(rows)} x {prices.shape[1]}, "
                          f"got {targets.shape}.")
    valuation = valuation_prices(prices).to_numpy(dtype=np.float64)
    return (np.ascontiguousarray(valuation), np.ascontiguousarray(fillable(prices).to_numpy()),
            np.ascontiguousarray(delisted(prices).to_numpy()[rows]),
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
    valuation, live, gone, rows, targets = _prepare(prices, targets, rows)
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
    _simulate(valuation, live, gone, rows, targets, costs.fees, costs.slippage, float(init_cash),
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
