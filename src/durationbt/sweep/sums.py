"""The sweep kernel's sums, bit for bit as numpy makes them (``np.sum``'s pairwise blocks),
and a segment's daily portfolio values: the kernel and the single-run engine must agree to
the last bit where the test holds them equal, so every total here is summed in numpy's order
or a documented exact equivalent."""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["pairwise_sum", "pairwise_sum_into", "lane_sum", "segment_values",
           "segment_values_and_carry"]


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
def pairwise_sum(a, n):
    """``np.sum(a[:n])`` bit for bit (numpy's pairwise summation): the portfolio value
    decides which buy is trimmed at a fully invested rebalance, so it must round exactly as
    vectorbt's does."""
    return pairwise_sum_into(a, n, np.empty((4, 64)))


@numba.njit(cache=True)
def pairwise_sum_into(a, n, work):
    """``pairwise_sum`` with its walk's stack in ``work`` (4 x 64), allocated once per
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


@numba.njit(cache=True, inline="always")
def lane_sum(a, n):
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


@numba.njit(cache=True, error_model="numpy", inline="always")
def segment_values(by_segment, base, m, shares, held):
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


@numba.njit(cache=True, error_model="numpy", inline="always")
def segment_values_and_carry(by_segment, base, m, shares, weighted, held, charge):
    """``segment_values`` (``held``, the same sums in the same order, so the same bits) and,
    in the same pass over the prices, ``charge[t]``: the sum of ``weighted`` x price, each
    short's daily carry (a second pass read every price twice: a fifth of a long/short
    sweep's time)."""
    n = shares.shape[0]
    m = numba.uint64(m)
    base = numba.uint64(base)
    for t in range(m):
        held[t] = 0.0
        charge[t] = 0.0
    stop = n - n % 4
    for j in range(0, stop, 4):
        q0, q1, q2, q3 = shares[j], shares[j + 1], shares[j + 2], shares[j + 3]
        c0, c1, c2, c3 = weighted[j], weighted[j + 1], weighted[j + 2], weighted[j + 3]
        if q0 == 0.0 and q1 == 0.0 and q2 == 0.0 and q3 == 0.0:
            continue
        a0 = base + numba.uint64(j) * m
        a1 = a0 + m
        a2 = a1 + m
        a3 = a2 + m
        for t in range(m):
            p0, p1, p2, p3 = by_segment[a0 + t], by_segment[a1 + t], by_segment[a2 + t], by_segment[a3 + t]
            held[t] = (((held[t] + q0 * p0) + q1 * p1) + q2 * p2) + q3 * p3
            charge[t] = (((charge[t] + c0 * p0) + c1 * p1) + c2 * p2) + c3 * p3
    for j in range(stop, n):
        q = shares[j]
        c = weighted[j]
        a = base + numba.uint64(j) * m
        for t in range(m):
            p = by_segment[a + t]
            held[t] += q * p
            charge[t] += c * p
