import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from durationbt.data import (
    CsvProvider,
    YahooProvider,
    align_frame,
    align_to_calendar,
    load_market_data,
    rebalance_dates,
    resolve_provider,
    trading_calendar,
)
from durationbt.data.csv import read_price_csv
from durationbt.data.status import data_status
from durationbt.errors import DataError, ParameterError
from durationbt.universe import load_universe

FIXTURES = Path(__file__).parent / "fixtures"


# --- csv provider ---------------------------------------------------------------------------

def test_csv_reads_adjusted_close_with_empty_ohlc(tmp_path):
    path = tmp_path / "X.csv"
    path.write_text("Date,Open,High,Low,Close,Adj Close,Volume\n"
                    "2024-01-03,,,,10.5,10.0,\n2024-01-02,,,,11.0,9.5,\n")
    series = read_price_csv(path)
    assert list(series.index.date) == [dt.date(2024, 1, 2), dt.date(2024, 1, 3)]
    assert series.tolist() == [9.5, 10.0]


def test_csv_falls_back_to_close(tmp_path):
    path = tmp_path / "X.csv"
    path.write_text("Date,Close\n2024-01-02,3.25\n")
    assert read_price_csv(path).tolist() == [3.25]


@pytest.mark.parametrize("body, message", [
    ("Day,Close\n2024-01-02,1\n", "no 'Date' column"),
    ("Date,Open\n2024-01-02,1\n", "needs a non-empty column among Adj Close, Close"),
    ("Date,Close\n2024-01-02,abc\n", "field 'Close' has a value that is not a number: 'abc'"),
    ("Date,Close\nyesterday,1\n", "field 'Date' has a value that is not a date"),
    ("Date,Close\n2024-01-02,1\n2024-01-02,2\n", "date 2024-01-02 appears more than once"),
])
def test_csv_errors_name_file_and_field(tmp_path, body, message):
    path = tmp_path / "BAD.csv"
    path.write_text(body)
    with pytest.raises(DataError) as info:
        read_price_csv(path)
    assert str(path) in str(info.value) and message in str(info.value)


def test_missing_ticker_suggests(synth_data):
    with pytest.raises(DataError, match='No data for ticker CHIPB.*Did you mean "CHIPA"'):
        CsvProvider(synth_data).load_prices(["CHIPB"])


def test_files_read_side_by_side_still_name_the_first_problem_in_ticker_order(tmp_path):
    """Files are read by a few threads; what is raised is what reading them one by one in
    the universe's order would raise, and the good files come back in that order."""
    for k in range(12):
        (tmp_path / f"T{k:02d}.csv").write_text("Date,Close\n2024-01-02,1\n2024-01-03,2\n")
    (tmp_path / "BAD.csv").write_text("Date,Close\n2024-01-02,abc\n")
    (tmp_path / "EMPTY.csv").write_text("Date,Close\n2024-01-02,.\n")
    provider = CsvProvider(tmp_path)
    good = [f"T{k:02d}" for k in range(12)]
    assert list(provider.load_prices(good[::-1])) == good[::-1]
    for order, named in ((["BAD", "NOFILE", *good], "BAD.csv: field 'Close'"),
                         ([*good, "NOFILE", "BAD"], "No data for ticker NOFILE"),
                         ([*good, "EMPTY", "BAD"], "No data for ticker EMPTY")):
        with pytest.raises(DataError) as info:
            provider.load_prices(order)
        assert named in str(info.value)


def test_missing_folder_says_how_to_fix(tmp_path):
    with pytest.raises(DataError, match="--data DIR"):
        CsvProvider(tmp_path / "nope")


def test_fred_series_read_from_subfolder(tmp_path):
    (tmp_path / "fred").mkdir()
    (tmp_path / "fred" / "DGS10.csv").write_text("Date,Value\n2024-01-02,3.9\n2024-01-03,.\n")
    fred = CsvProvider(tmp_path).load_fred(["DGS10", "ABSENT"])
    assert list(fred) == ["DGS10"] and fred["DGS10"].tolist() == [3.9]


