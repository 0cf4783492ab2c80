"""The sweep kernel against the single-run engine, its metrics against quantstats, grids,
PBO from block moments, and walk-forward's refusal to peek at test windows."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from durationbt.api import build_context, compute_weights
from durationbt.data import CsvProvider, load_market_data
from durationbt.engine import Costs, simulate
from durationbt.errors import ParameterError
from durationbt.scoring import performance_metrics
from durationbt.statistics import block_moments, pbo_from_moments, probability_of_backtest_overfitting
from durationbt.strategy import Context, Param, Strategy
from durationbt.sweep import combinations, equity_metrics, parse_grid, run_grid, simulate_many
from durationbt.sweep.kernel import execution_rows
from durationbt.sweep.sums import pairwise_sum
from durationbt.sweep.sweep import run_sweep
from durationbt.sweep.walkforward import (
    choose_per_window,
    parse_span,
    walk_forward,
    walk_forward_windows,
)
from durationbt.universe import load_universe
from reference import simulate_shares
from test_engine import executed, monthly_targets, synthetic_prices


def curve_moments(equity: np.ndarray, n_splits: int) -> np.ndarray:
    """Reference for the kernel's streamed CSCV moments, from full equity curves."""
    return block_moments((equity[:, 1:] / equity[:, :-1] - 1.0).T, n_splits)


def _kernel_inputs(prices, targets_list):
    rows, decisions = execution_rows(prices.index, targets_list[0].index)
    stack = np.stack([t.loc[decisions, prices.columns].to_numpy() for t in targets_list])
    return rows, stack


@pytest.mark.parametrize("fees_bps, slippage_bps", [(0, 0), (10, 5), (50, 20)])
def test_kernel_equals_single_run_engine(fees_bps, slippage_bps):
    prices = synthetic_prices()
    targets = [monthly_targets(prices, seed) for seed in range(6)]
    rows, stack = _kernel_inputs(prices, targets)
    costs = Costs(fees_bps, slippage_bps)
    equity, traded = simulate_many(prices, stack, rows, costs=costs)
    for k, target in enumerate(targets):
        engine = simulate(prices, target, costs=costs)
        np.testing.assert_allclose(equity[k], engine.equity.to_numpy(), rtol=1e-9, atol=0)
        assert traded[k] == pytest.approx(engine.traded.sum(), rel=1e-9)


def test_kernel_matches_engine_when_equal_buys_tie():
    """Equal weights give exactly equal order values: the trimmed buy must be the same one
    vectorbt trims (ties in column order), or paths drift apart by the cost sliver."""
    prices = synthetic_prices(seed=11, assets=6).ffill().bfill()
    dates = prices.groupby(prices.index.to_period("M")).tail(1).index.union(prices.index[:1])
    equal = pd.DataFrame(1 / 6, index=dates, columns=prices.columns)
    rows, stack = _kernel_inputs(prices, [equal])
    equity, _ = simulate_many(prices, stack, rows, costs=Costs(10, 5))
    engine = simulate(prices, equal, costs=Costs(10, 5))
    np.testing.assert_allclose(equity[0], engine.equity.to_numpy(), rtol=1e-12)


def test_kernel_matches_engine_when_several_buys_reach_the_cash_limit():
    """One large position sold into 99 small buys at high costs: the sale's costs exceed
    the largest buy, so several buys are trimmed and the full order-value sort decides."""
    prices = synthetic_prices(seed=5, days=260, assets=100).ffill().bfill()
    dates = prices.groupby(prices.index.to_period("M")).tail(1).index.union(prices.index[:1])
    concentrated = np.full(100, 0.002)
    concentrated[0] = 1.0 - concentrated[1:].sum()
    rows = [concentrated if k % 2 == 0 else np.full(100, 0.01) for k in range(len(dates))]
    targets = pd.DataFrame(rows, index=dates, columns=prices.columns)
    costs = Costs(50, 20)
    rows, stack = _kernel_inputs(prices, [targets])
    equity, traded = simulate_many(prices, stack, rows, costs=costs)
    engine = simulate(prices, targets, costs=costs)
    np.testing.assert_allclose(equity[0], engine.equity.to_numpy(), rtol=1e-9, atol=0)
    assert traded[0] == pytest.approx(engine.traded.sum(), rel=1e-9)
    ref = simulate_shares(prices, executed(prices, targets), fees=costs.fees, slippage=costs.slippage)
    np.testing.assert_allclose(equity[0], ref.to_numpy(), rtol=1e-9, atol=0)


