"""The sweep kernel's price inputs for one price window and one execution schedule, made
once and shared by every call over them: a timing attribution simulates its run, static mix
and a thousand placebos in chunks over the same window, and preparing the window per chunk
cost more than simulating it at 2,000 assets (the chunks grow with assets and years, and so
does each preparation: quadratic). ``sweep.kernel`` takes a ``PreparedPrices`` wherever it
takes the price frame."""

from __future__ import annotations

import mmap
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd

from ..engine import delisted, fillable, valuation_prices

__all__ = ["PreparedPrices", "prepare_prices"]


@dataclass(frozen=True, eq=False)
class PreparedPrices:
    """``prices`` (days x assets, as given) ready for the kernel on execution ``rows``:
    ``by_segment`` (``segment_layout``), ``valuation`` (days x assets, filled on the
    execution rows only: the kernel reads the valuation prices there, to rebalance, and
    ``by_segment`` on every other day; see ``_rows_only``), ``live`` (days x assets: an
    order can fill) and ``gone`` (rows x assets: the asset's data ended before that
    execution row)."""

    prices: pd.DataFrame
    rows: np.ndarray
    valuation: np.ndarray
    by_segment: np.ndarray
    live: np.ndarray
    gone: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.prices.shape

    def __len__(self) -> int:
        return len(self.prices)


def prepare_prices(prices: pd.DataFrame, rows: np.ndarray) -> PreparedPrices:
    """``prices`` prepared for the kernel on execution ``rows`` (row numbers of ``prices``).
    One copy of the prices is made (``by_segment``); the valuation prices
    (``engine.valuation_prices``: carried forward after an asset's data end, back-filled
    before its listing) are filled for the assets with a hole only, each asset on its own,
    so the same numbers without a second copy of the whole window."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    close = prices.to_numpy(dtype=np.float64)
    holes = np.flatnonzero(np.isnan(close).any(axis=0))
    filled = valuation_prices(prices.iloc[:, holes]).to_numpy(dtype=np.float64)
    by_segment = segment_layout(close, rows)
    if len(holes):
        _overwrite(by_segment, filled, holes, rows, close.shape)
    valuation = _rows_only(close.shape)
    valuation[rows] = close[rows]
    valuation[np.ix_(rows, holes)] = filled[rows]
    return PreparedPrices(prices=prices, rows=rows, valuation=valuation, by_segment=by_segment,
                          live=np.ascontiguousarray(fillable(prices).to_numpy()),
                          gone=np.ascontiguousarray(delisted(prices).to_numpy()[rows]))


def _rows_only(shape: tuple[int, int]) -> np.ndarray:
    """A zero days x assets array whose memory is only taken by the rows written: an
    anonymous map's pages exist once touched. ``np.zeros`` would not do: numpy asks for
    huge pages on large arrays, and a 2 MB page every few rows backed all of it (a system
    that gives every map huge pages backs it all too: no saving there, and no loss)."""
    size = max(1, shape[0] * shape[1]) * 8
    return np.frombuffer(mmap.mmap(-1, size), dtype=np.float64)[:shape[0] * shape[1]].reshape(shape)


def segment_layout(valuation: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``valuation`` (days x assets) flattened segment by segment (day 0 to the first
    execution row, then from each row to the next), each segment asset-major: one asset's
    prices over a segment are contiguous, and segments follow each other in memory. A plain
    transpose scattered each segment's reads over a row per asset, which the prefetcher
    could not follow (several times slower at 200 assets x 5,040 days). Written in place,
    segment by segment: no piece is copied twice. A frame's values are asset-major already
    (pandas keeps a block as assets x days), so each asset's segment is one contiguous
    read."""
    days, assets = valuation.shape
    out = np.empty(days * assets)
    for lo, hi in pairwise([0, *rows.tolist(), days]):
        out[lo * assets:hi * assets].reshape(assets, hi - lo)[...] = valuation[lo:hi].T
    return out


def _overwrite(by_segment: np.ndarray, filled: np.ndarray, columns: np.ndarray,
               rows: np.ndarray, shape: tuple[int, int]) -> None:
    """``segment_layout``'s ``columns`` replaced by ``filled`` (days x those columns)."""
    days, assets = shape
    for lo, hi in pairwise([0, *rows.tolist(), days]):
        by_segment[lo * assets:hi * assets].reshape(assets, hi - lo)[columns] = filled[lo:hi].T
