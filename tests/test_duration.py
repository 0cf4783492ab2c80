import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from durationbt import duration as duration_mod
from durationbt.cli.app import app
from durationbt.duration import (
    MIN_WEEKS,
    ROLLING_BLOCK,
    Estimate,
    asset_durations,
    portfolio_duration,
    rank_contradictions,
    regress,
    rolling_durations,
    weekly,
)
from durationbt.universe import load_universe


def synthetic(weeks: int = 400, seed: int = 2) -> tuple[pd.DataFrame, pd.Series]:
    """Daily prices whose weekly returns have a known yield beta and market beta."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2015-01-02", periods=weeks * 5)
    dy = rng.normal(0, 0.02, len(days))                 # daily yield changes, pp
    rm = rng.normal(3e-4, 0.01, len(days))
    tnx = pd.Series(2.0 + np.cumsum(dy), index=days)
    returns = {
        "BOND7": -0.07 * dy + 0.0 * rm + rng.normal(0, 0.001, len(days)),
        "ZERO": 0.0 * dy + 0.8 * rm + rng.normal(0, 0.01, len(days)),
        "MKT": rm,
    }
    prices = pd.DataFrame({k: 100 * np.cumprod(1 + v) for k, v in returns.items()}, index=days)
    return prices, tnx


def test_known_yield_beta_is_recovered():
    prices, tnx = synthetic()
    est = {e.name: e for e in asset_durations(prices, tnx, "MKT")}
    assert est["BOND7"].value == pytest.approx(7.0, abs=0.3)
    assert est["BOND7"].se < 0.4 and est["BOND7"].r2 > 0.5
    assert abs(est["ZERO"].value) < 2.5 * est["ZERO"].se     # indistinguishable from zero
    assert est["BOND7"].weeks == 400       # 2,000 days: 400 Friday-ending weeks


def test_regress_matches_textbook_ols():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    y = 1.0 + 2.0 * x[:, 0] - 3.0 * x[:, 1] + rng.normal(0, 0.1, 200)
    beta, se, r2, n = regress(y, x)
    np.testing.assert_allclose(beta, [1.0, 2.0, -3.0], atol=0.03)
    X = np.column_stack([np.ones(200), x])
    ref, *_ = np.linalg.lstsq(X, y, rcond=None)
    np.testing.assert_allclose(beta, ref, rtol=1e-12)
    assert n == 200 and r2 > 0.99 and (se > 0).all()


def test_rolling_uses_only_past_weeks_and_matches_direct_regression():
    prices, tnx = synthetic(weeks=200)
    full = rolling_durations(prices, tnx, "MKT", window=60)
    cut = prices.index[600]
    part = rolling_durations(prices.loc[:cut], tnx.loc[:cut], "MKT", window=60)
    common = part.index[part.index < cut - pd.Timedelta(days=7)]
    pd.testing.assert_frame_equal(part.loc[common], full.loc[common], rtol=1e-10)
    # one window checked against a direct full regression on the same 60 weeks
    week = full.index[150]
    span = prices.loc[(week - pd.Timedelta(weeks=60)) + pd.Timedelta(days=1):week]
    direct = {e.name: e.value for e in asset_durations(
        prices.loc[span.index[0] - pd.Timedelta(days=7):week],
        tnx.loc[span.index[0] - pd.Timedelta(days=7):week], "MKT")}
    assert full.loc[week, "BOND7"] == pytest.approx(direct["BOND7"], rel=1e-8)
    assert full["BOND7"].iloc[:MIN_WEEKS - 1].isna().all()


@pytest.mark.parametrize("remembered", [True, False])
def test_many_assets_solved_together_equal_each_solved_alone(remembered, monkeypatch):
    """Columns are solved together as stacked systems (all at once in a data set small
    enough to be remembered, else in blocks); each number is the one the column gives on
    its own, to the last bit, whatever its neighbours (late listings, holes)."""
    from durationbt import running

    running.forget()
    if not remembered:
        monkeypatch.setattr(running, "MEMO_CELLS", 0)
    prices, tnx = synthetic(weeks=400)
    rng = np.random.default_rng(5)
    wide = {"MKT": prices["MKT"]}
    for k in range(ROLLING_BLOCK + 7):
        walk = prices["BOND7"] * np.exp(np.cumsum(rng.normal(0, 0.01, len(prices))))
        walk.iloc[: rng.integers(0, 400)] = np.nan                 # listed later
        walk.iloc[rng.integers(1000, 1400): rng.integers(1400, 1600)] = np.nan   # a hole
        wide[f"A{k}"] = walk
    wide = pd.DataFrame(wide)
    together = rolling_durations(wide, tnx, "MKT", window=60)
    for name in ("A0", f"A{ROLLING_BLOCK}", f"A{ROLLING_BLOCK + 6}"):
        alone = rolling_durations(wide[["MKT", name]], tnx, "MKT", window=60)[name]
        assert (together[name].fillna(0.5).to_numpy().view("int64")
                == alone.fillna(0.5).to_numpy().view("int64")).all()
        assert together[name].notna().sum() > 20


def test_rolling_frames_are_laid_out_as_they_always_were():
    """The frame rolling_durations returns is filled column by column, as it always was:
    pandas sums a row of ``portfolio_duration`` in an order that follows the frames' block
    layout, so one block of many columns would move the last bit of the runs' portfolio
    durations (12 assets, weights in one block)."""
    prices, tnx = synthetic(weeks=300)
    rng = np.random.default_rng(8)
    wide = pd.DataFrame({"MKT": prices["MKT"], **{
        f"A{k}": prices["BOND7"] * np.exp(np.cumsum(rng.normal(0, 0.01, len(prices))))
        for k in range(12)}})
    for k in range(0, 12, 3):                     # listed later: no estimate for a while
        wide.iloc[:rng.integers(400, 1200), k + 1] = np.nan
    rolling = rolling_durations(wide, tnx, "MKT", window=60, columns=[f"A{k}" for k in range(12)])
    before = pd.DataFrame(np.nan, index=rolling.index, columns=rolling.columns)
    for name in rolling.columns:
        before[name] = rolling[name].to_numpy()
    days = wide.index[wide.index >= "2016-06-01"]
    weights = pd.DataFrame(rng.dirichlet(np.ones(12), len(days)), index=days,
                           columns=rolling.columns)
    _bits_equal(portfolio_duration(weights, rolling), portfolio_duration(weights, before))


def test_portfolio_duration_hand_computed():
    days = pd.bdate_range("2024-01-01", periods=10)
    weights = pd.DataFrame({"A": 0.5, "B": 0.3}, index=days)
    rolling = pd.DataFrame({"A": [10.0, 12.0], "B": [np.nan, 2.0]},
                           index=pd.to_datetime(["2024-01-05", "2024-01-12"]))
    out = portfolio_duration(weights, rolling)
    assert out.loc["2024-01-04", "duration"] == 0.0            # nothing known yet
    assert out.loc["2024-01-08", "duration"] == pytest.approx(5.0)
    assert out.loc["2024-01-08", "coverage"] == pytest.approx(0.5 / 0.8)
    assert out.loc["2024-01-12", "duration"] == pytest.approx(0.5 * 12 + 0.3 * 2)


def test_rank_contradictions_need_two_standard_errors(synth_universe):
    u = load_universe(synth_universe)            # ranks: bills 0, chips 1, software 4, coins 5
    e = lambda v, se=0.1: Estimate("x", v, se, 0.5, 100)  # noqa: E731
    agree = {"bills": e(0.0), "chips": e(1.0), "software": e(5.0), "coins": e(6.0)}
    assert rank_contradictions(u, agree) == []
    noisy = {**agree, "coins": e(4.9, se=1.0)}
    assert rank_contradictions(u, noisy) == []
    wrong = {**agree, "chips": e(8.0)}
    issues = rank_contradictions(u, wrong)
    assert len(issues) == 2 and "chips (rank 1) measures longer than software (rank 4)" in issues[0]


def test_duration_cli(synth_data, synth_universe, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["duration", "--universe", str(synth_universe), "--data",
                                 str(synth_data), "--csv", str(tmp_path / "d.csv"), "--html",
                                 str(tmp_path / "d.html"), "--window", "52"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "d.csv")
    assert set(table["kind"]) == {"bucket", "asset"}
    assert set(table.loc[table.kind == "asset", "name"]) == set(load_universe(synth_universe).tickers)
    # written like every other CSV (10 significant digits), not rounded to 6
    text = (tmp_path / "d.csv").read_text()
    durations = table["duration"].to_numpy()
    assert (durations != np.array([float(f"{x:.6g}") for x in durations])).all()
    assert all(len(cell.lstrip("-").replace(".", "").lstrip("0")) > 6
               for cell in (line.split(",")[4] for line in text.splitlines()[1:]))
    assert "plotly" in (tmp_path / "d.html").read_text()
    bad = runner.invoke(app, ["duration", "--universe", str(synth_universe), "--data",
                              str(synth_data), "--window", "10"])
    assert bad.exit_code == 2 and "at least 52 weeks" in bad.output


def _own_signal():
    """Weekly-sampled daily data: asset OWN whose drawdown is one component ("own_stress",
    declaring OWN as its input) and an unrelated component ("macro"); asset FREE owns none."""
    from durationbt.signals.composite import Signal, blend, regimes_with_hysteresis
    from durationbt.signals.inputs import Inputs
    from durationbt.universe import SignalSettings

    days = pd.bdate_range("2015-01-02", periods=1500)
    rng = np.random.default_rng(17)
    bench = 100 * np.exp(np.cumsum(rng.normal(3e-4, 0.01, len(days))))
    own = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, len(days))))
    free = 100 * np.exp(np.cumsum(rng.normal(0, 0.015, len(days))))
    prices = pd.DataFrame({"OWN": own, "FREE": free, "BENCH": bench}, index=days)
    stress = 1 - prices["OWN"] / prices["OWN"].rolling(120, min_periods=1).max()
    macro = pd.Series(np.cumsum(rng.normal(0, 0.05, len(days))), index=days)
    components = pd.DataFrame({"own_stress": (stress - stress.mean()) / stress.std(),
                               "macro": (macro - macro.mean()) / macro.std()})
    weights = {"own_stress": 1.0, "macro": 1.0}
    composite = blend(components, weights)
    signal = Signal(composite, components, weights,
                    regimes_with_hysteresis(composite, SignalSettings()), {}, SignalSettings(),
                    {"own_stress": Inputs(tickers=("OWN",)), "macro": Inputs(tickers=("^X",))})
    return prices, signal


def test_a_beta_made_of_the_assets_own_prices_collapses_without_them():
    from durationbt.duration import liquidity_betas, own_component_betas

    prices, signal = _own_signal()
    assert signal.components_reading(["OWN", "FREE"]) == ["own_stress"]
    found = {b.name: b for b in own_component_betas(prices, {"OWN": ("OWN",), "FREE": ("FREE",)},
                                                     signal, "BENCH")}
    own, free = found["OWN"], found["FREE"]
    assert own.excluded == ("own_stress",) and free.excluded == () and free.without is None
    # by hand: without own_stress the composite is the macro component alone (weight 1 of 1)
    alone = liquidity_betas(prices, signal.components["macro"], "BENCH", ["OWN"])[0]
    assert own.without.value == pytest.approx(alone.value, rel=1e-12)
    assert own.without.se == pytest.approx(alone.se, rel=1e-12)
    assert own.full.value < 0 and abs(own.full.value / own.full.se) > 2  # its own drawdown
    assert own.collapsed and not free.collapsed
    record = own.record()
    assert record["own_components"] == "own_stress" and record["collapsed"] is True


def test_collapse_rule_by_hand():
    from durationbt.duration import Estimate, collapses

    def e(value, se=1.0):
        return Estimate("x", value, se, 0.1, 300)

    assert collapses(e(-8.0, 2.7), e(-0.14, 2.1))          # the snapshot's crypto
    assert collapses(e(3.0), e(-1.0))                       # changes sign
    assert not collapses(e(-1.7, 0.21), e(-1.66, 0.18))     # intermediate Treasuries: holds
    assert not collapses(e(-1.5, 1.0), e(0.0))              # never significant: nothing to lose


# --- the fast forms sweeps replay many times: the same numbers as pandas, bit for bit -----

def _bits_equal(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True, check_freq=False)
    x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
    assert np.array_equal(np.isnan(x), np.isnan(y))
    assert np.array_equal(np.nan_to_num(x).view(np.int64), np.nan_to_num(y).view(np.int64))


def test_weekly_is_resample_last_without_the_slow_bins():
    """Weeks ending Friday, empty weeks kept as NaN rows, the last non-NaN value of each
    column; a saturday and a sunday belong to the next Friday's week; an index that is not
    plain dates falls back to resample."""
    rng = np.random.default_rng(3)
    days = pd.date_range("2001-01-01", periods=900, freq="D", name="date")
    days = days[rng.random(900) > 0.4].delete(slice(200, 260))     # gaps, a 2-month hole
    frame = pd.DataFrame(rng.random((len(days), 3)), index=days, columns=list("abc"))
    frame[frame > 0.8] = np.nan
    for case in (frame, frame.iloc[:1], frame.iloc[5:9], frame[["a"]].rename_axis(None)):
        _bits_equal(weekly(case), case.resample("W-FRI").last())
    assert weekly(frame).index[0] == pd.Timestamp("2001-01-05")   # a Friday
    from durationbt.weekly import fridays, last_of_week

    expected = frame.resample("W-FRI").last().to_numpy()
    for layout in (np.ascontiguousarray, np.asfortranarray):     # rows or columns contiguous
        found = last_of_week(fridays(frame.index), layout(frame.to_numpy()))
        _bits_equal(pd.DataFrame(found), pd.DataFrame(expected))
    hours = frame.set_axis(frame.index + pd.Timedelta(hours=16))
    pd.testing.assert_frame_equal(weekly(hours), hours.resample("W-FRI").last())


def test_bucket_levels_and_returns_equal_pandas_bit_for_bit():
    """``pct_change()[members].mean(axis=1)`` and its cumulative level, including a bucket
    of ten members (pandas sums a row column by column, numpy pairwise from 8 on), NaN
    rows, late listings and a ticker the prices do not have."""
    from durationbt.duration import bucket_daily_returns, bucket_levels

    rng = np.random.default_rng(4)
    days = pd.bdate_range("2010-01-01", periods=700)
    names = [f"T{i}" for i in range(12)]
    prices = pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0, 0.02, (700, 12)), axis=0)),
                          index=days, columns=names)
    prices[rng.random((700, 12)) < 0.1] = np.nan
    prices.iloc[:80, :6] = np.nan

    class Bucket:
        def __init__(self, name, tickers):
            self.name, self.tickers = name, tuple(tickers)

    class Universe:
        buckets = [Bucket("wide", names[:10]), Bucket("pair", names[10:]), Bucket("one", names[3:4])]

    returns = prices.pct_change(fill_method=None)
    daily = pd.DataFrame({b.name: returns[list(b.tickers)].mean(axis=1) for b in Universe.buckets})
    levels = pd.DataFrame({b.name: (1 + daily[b.name].fillna(0.0)).cumprod()
                           .where(prices[list(b.tickers)].notna().any(axis=1))
                           for b in Universe.buckets})
    _bits_equal(bucket_daily_returns(prices, Universe), daily)
    _bits_equal(bucket_levels(prices, Universe), levels)
    Universe.buckets = [Bucket("missing", ["T1", "NOPE"])]
    with pytest.raises(KeyError, match="NOPE"):
        bucket_levels(prices, Universe)


def test_row_sum_and_mean_are_pandas_row_reductions():
    """``row_sum`` and ``row_mean`` are ``frame.sum(axis=1)`` and ``frame.mean(axis=1)``
    bit for bit: NaN skipped, all-NaN rows 0 and NaN, from 2 to 12 columns (pandas adds
    column by column; numpy's pairwise sum would differ from 8 on)."""
    from durationbt.duration import row_mean, row_sum

    rng = np.random.default_rng(6)
    for columns in (2, 6, 8, 12):
        values = rng.random((400, columns)) * 10 ** rng.uniform(-3, 3, (400, columns))
        values[rng.random(values.shape) < 0.3] = np.nan
        values[:5] = np.nan
        frame = pd.DataFrame(values)
        for ours, theirs in ((row_sum, frame.sum(axis=1)), (row_mean, frame.mean(axis=1))):
            _bits_equal(pd.DataFrame({"x": ours(values)}), pd.DataFrame({"x": theirs}))


def test_rolling_durations_since_gives_what_a_reader_from_then_on_sees():
    """With ``since`` only the weeks from the last one ended by then are estimated, and the
    earlier ones of an asset that has no estimate that week but had one before (here GAPPY,
    whose data stop for two years): a forward fill from ``since`` on reads exactly what it
    reads in the full estimate, and most of the early weeks are left out."""
    prices, tnx = synthetic(weeks=700)
    prices["GAPPY"] = prices["BOND7"].where((prices.index < "2020-01-01")
                                            | (prices.index > "2022-01-01"))
    full = rolling_durations(prices, tnx, "MKT", window=60)

    def read(rolling: pd.DataFrame, days: pd.DatetimeIndex) -> pd.DataFrame:
        return rolling.reindex(rolling.index.union(days)).ffill().reindex(days)

    for since in (pd.Timestamp("2018-06-06"), pd.Timestamp("2021-03-03"), prices.index[0]):
        part = rolling_durations(prices, tnx, "MKT", window=60, since=since)
        days = prices.index[prices.index >= since]
        _bits_equal(read(part, days), read(full, days))
        assert part.index.equals(full.index)
    late = rolling_durations(prices, tnx, "MKT", window=60, since=pd.Timestamp("2021-03-03"))
    assert late["BOND7"].loc[:"2021-02-19"].isna().all()        # not estimated, not read
    assert late["GAPPY"].loc["2019-06-01":"2019-12-31"].notna().all()  # read across the gap
    assert np.isnan(late["GAPPY"].loc[:"2021-03-03"].iloc[-1])


def test_known_on_is_the_forward_filled_reindex():
    """The latest estimate known on each date: the last non-NaN one of the weeks up to it,
    NaN before the first (a date before every week, one between, one on a Friday)."""
    from durationbt.duration import known_on

    prices, tnx = synthetic(weeks=300)
    prices["GAPPY"] = prices["BOND7"].where((prices.index < "2017-06-01")
                                            | (prices.index > "2018-01-01"))
    rolling = rolling_durations(prices, tnx, "MKT", window=60)
    days = pd.DatetimeIndex([pd.Timestamp("2014-12-01"), *prices.index[::7],
                             pd.Timestamp("2030-01-01")])
    expected = rolling.reindex(rolling.index.union(days)).ffill().reindex(days)
    _bits_equal(known_on(rolling, days), expected)


def _replays(prices: pd.DataFrame, tnx: pd.Series) -> dict[str, tuple]:
    """Data sets that share the full data's past as lookahead replays do, and others: each
    with the first day whose week's data differ from the full data's (None: none)."""
    cut = prices.index[1203]                    # a Wednesday
    later = prices.index > cut
    changed = prices.copy()
    changed.loc[later] = changed.loc[later] * np.exp(np.cumsum(
        np.random.default_rng(5).normal(0, 0.02, (later.sum(), 3)), axis=0))
    nudged = tnx.copy()
    nudged.iloc[1500] = np.nextafter(nudged.iloc[1500], np.inf)     # a Friday's close
    longer = pd.bdate_range(prices.index[-1], periods=60)[1:]
    return {"future replaced": (changed, tnx, prices.index[1204]),
            "future removed": (prices.loc[:cut], tnx.loc[:cut], cut),   # its week ends sooner
            "one bit of the factor": (prices, nudged, prices.index[1500]),
            "longer": (pd.concat([prices, prices.iloc[-59:].set_axis(longer) * 1.01]),
                       pd.concat([tnx, tnx.iloc[-59:].set_axis(longer)]), longer[0]),
            # (the first week has no return in either)
            "unrelated": (prices.iloc[::-1].set_axis(prices.index), tnx, prices.index[1]),
            "the same": (prices, tnx, None)}


def test_remembered_estimates_are_the_same_bits_as_fresh_ones(monkeypatch):
    """Rolling estimates remember their running sums (``running``), so a replay that shares
    the full run's past (and ``since``) sums only the weeks from the first one whose data
    differ. Each
    data set below, estimated after the full one, equals its estimate from nothing, bit for
    bit; what was remembered is compared with the data, never trusted by name (the reversed
    history under the same names is summed from its first return, a factor one bit off from
    that week on)."""
    from durationbt import running

    prices, tnx = synthetic(weeks=400)
    starts: list[int] = []
    extend = running._extend
    monkeypatch.setattr(running, "_extend", lambda known, start, *a, **k: (
        starts.append(start), extend(known, start, *a, **k))[1])
    for name, (p, t, differs) in _replays(prices, tnx).items():
        for since in (None, p.index[900]):
            running.forget()
            fresh = rolling_durations(p, t, "MKT", window=60, since=since)
            running.forget()
            rolling_durations(prices, tnx, "MKT", window=60, since=since)
            starts.clear()
            _bits_equal(rolling_durations(p, t, "MKT", window=60, since=since), fresh)
            weeks = weekly(prices).index
            # the first week whose data differ; at or before ``since``'s: from nothing
            week = None if differs is None else int(weeks.searchsorted(differs))
            first = 0 if since is None else int(weeks.searchsorted(since, side="right")) - 1
            assert starts == ([] if week is None else [week if week > first else 0]), name
    # estimated from another week on: from nothing
    running.forget()
    rolling_durations(prices, tnx, "MKT", window=60)
    starts.clear()
    late = rolling_durations(prices, tnx, "MKT", window=60, since=prices.index[900])
    assert starts == [0]
    running.forget()
    _bits_equal(late, rolling_durations(prices, tnx, "MKT", window=60, since=prices.index[900]))
    running.forget()


def _pandas_portfolio_duration(weights, rolling):
    """portfolio_duration as pandas computes it (the formulation before numba)."""
    known = rolling.reindex(weights.index.union(rolling.index)).ffill().reindex(weights.index)
    known = known.reindex(columns=weights.columns)
    has = known.notna()
    duration = (weights * known.fillna(0.0)).sum(axis=1)
    invested = weights.sum(axis=1)
    coverage = (weights.where(has, 0.0).sum(axis=1) / invested).where(invested > 0)
    return pd.DataFrame({"duration": duration, "coverage": coverage})


def _layout(frame):
    return [(tuple(b.mgr_locs.as_array), b.values.shape, b.values.flags.c_contiguous)
            for b in frame._mgr.blocks]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_portfolio_duration_sums_as_pandas_does_bit_for_bit(seed, monkeypatch):
    """The run's layout (the engine's weights in one block, rolling_durations' frame a
    block per column) is summed in numba and numpy in pandas' order: the same bits as
    pandas, with shorts, zero and negative-zero weights and estimates, late listings, days
    before any estimate, weeks past the last day, NaN or infinite products, 200 assets
    (numpy's pairwise sums over a day's weights); any other layout goes through pandas."""
    from durationbt import daily_duration

    rng = np.random.default_rng(seed)
    weeks = pd.date_range("2010-01-01", periods=300, freq="W-FRI")
    cols = [f"A{k}" for k in range(200)]
    found = rng.normal(5, 3, (300, 200))
    found[rng.random(found.shape) < 0.02] = -0.0
    for k in range(200):
        found[: rng.integers(0, 300), k] = np.nan                 # listed later
    found[:, 7] = np.nan                                          # never estimated
    rolling = duration_mod._by_column(found, weeks, cols, cols)    # as rolling_durations makes it
    days = pd.bdate_range("2009-10-01", "2015-06-30")
    w = rng.dirichlet(np.ones(200), len(days)) * rng.choice([1.0, -0.5, 0.0], (len(days), 1))
    w[rng.random(w.shape) < 0.05] = 0.0
    w[rng.random(w.shape) < 0.01] = -0.0
    w[:40] = -np.abs(w[:40])                    # short before any estimate: -0.0 products
    w[50, 3] = np.inf
    weights = pd.DataFrame(w, index=days, columns=cols, copy=False)   # a day's weights contiguous
    assert daily_duration._one_block(weights, rolling) is not None
    want = _pandas_portfolio_duration(weights, rolling)
    _bits_equal(portfolio_duration(weights, rolling), want)
    assert portfolio_duration(weights, rolling).index.equals(days)
    # other layouts: pandas' own sums
    one_block = pd.DataFrame(found, index=weeks, columns=cols)
    holes = weights.copy()
    holes.iloc[5, 5] = np.nan
    split = pd.concat([weights.iloc[:, :100], weights.iloc[:, 100:]], axis=1)
    by_column = pd.DataFrame(w, index=days, columns=cols)           # an asset's days contiguous
    for wf, rf in ((weights, one_block), (holes, rolling), (split, rolling), (by_column, rolling)):
        assert daily_duration._one_block(wf, rf) is None
        _bits_equal(portfolio_duration(wf, rf), _pandas_portfolio_duration(wf, rf))
    monkeypatch.setattr(daily_duration, "ROWS", 7)                 # days a block at a time
    _bits_equal(portfolio_duration(weights, rolling), want)


def test_rolling_frame_blocks_are_those_of_filling_column_by_column():
    found = np.random.default_rng(3).normal(size=(30, 5))
    weeks = pd.date_range("2020-01-03", periods=30, freq="W-FRI")
    cols = list("abcde")
    before = pd.DataFrame(np.nan, index=weeks, columns=cols)
    for j, name in enumerate(cols):
        before[name] = found[:, j]
    made = duration_mod._by_column(found, weeks, cols, cols)
    assert _layout(made) == _layout(before)
    pd.testing.assert_frame_equal(made, before)
