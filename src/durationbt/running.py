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
    sums: dict            # running sums, rows x columns each: "n", ("y",), (i,), (i, j), (i, "y")
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


def _terms(Z: np.ndarray, Y: np.ndarray) -> dict:
    """Each row's terms of x'x and x'y (x = 1, Z), zero where the row has a NaN: the
    constant's products are the terms themselves (1 * v is v, bit for bit) and x'x is
    symmetric, so each distinct product is formed once."""
    ok = np.isfinite(Y) & np.isfinite(Z).all(axis=1)[:, None]
    z = [np.where(ok, Z[:, [i]], 0.0) for i in range(Z.shape[1])]
    y = np.where(ok, Y, 0.0)
    terms: dict = {"n": ok, ("y",): y}
    for i, zi in enumerate(z):
        terms[(i,)] = zi
        terms[(i, "y")] = zi * y
    for i, j in combinations_with_replacement(range(len(z)), 2):
        terms[(i, j)] = z[i] * z[j]
    return terms


def _extend(known: _Sums | None, start: int, rows: np.ndarray, Z: np.ndarray, Y: np.ndarray,
            window: int, min_rows: int, first: int, keep: bool = False) -> _Sums:
    """The sums and estimates of this data: ``known``'s first ``start`` rows (the same
    data, ``start`` > ``first``), the rest summed on from there. ``keep``: with every
    row's running sums (else only those the estimates read)."""
    terms = _terms(Z[start:], Y[start:])
    low = 0 if known is None or keep else max(start - window, 0)   # the rows read from here
    sums = {}
    for name, term in terms.items():
        if known is None:
            sums[name] = np.cumsum(term, axis=0)
        else:
            old = known.sums[name]
            sums[name] = np.concatenate([old[low:start], np.cumsum(np.concatenate(
                [old[start - 1:start], term]), axis=0)[1:]])

    def trailing(name: object, at: np.ndarray) -> np.ndarray:
        """The sum over the ``window`` rows up to each row of ``at`` (rows x columns)."""
        total, (r, c) = sums[name], at
        behind = r - window
        return total[r - low, c] - np.where(behind >= 0, total[np.maximum(behind, 0) - low, c], 0)

    count = sums["n"][start - low:] - _behind(sums["n"], window, start - low)
    enough = count >= min_rows
    solve = enough & (np.arange(start, len(rows)) >= first)[:, None]
    if known is None and 0 < first < len(rows):
        # before ``first``: only the columns without an estimate at ``first``
        at_first = np.nonzero(solve[first])[0]
        solve[first] = False
        solve[first, at_first[_solvable(trailing, window, (np.full(len(at_first), first),
                                                           at_first), Z.shape[1])[0]]] = True
        solve[:first] = enough[:first] & ~solve[first]
    where = np.nonzero(solve)
    ok, A, b = _solvable(trailing, window, (where[0] + start, where[1]), Z.shape[1])
    good = np.zeros(enough.shape, dtype=bool)
    good[where[0][ok], where[1][ok]] = True
    slope = np.full(good.shape, np.nan)
    slope[good] = np.linalg.solve(A[ok], b[ok][:, :, None])[:, 1, 0]
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


def _solvable(trailing, window: int, at: tuple[np.ndarray, np.ndarray],
              k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At the (row, column) pairs ``at``: whether the trailing system is solvable (|det| >
    1e-14), its matrix x'x and its right-hand side x'y."""
    n = len(at[0])
    A, b = np.empty((n, k + 1, k + 1)), np.empty((n, k + 1))
    A[:, 0, 0] = trailing("n", at)
    b[:, 0] = trailing(("y",), at)
    for i in range(k):
        A[:, 0, i + 1] = A[:, i + 1, 0] = trailing((i,), at)
        b[:, i + 1] = trailing((i, "y"), at)
        for j in range(i, k):
            A[:, i + 1, j + 1] = A[:, j + 1, i + 1] = trailing((i, j), at)
    return np.abs(np.linalg.det(A)) > 1e-14, A, b