# --- calendar ---------------------------------------------------------------------------------

def test_calendar_ignores_seven_day_series_and_stray_holiday_rows():
    days = pd.bdate_range("2024-01-01", "2024-01-31")
    stocks = {f"S{i}": pd.Series(1.0, index=days) for i in range(3)}
    stray = pd.Series(1.0, index=days.union(pd.DatetimeIndex(["2024-01-13"])))  # a Saturday
    coin = pd.Series(1.0, index=pd.date_range("2024-01-01", "2024-02-10", freq="D"))
    cal = trading_calendar({**stocks, "STRAY": stray, "COIN": coin})
    assert cal.equals(pd.DatetimeIndex(days, name="date"))


def test_calendar_needs_an_exchange_series():
    coin = pd.Series(1.0, index=pd.date_range("2024-01-01", "2024-02-10", freq="D"))
    with pytest.raises(DataError, match="every series trades 7 days"):
        trading_calendar({"COIN": coin})


def test_crypto_sampled_on_trading_days_and_short_gap_filled_and_reported():
    cal = pd.bdate_range("2024-01-01", "2024-01-12")
    coin_days = pd.date_range("2024-01-01", "2024-01-12", freq="D").drop(pd.Timestamp("2024-01-09"))
    coin = pd.Series(np.arange(len(coin_days), dtype=float), index=coin_days, name="COIN")
    aligned, gaps = align_to_calendar(coin, cal)
    # a decision at Monday's 16:00 New York close sees the close stamped Sunday (UTC day)
    assert aligned.loc["2024-01-08"] == coin.loc["2024-01-07"]
    assert aligned.loc["2024-01-09"] == coin.loc["2024-01-08"]
    assert aligned.loc["2024-01-10"] == coin.loc["2024-01-08"]   # 01-09 missing: carried
    assert [(g.first.date(), g.days, g.filled) for g in gaps] == [(dt.date(2024, 1, 10), 1, True)]


def test_long_gap_is_not_filled():
    cal = pd.bdate_range("2024-01-01", "2024-01-31")
    s = pd.Series(1.0, index=cal.drop(cal[5:10]), name="HOLEY")
    aligned, gaps = align_to_calendar(s, cal, max_fill=3)
    assert aligned.iloc[5:10].isna().all()
    assert gaps[0].days == 5 and not gaps[0].filled


def test_late_listing_is_nan_before_first_price():
    cal = pd.bdate_range("2024-01-01", "2024-01-31")
    s = pd.Series(2.0, index=cal[10:], name="LATE")
    aligned, gaps = align_to_calendar(s, cal)
    assert aligned.iloc[:10].isna().all() and aligned.iloc[10:].eq(2.0).all() and gaps == []


def _calendar_by_series(series: dict[str, pd.Series]) -> pd.DatetimeIndex:
    """The rule of ``trading_calendar`` spelled out one series at a time (its first form)."""
    from durationbt.data.calendar import is_continuous

    traded = [s.index for s in series.values() if not is_continuous(s) and len(s)]
    union = traded[0]
    for index in traded[1:]:
        union = union.union(index)
    present, alive = pd.Series(0, index=union), pd.Series(0, index=union)
    for index in traded:
        present.loc[index] += 1
        alive.loc[(union >= index[0]) & (union <= index[-1])] += 1
    return pd.DatetimeIndex(union[(present >= 0.5 * alive).to_numpy()], name="date")


