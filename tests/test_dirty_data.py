"""Ragged and dirty histories on copies of real snapshot files: timezone-stamped dates,
FRED's own download, empty files, future rows, duplicates, bad prices, spikes, the
exchange calendar, and windows that leave assets out or see them end early."""

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from durationbt.data import CsvProvider, load_market_data
from durationbt.data.csv import read_fred_csv, read_price_csv
from durationbt.data.validate import check_calendar, find_spikes
from durationbt.errors import DataError
from durationbt.universe import load_universe

pytestmark = pytest.mark.integration

SMALL_UNIVERSE = """
description = "a copy of snapshot files"
benchmark = "SPY"
cash = "BIL"
start = 2022-01-03
{extra}
[buckets.bills]
rank = 0
description = "bills"
tickers = ["BIL"]

[buckets.memory]
rank = 1
description = "memory"
tickers = ["MU", "SNDK"]

[buckets.crypto]
rank = 5
description = "crypto"
tickers = ["BTC-USD", "ETH-USD"]

[ticker_start]
SNDK = 2025-02-24
"""


@pytest.fixture()
def copied(snapshot, tmp_path):
    """A data folder with copies of six snapshot files, and a universe over them."""
    folder = tmp_path / "data"
    folder.mkdir()
    for ticker in ("SPY", "BIL", "MU", "SNDK", "BTC-USD", "ETH-USD"):
        shutil.copy(snapshot / f"{ticker}.csv", folder / f"{ticker}.csv")

    def universe(extra: str = ""):
        path = tmp_path / "small.toml"
        path.write_text(SMALL_UNIVERSE.format(extra=extra))
        return load_universe(path)

    return folder, universe


def rewrite(path: Path, edit) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    edited = edit(frame)
    (frame if edited is None else edited).to_csv(path, index=False)


# --- reading what real tools write ----------------------------------------------------------

def test_timezone_stamped_dates_read_as_exchange_dates(copied, snapshot):
    """yfinance's own to_csv: ``2024-01-02 00:00:00-05:00`` (and -04:00 in summer) is the
    exchange's date, not shifted by the offset."""
    folder, _ = copied
    offsets = {True: "-04:00", False: "-05:00"}

    def stamp(frame):
        dates = pd.to_datetime(frame["Date"])
        dst = dates.dt.tz_localize("America/New_York").map(lambda d: bool(d.dst()))
        frame["Date"] = [f"{d} 00:00:00{offsets[s]}" for d, s in zip(frame["Date"], dst, strict=True)]

    rewrite(folder / "SPY.csv", stamp)
    assert "00:00:00-04:00" in (folder / "SPY.csv").read_text()
    pd.testing.assert_series_equal(read_price_csv(folder / "SPY.csv"),
                                   read_price_csv(snapshot / "SPY.csv"))


def test_utc_stamped_crypto_keeps_its_utc_date(copied, snapshot):
    folder, _ = copied
    rewrite(folder / "BTC-USD.csv",
            lambda f: f.__setitem__("Date", f["Date"] + " 00:00:00+00:00"))
    pd.testing.assert_series_equal(read_price_csv(folder / "BTC-USD.csv"),
                                   read_price_csv(snapshot / "BTC-USD.csv"))


def test_fred_download_header_and_dots(snapshot, tmp_path):
    """FRED's fredgraph.csv: ``observation_date,DGS10`` with '.' on holidays."""
    ours = read_fred_csv(snapshot / "fred" / "DGS10.csv")
    frame = pd.read_csv(snapshot / "fred" / "DGS10.csv", dtype=str)
    frame.columns = ["observation_date", "DGS10"]
    frame.loc[len(frame)] = ["2026-07-30", "."]
    path = tmp_path / "DGS10.csv"
    frame.to_csv(path, index=False)
    pd.testing.assert_series_equal(read_fred_csv(path), ours)


def test_bom_and_crlf(copied, snapshot):
    folder, _ = copied
    path = folder / "SPY.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    pd.testing.assert_series_equal(read_price_csv(path), read_price_csv(snapshot / "SPY.csv"))


@pytest.mark.parametrize("body, message", [
    ("", "the file is empty"),
    ("Date,Open,High,Low,Close,Adj Close,Volume\n", "has a header but no rows"),
    ("Date,Close\n2024-01-02,10\n2099-01-02,11\n", "a row is dated 2099-01-02, after today"),
    ("Date,Close\n2024-01-02,10\n2024-01-02,10.5\n",
     "date 2024-01-02 appears more than once with different values (10, 10.5)"),
])
def test_untrustworthy_files_are_refused_naming_file_and_date(tmp_path, body, message):
    path = tmp_path / "BAD.csv"
    path.write_text(body)
    with pytest.raises(DataError) as info:
        read_price_csv(path)
    assert str(path) in str(info.value) and message in str(info.value)


def test_identical_duplicate_rows_are_merged(tmp_path):
    path = tmp_path / "X.csv"
    path.write_text("Date,Close\n2024-01-02,10\n2024-01-03,11\n2024-01-02,10\n")
    assert read_price_csv(path).tolist() == [10.0, 11.0]


# --- prices that cannot be trusted -----------------------------------------------------------

