"""The regime tables' and book's numpy paths hold the pandas formulations they replace bit
for bit (issue 26): pandas sums a frame's rows in an order that follows its block layout,
so each case is run on weights laid out both ways, with the edge cases a run meets."""

import numpy as np
import pandas as pd
import pytest

from durationbt.book import exposures
from durationbt.inference.bootstrap import stationary_bootstrap_indices
from durationbt.metrics import PERIODS_PER_YEAR
from durationbt.regimes import _held_sums, _labels, acting_regime, bucket_contribution

DAYS = pd.bdate_range("2020-01-01", periods=300)


def old_bucket_contribution(weights, prices, buckets, regime):
    """bucket_contribution as written before blocks of days (commit 6e43eca)."""
    tickers = [t for t in weights.columns if t in prices.columns]
    asset_returns = prices[tickers].pct_change(fill_method=None).reindex(weights.index)
    daily = weights[tickers].shift(1) * asset_returns.fillna(0.0)
    per_bucket = pd.DataFrame({name: daily[[t for t in members if t in daily.columns]].sum(axis=1)
                               for name, members in buckets.items()}).iloc[1:]
    listed = {t for members in buckets.values() for t in members}
    extra = [t for t in tickers if t not in listed]
    if extra:
        per_bucket["other"] = daily[extra].sum(axis=1).iloc[1:]
    per_bucket["total"] = per_bucket.sum(axis=1)
    acting = acting_regime(regime, per_bucket.index)
    out = {label: per_bucket[acting.eq(label).to_numpy()].mean() * PERIODS_PER_YEAR
           for label in _labels(acting)[:-1]}
    out["all"] = per_bucket[acting.notna().to_numpy()].mean() * PERIODS_PER_YEAR
    return pd.DataFrame(out)


def same_bits(new: pd.DataFrame, old: pd.DataFrame) -> None:
    """Same labels, dtypes, NaNs and the same 64 bits in every other cell (-0.0 != 0.0)."""
    assert new.index.equals(old.index) and new.columns.equals(old.columns)
    assert list(new.dtypes) == list(old.dtypes)
    a, b = new.to_numpy(dtype=float), old.to_numpy(dtype=float)
    assert np.array_equal(np.isnan(a), np.isnan(b))
    live = ~np.isnan(a)
    assert np.array_equal(a[live].view(np.int64), b[live].view(np.int64))


def framed(values, index, columns, layout):
    """A one-block frame whose days lie in memory as rows ("C", as the engine's weights)
    or as columns ("F"), kept as given (pandas' default copy lays them out as columns)."""
    order = np.asfortranarray(values) if layout == "F" else np.ascontiguousarray(values)
    frame = pd.DataFrame(order, index=index, columns=columns, copy=False)
    assert frame.to_numpy().flags.c_contiguous == (layout == "C")
    return frame


