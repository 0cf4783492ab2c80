"""Trailing-window least squares from running sums, remembered across calls. A lookahead
replay hands the rolling duration estimates the same past as the full run with another
future (or none), and a sweep replays them at every checked date: only the weeks from the
first one whose data differ are summed and solved again. Running sums are sequential, so
an estimate is the same bits whether its past was summed now or remembered; what is
remembered is compared bit for bit with what a call brings, never trusted by name."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from itertools import combinations_with_replacement

import numba
import numpy as np

__all__ = ["trailing_slopes", "forget"]

MEMO_SIZE = 6            # data sets remembered (a sweep's windows and leg sets)
MEMO_CELLS = 60_000      # rows x columns up to which a data set is remembered (a few MB)


@dataclass(frozen=True)
class _Sums:
    """The data of one call and its running sums and estimates, row by row (read-only)."""

    rows: np.ndarray      # row labels (weeks)
    Z: np.ndarray         # rows x regressors (besides the constant)
    Y: np.ndarray         # rows x columns
    first: int            # estimated from this row on (see ``trailing_slopes``)
    sums: np.ndarray      # running sums, terms (``_names``) x rows x columns
    slope: np.ndarray     # rows x columns: the coefficient of Z's column 0 (NaN: none)
    good: np.ndarray      # rows x columns: estimated (enough rows, a solvable system)


_memo: OrderedDict[Hashable, _Sums] = OrderedDict()


def forget() -> None:
    """Drop what is remembered."""
    _memo.clear()


def trailing_slopes(key: Hashable, rows: np.ndarray, Z: np.ndarray, Y: np.ndarray,
                    window: int, min_rows: int, first: int = 0,
                    block: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Rows x columns of ``Y``: the OLS coefficient on ``Z``'s column 0 of each column on a
    constant and ``Z`` over the trailing ``window`` rows (rows with a NaN left out), where
    at least ``min_rows`` rows are complete and the system is not singular (``good``; NaN
    elsewhere), from row ``first`` on (and before it for a column without an estimate at
    ``first``; the other rows are not estimated). ``key`` names the data set (the estimate
    is still computed from the data, compared row by row with what was remembered under
    it), or beyond ``MEMO_CELLS`` summed ``block`` columns at a time, not remembered
    (memory stays bounded). Both read-only (they may be remembered)."""
    if Y.size > MEMO_CELLS:
        parts = [_extend(None, 0, rows, Z, Y[:, lo:lo + block], window, min_rows, first)
                 for lo in range(0, Y.shape[1], block)] or [
            _extend(None, 0, rows, Z, Y, window, min_rows, first)]
        return (np.concatenate([p.slope for p in parts], axis=1),
                np.concatenate([p.good for p in parts], axis=1))
    known = _memo.get(key)
    same = 0 if known is None or known.first != first else _shared(known, rows, Z, Y)
    if known is not None and known.first == first and same == len(rows):   # a prefix of it
        _memo.move_to_end(key)
        return known.slope[:same], known.good[:same]
    if same <= first:            # what is estimated before ``first`` may change: from nothing
        same = 0
    # the longest data of a key is kept: the full run, not the shorter replays of it
    keep = known is None or same == 0 or len(rows) > len(known.rows)
    sums = _extend(known if same else None, same, rows, Z, Y, window, min_rows, first, keep)
    if keep:
        sums.slope.flags.writeable = sums.good.flags.writeable = False   # handed out again
        _memo[key] = sums
        _memo.move_to_end(key)
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)
    return sums.slope, sums.good


def _shared(known: _Sums, rows: np.ndarray, Z: np.ndarray, Y: np.ndarray) -> int:
    """How many leading rows are the same, bit for bit, in ``known`` and this data."""
    if known.Z.shape[1:] != Z.shape[1:] or known.Y.shape[1:] != Y.shape[1:]:
        return 0
    n = min(len(rows), len(known.rows))
    same = ((rows[:n] == known.rows[:n])
            & (Z[:n].view(np.int64) == known.Z[:n].view(np.int64)).all(axis=1)
            & (Y[:n].view(np.int64) == known.Y[:n].view(np.int64)).all(axis=1))
    return n if same.all() else int(np.argmin(same))