@pytest.mark.parametrize("value", ["0", "-3.5", "inf"])
def test_zero_negative_or_infinite_price_is_refused(copied, value):
    folder, universe = copied

    def poison(frame):
        row = frame.index[frame["Date"] == "2023-06-10"][0]       # a Saturday: BTC only
        frame.loc[row, ["Close", "Adj Close"]] = value

    rewrite(folder / "BTC-USD.csv", poison)
    with pytest.raises(DataError) as info:
        load_market_data(universe(), CsvProvider(folder))
    text = str(info.value)
    assert "BTC-USD" in text and ("2023-06-10" in text or "not a number" in text)


def test_one_day_spike_is_a_warning_or_with_strict_an_error(copied):
    folder, universe = copied

    def spike(frame):
        row = frame.index[frame["Date"] == "2023-03-15"][0]
        for col in ("Close", "Adj Close"):
            frame.loc[row, col] = str(float(frame.loc[row, col]) * 1000)

    rewrite(folder / "MU.csv", spike)
    market = load_market_data(universe(), CsvProvider(folder))
    notes = [w for w in market.warnings if w.startswith("suspicious price: MU on 2023-03-15")]
    assert len(notes) == 1 and "reverts" in notes[0]
    with pytest.raises(DataError, match="Suspicious price: MU on 2023-03-15"):
        load_market_data(universe(), CsvProvider(folder), strict_prices=True)
    with pytest.raises(DataError, match="Suspicious price: MU on 2023-03-15"):
        load_market_data(universe("strict_prices = true"), CsvProvider(folder))


def test_spike_rule_on_hand_made_series():
    index = pd.bdate_range("2024-01-01", periods=6)
    bad_print = pd.Series([10, 10, 100, 10.5, 10, 10], index=index, name="X")
    crash = pd.Series([10, 10, 4, 4.2, 4.1, 4], index=index, name="Y")  # does not revert
    rally = pd.Series([10, 10, 16, 12, 12, 12], index=index, name="Z")  # back 25%, not 75%
    assert [(s.ticker, s.date) for s in find_spikes(bad_print)] == [("X", index[2])]
    assert find_spikes(crash) == [] and find_spikes(rally) == []


def test_no_spikes_and_calendar_agrees_with_nyse_on_the_snapshot(snapshot, default_universe):
    market = load_market_data(load_universe(default_universe), CsvProvider(snapshot))
    assert not [w for w in market.warnings if "suspicious" in w or "XNYS" in w]


def test_calendar_checked_against_the_exchange():
    sessions = pd.DatetimeIndex(["2024-12-23", "2024-12-24", "2024-12-26", "2024-12-27"])
    ours = sessions.drop(pd.Timestamp("2024-12-26")).union([pd.Timestamp("2024-12-25")])
    check = check_calendar(ours)
    assert check.missing == (pd.Timestamp("2024-12-26"),)
    assert check.extra == (pd.Timestamp("2024-12-25"),)
    assert check.notes() == [
        "1 exchange sessions missing from every file (XNYS): 2024-12-26",
        "1 days in the files on which the exchange was closed (XNYS): 2024-12-25"]


# --- ragged histories -----------------------------------------------------------------------

def test_default_end_is_where_every_bucket_still_has_a_member(copied):
    folder, universe = copied
    market = load_market_data(universe(), CsvProvider(folder))
    assert market.end == pd.Timestamp("2026-07-31")
    assert market.ended == {"ETH-USD": pd.Timestamp("2026-03-26")}  # its 03-25 close, usable on 03-26


def test_bucket_whose_members_all_end_keeps_its_weight_in_cash(copied):
    """Cut both crypto files in 2025: the default end stops there (the last day crypto
    has a member); an explicit later --end runs on with crypto's weight in cash."""
    folder, universe = copied
    for ticker in ("BTC-USD", "ETH-USD"):
        rewrite(folder / f"{ticker}.csv", lambda f: f[f["Date"] <= "2025-06-30"])
    market = load_market_data(universe(), CsvProvider(folder))
    assert market.end == pd.Timestamp("2025-06-30")
    later = load_market_data(universe(), CsvProvider(folder), end=dt.date(2026, 7, 31))
    assert later.end == pd.Timestamp("2026-07-31")
    assert set(later.ended) == {"BTC-USD", "ETH-USD"}
    assert any("bucket crypto has no member left, its weight stays in cash" in w
               for w in later.warnings)


def test_end_beyond_the_benchmark_is_refused(copied):
    folder, universe = copied
    with pytest.raises(DataError, match="benchmark SPY ends 2026-07-31"):
        load_market_data(universe(), CsvProvider(folder), end=dt.date(2026, 8, 20))


def test_window_before_a_listing_leaves_the_asset_out(copied):
    folder, universe = copied
    market = load_market_data(universe(), CsvProvider(folder), end=dt.date(2024, 12, 31))
    assert market.absent == ("SNDK",)
    assert np.isnan(market.prices.loc[market.start:, "SNDK"]).all()
    assert any(w.startswith("SNDK has no price between 2022-01-03 and 2024-12-31") and
               "spreads over MU" in w for w in market.warnings)
