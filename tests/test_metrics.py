"""The metrics registry: hand-computed values, the declared directions at work in rankings,
and the many-series form equal to the one-series form, column by column, to the last bit."""

import math

import numpy as np
import pandas as pd
import pytest

from durationbt import metrics
from durationbt.metrics import METRICS, best_first, formats, label

DAYS = pd.bdate_range("2024-01-01", periods=4)


def test_sharpe_of_a_tiny_series_by_hand():
    r = pd.Series([0.01, -0.01, 0.02, 0.0], index=DAYS)
    # mean 0.005; deviations 0.005, -0.015, 0.015, -0.005: squares sum 5e-4, / 3 -> var
    std = math.sqrt(5e-4 / 3)
    assert metrics.sharpe(r, periods=1) == pytest.approx(0.005 / std, rel=1e-12)
    assert metrics.sharpe(r) == pytest.approx(0.005 / std * math.sqrt(252), rel=1e-12)
    # a risk-free return of 0.001 a day lowers the mean only
    rf = pd.Series(0.001, index=DAYS)
    assert metrics.sharpe(r, rf, periods=1) == pytest.approx(0.004 / std, rel=1e-12)
    # a Series risk-free rate is aligned by date; a missing day counts as 0
    assert metrics.sharpe(r, rf.iloc[1:], periods=1) == pytest.approx(
        (0.02 - 0.003) / 4 / (r - [0, 0.001, 0.001, 0.001]).std(), rel=1e-12)


def test_other_metrics_of_a_tiny_series_by_hand():
    r = pd.Series([0.10, -0.50, 0.20, 0.0], index=DAYS)
    wealth = 1.1 * 0.5 * 1.2                                 # 0.66
    assert metrics.total_return(r) == pytest.approx(wealth - 1, rel=1e-12)
    assert metrics.cagr(r, periods=4) == pytest.approx(wealth - 1, rel=1e-12)   # one year
    assert metrics.cagr(r, periods=2) == pytest.approx(wealth ** 0.5 - 1, rel=1e-12)
    assert metrics.max_drawdown(r) == pytest.approx(-0.5, rel=1e-12)           # 1.1 -> 0.55
    assert metrics.calmar(r, periods=4) == pytest.approx((wealth - 1) / 0.5, rel=1e-12)
    assert metrics.volatility(r, periods=4) == pytest.approx(r.std() * 2, rel=1e-12)
    # Sortino: mean -0.05 over sqrt(0.25 / 4), downside over all four days
    assert metrics.sortino(r, periods=1) == pytest.approx(-0.05 / math.sqrt(0.25 / 4), rel=1e-12)
    # the start counts as a peak: a first-day loss is a drawdown
    assert metrics.max_drawdown(pd.Series([-0.1, 0.05])) == pytest.approx(-0.1)


def test_information_ratio_by_hand():
    s = pd.Series([100, 102, 101, 104, 104.0])
    b = pd.Series([100, 101, 101, 102, 103.0])
    active = (s.pct_change() - b.pct_change()).dropna()
    expected = active.mean() / active.std() * np.sqrt(252)
    assert metrics.information_ratio(s.pct_change(), b.pct_change()) == pytest.approx(expected)


def test_turnover_by_hand():
    # 160 traded over an average equity of 100 in one year of returns: one-way 0.8
    assert metrics.turnover(160.0, 100.0, 252) == pytest.approx(0.8)
    assert metrics.turnover(np.array([160.0, 0.0]), np.array([100.0, 50.0]), 126).tolist() == [
        pytest.approx(1.6), 0.0]
    assert math.isnan(metrics.turnover(1.0, 100.0, 0))


def test_too_few_days_and_no_variance_are_nan_not_errors():
    one = pd.Series([0.01])
    for name in ("volatility", "sharpe"):
        assert math.isnan(METRICS[name].compute(one, None, 252))
    flat = pd.Series([0.01, 0.01, 0.01])
    assert math.isnan(metrics.sharpe(flat))
    assert math.isnan(metrics.sortino(flat))                  # no losing day
    assert math.isnan(metrics.calmar(flat))                   # no drawdown
    assert math.isnan(metrics.cagr(pd.Series([], dtype=float)))


