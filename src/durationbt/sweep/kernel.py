"""Many target-weight portfolios at once: a numba kernel with the single-run engine's
conventions (``durationbt.engine``: vectorbt ``targetpercent`` of the pre-trade value, sells
first then buys by ascending order value, each buy trimmed to the cash left, fees on the
slipped fill price, costs from cash, no order where the price is missing).

It exists for speed: one vectorbt ``Portfolio.from_orders`` column per combination manages
a few hundred combinations a second; this kernel, tens of thousands. Validated against
``durationbt.engine.simulate`` in the tests (1e-9 relative without costs)."""

from __future__ import annotations

from itertools import pairwise

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
    cannot hold recursive code. Up to two leaves (about 250 assets) the walk is skipped: it
    cost three times the leaves' sums."""
    if n <= 128:
        return _block_sum(a, 0, n)
    half = n // 2
    half -= half % 8
    if n - half <= 128:
        return _block_sum(a, 0, half) + _block_sum(a, half, n - half)
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


@numba.njit(cache=True, inline="always")
def _lane_sum(a, n):
    """Sum of ``a[:n]`` in eight interleaved running sums: independent chains the compiler
    can overlap, where one running sum waits on each add (the rebalance's cash sums were
    latency bound). A fixed order, so the same inputs give the same bits on any machine;
    it differs from a left-to-right sum by rounding only."""
    r0 = r1 = r2 = r3 = r4 = r5 = r6 = r7 = 0.0
    stop = n - n % 8
    j = 0
    while j < stop:
        r0 += a[j]
        r1 += a[j + 1]
        r2 += a[j + 2]
        r3 += a[j + 3]
        r4 += a[j + 4]
        r5 += a[j + 5]
        r6 += a[j + 6]
        r7 += a[j + 7]
        j += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while j < n:
        res += a[j]
        j += 1
    return res


@numba.njit(cache=True, inline="always")
def _buy_value(delta, order_value, j):
    """Asset ``j``'s order value if it is a buy, else -inf. The value is loaded
    unconditionally, so that the choice is a select, not a branch mispredicted on every
    other asset."""
    v = order_value[j]
    return v if delta[j] > 0.0 else -np.inf


@numba.njit(cache=True, inline="always")
def _buys_max(delta, order_value, n):
    """The largest order value among buys, -inf without a buy, in eight independent running
    maxima: one running argmax is a serial chain of selects."""
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = -np.inf
    stop = n - n % 8
    for j in range(0, stop, 8):
        m0 = max(m0, _buy_value(delta, order_value, j))
        m1 = max(m1, _buy_value(delta, order_value, j + 1))
        m2 = max(m2, _buy_value(delta, order_value, j + 2))
        m3 = max(m3, _buy_value(delta, order_value, j + 3))
        m4 = max(m4, _buy_value(delta, order_value, j + 4))
        m5 = max(m5, _buy_value(delta, order_value, j + 5))
        m6 = max(m6, _buy_value(delta, order_value, j + 6))
        m7 = max(m7, _buy_value(delta, order_value, j + 7))
    res = max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))
    for j in range(stop, n):
        res = max(res, _buy_value(delta, order_value, j))
    return res


@numba.njit(cache=True, error_model="numpy", inline="always")
def _rebalance(price, weights, gone, live, shares, cash, fees, slippage, scratch, order, sort_work,
               sum_work):
    """Trade ``shares`` to ``weights`` of the pre-trade value at ``price`` (one day's row);
    return the cash left and the notional traded. Sells first, then buys by ascending order
    value, each trimmed to the cash left. Which buys are trimmed is all the order decides
    (otherwise it only rounds cash), and usually only the last buy is: then no sort is needed
    and every step but that buy is a branch-free pass over the assets (an unpredictable
    branch per asset cost more than the arithmetic at 200 assets)."""
    n = shares.shape[0]
    delta, order_value, notional = scratch[0], scratch[1], scratch[2]
    for j in range(n):
        notional[j] = shares[j] * price[j]
    value = cash + _pairwise_sum_into(notional, n, sum_work)
    sell_unit = 1.0 - slippage
    buy_unit = 1.0 + slippage
    for j in range(n):
        # an asset whose data ended is sold (``engine.close_out_delisted``); computed then
        # selected, so that the loop has no branch and vectorizes
        w = weights[j]
        w = 0.0 if gone[j] else w
        ok = live[j] & (w == w)
        d = w * value / price[j] - shares[j]
        # vectorbt's approximate order value, by which it orders the orders
        v = w * value - shares[j] * price[j]
        delta[j] = d if ok else 0.0
        order_value[j] = v if ok else np.nan
    for j in range(n):
        sold = min(delta[j], 0.0)
        notional[j] = -sold * (price[j] * sell_unit)
        shares[j] += sold
    sales = _lane_sum(notional, n)
    cash += sales * (1.0 - fees)
    traded = sales
    # the buy with the largest order value, the later column among ties
    best = _buys_max(delta, order_value, n)
    last = n - 1
    while last >= 0 and not (order_value[last] == best and delta[last] > 0.0):
        last -= 1
    for j in range(n):
        bought = delta[j] if (delta[j] > 0.0) & (j != last) else 0.0
        notional[j] = bought * (price[j] * buy_unit)
    others = _lane_sum(notional, n)
    if others * (1.0 + fees) <= cash:
        kept = shares[last] if last >= 0 else 0.0   # every buy but the last, without a branch
        for j in range(n):
            shares[j] += max(delta[j], 0.0)
        if last >= 0:
            shares[last] = kept
        cash -= others * (1.0 + fees)
        traded += others
        first = n - 1
        order[n - 1] = last
    else:   # several buys reach the cash limit: the full stable order decides
        _stable_argsort(order_value, n, order, sort_work)
        first = 0
    for k in range(first, n):
        j = order[k]
        if j < 0 or delta[j] <= 0.0:
            continue
        fill = price[j] * buy_unit
        unit = fill * (1.0 + fees)
        d = delta[j]
        if d * unit > cash:
            d = cash / unit if cash > 0.0 else 0.0
        cash -= d * unit
        shares[j] += d
        traded += d * fill
    return cash, traded


