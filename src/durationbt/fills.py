"""A price table's gaps filled for valuation, one asset at a time in numba: pandas'
``ffill().bfill().fillna(1.0)`` over thousands of assets and decades of days made three
table-sized temporaries and took most of a second; this makes the one result. Only
copies of existing values are written, so every value is the one pandas gives, bit for
bit (tests/test_engine.py holds them together)."""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["filled_for_valuation"]


@numba.njit(cache=True)
def _fill(by_asset: np.ndarray, out: np.ndarray) -> None:
    """Row by row of ``by_asset`` (assets x days): the gaps after the first value carry
    the last value forward, those before it take the first value, and an asset without
    any value is 1 throughout."""
    assets, days = by_asset.shape
    for j in range(assets):
        first = -1
        for i in range(days):
            if not np.isnan(by_asset[j, i]):
                first = i
                break
        if first < 0:
            out[j, :] = 1.0
            continue
        last = by_asset[j, first]
        for i in range(first):
            out[j, i] = last
        for i in range(first, days):
            value = by_asset[j, i]
            if np.isnan(value):
                out[j, i] = last
            else:
                last = value
                out[j, i] = value


def filled_for_valuation(values: np.ndarray) -> np.ndarray:
    """``values`` (days x assets, float64) with every gap filled as ``_fill`` says; the
    result is Fortran-ordered (as a pandas block is), one new array."""
    by_asset = np.ascontiguousarray(values.T)
    out = np.empty_like(by_asset)
    _fill(by_asset, out)
    return out.T
