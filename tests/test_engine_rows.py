"""The engine hands vectorbt the execution rows only and rebuilds the daily path with
vectorbt's own accounting: every field equals a full-calendar vectorbt run bit for bit,
vectorbt's call-sequence sort no longer runs on days without orders (quadratic in the
assets: 13 of 15 s at 2,000 assets x 10 years), and no more than a few date x asset
frames are alive at once. The long/short order log, built without a Python loop, equals
the loop it replaced row for row."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from durationbt.book import Book
from durationbt.engine import Costs, delisted, fillable, import_vectorbt, simulate
from durationbt.errors import EngineError
from durationbt.longshort import fills, simulate_book
from reference import order_rows


def _market(seed: int = 5, days: int = 700, assets: int = 9) -> pd.DataFrame:
    """Random walks with the cases the engine treats apart: a late listing, a delisting,
    an asset never priced, a late listing and a delisting in one column, a cash asset."""
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2012-01-02", periods=days, name="date")
    prices = pd.DataFrame(50 * np.exp(np.cumsum(rng.normal(3e-4, 0.02, (days, assets)), axis=0)),
                          index=index, columns=[f"T{i}" for i in range(assets - 1)] + ["CASH"])
    prices.iloc[:150, 1] = np.nan
    prices.iloc[420:, 2] = np.nan
    prices.iloc[:, 3] = np.nan
    prices.iloc[:90, 4] = np.nan
    prices.iloc[500:, 4] = np.nan
    return prices


def _targets(prices: pd.DataFrame, every: int, seed: int = 9, short: bool = False) -> pd.DataFrame:
    """Random weights on every ``every``-th day (1: daily, so executions are adjacent rows),
    zero where the asset has no price on the decision day; ``short``: some negative, some
    changing sign (trades through zero)."""
    rng = np.random.default_rng(seed)
    decided = prices.index[::every]
    w = np.where(prices.loc[decided].notna().to_numpy(), rng.random((len(decided), prices.shape[1])),
                 0.0)
    if short:
        w[:, ::3] *= -0.5
        w[:, 1::3] *= np.where(rng.random(w[:, 1::3].shape) < 0.3, -1.0, 1.0)
    return pd.DataFrame(w / np.abs(w).sum(axis=1, keepdims=True) * 0.97, index=decided,
                        columns=prices.columns)


def _full_calendar(prices: pd.DataFrame, executed: pd.DataFrame, costs: Costs):
    """What the engine did before: one vectorbt run over every day of the calendar."""
    vbt = import_vectorbt()
    ended = prices.isna() & prices.ffill().notna() & prices.bfill().isna()
    size = pd.DataFrame(np.nan, index=prices.index, columns=prices.columns)
    size.loc[executed.index] = executed.to_numpy()
    size = size.where(prices.notna() | ended)
    valuation = prices.ffill().bfill().fillna(1.0)
    pf = vbt.Portfolio.from_orders(
        close=valuation, size=size, size_type="targetpercent", direction="longonly",
        fees=costs.fees, slippage=costs.slippage, init_cash=1_000_000.0, cash_sharing=True,
        group_by=True, call_seq="auto", freq="1D", engine="numba")
    weights = pf.asset_value(group_by=False).div(pf.value(), axis=0)
    return pf.value().to_numpy(), pf.cash().to_numpy(), weights, pf.orders.records


def _bits(a) -> bytes:
    return np.ascontiguousarray(np.asarray(a, dtype=np.float64)).tobytes()


@pytest.mark.parametrize(("every", "cash", "costs"), [
    (21, None, Costs()), (1, "CASH", Costs()), (5, "CASH", Costs(0, 0)), (1, None, Costs(30, 20)),
])
def test_equals_a_full_calendar_vectorbt_run_bit_for_bit(every, cash, costs):
    prices = _market()
    done = simulate(prices, _targets(prices, every), costs=costs, cash=cash)
    equity, cash_now, weights, records = _full_calendar(prices, done.targets, costs)
    assert _bits(done.equity) == _bits(equity)
    assert _bits(done.cash) == _bits(cash_now)
    assert _bits(done.weights) == _bits(weights)
    pd.testing.assert_index_equal(done.weights.columns, weights.columns)
    log = done.order_log
    assert done.orders == len(records) == len(log) > 0
    assert (log["date"].to_numpy() == prices.index[records["idx"]].to_numpy()).all()
    assert (log["ticker"].to_numpy() == prices.columns[records["col"]].to_numpy()).all()
    for field, column in (("size", "quantity"), ("price", "price"), ("fees", "fees")):
        assert _bits(log[column]) == _bits(records[field])
    traded = np.bincount(records["idx"], weights=records["size"] * records["price"],
                         minlength=len(prices))
    assert _bits(done.traded) == _bits(traded)


def test_no_execution_at_all_is_a_flat_path():
    prices = _market()
    done = simulate(prices, _targets(prices, 1).iloc[-1:])        # the last day's: dropped
    assert done.orders == 0 and len(done.order_log) == 0
    assert (done.equity == 1_000_000.0).all() and (done.weights == 0.0).all().all()


def test_targets_in_any_order_are_run_in_date_order_and_a_repeated_date_refused():
    prices = _market()
    targets = _targets(prices, 21)
    shuffled = targets.iloc[np.random.default_rng(1).permutation(len(targets))]
    assert _bits(simulate(prices, shuffled).equity) == _bits(simulate(prices, targets).equity)
    short = _targets(prices, 21, short=True)
    book = Book(allow_short=True, max_gross=2.0)
    assert _bits(simulate_book(prices, short.iloc[::-1], book=book).equity) == \
        _bits(simulate_book(prices, short, book=book).equity)
    with pytest.raises(EngineError, match="2012-02-29 appears more than once"):
        simulate(prices, pd.concat([targets.iloc[:3], targets.iloc[2:3]]))


def test_vectorbt_sees_the_execution_rows_only(monkeypatch):
    """Its call-sequence sort runs on every row it is given, orders or not, and costs
    assets squared per row: given the full calendar it dominated the run."""
    vbt = import_vectorbt()
    seen = []
    original = vbt.Portfolio.from_orders

    def spy(*args, **kwargs):
        seen.append(np.shape(kwargs["close"]))
        return original(*args, **kwargs)

    monkeypatch.setattr(vbt.Portfolio, "from_orders", spy)
    prices = _market()
    done = simulate(prices, _targets(prices, 21))
    assert seen == [(len(done.targets), prices.shape[1])]
    assert len(done.targets) == 34 < len(prices)


def test_at_most_a_few_frames_alive_at_once():
    """Peak traced memory of one simulation, in date x asset float frames: vectorbt's full
    calendar arrays (size, call sequence, flows, positions, filled closes, values) made it
    19 at 300 assets x 2,520 days; now the valuation prices and the weights, about 3."""
    rng = np.random.default_rng(0)
    index = pd.bdate_range("2000-01-03", periods=2520)
    prices = pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(3e-4, 0.015, (2520, 300)), axis=0)),
                          index=index, columns=[f"A{i}" for i in range(300)])
    prices.iloc[:100, 3] = np.nan                    # a late listing: the valuation is a copy
    targets = pd.DataFrame(1 / 300, index=index[::21], columns=prices.columns)
    targets.iloc[:5, 3] = 0.0
    simulate(prices.iloc[:300, :20], targets.iloc[:10, :20])        # compile, import
    frame = prices.size * 8
    tracemalloc.start()
    try:
        simulate(prices, targets)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * frame


def test_delisted_and_fillable_keep_their_definition():
    prices = _market()
    prices.iloc[200:203, 5] = np.nan                 # a hole with prices after it: not an end
    ended = prices.isna() & prices.ffill().notna() & prices.bfill().isna()
    pd.testing.assert_frame_equal(delisted(prices), ended)
    pd.testing.assert_frame_equal(fillable(prices), prices.notna() | ended)
    empty = prices.iloc[:0]
    assert delisted(empty).shape == fillable(empty).shape == (0, prices.shape[1])


def test_long_short_order_log_equals_the_loop_it_replaced():
    """Holdings that open, add to, trim, close, cross zero both ways and stay put."""
    prices = _market()
    valuation = prices.ffill().bfill().fillna(1.0)
    rng = np.random.default_rng(4)
    rows = np.sort(rng.choice(len(prices), 40, replace=False))
    holdings = np.round(rng.normal(0, 300, (40, prices.shape[1])), 3)
    holdings[rng.random(holdings.shape) < 0.3] = 0.0
    same = rng.random(holdings.shape) < 0.3
    same[0] = False
    holdings[same] = np.vstack([holdings[:1], holdings[:-1]])[same]   # no trade there
    costs = Costs(12, 7)
    log = fills(holdings, rows, valuation, costs)
    assert set(log["side"]) == {"buy", "sell", "short", "cover"}
    pd.testing.assert_frame_equal(log, order_rows(holdings, rows, valuation, costs),
                                  check_exact=True)
    nothing = fills(np.zeros((3, prices.shape[1])), rows[:3], valuation, costs)
    pd.testing.assert_frame_equal(nothing, order_rows(np.zeros((3, prices.shape[1])), rows[:3],
                                                      valuation, costs))