def _align_by_series(series: pd.Series, calendar: pd.DatetimeIndex, max_fill: int):
    """The rule of ``align_to_calendar`` spelled out with pandas (its first form)."""
    from durationbt.data.calendar import Gap, as_seen_at_the_close, true_runs

    series = as_seen_at_the_close(series)
    aligned = series.reindex(calendar)
    if series.empty:
        return aligned, []
    inside = (calendar >= series.index[0]) & (calendar <= series.index[-1])
    missing = pd.Series(aligned.isna().to_numpy() & inside, index=calendar)
    gaps = [Gap(str(series.name), a, b, n, n <= max_fill) for a, b, n in true_runs(missing)]
    filled = aligned.ffill(limit=max_fill).where(inside)
    for gap in gaps:
        if not gap.filled:
            filled.loc[gap.first:gap.last] = float("nan")
    return filled, gaps


@settings(max_examples=60, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10**6), stocks=st.integers(1, 6), coins=st.integers(0, 2),
       max_fill=st.integers(1, 4))
def test_calendar_and_alignment_of_all_series_at_once_follow_the_one_series_rule(
        seed, stocks, coins, max_fill):
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2024-01-01", "2024-04-30")
    every = pd.date_range("2023-12-25", "2024-05-05", freq="D")
    raw = {}
    for k in range(stocks + coins):
        pool = days if k < stocks else every
        first, last = sorted(rng.integers(0, len(pool), 2))
        kept = pool[first:last + 1][rng.random(last + 1 - first) > rng.choice([0.0, 0.1, 0.5])]
        if rng.random() < 0.3:                         # as a notebook builds it: a freq
            kept = pool[first:last + 1]
        if k < stocks and rng.random() < 0.3:          # a stray weekend or holiday row
            kept = kept.union(pd.DatetimeIndex([every[rng.integers(len(every))]]))
        name = f"S{k}" if k < stocks else f"C{k}-USD"
        raw[name] = pd.Series(rng.lognormal(size=len(kept)), index=kept, name=name)
    from durationbt.data.calendar import is_continuous

    if not any(len(s) and not is_continuous(s) for s in raw.values()):
        with pytest.raises(DataError, match="every series trades 7 days"):
            trading_calendar(raw)
        return
    calendar, expected = trading_calendar(raw), _calendar_by_series(raw)
    assert calendar.equals(expected) and calendar.name == "date"
    assert calendar.freq == expected.freq and calendar.dtype == expected.dtype
    frame, gaps = align_frame(raw, calendar, max_fill)
    expected = [_align_by_series(s, calendar, max_fill) for s in raw.values()]
    pd.testing.assert_frame_equal(frame, pd.DataFrame({k: e[0] for k, e in zip(raw, expected,
                                                                                strict=True)},
                                                      index=calendar))
    assert gaps == [g for e in expected for g in e[1]]


def test_a_hole_at_the_start_of_a_series_has_nothing_to_carry():
    """A stock whose first row is a Saturday starts with a hole: reported as short but left
    empty, there being no earlier close. A 4-day hole stays empty; a 1-day hole carries."""
    cal = pd.bdate_range("2024-01-01", "2024-01-31")
    rows = pd.DatetimeIndex(["2024-01-06", "2024-01-09", "2024-01-10", "2024-01-17",
                             "2024-01-18", "2024-01-19", "2024-01-22", "2024-01-23",
                             "2024-01-25", "2024-01-26", "2024-01-29", "2024-01-30",
                             "2024-01-31"])
    s = pd.Series(np.arange(1.0, 14.0), index=rows, name="X")
    frame, gaps = align_frame({"X": s}, cal, max_fill=3)
    x = frame["X"]
    assert x.loc[:"2024-01-08"].isna().all()
    assert x.loc["2024-01-09":"2024-01-10"].tolist() == [2.0, 3.0]
    assert x.loc["2024-01-11":"2024-01-16"].isna().all()
    assert x.loc["2024-01-23":"2024-01-25"].tolist() == [8.0, 8.0, 9.0]
    assert [(str(g.first.date()), str(g.last.date()), g.days, g.filled) for g in gaps] == [
        ("2024-01-08", "2024-01-08", 1, True), ("2024-01-11", "2024-01-16", 4, False),
        ("2024-01-24", "2024-01-24", 1, True)]


