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

import numpy as np

__all__ = ["trailing_slopes", "forget"]

MEMO_SIZE = 6            # data sets remembered (a sweep's windows and leg sets)
MEMO_CELLS = 60_000      # rows x columns up to which a data set is remembered (a few MB)
CHUNK = 32               # columns summed at once beyond that (memory stays bounded)


@dataclass(frozen=True)
class _Sums:
    """The data of one call and its running sums and estimates, row by row (read-only)."""

    rows: np.ndarray      # row labels (weeks)
    X: np.ndarray         # rows x regressors
    Y: np.ndarray         # rows x columns
    xtx: np.ndarray       # running sums of x x', rows x columns x k x k
    xty: np.ndarray       # running sums of x y, rows x columns x k
    count: np.ndarray     # running count of complete rows, rows x columns
    slope: np.ndarray     # rows x columns: the coefficient of X's column 1 (NaN: none)
    good: np.ndarray      # rows x columns: enough rows and a solvable system


_memo: OrderedDict[Hashable, _Sums] = OrderedDict()


def forget() -> None:
    """Drop what is remembered."""
    _memo.clear()


def trailing_slopes(key: Hashable, rows: np.ndarray, X: np.ndarray, Y: np.ndarray,
                    window: int, min_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows x columns of ``Y``: the OLS coefficient on ``X``'s column 1 of each column on
    ``X`` over the trailing ``window`` rows (rows with a NaN left out), where at least
    ``min_rows`` rows are complete and the system is not singular (``good``; NaN
    elsewhere). ``key`` names the data set (the estimate is still computed from the data,
    compared row by row with what was remembered under it). Both read-only (they may be
    remembered)."""
    if Y.size > MEMO_CELLS:
        parts = [_extend(None, 0, rows, X, Y[:, lo:lo + CHUNK], window, min_rows)
                 for lo in range(0, Y.shape[1], CHUNK)] or [_extend(None, 0, rows, X, Y, window,
                                                                    min_rows)]
        return (np.concatenate([p.slope for p in parts], axis=1),
                np.concatenate([p.good for p in parts], axis=1))
    known = _memo.get(key)
    same = 0 if known is None else _shared(known, rows, X, Y)
    if known is not None and same == len(rows):          # the same data, or a prefix of it
        _memo.move_to_end(key)
        return known.slope[:same], known.good[:same]
    # the longest data of a key is kept: the full run, not the shorter replays of it
    keep = known is None or same == 0 or len(rows) > len(known.rows)
    sums = _extend(known if same else None, same, rows, X, Y, window, min_rows, keep)
    if keep:
        sums.slope.flags.writeable = sums.good.flags.writeable = False   # handed out again
        _memo[key] = sums
        _memo.move_to_end(key)
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)
    return sums.slope, sums.good


def _shared(known: _Sums, rows: np.ndarray, X: np.ndarray, Y: np.ndarray) -> int:
    """How many leading rows are the same, bit for bit, in ``known`` and this data."""
    if known.X.shape[1:] != X.shape[1:] or known.Y.shape[1:] != Y.shape[1:]:
        return 0
    n = min(len(rows), len(known.rows))
    same = ((rows[:n] == known.rows[:n])
            & (X[:n].view(np.int64) == known.X[:n].view(np.int64)).all(axis=1)
            & (Y[:n].view(np.int64) == known.Y[:n].view(np.int64)).all(axis=1))
    return n if same.all() else int(np.argmin(same))


def _behind(a: np.ndarray, lag: int, start: int) -> np.ndarray:
    """Rows ``start`` on of ``a`` moved ``lag`` rows down, zeros on top."""
    at = np.arange(start, len(a)) - lag
    out = a[np.maximum(at, 0)]
    out[at < 0] = 0
    return out


def _extend(known: _Sums | None, start: int, rows: np.ndarray, X: np.ndarray, Y: np.ndarray,
            window: int, min_rows: int, keep: bool = False) -> _Sums:
    """The sums and estimates of this data: ``known``'s first ``start`` rows (the same
    data), the rest summed on from there. ``keep``: with every row's running sums (else
    only those the estimates read)."""
    x, y = X[start:], Y[start:]
    ok = np.isfinite(y) & np.isfinite(x).all(axis=1)[:, None]
    xo = np.where(ok[:, :, None], x[:, None, :], 0.0)
    yo = np.where(ok, y, 0.0)
    terms = [xo[:, :, :, None] * xo[:, :, None, :], xo * yo[:, :, None], ok]
    # rows ``low`` on: the new ones and the window behind them
    low = 0 if known is None or keep else max(start - window, 0)
    if known is None:
        sums = [np.cumsum(t, axis=0) for t in terms]
    else:
        old = (known.xtx, known.xty, known.count)
        sums = [np.concatenate([o[low:start], np.cumsum(np.concatenate([o[start - 1:start], t]),
                                                        axis=0)[1:]])
                for o, t in zip(old, terms, strict=True)]
    A, b, n = (s[start - low:] - _behind(s, window, start - low) for s in sums)
    good = n >= min_rows
    good[good] = np.abs(np.linalg.det(A[good])) > 1e-14
    slope = np.full(good.shape, np.nan)
    slope[good] = np.linalg.solve(A[good], b[good][:, :, None])[:, 1, 0]
    if known is not None:
        slope = np.concatenate([known.slope[:start], slope])
        good = np.concatenate([known.good[:start], good])
    return _Sums(rows, X, Y, *sums, slope, good)
