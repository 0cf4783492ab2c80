"""Daily portfolio duration from weekly rolling estimates: each day's weights times the
latest estimate known that day. pandas' row sums round in an order that follows the
frames' block layout, so the numbers are pandas' own; for the layout a run hands in (the
engine's weights in one block, ``rolling_durations``' frame a block per column) that order
is known and the sums are taken here in numba and numpy, in the same order, without
pandas' day-by-asset copies (a run of 2,000 assets x 30 years: 0.7 s and several 120 MB
frames); any other layout goes through pandas."""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd

__all__ = ["portfolio_duration"]

ROWS = 512     # days whose invested weights are masked at a time (8 MB at 2,000 assets)


def portfolio_duration(weights: pd.DataFrame, rolling: pd.DataFrame) -> pd.DataFrame:
    """Daily portfolio duration: sum of weight x the asset's latest rolling duration known
    that day (a week's estimate is known from that Friday), cash counting as 0. Assets
    without an estimate yet are left out; ``coverage`` is the share of invested weight
    that has one."""
    values = _one_block(weights, rolling)
    if values is not None:
        return _summed(weights, rolling, values)
    known = rolling.reindex(weights.index.union(rolling.index)).ffill().reindex(weights.index)
    known = known.reindex(columns=weights.columns)
    has = known.notna()
    duration = (weights * known.fillna(0.0)).sum(axis=1)
    invested = weights.sum(axis=1)
    coverage = (weights.where(has, 0.0).sum(axis=1) / invested).where(invested > 0)
    return pd.DataFrame({"duration": duration, "coverage": coverage})


def _one_block(weights: pd.DataFrame, rolling: pd.DataFrame) -> np.ndarray | None:
    """The weights as days x columns (C-contiguous: their block transposed) when pandas'
    order is known here: the
    weights one float block without NaN, ``rolling`` a float block per column, the same
    columns, sorted unique dates. Then ``weights * known`` is a block per column in column
    order (pandas pairs each of the left block's columns with the right's), summed across
    blocks one after another (``DataFrame._reduce_axis1``): column by column; the
    weights' own sums (invested, covered) are numpy sums over each day's contiguous
    weights (one block: ``nansum`` along it). Else None."""
    w_blocks, r_blocks = weights._mgr.blocks, rolling._mgr.blocks
    if not (len(w_blocks) == 1 and weights.shape[0] >= 6 and weights.shape[1] > 0
            and weights.columns.equals(rolling.columns) and weights.columns.is_unique
            and all(len(b.mgr_locs) == 1 and b.dtype == np.float64 for b in r_blocks)
            and isinstance(weights.index, pd.DatetimeIndex)
            and isinstance(rolling.index, pd.DatetimeIndex)
            and weights.index.dtype == rolling.index.dtype
            and weights.index.is_unique and weights.index.is_monotonic_increasing
            and rolling.index.is_unique and rolling.index.is_monotonic_increasing):
        return None
    block = w_blocks[0]
    values = block.values
    if not (isinstance(values, np.ndarray) and values.dtype == np.float64
            and values.T.flags.c_contiguous
            and np.array_equal(block.mgr_locs.as_array, np.arange(weights.shape[1]))):
        return None
    days = values.T
    if np.isnan(days).any():       # nansum would copy them first: another order
        return None
    return days


def _summed(weights: pd.DataFrame, rolling: pd.DataFrame, days: np.ndarray) -> pd.DataFrame:
    """``portfolio_duration`` over ``days`` (days x columns, C-contiguous: the weights'
    block transposed), as pandas sums it for this layout (``_one_block``)."""
    latest = _filled(np.ascontiguousarray(rolling.to_numpy(dtype=float)))
    at = rolling.index.searchsorted(weights.index, side="right") - 1   # the last week known
    duration = np.empty(len(days))
    covered = np.empty(len(days))
    masked = np.empty((min(ROWS, len(days)), days.shape[1]))
    for lo in range(0, len(days), ROWS):
        part = masked[:min(ROWS, len(days) - lo)]
        _weighted(latest, at, days, lo, duration, part)
        covered[lo:lo + len(part)] = part.T.sum(axis=0, dtype=np.float64)   # as nansum does
    invested = days.T.sum(axis=0, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        coverage = np.where(invested > 0, covered / invested, np.nan)
    return pd.DataFrame({"duration": duration, "coverage": coverage}, index=weights.index)


@numba.njit(cache=True)
def _filled(values):
    """Each column's latest non-NaN value up to each row (NaN before the first): ffill."""
    out = values.copy()
    for r in range(1, out.shape[0]):
        for c in range(out.shape[1]):
            if np.isnan(out[r, c]):
                out[r, c] = out[r - 1, c]
    return out


@numba.njit(cache=True)
def _weighted(latest, at, days, lo, duration, masked):
    """For days ``lo`` on (as many as ``masked`` has rows): ``duration``, the sum over the
    columns in order of weight x the latest estimate (none: 0), each term as numpy sums a
    one-column block and the first alone, each next one added (pandas: a block's sum,
    then the next block's added); ``masked``, the weights where an estimate is known
    (else 0.0), for numpy to sum."""
    for i in range(masked.shape[0]):
        d = lo + i
        week = at[d]
        total = 0.0
        for c in range(days.shape[1]):
            v = latest[week, c] if week >= 0 else np.nan
            known = not np.isnan(v)
            p = days[d, c] * (v if known else 0.0)
            # a one-column block's numpy sum: NaN filled with 0.0, then 0.0 + p (-0.0: 0.0)
            p = 0.0 if np.isnan(p) else 0.0 + p
            total = p if c == 0 else total + p
            masked[i, c] = days[d, c] if known else 0.0
        duration[d] = total