@numba.njit(cache=True, error_model="numpy", inline="always")
def _segment_values(by_segment, base, m, shares, held):
    """``held[t]``: the holdings' value on each of a segment's ``m`` days, from its prices
    at ``by_segment[base:]`` (asset-major). Each day's sum runs left to right over the
    assets, four assets a pass (one load and store of ``held`` per four), and the loop over
    days is what vectorizes. Groups of four unheld assets are skipped (adding their zeros
    would not change a bit). Unsigned offsets: numba's wraparound of a signed index turned
    the loads into gathers."""
    n = shares.shape[0]
    m = numba.uint64(m)
    base = numba.uint64(base)
    for t in range(m):
        held[t] = 0.0
    stop = n - n % 4
    for j in range(0, stop, 4):
        q0, q1, q2, q3 = shares[j], shares[j + 1], shares[j + 2], shares[j + 3]
        if q0 == 0.0 and q1 == 0.0 and q2 == 0.0 and q3 == 0.0:
            continue
        a0 = base + numba.uint64(j) * m
        a1 = a0 + m
        a2 = a1 + m
        a3 = a2 + m
        for t in range(m):
            held[t] = (((held[t] + q0 * by_segment[a0 + t]) + q1 * by_segment[a1 + t])
                       + q2 * by_segment[a2 + t]) + q3 * by_segment[a3 + t]
    for j in range(stop, n):
        q = shares[j]
        a = base + numba.uint64(j) * m
        for t in range(m):
            held[t] += q * by_segment[a + t]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _simulate(valuation, by_segment, live, gone, exec_rows, targets, fees, slippage, init_cash,
              keep_equity, risk_free, equity, traded, stats, block_of_day, blocks):
    """Simulate every combination; always fill ``traded`` and the streaming ``stats`` (see
    STATS) and per-block moments of excess returns (return - ``risk_free`` that day)
    ``blocks``; fill ``equity`` only if asked. ``by_segment``: ``valuation`` laid out by
    segment between rebalances (``_by_segment``), where the holdings are fixed.

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
    for c in range(n_combos):
        cash = init_cash
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
                cash, done = _rebalance(valuation[lo], targets[c, r], gone[r], live[lo], shares,
                                        cash, fees, slippage, scratch, order, sort_work, sum_work)
                turnover += done
            m = hi - lo
            _segment_values(by_segment, lo * n_assets, m, shares, held)
            for t in range(m):
                i = lo + t
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
    valuation = np.ascontiguousarray(valuation_prices(prices).to_numpy(dtype=np.float64))
    return (valuation, _by_segment(valuation, rows),
            np.ascontiguousarray(fillable(prices).to_numpy()),
            np.ascontiguousarray(delisted(prices).to_numpy()[rows]),
            np.ascontiguousarray(rows, dtype=np.int64),
            np.ascontiguousarray(targets, dtype=np.float64))


def _by_segment(valuation: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``valuation`` (days x assets) flattened segment by segment (day 0 to the first
    execution row, then from each row to the next), each segment asset-major: one asset's
    prices over a segment are contiguous, and segments follow each other in memory. A plain
    transpose scattered each segment's reads over a row per asset, which the prefetcher
    could not follow (several times slower at 200 assets x 5,040 days)."""
    bounds = [0, *rows.tolist(), len(valuation)]
    return np.concatenate([valuation[lo:hi].T.ravel() for lo, hi in pairwise(bounds)])


def _block_of_day(days: int, n_blocks: int) -> np.ndarray:
    """Block number of each day's return (day 0 has none), as ``np.array_split`` of the
    ``days - 1`` returns into ``n_blocks`` consecutive blocks."""
    out = np.zeros(days, dtype=np.int64)
    for b, part in enumerate(np.array_split(np.arange(1, days), n_blocks)):
        out[part] = b
    return out


def _run(prices, targets, rows, costs, init_cash, keep_equity, n_blocks, risk_free=None):
    valuation, by_segment, live, gone, rows, targets = _prepare(prices, targets, rows)
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
    _simulate(valuation, by_segment, live, gone, rows, targets, costs.fees, costs.slippage, float(init_cash),
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