def _names(k: int) -> list:
    """The running sums kept, in order: the count, y, each regressor, each regressor times
    y, each distinct product of two regressors (x'x is symmetric)."""
    return ["n", ("y",), *((i,) for i in range(k)), *((i, "y") for i in range(k)),
            *combinations_with_replacement(range(k), 2)]


@numba.njit(cache=True)
def _summed(Z, Y, prev, first, out):
    """Running sums of each row's terms of x'x and x'y (x = 1, Z; zero where the row has a
    NaN) into ``out`` (terms x rows x columns, ``_names`` order) from row ``first`` on,
    carried on from ``prev`` (the sums of the row before; none: the first row's terms
    are the sums, as ``np.cumsum`` starts). Sequential adds in np.cumsum's order, the same
    products as numpy forms them (1 * v is v, so the constant's products are the terms)."""
    k = Z.shape[1]
    z = np.empty(k)
    for r in range(Y.shape[0]):
        row = True                      # the regressors are all finite
        for i in range(k):
            row = row and np.isfinite(Z[r, i])
        for c in range(Y.shape[1]):
            y = Y[r, c]
            ok = row and np.isfinite(y)
            if not ok:
                y = 0.0
            for i in range(k):
                z[i] = Z[r, i] if ok else 0.0
            out[0, first + r, c] = 1.0 if ok else 0.0
            out[1, first + r, c] = y
            for i in range(k):
                out[2 + i, first + r, c] = z[i]
                out[2 + k + i, first + r, c] = z[i] * y
            t = 2 + 2 * k
            for i in range(k):
                for j in range(i, k):
                    out[t, first + r, c] = z[i] * z[j]
                    t += 1
            if r > 0 or prev.shape[0] > 0:
                for s in range(t):
                    out[s, first + r, c] = (out[s, first + r - 1, c] if r > 0
                                            else prev[s, c]) + out[s, first + r, c]


@numba.njit(cache=True)
def _systems(S, low, start, window, solve, k, A, b, at, state):
    """Where ``solve`` is set (its row 0 is row ``start``): the trailing ``window`` rows'
    x'x into ``A`` and x'y into ``b``, from the running sums ``S`` (``_summed``; row
    ``low`` first), each a difference of two running sums as numpy formed them (``total -
    0.0`` before the first ``window`` rows), and where in ``solve`` (flat) into ``at``.
    ``state``: 1 solvable, -1 too near the bound to tell here (``_solvable`` asks
    LAPACK); a singular one (0: |det| <= 1e-14) is written over by the next. Returns how
    many are kept."""
    n = 0
    for q in range(solve.shape[0]):
        for c in range(solve.shape[1]):
            if not solve[q, c]:
                continue
            r = start + q
            behind = r - window
            for i in range(k + 1):              # row i of x'x: (1, z_0, ...) times z_{i-1}
                for j in range(i, k + 1):
                    if i == 0:
                        s = 0 if j == 0 else 1 + j
                    else:
                        s = 2 + 2 * k
                        for m in range(i - 1):
                            s += k - m
                        s += j - i
                    old = S[s, behind - low, c] if behind >= 0 else 0.0
                    A[n, i, j] = S[s, r - low, c] - old
                    A[n, j, i] = A[n, i, j]
                s = 1 if i == 0 else 1 + k + i
                old = S[s, behind - low, c] if behind >= 0 else 0.0
                b[n, i] = S[s, r - low, c] - old
            state[n] = _clear(A[n]) if k == 2 else -1
            at[n] = q * solve.shape[1] + c
            if state[n] != 0:
                n += 1
    return n


