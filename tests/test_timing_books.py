"""The timing attribution's books at scale (inference.retimed, inference.timing._chunks):
targets filled in place by hand-checked rules, bit for bit the per-placebo einsum they
replace, and a thousand placebos simulated chunk by chunk on prices prepared once."""

from __future__ import annotations

import numpy as np
import pytest

from durationbt.inference import timing
from durationbt.inference.retimed import fill_targets


def test_books_by_hand():
    """Tickers A1, A2 (bucket a), B1 (bucket b), CASH and BENCH (no bucket). Weights per
    ticker before the spread: row 0 a 0.5, b 0.25 (25% uninvested); row 1 a -0.5, b 2.0 (net
    1.5: borrows 0.5 in CASH). Shares: date 0 splits a in halves; on date 1 A2 has no price."""
    weights = np.array([[0.5, 0.5, 0.25, 0.0, 0.0], [-0.5, -0.5, 2.0, 0.0, 0.0]])
    share = np.array([[0.5, 0.5, 1.0, 1.0, 0.0], [1.0, 0.0, 1.0, 1.0, 0.0]])
    source = np.array([[0, 1], [1, 0]])
    out = np.full((2, 2, 5), 9.0)
    placed = np.full((2, 2), np.nan)
    fill_targets(weights, source, share, 3, np.array([True, True]), placed, out)
    np.testing.assert_array_equal(out, [
        [[0.25, 0.25, 0.25, 0.25, 0.0], [-0.5, 0.0, 2.0, -0.5, 0.0]],
        [[-0.25, -0.25, 2.0, -0.5, 0.0], [0.5, 0.0, 0.25, 0.25, 0.0]]])
    assert not np.signbit(out[0, 1, 1])          # -0.5 x 0 is +0, as the einsum's sum gave
    np.testing.assert_array_equal(placed, [[0.25, 0.25], [-0.5, -0.5]])
    # cash unpriced on date 1, and a residual within rounding noise: nothing placed
    weights[0] = [0.5, 0.5, 0.5 - 5e-13, 0.0, 0.0]
    fill_targets(weights, source, share, 3, np.array([True, False]), np.full((2, 2), np.nan), out)
    assert out[0, 0, 3] == 0.0 and out[0, 1, 3] == 0.0 and out[1, 1, 3] == 0.0
    assert out[1, 0, 3] == -0.5


def _einsum_books(decided, source, column, share, cash, cash_priced):
    """The construction the books replace: every placebo's decided rows, an einsum over a
    decision x column x ticker spread, the residual to cash."""
    spread = np.zeros((share.shape[0], decided.shape[1], share.shape[1]))
    for k, c in enumerate(column):
        if c >= 0:
            spread[:, c, k] = share[:, k]
    targets = np.einsum("prc,rck->prk", decided[source], spread)
    residual = 1.0 - targets.sum(axis=2)
    placed = cash_priced[None] & ((residual > 1e-12) | (residual < -1e-9))
    targets[:, :, cash] += np.where(placed, residual, 0.0)
    return targets


@pytest.mark.parametrize("tickers_per_column", [40, 1])   # buckets, or a ticker strategy
def test_books_equal_the_per_placebo_einsum_bit_for_bit(tickers_per_column, monkeypatch):
    rng = np.random.default_rng(11)
    rows, columns = 30, 4
    tickers = columns * tickers_per_column + 2                 # + cash (col 0) and a benchmark
    column = np.r_[0, np.repeat(np.arange(columns), tickers_per_column)[1:], 1, -1]
    share = rng.uniform(0, 1, (rows, tickers)) * (rng.random((rows, tickers)) > 0.2)
    # a few distinct decisions with shorts and zeros, as a rotation and a long/short book
    patterns = rng.choice([-0.5, 0.0, 0.3, 0.7, 1.2], (3, columns))
    decided = patterns[rng.integers(0, 3, rows)]
    table = np.vstack([decided.mean(axis=0), decided])
    source = np.vstack([np.zeros(rows, dtype=np.int64),
                        1 + rng.integers(0, rows, (300, rows))])
    cash_priced = rng.random(rows) > 0.1
    run = rng.random((rows, tickers))
    monkeypatch.setattr(timing, "_CHUNK_FLOATS", 7 * rows * tickers)    # 7 books a chunk
    chunks = [c.copy() for c in timing._chunks(run, table, source, (column, share), 0,
                                               cash_priced)]
    assert [len(c) for c in chunks] == [7] * 43 + [1]
    books = np.concatenate(chunks)
    assert (books[0] == run).all()
    want = _einsum_books(table, source, column, share, 0, cash_priced)
    assert books[1:].tobytes() == want.tobytes()            # zeros' signs included
