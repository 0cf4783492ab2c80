import numpy as np
import pandas as pd
import pytest

from durationbt.engine import Costs, execution_schedule, simulate
from durationbt.errors import EngineError
from reference import simulate_shares


def synthetic_prices(seed: int = 7, days: int = 400, assets: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2020-01-01", periods=days, name="date")
    steps = rng.normal(2e-4, 0.02, (days, assets))
    prices = pd.DataFrame(100 * np.exp(np.cumsum(steps, axis=0)), index=index,
                          columns=[f"A{i}" for i in range(assets)])
    prices.iloc[:120, 4] = np.nan          # A4 lists late
    return prices


def monthly_targets(prices: pd.DataFrame, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = prices.groupby(prices.index.to_period("M")).tail(1).index
    dates = dates.union(prices.index[:1])
    raw = rng.uniform(0, 1, (len(dates), prices.shape[1]))
    raw[:, 4] = np.where(prices.loc[dates].iloc[:, 4].notna(), raw[:, 4], 0.0)
    weights = raw / raw.sum(axis=1, keepdims=True) * rng.uniform(0.7, 1.0, (len(dates), 1))
    weights[::4] = raw[::4] / raw[::4].sum(axis=1, keepdims=True)     # some fully invested
    return pd.DataFrame(weights, index=dates, columns=prices.columns)


def executed(prices, targets):
    schedule = execution_schedule(prices.index, targets.index)
    return targets.loc[schedule.to_numpy()].set_axis(schedule.index)


def test_zero_costs_matches_independent_share_model():
    prices = synthetic_prices()
    targets = monthly_targets(prices)
    result = simulate(prices, targets, costs=Costs(0, 0))
    ref = simulate_shares(prices, executed(prices, targets))
    np.testing.assert_allclose(result.equity.to_numpy(), ref.to_numpy(), rtol=1e-9)


def test_costs_match_independent_model_of_the_same_convention():
    prices = synthetic_prices()
    targets = monthly_targets(prices)
    costs = Costs(fees_bps=10, slippage_bps=5)
    result = simulate(prices, targets, costs=costs)
    ref = simulate_shares(prices, executed(prices, targets), fees=costs.fees,
                          slippage=costs.slippage)
    np.testing.assert_allclose(result.equity.to_numpy(), ref.to_numpy(), rtol=1e-9)


def test_costs_against_exact_post_fee_model_are_bounded():
    """The pre-trade-value convention leaves each rebalance's costs as cash (the last buy is
    trimmed) instead of shrinking every position. The gap to an exact post-fee model is the
    return on that sliver: at most costs paid x the largest between-rebalance move."""
    prices = synthetic_prices()
    targets = monthly_targets(prices)
    costs = Costs(fees_bps=10, slippage_bps=5)
    result = simulate(prices, targets, costs=costs)
    exact = simulate_shares(prices, executed(prices, targets), fees=costs.fees,
                            slippage=costs.slippage, exact_post_fee=True)
    gap = abs(result.equity.iloc[-1] / exact.iloc[-1] - 1)
    cost_share = result.costs_paid.sum() / 1_000_000
    print(f"final-equity gap to the exact post-fee model: {gap:.3e}; costs paid {cost_share:.3e}")
    assert gap > 0                       # the conventions really differ...
    assert gap < 0.05 * cost_share       # ...by a small fraction of the costs themselves


def test_costs_paid_equal_fees_plus_slippage_on_notional():
    prices = synthetic_prices()
    targets = monthly_targets(prices)
    result = simulate(prices, targets, costs=Costs(fees_bps=10, slippage_bps=5))
    # fees are 10 bp of the notional at fill prices; slippage is 5 bp of the close, i.e.
    # 5/(1 +/- 0.0005) bp of the fill notional
    notional = result.traded.sum()
    assert result.costs_paid.sum() == pytest.approx(notional * (0.0010 + 0.0005), rel=1e-3)


def test_one_bar_delay():
    prices = synthetic_prices()
    targets = pd.DataFrame(0.0, index=prices.index[[0, 50]], columns=prices.columns)
    targets.iloc[0, 0] = 1.0
    targets.iloc[1, 1] = 1.0
    result = simulate(prices, targets, costs=Costs(0, 0))
    w = result.weights
    assert w.iloc[0].sum() == 0                          # decided on day 0, nothing held yet
    assert w.iloc[1, 0] == pytest.approx(1.0)            # filled on day 1's close
    assert w.iloc[50, 0] == pytest.approx(1.0)           # day 50's decision not yet traded
    assert w.iloc[51, 1] == pytest.approx(1.0) and w.iloc[51, 0] == pytest.approx(0.0)


def test_positions_drift_between_rebalances():
    prices = synthetic_prices()
    targets = pd.DataFrame({"A0": [0.5], "A1": [0.5]}, index=prices.index[:1]).reindex(
        columns=prices.columns, fill_value=0.0)
    result = simulate(prices, targets, costs=Costs(0, 0))
    assert result.orders == 2
    growth = prices[["A0", "A1"]].iloc[-1] / prices[["A0", "A1"]].iloc[1]
    expected = growth / growth.sum()
    np.testing.assert_allclose(result.weights[["A0", "A1"]].iloc[-1], expected, rtol=1e-9)


def test_no_order_before_listing_and_uninvested_cash_earns_nothing():
    prices = synthetic_prices()
    targets = pd.DataFrame(0.0, index=prices.index[:1], columns=prices.columns)
    targets.iloc[0, 0] = 0.4
    result = simulate(prices, targets, costs=Costs(0, 0))
    assert result.weights["A4"].eq(0).all()
    assert result.cash.iloc[-1] == pytest.approx(600_000.0)


def test_order_on_a_day_without_price_is_refused_not_skipped():
    prices = synthetic_prices()
    prices.iloc[200:203, 2] = np.nan                     # a hole the data layer missed
    targets = pd.DataFrame(0.2, index=prices.index[[0, 199]], columns=prices.columns)
    targets.iloc[0, 4] = 0.0
    with pytest.raises(EngineError, match=r"No price for A2 on .*vectorbt would skip"):
        simulate(prices, targets, costs=Costs(0, 0))


def test_delisted_asset_is_held_at_its_last_price_then_sold_with_costs():
    """A2's data end on row 250 (a Wednesday inside a month): its position keeps the last
    close until the next execution, where it is sold at that close less slippage and fees,
    even though the decision before its end still asked to hold it."""
    prices = synthetic_prices()
    prices.iloc[251:, 2] = np.nan
    targets = monthly_targets(prices)
    targets.loc[targets.index > prices.index[250], "A2"] = 0.0    # what the spreader gives
    result = simulate(prices, targets, costs=Costs(10, 5))
    last = prices.iloc[250, 2]
    sold_on = result.targets.index[result.targets.index > prices.index[250]][0]
    held = result.weights.loc[prices.index[250]:sold_on, "A2"].iloc[:-1]
    value = (result.weights["A2"] * result.equity).loc[held.index]
    shares = value / last
    assert (held > 0).all() and np.allclose(shares, shares.iloc[0], rtol=1e-12)
    assert result.weights.loc[sold_on:, "A2"].eq(0).all()
    assert result.targets.loc[sold_on, "A2"] == 0.0
    ref = simulate_shares(prices, executed(prices, targets), fees=0.001, slippage=0.0005)
    np.testing.assert_allclose(result.equity.to_numpy(), ref.to_numpy(), rtol=1e-9)


def test_decision_before_the_end_executed_after_it_is_closed_out():
    """Decided on A2's last day (when its end is not yet known), executed the next day:
    the order to hold it becomes a sale at its last price; the weight stays in cash."""
    prices = synthetic_prices()
    prices.iloc[251:, 2] = np.nan
    targets = pd.DataFrame(0.0, index=prices.index[[0, 250]], columns=prices.columns)
    targets.iloc[:, 2] = 0.5
    result = simulate(prices, targets, costs=Costs(0, 0))
    assert result.targets.iloc[-1]["A2"] == 0.0
    assert result.cash.iloc[-1] == pytest.approx(result.equity.iloc[-1])
    shares = 500_000 / prices.iloc[1, 2]
    assert result.equity.iloc[-1] == pytest.approx(500_000 + shares * prices.iloc[250, 2])


def test_last_day_decision_is_dropped():
    prices = synthetic_prices(days=30).drop(columns="A4")
    targets = pd.DataFrame(0.0, index=prices.index[[0, 29]], columns=prices.columns)
    targets.iloc[:, 0] = 1.0
    result = simulate(prices, targets)
    assert list(result.targets.index) == [prices.index[1]]


@pytest.mark.parametrize("fees, slip", [(-1, 5), (10, float("nan")), (10_000, 0)])
def test_bad_costs(fees, slip):
    with pytest.raises(EngineError, match="must be a number"):
        Costs(fees, slip)


def test_order_log_adds_up_to_the_costs_and_the_traded_notional():
    prices = synthetic_prices()
    result = simulate(prices, monthly_targets(prices), costs=Costs(10, 5))
    log = result.order_log
    assert list(log.columns) == ["date", "ticker", "side", "quantity", "price", "notional",
                                 "fees", "slippage"]
    assert len(log) == result.orders
    assert (log["fees"] + log["slippage"]).sum() == pytest.approx(result.costs_paid.sum(), rel=1e-12)
    assert log["notional"].sum() == pytest.approx(result.traded.sum(), rel=1e-12)
    # hand-checkable fill: the first order is a buy on the second day at close x 1.0005,
    # paying 10 bp of its notional in fees and 5 bp of the close in slippage per share
    first = log.iloc[0]
    close = prices.loc[first["date"], first["ticker"]]
    assert first["date"] == prices.index[1] and first["side"] == "buy"
    assert first["price"] == pytest.approx(close * 1.0005, rel=1e-12)
    assert first["fees"] == pytest.approx(first["notional"] * 0.001, rel=1e-9)
    assert first["slippage"] == pytest.approx(close * 0.0005 * first["quantity"], rel=1e-9)
    assert set(log["side"]) == {"buy", "sell"}


def test_proceeds_of_a_position_closed_out_go_to_the_cash_asset_at_once():
    """Decided on A2's last day (row 250), executed the next: A2 is sold at its last price
    and the 50% it was targeted goes to the cash asset A0 at that same execution, not to
    idle cash for a period. Zero costs: value V at row 251 = 500,000 + A2's shares x its
    last price; half of V buys A0 and the rest stays idle, so the final equity is
    V / 2 + V / 2 x A0's growth from row 251."""
    prices = synthetic_prices()
    prices.iloc[251:, 2] = np.nan
    targets = pd.DataFrame(0.0, index=prices.index[[0, 250]], columns=prices.columns)
    targets.iloc[:, 2] = 0.5
    result = simulate(prices, targets, costs=Costs(0, 0), cash="A0")
    assert result.targets.iloc[-1]["A2"] == 0.0 and result.targets.iloc[-1]["A0"] == 0.5
    value = 500_000 + 500_000 / prices.iloc[1, 2] * prices.iloc[250, 2]
    growth = prices.iloc[-1, 0] / prices.iloc[251, 0]
    assert result.equity.iloc[-1] == pytest.approx(value / 2 + value / 2 * growth, rel=1e-12)
    ref = simulate_shares(prices, executed(prices, targets), cash_asset="A0")
    np.testing.assert_allclose(result.equity.to_numpy(), ref.to_numpy(), rtol=1e-9)
    # without a cash asset the weight stays idle (the test above); the cash asset without a
    # price that day cannot take it either
    unpriced = prices.copy()
    unpriced.iloc[240:260, 0] = np.nan
    unpriced.iloc[:, 0] = unpriced.iloc[:, 0].where(unpriced.index < unpriced.index[240])
    assert simulate(unpriced, targets, costs=Costs(0, 0), cash="A0").targets.iloc[-1]["A0"] == 0.0


def test_daily_schedule_with_costs_matches_the_reference_with_a_cash_asset():
    """Every day a decision: the one on A2's last day is closed out into A0 with costs."""
    prices = synthetic_prices()
    prices.iloc[251:, 2] = np.nan
    rng = np.random.default_rng(9)
    raw = rng.uniform(0, 1, prices.shape)
    raw[:, 4] = np.where(prices.iloc[:, 4].notna(), raw[:, 4], 0.0)
    raw[:, 2] = np.where(prices.iloc[:, 2].notna(), raw[:, 2], 0.0)
    targets = pd.DataFrame(raw / raw.sum(axis=1, keepdims=True) * 0.9, index=prices.index,
                           columns=prices.columns)
    costs = Costs(10, 5)
    result = simulate(prices, targets, costs=costs, cash="A0")
    day = prices.index[251]
    assert result.targets.loc[day, "A0"] == pytest.approx(
        targets.iloc[250]["A0"] + targets.iloc[250]["A2"], rel=1e-15)
    ref = simulate_shares(prices, executed(prices, targets), fees=costs.fees,
                          slippage=costs.slippage, cash_asset="A0")
    np.testing.assert_allclose(result.equity.to_numpy(), ref.to_numpy(), rtol=1e-9)
    before = simulate(prices, targets, costs=costs)
    pd.testing.assert_series_equal(result.equity.iloc[:251], before.equity.iloc[:251])
    # the day of the sale: the extra A0 bought pays its costs (15 bp), then earns A0's return
    moved = targets.iloc[250]["A2"] * before.equity.iloc[250]
    gap = before.equity.iloc[251] - result.equity.iloc[251]
    assert 0 < gap < 0.0016 * moved
    assert result.equity.iloc[252] != before.equity.iloc[252]


def test_on_the_snapshot_eth_proceeds_go_to_bil_daily_and_monthly_runs_do_not_move(
        snapshot, registry, default_universe):
    """ETH-USD's data end 2026-03-26. A daily schedule decides on that day still holding it;
    at the next execution its weight goes to BIL. Monthly schedules never decide on its last
    day, so their numbers are identical with or without the close-out to the cash asset."""
    from durationbt.data import CsvProvider, load_market_data
    from durationbt.riskfree import resolve_risk_free
    from durationbt.session import build_context
    from durationbt.universe import load_universe
    from durationbt.weights import compute_weights

    universe = load_universe(default_universe)
    market = load_market_data(universe, CsvProvider(snapshot))
    window = market.prices.loc[market.start:market.end]
    place = resolve_risk_free("bills", "risk-free", universe)
    for schedule, name in (("monthly", "liquidity_rotation"), ("monthly", "equal_weight"),
                           ("daily", "equal_weight")):
        ctx = build_context(universe, market, schedule)
        strategy = registry.get(name)()
        targets = place.hold_cash(strategy.traded(compute_weights(strategy, ctx)), ctx.prices)
        moved = simulate(window, targets, cash="BIL")
        idle = simulate(window, targets)
        if schedule == "monthly":
            pd.testing.assert_series_equal(moved.equity, idle.equity)
            continue
        day = pd.Timestamp("2026-03-27")
        eth = targets.loc["2026-03-26", "ETH-USD"]
        assert eth > 0.05                              # decided on its last day, still held
        assert moved.targets.loc[day, "BIL"] == pytest.approx(
            targets.loc["2026-03-26", "BIL"] + eth, rel=1e-12)
        assert idle.cash.loc[day] > 0.9 * eth * idle.equity.loc[day]   # was idle a day
        assert moved.cash.loc[day] < 0.01 * moved.equity.loc[day]


def test_valuation_prices_are_pandas_fills_bit_for_bit():
    """The numba fill gives exactly ``ffill().bfill().fillna(1.0)``: leading, inner and
    trailing gaps, an asset never priced, one priced once, inf and -0.0 carried as they are,
    a one-block frame and one of many blocks."""
    from durationbt.engine import valuation_prices

    rng = np.random.default_rng(7)
    values = rng.lognormal(0.0, 1.0, (300, 40))
    values[rng.random(values.shape) < 0.3] = np.nan
    values[:50, 3] = np.nan             # listed late
    values[200:, 4] = np.nan            # data end
    values[:, 5] = np.nan               # never priced
    values[:, 6] = np.nan
    values[123, 6] = 4.5                # priced once
    values[10, 7], values[11, 7] = np.inf, -0.0
    index = pd.bdate_range("2020-01-01", periods=300)
    one_block = pd.DataFrame(values, index=index, columns=[f"A{i}" for i in range(40)])
    many_blocks = pd.DataFrame({c: one_block[c].to_numpy().copy() for c in one_block.columns},
                               index=index)
    for frame in (one_block, many_blocks):
        want = frame.ffill().bfill().fillna(1.0).to_numpy()
        got = valuation_prices(frame)
        assert got.index.equals(frame.index) and got.columns.equals(frame.columns)
        assert got.to_numpy().view(np.int64).tolist() == want.view(np.int64).tolist()
    assert valuation_prices(one_block)["A6"].eq(4.5).all()
    assert np.isnan(values).any() and np.isnan(one_block.to_numpy()).any()   # input untouched
