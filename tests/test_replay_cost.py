"""The lookahead replay at a cost linear in the data: a replay's context is the past as it
is (views) and a replaced future of at most FUTURE_ROWS days written into one working copy,
so it allocates its future, not the history; the copy is rewritten correctly whatever the
order of the cuts (bisection goes back), and nothing a plugin writes reaches the next
replay. The validation of a replay's weights costs one lookup per column."""

from __future__ import annotations

import contextlib
import time
import tracemalloc
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from durationbt import shipping
from durationbt.data import CsvProvider, load_market_data
from durationbt.errors import StrategyError
from durationbt.futures import FUTURE_ROWS, VARIANTS, CutData
from durationbt.sandbox import Child
from durationbt.session import build_context
from durationbt.shipping import Shared
from durationbt.strategy import Strategy
from durationbt.universe import load_universe
from durationbt.weights import validated_weights

REPLACED = VARIANTS[1:]


@pytest.fixture(scope="module")
def ctx(synth_data, synth_universe):
    """The synthetic context with SOFTB delisted on 2021-01-15 (alive at earlier cuts,
    so a replay must run it on) and LATE listed in mid-2020 (absent before)."""
    universe = load_universe(synth_universe)
    full = build_context(universe, load_market_data(universe, CsvProvider(synth_data)), "monthly")
    prices = full.prices.copy()
    prices.loc[prices.index > pd.Timestamp("2021-01-15"), "SOFTB"] = np.nan
    return replace(full, prices=prices)


def _same(a: pd.DataFrame | pd.Series, b: pd.DataFrame | pd.Series) -> bool:
    return a.index.equals(b.index) and np.array_equal(np.asarray(a, dtype=float),
                                                      np.asarray(b, dtype=float), equal_nan=True)


def test_a_replayed_context_is_the_past_and_a_bounded_future_in_any_order(ctx):
    """Cuts in a shuffled order, some twice (as a bisection replays): each context equals
    the one a fresh CutData gives at that cut (same seeded future), its rows up to the cut
    are the data, and its future spans at most FUTURE_ROWS rows; series alive at the cut
    (SOFTB, delisted later) run on to its end, one not yet listed (LATE) stays absent."""
    data = CutData(ctx)
    dates = ctx.rebalance_dates
    order = list(np.random.default_rng(3).permutation(len(dates))) + [5, 2, 5]
    index = ctx.prices.index
    for k, position in enumerate(order):
        cut, variant = dates[position], REPLACED[k % len(REPLACED)]
        seen = data.context_at(cut, variant)
        fresh = CutData(ctx).context_at(cut, variant)
        n_past = int(index.searchsorted(cut, side="right"))
        rows = min(n_past + FUTURE_ROWS, len(index))
        assert len(seen.prices) == rows and seen.end == index[rows - 1]
        assert seen.rebalance_dates.equals(dates[dates <= cut])
        for name in ("prices", "inputs"):
            assert _same(getattr(seen, name), getattr(fresh, name)), (cut, variant, name)
            assert _same(getattr(seen, name).iloc[:n_past], getattr(ctx, name).iloc[:n_past])
        for got, want in ((seen.signal.components, fresh.signal.components),
                          (seen.signal.composite, fresh.signal.composite)):
            assert _same(got, want)
        assert seen.signal.regime.equals(fresh.signal.regime)
        assert seen.signal.regime.iloc[:n_past].equals(ctx.signal.regime.iloc[:n_past])
        future = seen.prices.iloc[n_past:]
        if len(future):
            alive = ctx.prices.iloc[n_past - 1].notna()
            assert future.loc[:, alive].notna().all().all()
            assert future.loc[:, ~alive].isna().all().all()
            assert not _same(future["SOFTA"], ctx.prices["SOFTA"].iloc[n_past:rows])
    truncated = data.context_at(dates[3], "truncate")
    assert _same(truncated.prices, ctx.prices.loc[:dates[3]])


def test_a_replay_allocates_its_future_not_the_history():
    """8,000 days x 300 series (19 MB): after the first replay, one replaced context
    allocates a few times its 252-day future (0.6 MB), never a copy of the table."""
    index = pd.bdate_range("1990-01-01", periods=8_000)
    rng = np.random.default_rng(1)
    prices = pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0, 0.01, (len(index), 300)), axis=0)),
                          index=index, columns=[f"S{i}" for i in range(300)])
    dates = index[::21]
    big = _bare_context(prices, dates)
    data = CutData(big)
    data.context_at(dates[10], "mirror")             # the working copy is made once
    table = prices.to_numpy().nbytes
    for position, variant in ((200, "scramble"), (120, "rescale"), (300, "mirror")):
        tracemalloc.start()
        seen = data.context_at(dates[position], variant)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < table / 4, (variant, peak, table)
        assert len(seen.prices) == int(index.searchsorted(dates[position], "right")) + FUTURE_ROWS