def test_rebalance_dates():
    cal = pd.bdate_range("2024-01-01", "2024-03-15").drop(pd.Timestamp("2024-01-31"))
    monthly = rebalance_dates(cal, "monthly")
    assert [d.date() for d in monthly] == [dt.date(2024, 1, 30), dt.date(2024, 2, 29),
                                           dt.date(2024, 3, 15)]
    weekly = rebalance_dates(cal, "weekly")
    assert all(d.day_of_week == 4 for d in weekly[:-1]) and len(weekly) == 11
    assert rebalance_dates(cal, "daily").equals(cal)
    with pytest.raises(ParameterError, match='Did you mean "monthly"'):
        rebalance_dates(cal, "montly")


# --- market data for a universe ---------------------------------------------------------------

def test_market_data_on_one_calendar(synth_data, synth_universe):
    u = load_universe(synth_universe)
    md = load_market_data(u, CsvProvider(synth_data))
    assert md.start == pd.Timestamp("2019-01-02")
    assert md.end == pd.Timestamp("2021-06-30")
    assert (md.calendar.day_of_week < 5).all()
    assert md.prices["LATE"].loc[:"2020-05-29"].isna().all()       # ticker_start trims
    assert md.prices["LATE"].loc["2020-06-01":].notna().all()
    assert md.prices.loc[md.start:, ["CHIPA", "COIN-USD", "BENCH"]].notna().all().all()
    assert [str(g) for g in md.gaps] == [
        # its 03-11 close (UTC day) is usable on 03-12 (crypto convention)
        "COIN-USD: 1 trading day(s) without a price (2020-03-12), filled with the previous close"]
    assert list(md.inputs.columns) == ["^TNX"]
    assert len(md.fingerprint()) == 64
    again = load_market_data(u, CsvProvider(synth_data))
    assert again.fingerprint() == md.fingerprint()


def test_a_delisting_in_a_large_bucket_names_ten_members_and_counts_the_rest(tmp_path):
    from durationbt.data.market import _coverage_notes

    members = [f"T{k:02d}" for k in range(30)]
    path = tmp_path / "big.toml"
    path.write_text('benchmark = "T00"\nstart = 2024-01-02\n[buckets.big]\nrank = 1\n'
                    'description = "many"\ntickers = [' + ", ".join(f'"{t}"' for t in members)
                    + "]\n")
    days = pd.bdate_range("2024-01-02", periods=10)
    window = pd.DataFrame(1.0, index=days, columns=members)
    window.loc[days[5]:, "T29"] = np.nan
    absent, ended, notes = _coverage_notes(window, load_universe(path))
    assert absent == () and ended == {"T29": days[4]}
    assert notes == ["T29's prices end 2024-01-08 (on the trading calendar), before the "
                     "backtest's end 2024-01-15: treated as delisted from then on (held at its "
                     "last price until the next execution, then sold); bucket big continues "
                     "with T00, T01, T02, T03, T04, T05, T06, T07, T08, T09 and 19 more"]


@pytest.mark.parametrize("start, end, message", [
    (dt.date(2020, 1, 1), dt.date(2019, 1, 1), "is not before end"),
    (dt.date(2019, 1, 2), dt.date(2022, 1, 1), "do not reach --end 2022-01-01"),
    (dt.date(2030, 1, 1), None, "No data after --start 2030-01-01"),
    (dt.date(2010, 1, 1), None, "Benchmark BENCH has no data before 2018-01-02"),
])
def test_bad_date_ranges(synth_data, synth_universe, start, end, message):
    u = load_universe(synth_universe)
    with pytest.raises(DataError, match=message):
        load_market_data(u, CsvProvider(synth_data), start=start, end=end)


