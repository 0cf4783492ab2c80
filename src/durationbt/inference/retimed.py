"""The target weights of a timing attribution's books (``inference.timing``: its static mix
and re-timed placebos), a chunk of books at a time for the sweep kernel.

A book is a sequence of decided rows (indices into a table of rows of weights per ticker);
each ticker takes its decided column's weight times its share of it on the row's date, and
the rest goes to the cash ticker where it is priced, as ``RiskFree.hold_cash`` places it.
Built in one pass per book row with nothing but the chunk allocated: the per-placebo
``einsum`` over a decision x column x ticker spread it replaces cost more than the kernel
simulating the books, held every placebo's targets in memory at once (4 GB at 2,000 assets
x 10 years) and, for a strategy weighting tickers, a tickers x tickers spread per date.
Bit for bit the same numbers: each ticker has one decided column (a bucket, or itself), so
the einsum's sum held one product and zeros (``+ 0.0`` gives its zero's sign), and the cash
residual is numpy's pairwise sum (``sweep.sums``)."""

from __future__ import annotations

import numba
import numpy as np

from ..sweep.sums import pairwise_sum_into

__all__ = ["fill_targets", "PLACED_ABOVE", "PLACED_BELOW"]

# the residual placed in cash: above rounding noise, or a net leverage to borrow
PLACED_ABOVE = 1e-12
PLACED_BELOW = -1e-9


@numba.njit(cache=True, nogil=True, error_model="numpy")
def fill_targets(weights, source, share, cash, cash_priced, placed, out):
    """``out[p, r, k] = weights[source[p, r], k] * share[r, k]`` (books x rows x tickers),
    then ``1 - sum`` of the row added to ``out[p, r, cash]`` where ``cash_priced[r]`` and it
    exceeds the placement thresholds (no cash ticker: ``cash`` < 0). A row depends on
    ``source[p, r]`` and ``r`` only, so what it adds to cash is summed once per pair and
    kept in ``placed`` (weights rows x rows, NaN until known; pass the same one for every
    chunk of books)."""
    books, rows, tickers = out.shape
    work = np.empty((4, 64))
    for p in range(books):
        for r in range(rows):
            u = source[p, r]
            w, spread, row = weights[u], share[r], out[p, r]
            for k in range(tickers):   # on 1-d views: a 2-d index did not vectorize
                row[k] = w[k] * spread[k] + 0.0
            if cash < 0:
                continue
            if np.isnan(placed[u, r]):
                residual = 1.0 - pairwise_sum_into(row, tickers, work)
                placed[u, r] = residual if cash_priced[r] and (
                    residual > PLACED_ABOVE or residual < PLACED_BELOW) else 0.0
            row[cash] += placed[u, r]