def _bare_context(prices: pd.DataFrame, dates: pd.DatetimeIndex):
    from durationbt.strategy import Context

    return Context(universe=None, prices=prices, inputs=prices.iloc[:, :0],  # type: ignore[arg-type]
                   rebalance_dates=dates, start=dates[0], end=prices.index[-1])


def test_what_a_plugin_writes_into_a_replay_reaches_no_later_replay(ctx):
    data = CutData(ctx)
    dates = ctx.rebalance_dates
    seen = data.context_at(dates[8], "mirror").private()
    seen.prices.loc[:, :] = 0.0                      # pandas copies first (copy-on-write)
    seen.prices.iloc[:5] *= 2
    with pytest.raises(ValueError, match="read-only"):
        data.context_at(dates[8], "mirror").prices.to_numpy()[0, 0] = -1.0
    later = data.context_at(dates[9], "scramble")
    n_past = int(ctx.prices.index.searchsorted(dates[9], side="right"))
    assert _same(later.prices.iloc[:n_past], ctx.prices.iloc[:n_past])


class _Wide(Strategy):
    """Ticker weights over every ticker of a wide universe."""

    name = "wide"
    weights_by = "ticker"


def test_validating_the_weights_of_thousands_of_tickers_costs_one_lookup_each(tmp_path):
    """20,000 tickers: the columns were matched to the universe's by list scans (columns x
    tickers comparisons, about 10 s, once per lookahead replay); now by one index lookup."""
    tickers = [f"T{i:05d}" for i in range(20_000)]
    path = tmp_path / "wide.toml"
    path.write_text('description = "wide"\nbenchmark = "T00000"\ncash = "T00000"\nstart = 2024-01-01\n\n'
                    '[buckets.bills]\nrank = 0\ndescription = "cash"\ntickers = ["T00000"]\n\n'
                    '[buckets.all]\nrank = 1\ndescription = "the rest"\ntickers = ['
                    + ", ".join(f'"{t}"' for t in tickers[1:]) + "]\n")
    universe = load_universe(path)
    dates = pd.bdate_range("2024-01-01", periods=6)
    prices = pd.DataFrame(1.0, index=dates, columns=tickers)
    wide = replace(_bare_context(prices, dates), universe=universe)
    raw = pd.DataFrame(1.0 / 20_000, index=dates, columns=tickers[::-1])
    began = time.perf_counter()
    checked = validated_weights(raw, _Wide(), wide)
    assert time.perf_counter() - began < 1.0
    assert list(checked.columns) == tickers and np.allclose(checked.to_numpy(), 1 / 20_000)


def _vandal(holder, ctx) -> tuple:
    """In a child: write into the context's arrays in place (past pandas) and into every
    shared-memory file the process holds; say what was refused."""
    import os

    values = ctx.prices._mgr.blocks[0].values
    values.flags.writeable = True
    values[...] = -1.0
    refused = []
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if "durationbt-shared" in os.readlink(f"/proc/self/fd/{name}"):
                try:
                    os.pwrite(int(name), b"\0" * 64, 0)
                except PermissionError:
                    refused.append(name)
    return float(np.nansum(ctx.prices.to_numpy())), len(refused)


def _total(holder, ctx) -> tuple:
    return float(np.nansum(ctx.prices.to_numpy())), bool(ctx.prices.index.equals(holder.state))


def test_the_context_reaches_each_child_through_one_sealed_shared_copy(ctx, monkeypatch):
    """Packed once, mapped by every child (no copy through the line): a child that writes
    into its arrays in place changes its own pages only, and the shared file refuses
    writes, so the next child (the next strategy of a compare) gets the data unchanged."""
    monkeypatch.setattr(shipping, "SMALL", 0)
    shared = Shared(ctx)
    packed = shared.packed()
    assert packed is not None and shared.packed() is packed      # packed once
    want = float(np.nansum(ctx.prices.to_numpy()))
    with Child("a vandal", 60, state=ctx.prices.index) as first:
        vandalised, refused = first.call(_vandal, shared)
    assert vandalised < 0 and refused >= 1
    with Child("the next strategy", 60, state=ctx.prices.index) as second:
        assert second.call(_total, shared) == (pytest.approx(want, rel=1e-12), True)
    assert float(np.nansum(ctx.prices.to_numpy())) == want       # the command's own copy
    shared.close()