def test_data_status_reports_limits(synth_data, synth_universe):
    report = data_status(load_universe(synth_universe), CsvProvider(synth_data))
    rows = {r.ticker: r for r in report.tickers}
    assert report.limits_start == ("LATE",) and rows["LATE"].first == pd.Timestamp("2020-06-01")
    assert rows["COIN-USD"].calendar == "7-day" and rows["COIN-USD"].missing_days == 1
    assert rows["CHIPA"].missing_days == 0
    assert rows["^TNX"].role == "signal"


# --- provider choice and the yahoo provider ---------------------------------------------------

def test_provider_precedence(tmp_path, synth_data, monkeypatch):
    """--data, else DURATIONBT_DATA (read by the CLI's Environment), else Yahoo; the
    library itself never reads the environment."""
    from durationbt.cli.environment import Environment

    monkeypatch.setenv("DURATIONBT_DATA", str(tmp_path / "elsewhere"))
    assert isinstance(resolve_provider(synth_data), CsvProvider)
    assert isinstance(resolve_provider(None, cache_dir=tmp_path), YahooProvider)
    assert Environment().provider(synth_data).folder == synth_data
    monkeypatch.setenv("DURATIONBT_DATA", str(synth_data))
    assert Environment().provider(None).folder == synth_data
    monkeypatch.setenv("DURATIONBT_DATA", "")
    monkeypatch.setenv("DURATIONBT_CACHE", str(tmp_path / "c"))
    yahoo = Environment().provider(None)
    assert isinstance(yahoo, YahooProvider) and yahoo.cache_dir == tmp_path / "c" / "yahoo"


def recorded_download(*args, **kwargs) -> pd.DataFrame:
    """A yfinance 1.x ``download`` response (MultiIndex Price x Ticker), recorded to CSV."""
    frame = pd.read_csv(FIXTURES / "yfinance_download_BTC-USD_MU_2024-01.csv", header=[0, 1],
                        index_col=0, parse_dates=True)
    tickers = args[0]
    return frame.loc[:, frame.columns.get_level_values("Ticker").isin(tickers)]


def offline_download(*args, **kwargs) -> pd.DataFrame:
    raise ConnectionError("Failed to resolve 'query2.finance.yahoo.com'")


def test_yahoo_downloads_then_serves_from_cache_offline(tmp_path):
    calls = []

    def recording(*args, **kwargs):
        calls.append((args, kwargs))
        return recorded_download(*args, **kwargs)

    online = YahooProvider(tmp_path, download=recording)
    got = online.load_prices(["MU", "BTC-USD"])
    assert calls[0][1]["auto_adjust"] is False and calls[0][1]["progress"] is False
    assert len(got["MU"]) == 21 and len(got["BTC-USD"]) == 30          # MU: no weekend NaNs
    assert got["MU"].loc["2024-01-02"] == pytest.approx(81.67503356933594)
    assert (tmp_path / "yahoo" / "MU.parquet").is_file()

    offline = YahooProvider(tmp_path, max_age_hours=0, download=offline_download)
    cached = offline.load_prices(["MU"])
    pd.testing.assert_series_equal(cached["MU"], got["MU"])


def test_yahoo_fresh_cache_makes_no_call(tmp_path):
    YahooProvider(tmp_path, download=recorded_download).load_prices(["MU"])
    YahooProvider(tmp_path, download=offline_download).load_prices(["MU"])  # would raise if called


def test_yahoo_without_network_or_cache_says_how_to_use_csv(tmp_path):
    with pytest.raises(DataError) as info:
        YahooProvider(tmp_path, download=offline_download).load_prices(["MU"])
    text = str(info.value)
    assert "MU" in text and "no cached copy" in text and "--data" in text
    assert "DURATIONBT_DATA" in text


def test_yahoo_unknown_ticker_is_an_error(tmp_path):
    with pytest.raises(DataError, match="No data for ticker NOPE"):
        YahooProvider(tmp_path, download=recorded_download).load_prices(["NOPE"])