def test_kernel_sends_closed_out_weight_to_the_cash_asset_like_the_engine():
    """Daily decisions: the one made on A2's last day is executed after its end; kernel and
    engine both put that weight in the cash asset A0 at the same execution, with costs."""
    prices = synthetic_prices()
    prices.iloc[251:, 2] = np.nan
    rng = np.random.default_rng(4)
    targets = []
    for _ in range(3):
        raw = rng.uniform(0, 1, prices.shape)
        raw[:, 2] = np.where(prices.iloc[:, 2].notna(), raw[:, 2], 0.0)
        raw[:, 4] = np.where(prices.iloc[:, 4].notna(), raw[:, 4], 0.0)
        targets.append(pd.DataFrame(raw / raw.sum(axis=1, keepdims=True) * 0.95,
                                    index=prices.index, columns=prices.columns))
    rows, stack = _kernel_inputs(prices, targets)
    costs = Costs(10, 5)
    equity, traded = simulate_many(prices, stack, rows, costs=costs, cash="A0")
    plain, _ = simulate_many(prices, stack, rows, costs=costs)
    for k, target in enumerate(targets):
        engine = simulate(prices, target, costs=costs, cash="A0")
        np.testing.assert_allclose(equity[k], engine.equity.to_numpy(), rtol=1e-9, atol=0)
        assert traded[k] == pytest.approx(engine.traded.sum(), rel=1e-9)
        assert not np.allclose(equity[k, 252:], plain[k, 252:])


def test_prices_prepared_once_give_the_kernel_the_same_bits():
    """A PreparedPrices (a timing attribution's placebos share one) is the frame to the
    kernel, bit for bit, on prices with a late listing, a delisting closed out to cash, and
    a long/short book with carry; one made for another schedule is refused."""
    from durationbt.engine import valuation_prices
    from durationbt.errors import EngineError
    from durationbt.sweep.kernel import simulate_path
    from durationbt.sweep.prepared import prepare_prices

    prices = synthetic_prices()
    prices.iloc[251:, 2] = np.nan                       # A2's data ends; A4 lists late
    targets = [monthly_targets(prices, seed) for seed in range(3)]
    rows, stack = _kernel_inputs(prices, targets)
    stack[1, :, 1] -= 0.6                                # a short in A1, borrowed in A0
    stack[1, :, 0] += 0.6
    stack[:, :, 2] = np.where(prices.iloc[rows, 2].notna().to_numpy(), stack[:, :, 2], 0.0)
    prepared = prepare_prices(prices, rows)
    options = {"costs": Costs(10, 5), "cash": "A0", "carry_rate": np.full(5, 1e-4),
               "band": 0.01}
    for a, b in zip(simulate_many(prices, stack, rows, **options),
                    simulate_many(prepared, stack, rows, **options), strict=True):
        assert a.tobytes() == b.tobytes()
    for a, b in zip(simulate_path(prices, stack[1], rows, **options),
                    simulate_path(prepared, stack[1], rows, **options), strict=True):
        assert a.tobytes() == b.tobytes()
    # the valuation is read on execution rows only: nothing else of it is filled; the
    # layout is the whole window's valuation prices, filled asset by asset where it has holes
    assert (prepared.valuation[np.setdiff1d(np.arange(len(prices)), rows)] == 0).all()
    holed = prices.assign(A5=np.nan)                     # never priced: valued at 1
    holed.iloc[300:305, 3] = np.nan                      # a hole with prices after it
    full = valuation_prices(holed).to_numpy()
    layout = prepare_prices(holed, rows)
    want = np.concatenate([full[lo:hi].T.ravel()
                           for lo, hi in zip([0, *rows], [*rows, len(holed)], strict=True)])
    assert layout.by_segment.tobytes() == want.tobytes()
    assert layout.valuation[rows].tobytes() == full[rows].tobytes()
    with pytest.raises(EngineError, match="prepared for another execution schedule"):
        simulate_many(prepared, stack[:, 1:], rows[1:])