def test_a_small_value_travels_in_the_message(ctx):
    assert Shared(ctx.prices.iloc[:50]).packed() is None          # 50 rows: under a MiB


def _plain_future(values, n_past, stop, positive, variant, rng):
    """The replaced future as it was first written (each step a new array): the
    reference the in-place writes into the working copy are held to, bit for bit."""
    future = values[n_past:stop]
    if not n_past:
        return np.full(future.shape, np.nan)

    def by_kind(pos, mult, add):
        return mult() if pos.all() else add() if not pos.any() else np.where(pos, mult(), add())

    alive = ~np.isnan(values[n_past - 1])
    gaps = np.isnan(future) & alive
    cols = np.flatnonzero(gaps.any(axis=0))
    if cols.size:
        stacked = values[n_past - 1:stop, cols]
        last = np.where(np.isnan(stacked), 0, np.arange(len(stacked))[:, None])
        level = np.take_along_axis(stacked, np.maximum.accumulate(last, axis=0), axis=0)[1:]
        drift = np.cumsum(rng.normal(0.0, 0.02, level.shape), axis=0)
        fill = by_kind(positive[cols], lambda: level * np.exp(drift), lambda: level + drift)
        future = future.copy()
        future[:, cols] = np.where(gaps[:, cols], fill, future[:, cols])
    anchor = values[n_past - 1]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if variant == "mirror":
            new = by_kind(positive, lambda: anchor ** 2 / future, lambda: 2 * anchor - future)
        elif variant == "scramble":
            walk = np.cumsum(rng.uniform(-0.04 * 3 ** 0.5, 0.04 * 3 ** 0.5, future.shape), axis=0)
            new = by_kind(positive, lambda: future * np.exp(walk), lambda: future + 10 * walk)
        else:
            factor = 10 ** (rng.uniform(1, 2, future.shape[1]) * rng.choice([-1, 1], future.shape[1]))
            new = future * factor
    new[:, ~alive] = np.nan
    return new


@pytest.mark.parametrize("kinds", ["positive", "signed", "both"])
def test_a_future_written_in_place_is_the_same_numbers(kinds):
    """The future is written straight into the working copy's rows (row-major, the data
    column-major, as a run's frames are): every variant, with series that stop in the
    future (continued by a walk), list later, have holes, or are of both kinds, gives the
    bits of the plain formulation from the same seeded draws."""
    from durationbt.futures import _replace_future, _runs

    rng = np.random.default_rng(11)
    rows, cols = 700, 40
    values = np.asfortranarray(100 * np.exp(np.cumsum(rng.normal(0, 0.01, (rows, cols)), axis=0)))
    values[400:, 3] = np.nan                       # delisted after row 400
    values[:500, 5] = np.nan                       # listed at row 500
    values[300:310, 7] = np.nan                    # a hole
    values[[420, 640], 13] = np.nan                # holes, then delisted
    values[660:, 13] = np.nan
    values[450:, 9] = np.nan
    values[:, 11] = np.nan                         # never priced
    if kinds != "positive":
        values[:, 1::2] -= 100                     # signed series (a yield spread, a z-score)
    positive = ~(values <= 0).any(axis=0) if kinds != "signed" else np.zeros(cols, bool)
    assert kinds != "both" or 0 < positive.sum() < cols
    work = values.copy()                           # row-major, as _Table's working copy
    for n_past in (0, 1, 290, 305, 399, 400, 449, 600, 699):
        stop = min(n_past + FUTURE_ROWS, rows)
        for k, variant in enumerate(REPLACED):
            want = _plain_future(values, n_past, stop, positive, variant,
                                 np.random.default_rng([7, n_past, k]))
            out = work[n_past:stop]
            with np.errstate(over="ignore"):
                _replace_future(values, n_past, stop, positive, variant,
                                np.random.default_rng([7, n_past, k]), out, _runs(values))
            assert np.array_equal(out, want, equal_nan=True), (n_past, variant)
            assert np.array_equal(np.signbit(out), np.signbit(want)), (n_past, variant)


