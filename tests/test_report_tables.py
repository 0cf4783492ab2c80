"""The pages' own tables and marks, by hand: the tearsheet's drawdown table (an open
drawdown is not 'recovered'), row names that wrap between words, the sweep heatmap's
colour scale and its marked points."""

import numpy as np
import pandas as pd
import pytest

from durationbt.report.html import breakable
from durationbt.report.sweep_page import DIVERGING, _heatmap
from durationbt.report.tearsheet import _drawdowns_html, worst_drawdowns


def test_worst_drawdowns_by_hand():
    days = pd.bdate_range("2024-01-01", periods=8)      # Mon 1 .. Fri 5, Mon 8 .. Wed 10 Jan
    equity = pd.Series([100, 110, 99, 105, 111, 100, 95, 98], index=days, dtype=float)
    table = worst_drawdowns(equity)
    # 111 -> 95 (-14.41%), started Mon 8 Jan, still open on the last day (Wed 10 Jan)
    # 110 -> 99 (-10%), started Wed 3 Jan, back at the peak on Fri 5 Jan (111 >= 110)
    assert table["drawdown"].tolist() == pytest.approx([95 / 111 - 1, 99 / 110 - 1])
    assert table["started"].tolist() == [days[5], days[2]]
    assert table["trough"].tolist() == [days[6], days[2]]
    assert pd.isna(table.loc[0, "recovered"]) and table.loc[1, "recovered"] == days[4]
    assert table["days"].tolist() == [3, 2]     # Jan 8..10 and Jan 3..4, both ends counted
    page = _drawdowns_html(equity)
    assert "<td>2024-01-08</td><td>open</td><td>-14.41</td><td>3</td>" in page
    assert "<td>2024-01-03</td><td>2024-01-05</td><td>-10.00</td><td>2</td>" in page
    assert "still below its peak on the last day (2024-01-10)" in page


def test_a_series_at_its_peak_has_no_open_drawdown():
    equity = pd.Series([1.0, 2.0, 1.5, 2.5], index=pd.bdate_range("2024-01-01", periods=4))
    table = worst_drawdowns(equity)
    assert len(table) == 1 and table.loc[0, "recovered"] == equity.index[3]
    assert "open" not in _drawdowns_html(equity)


def test_row_names_may_wrap_after_underscores_and_at_signs_only():
    assert breakable("liquidity_rotation@20260101-120000") == (
        "liquidity_<wbr>rotation@<wbr>20260101-120000")
    assert breakable("<b>x_y</b>") == "&lt;b&gt;x_<wbr>y&lt;/<wbr>b&gt;"   # escaped first


def test_the_sweep_heatmap_is_blue_red_and_marks_the_chosen_point_and_defaults():
    table = pd.DataFrame({"a": [1, 1, 2, 2], "b": [10, 20, 10, 20],
                          "sharpe": [0.5, 0.9, 0.7, 0.4]})
    result = type("R", (), {"best": {"a": 1, "b": 20}})()
    from durationbt.report.sweep_page import _points

    fig = _heatmap(table, ["a", "b"], "sharpe", _points(result, {"a": 2, "b": 10}))
    heatmap, *marks = fig.data
    assert [c for _, c in heatmap.colorscale] == [c for _, c in DIVERGING]
    assert not any(green in str(heatmap.colorscale).lower() for green in ("green", "#1a9850"))
    assert {m.name: (m.x, m.y) for m in marks} == {"chosen (best)": (("1",), ("20",)),
                                                  "defaults": (("2",), ("10",))}
    off_grid = _heatmap(table, ["a", "b"], "sharpe", _points(result, {"a": 3, "b": 10}))
    assert [m.name for m in off_grid.data[1:]] == ["chosen (best)"]


def test_holes_of_one_ticker_are_counted_on_one_line_past_three():
    from durationbt.data.calendar import gap_notes

    holes = [f"BIL: 1 trading day(s) without a price ({d}), filled with the previous close"
             for d in ("2017-01-02", "2017-01-16", "2017-02-20")]
    long = "BIL: 4 trading day(s) without a price (2017-03-01..2017-03-06), left empty"
    other = "SPY: 1 trading day(s) without a price (2017-01-02), filled with the previous close"
    assert gap_notes(["a warning", *holes, other]) == ["a warning", *holes, other]
    assert gap_notes(["a warning", holes[0], other, *holes[1:], long]) == [
        "a warning",
        "BIL: 4 holes without a price between 2017-01-02 and 2017-03-06 (7 trading days, the "
        "longest 4), 3 filled with the previous close, 1 left empty; manifest.json lists each",
        other]


def test_a_bucket_of_500_names_twelve_members_in_its_legend():
    from durationbt.report.run_page import _members

    assert _members(["MU", "WDC"]) == "MU, WDC"
    names = [f"S{k:04d}" for k in range(500)]
    assert _members(names) == ("500 tickers: " + ", ".join(names[:12]) + " and 488 more")


def test_the_tearsheets_drawdown_table_is_quantstats_own_made_faster():
    """durationbt makes quantstats' drawdown table (its per-drawdown pandas slices were half
    the tearsheet's time at 30 years) and must give the very table quantstats would."""
    import quantstats as qs

    from durationbt.report.tearsheet import DRAWDOWN_DETAILS_OF, drawdown_details

    if qs.__version__ not in DRAWDOWN_DETAILS_OF:
        pytest.skip(f"quantstats {qs.__version__}: its own table is used")
    rng = np.random.default_rng(3)
    days = pd.bdate_range("2000-01-03", periods=1500)
    cases = [pd.Series(0.0, index=days),
             pd.Series([0.0, -0.1, 0.0, -0.2, -0.1], index=days[:5])]
    for k in range(8):
        returns = pd.Series(rng.normal(3e-4, 0.005 * (k % 4 + 1), len(days)), index=days)
        returns.iloc[:40] = -0.001 if k % 3 == 0 else returns.iloc[:40]     # starts in one
        returns.iloc[-25:] = -0.002 if k % 2 == 0 else returns.iloc[-25:]   # ends in one
        cases.append(qs.stats.to_drawdown_series(returns))
    cases.append(pd.concat({"Strategy": cases[3], "SPY": cases[4]}, axis=1))
    gap = cases[5].copy()
    gap.iloc[100] = np.nan                       # quantstats' own path, through the fallback
    cases.append(gap)
    for drawdown in cases:
        theirs = qs.stats.drawdown_details(drawdown)
        pd.testing.assert_frame_equal(drawdown_details(drawdown, qs.stats.drawdown_details),
                                      theirs, check_exact=True)
        assert len(theirs) > 0 or drawdown.eq(0).all().all()