def test_pairwise_sum_is_numpys_bit_for_bit():
    rng = np.random.default_rng(0)
    for n in [*range(1, 140), 257, 1000]:
        a = rng.standard_normal(n) * 10 ** rng.uniform(-3, 6, n)
        assert pairwise_sum(a, n) == np.sum(a)


def test_sweep_metrics_equal_quantstats():
    prices = synthetic_prices()
    targets = [monthly_targets(prices, seed) for seed in range(3)]
    rows, stack = _kernel_inputs(prices, targets)
    equity, traded = simulate_many(prices, stack, rows, costs=Costs())
    ours = equity_metrics(equity, traded)
    for k in range(len(targets)):
        curve = pd.Series(equity[k], index=prices.index)
        engine = simulate(prices, targets[k], costs=Costs())
        theirs = performance_metrics(curve, engine.traded)
        for key in ("total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown",
                    "calmar", "turnover"):
            assert ours[key][k] == pytest.approx(theirs[key], rel=1e-9), key


def test_pbo_from_block_moments_equals_matrix_version():
    rng = np.random.default_rng(5)
    returns = rng.normal(0, 0.01, (800, 12))
    equity = np.cumprod(np.vstack([np.ones(12), 1 + returns]), axis=0).T
    moments = curve_moments(equity, 16)
    assert pbo_from_moments(moments) == pytest.approx(
        probability_of_backtest_overfitting(returns, 16), abs=1e-12)


class Tilt(Strategy):
    """Test strategy: a fixed share in one ticker, the rest in another."""

    name = "tilt"
    weights_by = "ticker"
    share = Param(0.5, "share in SOFTA", low=0.0, high=1.0, grid=(0.0, 0.5, 1.0))
    other = Param("CHIPA", "the other ticker", grid=("CHIPA", "CASH"))

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        w = pd.DataFrame(0.0, index=ctx.rebalance_dates, columns=["SOFTA", self.other])
        w["SOFTA"] = self.share
        w[self.other] += 1 - self.share
        return w


def test_grid_parsing_and_errors():
    grid = parse_grid(Tilt, ["share=0.2, 0.4,0.4"])
    assert grid == {"share": [0.2, 0.4]}
    assert parse_grid(Tilt, []) == {"share": [0.0, 0.5, 1.0], "other": ["CHIPA", "CASH"]}
    assert parse_grid(Tilt, [], {"other": "CASH"}) == {"share": [0.0, 0.5, 1.0], "other": ["CASH"]}
    assert len(combinations(parse_grid(Tilt, []))) == 6
    for bad, message in ((["shar=1"], 'Did you mean "share"'), (["share"], "name=a,b,c"),
                         (["share=2"], "must lie in"), (["share=1", "share=0"], "twice")):
        with pytest.raises(ParameterError, match=message):
            parse_grid(Tilt, bad)


@pytest.fixture(scope="module")
def synth_setup(synth_data, synth_universe):
    universe = load_universe(synth_universe)
    market = load_market_data(universe, CsvProvider(synth_data))
    return universe, market, build_context(universe, market, "monthly")


def test_sweep_equals_single_runs_and_dedupes(synth_setup):
    universe, market, ctx = synth_setup
    window = market.prices.loc[market.start:market.end]
    grid = {"share": [0.0, 0.5, 1.0], "other": ["CHIPA", "CASH"]}
    result = run_sweep(Tilt, grid, ctx, window, "sharpe", Costs(), 1e6)
    assert result.n_combos == 6 and result.n_trials == 5  # share=1.0 holds only SOFTA
    for _, row in result.table.iterrows():
        single = simulate(window, compute_weights(Tilt(share=row["share"], other=row["other"]), ctx))
        theirs = performance_metrics(single.equity, single.traded)
        assert row["sharpe"] == pytest.approx(theirs["sharpe"], rel=1e-9)
        assert row["total_return"] == pytest.approx(theirs["total_return"], rel=1e-9)
    assert result.table["sharpe"].is_monotonic_decreasing
    assert 0 <= result.stats["pbo"] <= 1 and 0 <= result.stats["dsr"] <= 1
    best = result.table.iloc[0]
    single = simulate(window, compute_weights(Tilt(share=best["share"], other=best["other"]), ctx))
    np.testing.assert_allclose(result.best_equity.to_numpy(), single.equity.to_numpy(), rtol=1e-9)