def universe_frames(rng, days=DAYS, n=40, layout="C", extra=False):
    """Prices with late listings, holes, a day nothing traded, a zero price (an infinite
    return) and long/short weights with exact zeros and unchanged prices (-0.0 products);
    ``extra``: a benchmark held, priced and in no bucket, and a cash asset held, unpriced."""
    tickers = [f"T{i:02d}" for i in range(n)]
    levels = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, (len(days), n)), axis=0))
    levels[rng.random(levels.shape) < 0.05] = np.nan
    for j in range(0, n, 5):                    # late listings
        levels[: rng.integers(1, len(days) // 2), j] = np.nan
    levels[len(days) // 3] = np.nan             # a day without any price
    levels[10:14, 3] = levels[9, 3]             # unchanged: zero returns
    levels[20, 7] = 0.0                         # next day's return is infinite
    raw = rng.normal(0, 0.05, (len(days), n))
    raw[rng.random(raw.shape) < 0.2] = 0.0
    raw[:, 3] = -0.1                            # short over the zero returns
    held, priced = list(tickers), list(tickers)
    if extra:
        raw = np.column_stack([raw, np.full(len(days), 0.3), np.full(len(days), 0.1)])
        levels = np.column_stack([levels, 100 + np.arange(len(days), dtype=float)])
        held, priced = [*tickers, "BENCH", "CASH"], [*tickers, "BENCH"]
    other = "C" if layout == "F" else "F"
    return (framed(raw, days, held, layout), framed(levels, days, priced, other), tickers)


def regime_of(rng, days, spell=1):
    """Labels that change every ``spell`` days (1: one-day regimes), no signal at the start."""
    labels = np.array(["scarce", "neutral", "abundant"])[rng.integers(0, 3, len(days) // spell + 1)]
    regime = pd.Series(np.repeat(labels, spell)[: len(days)], index=days)
    regime.iloc[:5] = "no signal"
    return regime


@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("seed", range(4))
def test_bucket_contribution_is_the_pandas_formulation_bit_for_bit(layout, seed):
    rng = np.random.default_rng(seed)
    weights, prices, tickers = universe_frames(rng, layout=layout, extra=True)
    buckets = {"a": tuple(tickers[:15]), "b": tuple(reversed(tickers[15:30])),
               "c": tuple(tickers[30:]), "empty": ("NOT_HELD", "ALSO_NOT")}
    for spell in (1, 7):
        regime = regime_of(rng, DAYS, spell)
        same_bits(bucket_contribution(weights, prices, buckets, regime),
                  old_bucket_contribution(weights, prices, buckets, regime))
    # the daily sums themselves, where a short over unchanged prices gives -0.0 products
    # that pandas sums to +0.0
    held = [t for t in weights.columns if t in prices.columns]
    groups = {"a": tickers[:15], "flat": ["T03"], "empty": [], "other": ["BENCH"]}
    returns = prices[held].pct_change(fill_method=None).reindex(weights.index)
    daily = weights[held].shift(1) * returns.fillna(0.0)
    found = _held_sums(weights, prices, held, groups)
    same_bits(pd.DataFrame(found), pd.DataFrame({k: daily[g].sum(axis=1) for k, g in groups.items()}))


@pytest.mark.parametrize("layout", ["C", "F"])
def test_bucket_contribution_exact_on_other_shapes_and_layouts(layout):
    """Prices on other days than the weights, many blocks, a handful of days (pandas sums
    those in another order: the pandas path is kept for them), one ticker, no extra."""
    rng = np.random.default_rng(7)
    weights, prices, tickers = universe_frames(rng, n=12, layout=layout)
    buckets = {"x": tuple(tickers[:6]), "y": tuple(tickers[6:])}
    regime = regime_of(rng, DAYS)
    more = prices.reindex(pd.bdate_range("2019-12-20", periods=320))   # extra days either side
    fewer = prices.drop(index=DAYS[[5, 50, 51, 200]])                  # weights' days unpriced
    blocks = pd.concat([weights.iloc[:, :5], weights.iloc[:, 5:] * 1.0], axis=1)
    cases = [(weights, more), (weights, fewer), (blocks, prices), (weights, pd.concat(
        [prices.iloc[:, :3], prices.iloc[:, 3:]], axis=1)),
        (weights.iloc[:5], prices.iloc[:5]), (weights.iloc[:6], prices.iloc[:6]),
        (weights.iloc[:, :1], prices)]
    for w, p in cases:
        same_bits(bucket_contribution(w, p, buckets, regime),
                  old_bucket_contribution(w, p, buckets, regime))


@pytest.mark.parametrize("layout", ["C", "F"])
def test_bucket_contribution_sums_over_many_tickers_in_pandas_order(layout):
    """Hundreds of members in a bucket (pairwise and sequential sums differ there) and more
    days than one block of days."""
    rng = np.random.default_rng(11)
    days = pd.bdate_range("2000-01-03", periods=700)
    weights, prices, tickers = universe_frames(rng, days=days, n=400, layout=layout)
    buckets = {"wide": tuple(tickers[:390]), "narrow": tuple(tickers[390:])}
    regime = regime_of(rng, days, spell=20)
    same_bits(bucket_contribution(weights, prices, buckets, regime),
              old_bucket_contribution(weights, prices, buckets, regime))
    # a last block of one day: numpy sums a single column pairwise, not in order
    for n in (66, 130, 131):
        w, p = weights.iloc[:n], prices.iloc[:n]
        same_bits(bucket_contribution(w, p, buckets, regime),
                  old_bucket_contribution(w, p, buckets, regime))


def old_exposures(weights, cash_ticker):
    """book.exposures as written before blocks of days (commit 6e43eca)."""
    risky = weights.drop(columns=[cash_ticker], errors="ignore") if cash_ticker else weights
    long = risky.clip(lower=0.0).sum(axis=1)
    short = -risky.clip(upper=0.0).sum(axis=1)
    frame = {"long": long, "short": short, "gross": long + short, "net": long - short}
    return pd.DataFrame(frame, columns=["long", "short", "gross", "net"])


@pytest.mark.parametrize("layout", ["C", "F"])
def test_exposures_are_the_pandas_formulation_bit_for_bit(layout):
    """Cash first, in the middle, last, absent or None; shorts and exact zeros; a frame
    with a NaN (pandas then adds columns in order), a handful of days, many blocks; more
    tickers than numpy sums in one pairwise run and more days than one block."""
    rng = np.random.default_rng(3)
    days = pd.bdate_range("2001-01-01", periods=600)
    raw = rng.normal(0, 0.01, (len(days), 300))
    raw[rng.random(raw.shape) < 0.3] = 0.0
    raw[:, 5] = -0.0
    columns = [f"T{i:03d}" for i in range(300)]
    weights = framed(raw, days, columns, layout)
    with_nan = weights.copy()
    with_nan.iloc[17, 40] = np.nan
    blocks = pd.concat([weights.iloc[:, :100], weights.iloc[:, 100:] * 1.0], axis=1)
    for frame in (weights, with_nan, blocks, weights.iloc[:5], weights.iloc[:6], weights.iloc[:257],
                  weights.copy()):
        for cash in ("T000", "T150", "T299", "NONE", None):
            same_bits(exposures(frame, cash), old_exposures(frame, cash))
    for pair in (["T000", "T005"], ["T005", "T000"], ["T005"]):    # one risky column, -0.0
        for frame in (weights[pair], weights[pair].copy()):
            same_bits(exposures(frame, "T000"), old_exposures(frame, "T000"))



def old_indices(n, mean_block, n_boot, rng):
    """stationary_bootstrap_indices as written before (commit 6e43eca): day by day."""
    idx = np.empty((n_boot, n), dtype=np.int64)
    idx[:, 0] = rng.integers(0, n, n_boot)
    jumps = rng.random((n_boot, n)) < 1.0 / mean_block
    starts = rng.integers(0, n, (n_boot, n))
    for t in range(1, n):
        idx[:, t] = np.where(jumps[:, t], starts[:, t], (idx[:, t - 1] + 1) % n)
    return idx


@pytest.mark.parametrize(("n", "block"), [(1, 1.0), (2, 1.0), (7, 3.5), (500, 1.0), (500, 40.0),
                                          (300, 1e9), (1000, 250.0)])
def test_bootstrap_indices_are_the_day_by_day_ones(n, block):
    for seed in (0, 1):
        new = stationary_bootstrap_indices(n, block, 300, np.random.default_rng(seed))
        old = old_indices(n, block, 300, np.random.default_rng(seed))
        assert new.dtype == old.dtype and np.array_equal(new, old)


def test_bucket_returns_are_row_means_of_the_whole_frame_bit_for_bit():
    """duration's bucket returns, 64 days at a time, against ``row_mean`` over the whole
    frame's returns as before: many members (pairwise sums would differ), one member,
    holes, late listings, a zero price, both layouts, one to 700 days."""
    from durationbt.duration import _bucket_returns, row_mean
    from durationbt.weekly import change

    class Bucket:
        def __init__(self, name, tickers):
            self.name, self.tickers = name, tickers

    class Universe:
        buckets = [Bucket("wide", tuple(f"T{i:02d}" for i in range(3, 40))),
                   Bucket("one", ("T01",)), Bucket("pair", ("T02", "T00"))]

    rng = np.random.default_rng(5)
    days = pd.bdate_range("2001-01-01", periods=700)
    _, prices, _ = universe_frames(rng, days=days, n=40, layout="C")
    members = [prices.columns.get_indexer(b.tickers) for b in Universe.buckets]
    for layout in ("C", "F"):
        frame = framed(prices.to_numpy(), days, prices.columns, layout)
        for n in (0, 1, 2, 3, 7, 65, 66, 67, 700):
            part = frame.iloc[:n]
            returns = change(part.to_numpy(dtype=float), ratio=True)
            old = pd.DataFrame({b.name: row_mean(returns[:, at])
                                for b, at in zip(Universe.buckets, members, strict=True)})
            new = pd.DataFrame(_bucket_returns(part, Universe, members))
            same_bits(new, old)


def old_bootstrap_sums(data, finish, mean_block, n_boot, seed):
    """stationary_bootstrap_sums' draws as computed before (commit 6e43eca): positions,
    then their counts by bincount."""
    n = len(data)
    idx = old_indices(n, mean_block, n_boot, np.random.default_rng(seed))
    offsets = (idx + np.arange(n_boot)[:, None] * n).ravel()
    counts = np.bincount(offsets, minlength=n_boot * n).reshape(n_boot, n).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(finish(counts @ data), dtype=float).reshape(n_boot, -1)


@pytest.mark.parametrize(("n", "block"), [(3, 1.0), (40, 2.5), (900, 30.0), (2600, 120.0)])
def test_bootstrap_sums_draw_what_the_positions_gave(n, block):
    """The regime intervals' sums bootstrap counts each replicate's days in numba; its
    intervals are those of the counts taken from the positions, bit for bit."""
    from durationbt.inference.bootstrap import _estimate, stationary_bootstrap_sums
    from durationbt.regimes import _finish_scores

    rng = np.random.default_rng(n)
    r = rng.normal(0.0004, 0.01, (n, 3))
    r[rng.random(r.shape) < 0.1] = np.nan
    live = np.isfinite(r)
    x = np.where(live, r, 0.0)
    data = np.concatenate([live.astype(float), x, x * x, np.where(live, np.log1p(x), 0.0)], axis=1)
    finish = _finish_scores(3)
    found = stationary_bootstrap_sums(data, finish, mean_block=block, n_boot=400, seed=2)
    draws = old_bootstrap_sums(data, finish, block, 400, 2)
    for k, estimate in enumerate(found):
        old = _estimate(estimate.estimate, draws[:, k], n, "", {}, 0.0, 0.95)
        assert (estimate.ci95, estimate.p_value, estimate.stderr) == (
            old.ci95, old.p_value, old.stderr)