@numba.njit(cache=True)
def _clear(a):
    """Whether |det(a)| > 1e-14 for a 3 x 3 ``a`` (1, 0), or -1 where that is too close to
    tell without LAPACK's own determinant (np.linalg.det: LU with partial pivoting, the
    determinant as sign * exp(log |det|)). The closed form is within 10 u per(|a|) <=
    60 u M^3 of the exact determinant (M the largest |a_ij|, u = 2^-53); LAPACK's is the
    determinant of a + E, |E_ij| <= gamma_3 (|L||U|)_ij <= 36 u M (|L| <= 1, growth <= 4),
    so within 9 * 36 u M * 2 M^2 (first order) of it, times 1 + (a few u) * |log det| from
    the exp-log: both within 1e-11 M^3 of the exact value. A margin of 1e-9 M^3 (and
    non-finite values left to LAPACK) decides only what both sides decide alike."""
    m = 0.0
    for i in range(3):
        for j in range(3):
            m = max(m, abs(a[i, j]))
    d = (a[0, 0] * (a[1, 1] * a[2, 2] - a[1, 2] * a[2, 1])
         - a[0, 1] * (a[1, 0] * a[2, 2] - a[1, 2] * a[2, 0])
         + a[0, 2] * (a[1, 0] * a[2, 1] - a[1, 1] * a[2, 0]))
    margin = 1e-9 * m * m * m + 1e-300
    if not (np.isfinite(d) and np.isfinite(margin)):
        return -1
    if abs(d) > 1e-14 + margin:
        return 1
    if abs(d) < 1e-14 - margin:
        return 0
    return -1


def _extend(known: _Sums | None, start: int, rows: np.ndarray, Z: np.ndarray, Y: np.ndarray,
            window: int, min_rows: int, first: int, keep: bool = False) -> _Sums:
    """The sums and estimates of this data: ``known``'s first ``start`` rows (the same
    data, ``start`` > ``first``), the rest summed on from there. ``keep``: with every
    row's running sums (else only those the estimates read)."""
    low = 0 if known is None or keep else max(start - window, 0)   # the rows read from here
    k = Z.shape[1]
    sums = np.empty((len(_names(k)), len(rows) - low, Y.shape[1]))
    prev = np.empty((0, Y.shape[1]))
    if known is not None:
        sums[:, :start - low] = known.sums[:, low:start]
        prev = known.sums[:, start - 1]
    _summed(Z[start:], Y[start:], prev, start - low, sums)
    count = sums[0, start - low:] - _behind(sums[0], window, start - low)
    enough = count >= min_rows
    solve = enough & (np.arange(start, len(rows)) >= first)[:, None]
    if known is None and 0 < first < len(rows):
        # before ``first``: only the columns without an estimate at ``first``
        at_first = _solvable(sums, low, first, window, solve[first:first + 1], k)[0]
        solve[first] = False
        solve[first, at_first] = True
        solve[:first] = enough[:first] & ~solve[first]
    at, A, b = _solvable(sums, low, start, window, solve, k)
    good = np.zeros(enough.shape, dtype=bool)
    good.flat[at] = True
    slope = np.full(good.shape, np.nan)
    slope.flat[at] = np.linalg.solve(A, b[:, :, None])[:, 1, 0]
    if known is not None:
        slope = np.concatenate([known.slope[:start], slope])
        good = np.concatenate([known.good[:start], good])
    return _Sums(rows, Z, Y, first, sums, slope, good)


def _behind(a: np.ndarray, lag: int, start: int) -> np.ndarray:
    """Rows ``start`` on of ``a`` moved ``lag`` rows down, zeros on top."""
    at = np.arange(start, len(a)) - lag
    out = a[np.maximum(at, 0)]
    out[at < 0] = 0
    return out


def _solvable(sums: np.ndarray, low: int, start: int, window: int, solve: np.ndarray,
              k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where ``solve`` is set (row 0 is row ``start``) and the trailing system is solvable
    (|det| > 1e-14, as np.linalg.det tells it): where (flat in ``solve``, in order), the
    matrix x'x and the right-hand side x'y."""
    most = int(np.count_nonzero(solve))
    A, b = np.empty((most, k + 1, k + 1)), np.empty((most, k + 1))
    at, state = np.empty(most, np.int64), np.empty(most, np.int8)
    n = _systems(sums, low, start, window, solve, k, A, b, at, state)
    A, b, at, state = A[:n], b[:n], at[:n], state[:n]
    unclear = np.flatnonzero(state < 0)
    if len(unclear):
        keep = np.ones(n, dtype=bool)
        keep[unclear] = np.abs(np.linalg.det(A[unclear])) > 1e-14
        A, b, at = A[keep], b[keep], at[keep]
    return at, A, b