def test_chunking_does_not_change_results(synth_setup):
    """Targets are simulated and dropped chunk by chunk; the chunk size changes nothing."""
    universe, market, ctx = synth_setup
    window = market.prices.loc[market.start:market.end]
    combos = combinations({"share": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0], "other": ["CHIPA", "CASH"]})
    whole = run_grid(Tilt, combos, ctx, window, costs=Costs(), init_cash=1e6, chunk_size=1000)
    pieces = run_grid(Tilt, combos, ctx, window, costs=Costs(), init_cash=1e6, chunk_size=3)
    assert whole.n_trials == pieces.n_trials == 11
    np.testing.assert_array_equal(whole.trial_of_combo, pieces.trial_of_combo)
    for key in whole.metrics:
        np.testing.assert_array_equal(whole.metrics[key], pieces.metrics[key])
    np.testing.assert_array_equal(whole.moments, pieces.moments)


def test_walk_forward_windows_and_spans():
    calendar = pd.bdate_range("2015-01-01", "2020-06-30")
    decisions = calendar[calendar.to_series().groupby(calendar.to_period("M")).transform("max") == calendar]
    windows = walk_forward_windows(calendar, pd.DatetimeIndex(decisions), parse_span("2y", "--train"),
                                   parse_span("1y", "--test"))
    assert [w.train_end.date().isoformat() for w in windows] == [
        "2016-12-30", "2017-12-29", "2018-12-31", "2019-12-31"]
    assert windows[-1].test_end == calendar[-1]
    assert all(a.test_end == b.train_end for a, b in zip(windows, windows[1:], strict=False))
    with pytest.raises(ParameterError, match="is not a span"):
        parse_span("3 years", "--train")
    with pytest.raises(ParameterError, match="too short"):
        walk_forward_windows(calendar[:100], pd.DatetimeIndex(decisions[:4]), parse_span("3y", "--train"),
                             parse_span("1y", "--test"))


def test_walk_forward_choice_ignores_a_planted_future(synth_setup):
    """Make one combination wonderful only after a window's training end: that window's
    choice (and every earlier one) must not move; the plant may only win later windows."""
    universe, market, ctx = synth_setup
    window = market.prices.loc[market.start:market.end]
    grid = {"share": [0.0, 0.25, 0.5, 0.75, 1.0], "other": ["CHIPA"]}
    combos = combinations(grid)
    frames = [compute_weights(Tilt(**c), ctx) for c in combos]
    prices = window[list(frames[0].columns)]
    calendar = pd.DatetimeIndex(prices.index)
    rows, decisions = execution_rows(calendar, frames[0].index)
    stack = np.stack([f.loc[decisions].to_numpy() for f in frames])
    train, test = parse_span("9m", "--train"), parse_span("6m", "--test")
    windows = walk_forward_windows(calendar, decisions, train, test)
    assert len(windows) >= 3
    equity, _ = simulate_many(prices, stack, rows)
    base = choose_per_window(equity, calendar, windows, "sharpe")
    for k, w in enumerate(windows):
        cut = calendar.get_loc(w.train_end)
        for trial in range(len(stack)):
            planted = equity.copy()
            boost = np.cumprod(np.full(planted.shape[1] - cut - 1, 1.01))
            planted[trial, cut + 1:] *= boost
            choices = choose_per_window(planted, calendar, windows, "sharpe")
            assert choices[:k + 1] == base[:k + 1]

    # end to end: SOFTA soars only after the first training end (share=1.0 would win the
    # test window); the first window's choice and in-sample score do not move
    first_end = windows[0].train_end
    soaring = market.prices.copy()
    after = soaring.index > first_end
    soaring.loc[after, "SOFTA"] *= np.cumprod(np.full(after.sum(), 1.02))
    soar = dataclasses.replace(market, prices=soaring)
    ctx2 = build_context(universe, soar, "monthly")
    bench = window[universe.benchmark].rename(universe.benchmark)
    one = walk_forward(Tilt, combos, ctx, window, train, test, "sharpe", Costs(), 1e6, bench)
    two = walk_forward(Tilt, combos, ctx2, soar.prices.loc[soar.start:soar.end], train, test,
                       "sharpe", Costs(), 1e6, bench)
    assert one.windows.iloc[0]["share"] == two.windows.iloc[0]["share"]
    assert one.windows.iloc[0]["in_sample_sharpe"] == pytest.approx(two.windows.iloc[0]["in_sample_sharpe"])
    assert two.windows.iloc[1]["share"] == 1.0  # the soaring asset wins once it is in the past


