"""One rebalance of the sweep kernel: sells first, then buys by ascending order value, each
trimmed to the cash left, fees on the slipped fill price (``durationbt.engine``'s
conventions), written without unpredictable branches so it vectorizes."""

from __future__ import annotations

import numba
import numpy as np

from .sums import lane_sum, pairwise_sum_into

__all__ = ["rebalance", "stable_argsort"]


@numba.njit(cache=True)
def stable_argsort(keys, n, order, work):
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
def buy_value(delta, order_value, j):
    """Asset ``j``'s order value if it is a buy, else -inf. The value is loaded
    unconditionally, so that the choice is a select, not a branch mispredicted on every
    other asset."""
    v = order_value[j]
    return v if delta[j] > 0.0 else -np.inf


@numba.njit(cache=True, inline="always")
def buys_max(delta, order_value, n):
    """The largest order value among buys, -inf without a buy, in eight independent running
    maxima: one running argmax is a serial chain of selects."""
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = -np.inf
    stop = n - n % 8
    for j in range(0, stop, 8):
        m0 = max(m0, buy_value(delta, order_value, j))
        m1 = max(m1, buy_value(delta, order_value, j + 1))
        m2 = max(m2, buy_value(delta, order_value, j + 2))
        m3 = max(m3, buy_value(delta, order_value, j + 3))
        m4 = max(m4, buy_value(delta, order_value, j + 4))
        m5 = max(m5, buy_value(delta, order_value, j + 5))
        m6 = max(m6, buy_value(delta, order_value, j + 6))
        m7 = max(m7, buy_value(delta, order_value, j + 7))
    res = max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))
    for j in range(stop, n):
        res = max(res, buy_value(delta, order_value, j))
    return res


@numba.njit(cache=True, error_model="numpy", inline="always")
def rebalance(price, weights, gone, live, shares, cash, fees, slippage, scratch, order, sort_work,
               sum_work, band=0.0):
    """Trade ``shares`` to ``weights`` of the pre-trade value at ``price`` (one day's row);
    return the cash left and the notional traded. Sells first, then buys by ascending order
    value, each trimmed to the cash left. Which buys are trimmed is all the order decides
    (otherwise it only rounds cash), and usually only the last buy is: then no sort is needed
    and every step but that buy is a branch-free pass over the assets (an unpredictable
    branch per asset cost more than the arithmetic at 200 assets). ``band`` > 0: an asset
    whose held weight is within ``band`` of its target is not traded (one whose data ended
    is sold whatever its weight)."""
    n = shares.shape[0]
    delta, order_value, notional = scratch[0], scratch[1], scratch[2]
    for j in range(n):
        notional[j] = shares[j] * price[j]
    value = cash + pairwise_sum_into(notional, n, sum_work)
    sell_unit = 1.0 - slippage
    buy_unit = 1.0 + slippage
    for j in range(n):
        # an asset whose data ended is sold (``engine.close_out_delisted``); computed then
        # selected, so that the loop has no branch and vectorizes
        w = weights[j]
        w = 0.0 if gone[j] else w
        within = (band > 0.0) & (abs(notional[j] / value - w) <= band) & (not gone[j])
        ok = live[j] & (w == w) & (not within)
        d = w * value / price[j] - shares[j]
        # vectorbt's approximate order value, by which it orders the orders
        v = w * value - shares[j] * price[j]
        delta[j] = d if ok else 0.0
        order_value[j] = v if ok else np.nan
    for j in range(n):
        sold = min(delta[j], 0.0)
        notional[j] = -sold * (price[j] * sell_unit)
        shares[j] += sold
    sales = lane_sum(notional, n)
    cash += sales * (1.0 - fees)
    traded = sales
    # the buy with the largest order value, the later column among ties
    best = buys_max(delta, order_value, n)
    last = n - 1
    while last >= 0 and not (order_value[last] == best and delta[last] > 0.0):
        last -= 1
    for j in range(n):
        bought = delta[j] if (delta[j] > 0.0) & (j != last) else 0.0
        notional[j] = bought * (price[j] * buy_unit)
    others = lane_sum(notional, n)
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
        stable_argsort(order_value, n, order, sort_work)
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