def test_the_walk_sums_down_rows_as_cumsum_does():
    from durationbt.futures import _cumsum_down

    steps = np.random.default_rng(2).uniform(-1, 1, (252, 301)) * 10.0 ** np.arange(-150, 151)
    assert np.array_equal(_cumsum_down(steps.copy()), np.cumsum(steps, axis=0))
    assert _cumsum_down(np.empty((0, 3))).shape == (0, 3)


def test_validation_reuses_one_index_per_universe_and_refuses_as_before(ctx):
    """The known columns' Index is made once per universe (its hash table serves every
    replay); the checks that used it still name a repeated column, date or a missing one."""
    from durationbt.weights import _known, tradable

    assert _known(ctx.universe, "ticker")[1] is _known(ctx.universe, "ticker")[1]
    assert tradable(ctx) == (*ctx.universe.tickers, ctx.universe.benchmark)[:len(tradable(ctx))]
    dates = ctx.rebalance_dates
    ok = pd.DataFrame(0.1, index=dates, columns=["SOFTA", "SOFTB"])
    checked = validated_weights(ok, _Wide(), ctx)
    assert list(checked.columns) == list(tradable(ctx)) and checked["SOFTA"].eq(0.1).all()
    assert checked.drop(columns=["SOFTA", "SOFTB"]).eq(0).all().all()
    for raw, message in (
            (pd.DataFrame(0.1, index=dates, columns=["SOFTA", "SOFTB", "SOFTA"]),
             'column "SOFTA" appears more than once'),
            (ok.iloc[[0, *range(len(dates))]], f"date {dates[0].date()} appears more than once"),
            (ok.iloc[1:], f"no row for decision date {dates[0].date()}"),
            (ok.rename(columns={"SOFTB": "SOFTX"}), 'unknown ticker "SOFTX"')):
        with pytest.raises(StrategyError, match=message):
            validated_weights(raw, _Wide(), ctx)


def test_a_truncated_replay_is_the_data_up_to_its_cut_between_replaced_ones(ctx):
    """``truncate`` reads the working copy too (row-major, as the replaced futures): taken
    between replaced futures in any order, its prices and inputs are those of
    ``ctx.as_of(cut)``, read-only, and the replaced context after it is still the one a
    fresh CutData gives."""
    data = CutData(ctx)
    dates = ctx.rebalance_dates
    order = np.random.default_rng(4).permutation(len(dates))
    for k, position in enumerate(order):
        cut = dates[position]
        data.context_at(dates[order[k - 1]], REPLACED[k % len(REPLACED)])
        seen, want = data.context_at(cut, "truncate"), ctx.as_of(cut)
        for name in ("prices", "inputs"):
            assert _same(getattr(seen, name), getattr(want, name)), (cut, name)
            assert getattr(seen, name).columns.equals(getattr(want, name).columns)
        assert seen.end == want.end and seen.rebalance_dates.equals(want.rebalance_dates)
        assert _same(seen.signal.components, want.signal.components)
        with pytest.raises(ValueError, match="read-only"):
            seen.prices.to_numpy()[0, 0] = -1.0
        mine = seen.private()
        mine.prices.iloc[:, :] = -1.0                # the plugin's own copy (copy-on-write)
        assert _same(seen.prices, want.prices)
        variant = REPLACED[(k + 1) % len(REPLACED)]
        assert _same(data.context_at(cut, variant).prices, CutData(ctx).context_at(cut, variant).prices)


def test_a_fresh_import_runs_the_file_anew_but_compiles_it_once_per_version(tmp_path):
    """Every replay imports the plugin afresh (module state starts empty) from code
    compiled once; an edited file is compiled again."""
    from durationbt.loading import fresh_class

    path = tmp_path / "counting.py"
    path.write_text("from durationbt import Strategy\nSEEN = []\n\n\nclass Counting(Strategy):\n"
                    "    name = 'counting'\n\n    def target_weights(self, ctx):\n"
                    "        SEEN.append(1)\n        return len(SEEN)\n")
    first, second = fresh_class(_file_class(path)), fresh_class(_file_class(path))
    assert first is not second and first.target_weights(None, None) == 1
    assert second.target_weights(None, None) == 1                    # its own module's SEEN
    assert first.target_weights.__code__ is second.target_weights.__code__
    path.write_text(path.read_text().replace("len(SEEN)", "len(SEEN) + 100"))
    assert fresh_class(_file_class(path)).target_weights(None, None) == 101


def _file_class(path):
    from durationbt.loading import import_file

    return import_file(path, f"durationbt_plugin_{path.stem}", keep=True).Counting