def test_walk_forward_out_of_sample_run_is_the_engine_on_stitched_targets(synth_setup):
    universe, market, ctx = synth_setup
    window = market.prices.loc[market.start:market.end]
    grid = {"share": [0.0, 0.5, 1.0], "other": ["CHIPA"]}
    bench = window[universe.benchmark].rename(universe.benchmark)
    result = walk_forward(Tilt, combinations(grid), ctx, window, parse_span("9m", "--train"),
                          parse_span("6m", "--test"), "sharpe", Costs(), 1e6, bench,
                          defaults=Tilt().values())
    oos = result.equity["walk-forward (out of sample)"].dropna()
    assert oos.index[0] == pd.Timestamp(result.windows.iloc[0]["train_end"])
    assert oos.iloc[0] == 1e6
    # rebuild the stitched targets by hand from the chosen shares and simulate them
    pieces = []
    for _, row in result.windows.iterrows():
        w = compute_weights(Tilt(share=row["share"]), ctx)
        mask = (w.index >= pd.Timestamp(row["train_end"])) & (w.index < pd.Timestamp(row["test_end"]))
        pieces.append(w.loc[mask])
    again = simulate(window.loc[oos.index[0]:], pd.concat(pieces), costs=Costs())
    np.testing.assert_allclose(oos.to_numpy(), again.equity.to_numpy(), rtol=1e-12)
    assert set(result.summary.index) >= {"walk-forward (out of sample)", "default parameters",
                                         "best in hindsight", "in sample (average of windows)"}


def test_executed_helper_is_consistent():
    prices = synthetic_prices()
    targets = monthly_targets(prices)
    rows, _ = _kernel_inputs(prices, [targets])
    assert list(prices.index[rows]) == list(executed(prices, targets).index)


def test_streaming_statistics_equal_the_full_curves():
    """The sweep keeps no daily equity: its metrics and CSCV moments come from sums
    accumulated in the kernel, and must equal those computed from the curves."""
    from durationbt.sweep.kernel import simulate_stats
    from durationbt.sweep.metrics import stats_metrics

    prices = synthetic_prices()
    targets = [monthly_targets(prices, seed) for seed in range(4)]
    rows, stack = _kernel_inputs(prices, targets)
    equity, traded = simulate_many(prices, stack, rows, costs=Costs())
    none, traded2, stats, blocks = simulate_stats(prices, stack, rows, costs=Costs(), n_blocks=16)
    assert none is None
    np.testing.assert_array_equal(traded, traded2)
    full, streamed = equity_metrics(equity, traded), stats_metrics(stats, traded2, len(prices), 1e6)
    for key in full:
        np.testing.assert_allclose(streamed[key], full[key], rtol=1e-9, err_msg=key)
    np.testing.assert_allclose(blocks.transpose(1, 2, 0), curve_moments(equity, 16), rtol=1e-9)


def test_sweep_verdict_in_plain_words():
    from durationbt.report.sweep_page import verdict_sentence

    strong = verdict_sentence({"dsr": 0.99, "pbo": 0.1, "psr": 1.0}, 45)
    assert strong == ("The best combination's Sharpe ratio is very likely more than luck "
                      "(deflated Sharpe 99% after 45 distinct trials), and choosing the "
                      "in-sample winner usually holds up out of sample (PBO 10%): the chosen "
                      "parameters matter.")
    assert verdict_sentence({"dsr": 0.3, "pbo": 0.7, "psr": 0.8}, 9).endswith(
        "bottom half out of sample (PBO 70%): do not trust these parameters.")
    assert verdict_sentence({"dsr": float("nan"), "pbo": float("nan"), "psr": 0.9}, 1).startswith(
        "One distinct set of weights")