def _frame(seed: int, n: int = 300, k: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2015-01-01", periods=n)
    frame = pd.DataFrame(rng.normal(3e-4, rng.uniform(0.002, 0.03, k), (n, k)), index=days,
                         columns=[f"s{i}" for i in range(k)])
    frame.iloc[:40, 1] = np.nan              # a series that starts late
    frame.iloc[-25:, 3] = np.nan             # one that ends early
    return frame


@pytest.mark.parametrize("seed", range(4))
def test_many_series_equal_each_series_alone_to_the_last_bit(seed):
    frame = _frame(seed)
    rf = pd.Series(np.random.default_rng(seed + 100).uniform(0, 2e-4, len(frame)), index=frame.index)
    bench = frame["s0"] * 0.5
    for name, metric in METRICS.items():
        if metric.compute is None:
            continue
        many = metric.compute(frame, rf, 252)
        assert list(many.index) == list(frame.columns)
        for column in frame.columns:
            alone = metric.compute(frame[column].dropna(), rf, 252)
            assert many[column] == alone or (math.isnan(alone) and math.isnan(many[column])), (
                name, column)
    many = metrics.information_ratio(frame, bench)
    for column in frame.columns:
        assert many[column] == metrics.information_ratio(frame[column].dropna(), bench)
    # a 2-D array (days x series) gives an array, a 1-D array a float
    values = frame[["s0", "s2", "s4"]].to_numpy()
    np.testing.assert_array_equal(metrics.sharpe(values, rf.to_numpy()),
                                  metrics.sharpe(frame[["s0", "s2", "s4"]], rf).to_numpy())
    assert metrics.sharpe(values[:, 2], rf.to_numpy()) == metrics.sharpe(frame["s4"], rf)


def test_formulas_from_sums_equal_the_formulas_on_returns():
    frame = _frame(7).dropna()
    x = frame.to_numpy()
    n = len(x)
    from_sums = metrics.sharpe_from_sums(n, x.sum(axis=0), (x**2).sum(axis=0))
    np.testing.assert_allclose(from_sums, metrics.sharpe(frame).to_numpy(), rtol=1e-9)
    total = metrics.total_return(frame).to_numpy()
    np.testing.assert_array_equal(metrics.cagr_from_total(total, n), metrics.cagr(frame).to_numpy())


def test_directions_decide_every_ranking():
    board = pd.DataFrame({"sharpe": [0.5, np.nan, 1.2, 0.9], "volatility": [0.10, 0.05, 0.30, 0.20],
                          "max_drawdown": [-0.4, -0.1, -0.2, -0.3], "trial": [0, 1, 2, 3]},
                         index=list("abcd"))
    assert list(best_first(board, "sharpe").index) == ["c", "d", "a", "b"]   # higher, NaN last
    assert list(best_first(board, "volatility").index) == ["b", "a", "d", "c"]  # lower
    assert list(best_first(board, "max_drawdown").index) == ["b", "c", "d", "a"]  # closest to 0
    tied = board.assign(sharpe=[1.0, 1.0, 0.5, 1.0])
    assert list(best_first(tied, "sharpe", then=["trial"]).index) == ["a", "b", "d", "c"]
    assert METRICS["volatility"].best([0.3, 0.1, np.nan, 0.1]) == 1
    assert METRICS["sharpe"].best([0.3, np.nan, 0.9, 0.9]) == 2
    lower = {name for name, m in METRICS.items() if m.lower_is_better}
    assert lower == {"volatility", "turnover", "sharpe_vs_baseline_p"}   # a p-value: smaller is firmer


def test_labels_and_formats_come_from_the_registry():
    assert METRICS["cagr"].format(0.1234) == "12.34%"
    assert METRICS["sharpe"].format(1.234) == "1.23"
    assert METRICS["final_equity"].format(1234567.8) == "1,234,568"
    assert METRICS["max_drawdown"].format(None) == "n/a"
    assert label("max_drawdown") == "Max drawdown"
    assert label("in_sample_sharpe") == "In sample: Sharpe"
    assert label("rebalance") == "Schedule"              # not a metric: formatting.LABELS
    shown = formats(["cagr", "in_sample_volatility", "trial"])
    assert set(shown) == {"cagr", "in_sample_volatility"}
    assert shown["in_sample_volatility"](0.2) == "20.00%"
    for metric in METRICS.values():
        assert metric.label and metric.short and metric.doc
        assert metric.better in ("higher", "lower")


def test_page_headers_carry_the_direction_a_first_click_sorts_by():
    from durationbt.report.html import table_html

    frame = pd.DataFrame({"volatility": [0.1], "in_sample_sharpe": [1.0], "trial": [1]})
    page = str(table_html(frame, sortable=True, index_label="strategy"))
    assert '<th data-better="lower">Volatility</th>' in page
    assert '<th data-better="higher">In sample: Sharpe</th>' in page
    assert "<th>Trial</th>" in page and "<th>strategy</th>" in page
