"""Hostile inputs, round 2: loaders that crashed and writes that escaped, by family (data,
universe, CLI, run folder). Each case gave a traceback, a wrong reading or a stray folder
before its fix; now it is read as real tools write it, or refused with exit 2 and one
paragraph naming the file and field, and nothing is written. Synthetic data: fast."""

import datetime as dt
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from durationbt.api import RunSettings, load_data
from durationbt.cli.app import app
from durationbt.data import CsvProvider
from durationbt.data.csv import read_fred_csv, read_price_csv
from durationbt.duration import rolling_durations
from durationbt.errors import DataError, UniverseError
from durationbt.universe import load_universe

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def refused(result) -> str:
    """The one paragraph of an exit-2 refusal, whitespace folded."""
    text = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "Error:" in text, result.output
    return text[text.index("Error:"):]


@pytest.fixture
def data(synth_data, tmp_path) -> Path:
    """A private copy of the synthetic data folder, to damage."""
    return Path(shutil.copytree(synth_data, tmp_path / "data"))


def scale(path: Path, factor: float) -> None:
    frame = pd.read_csv(path)
    for column in ("Close", "Adj Close"):
        frame[column] = frame[column] * factor
    frame.to_csv(path, index=False)


# --- data -----------------------------------------------------------------------------------

@pytest.mark.parametrize("stamp", ["{d}T00:00:00 Z", "{d} 00:00:00 +00:00", "{d} 00:00:00 UTC",
                                   "{d}T16:00:00.5-05:00", "{d}T00:00:00+0000"])
def test_stamped_dates_are_read_with_their_own_day(tmp_path, stamp):
    path = tmp_path / "X.csv"
    path.write_text("Date,Close\n" + "".join(f"{stamp.format(d=d)},{i + 1}\n" for i, d in
                                             enumerate(["2024-01-02", "2024-01-03"])))
    assert [str(d.date()) for d in read_price_csv(path).index] == ["2024-01-02", "2024-01-03"]


def test_one_stamped_row_among_plain_dates_keeps_its_day(tmp_path):
    path = tmp_path / "X.csv"
    path.write_text("Date,Close\n2024-01-02,1\n2024-01-03 00:00:00 +00:00,2\n2024-01-04,3\n")
    series = read_price_csv(path)
    assert [str(d.date()) for d in series.index] == ["2024-01-02", "2024-01-03", "2024-01-04"]
    assert series.tolist() == [1.0, 2.0, 3.0]


STAMPS = ["{d}", "{d} 00:00:00-05:00", "{d}T00:00:00Z", "{d}T00:00:00 Z", "{d} 00:00:00 +00:00",
          "{d} 23:59:59+09:00"]


@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.dates(dt.date(1990, 1, 1), dt.date(2025, 12, 31)),
                               st.sampled_from(STAMPS)),
                     min_size=1, max_size=20, unique_by=lambda r: r[0]))
def test_any_mix_of_stamps_reads_the_dates_as_written(tmp_path, rows):
    path = tmp_path / "X.csv"
    path.write_text("Date,Close\n" + "".join(f"{s.format(d=d)},{k + 1}\n"
                                             for k, (d, s) in enumerate(rows)))
    series = read_price_csv(path)
    assert sorted(d for d, _ in rows) == [d.date() for d in series.index]


@pytest.mark.parametrize("written, why", [("2024-06", "a month or a year, not a day"),
                                          ("2024", "a month or a year, not a day"),
                                          ("2024-02-30", "no such day in the calendar")])
def test_a_date_that_is_not_a_day_is_refused_naming_file_and_row(tmp_path, written, why):
    path = tmp_path / "MU.csv"
    for reader, header in ((read_price_csv, "Date,Close"), (read_fred_csv, "Date,Value")):
        path.write_text(f"{header}\n2024-05-31,10\n{written},11\n")
        with pytest.raises(DataError) as info:
            reader(path)
        text = str(info.value)
        assert str(path) in text and "data row 2" in text and repr(written) in text
        assert why in text


def test_a_row_before_1800_is_refused_naming_file_and_date(tmp_path):
    path = tmp_path / "MU.csv"
    path.write_text("Date,Close\n1600-01-01,10\n2024-01-02,11\n")
    with pytest.raises(DataError, match="1600-01-01, before 1800-01-01") as info:
        read_price_csv(path)
    assert str(path) in str(info.value)


def test_vanishing_prices_are_refused_naming_file_and_date(data, synth_universe, tmp_path):
    scale(data / "CHIPA.csv", 1e-300)
    with pytest.raises(DataError) as info:
        read_price_csv(data / "CHIPA.csv")
    assert str(data / "CHIPA.csv") in str(info.value) and "2018-01-02" in str(info.value)
    out = tmp_path / "results"
    text = refused(invoke("run", "equal_weight", "--universe", synth_universe, "--data", data,
                          "--out", out, "--no-tearsheet"))
    assert "CHIPA.csv" in text and "below 1e-08" in text and not out.exists()


def test_a_yield_of_exactly_zero_is_still_read(tmp_path):
    path = tmp_path / "^IRX.csv"
    path.write_text("Date,Close\n2024-01-02,0\n2024-01-03,0.01\n")
    assert read_price_csv(path).tolist() == [0.0, 0.01]


def test_a_price_file_that_is_a_folder_says_so(data, synth_universe, tmp_path):
    (data / "CHIPA.csv").unlink()
    (data / "CHIPA.csv").mkdir()
    text = refused(invoke("run", "equal_weight", "--universe", synth_universe, "--data", data,
                          "--out", tmp_path / "r"))
    assert f"{data / 'CHIPA.csv'} is a folder, not a file" in text
    assert "does not exist" not in text


def test_a_price_file_that_is_a_symlink_loop_says_so(data):
    (data / "CHIPA.csv").unlink()
    (data / "CHIPA.csv").symlink_to("CHIPA.csv")
    with pytest.raises(DataError, match="symbolic link that loops"):
        CsvProvider(data).load_prices(["CHIPA"])


def test_a_fred_file_that_is_a_folder_is_refused_not_skipped(data):
    (data / "fred" / "DGS10.csv").mkdir(parents=True)
    with pytest.raises(DataError, match="DGS10.csv is a folder"):
        CsvProvider(data).load_fred(["DGS10"])


def test_rolling_duration_with_less_history_than_the_window(synth_data):
    prices = CsvProvider(synth_data).load_prices(["BENCH", "CHIPA", "^TNX"])
    frame = pd.DataFrame(prices).loc[:"2018-12-31"]     # 53 weeks, window 104
    rolling = rolling_durations(frame[["BENCH", "CHIPA"]], frame["^TNX"], "BENCH", 104)
    assert len(rolling) == 53 and np.isfinite(rolling["CHIPA"].iloc[-1])


# --- data: the market cache -----------------------------------------------------------------

@pytest.fixture
def cached(data, synth_universe, tmp_path):
    """Settings whose market cache holds one entry, the entry, and a fresh load's fingerprint."""
    settings = RunSettings(data=data, cache_dir=tmp_path / "cache")
    universe = load_universe(synth_universe)
    first = load_data(universe, settings)
    entry = next((tmp_path / "cache" / "market").glob("*.pkl"))
    return universe, settings, entry, first.fingerprint()


def flip(entry: Path, where: float) -> None:
    blob = bytearray(entry.read_bytes())
    blob[int(len(blob) * where)] ^= 0xFF
    entry.write_bytes(bytes(blob))


@pytest.mark.parametrize("damage", ["flip early", "flip middle", "flip late", "truncate",
                                    "other pickle", "not a pickle"])
def test_a_damaged_cache_entry_is_discarded_named_and_read_from_the_source(cached, damage):
    universe, settings, entry, fingerprint = cached
    if damage.startswith("flip"):
        flip(entry, {"early": 0.3, "middle": 0.6, "late": 0.95}[damage.split()[1]])
    elif damage == "truncate":
        entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
    elif damage == "other pickle":
        entry.write_bytes(pickle.dumps({"prices": None}))
    else:
        entry.write_bytes(b"not a pickle")
    again = load_data(universe, settings)
    assert again.fingerprint() == fingerprint             # the numbers never change
    assert any(str(entry) in w and "damaged" in w for w in again.warnings)
    third = load_data(universe, settings)                 # rewritten: a clean hit, no note
    assert third.fingerprint() == fingerprint and not any("damaged" in w for w in third.warnings)


def test_a_same_size_edit_with_its_time_restored_is_not_served_from_the_cache(cached, data):
    universe, settings, _, fingerprint = cached
    path = data / "CHIPA.csv"
    stat, body = path.stat(), path.read_bytes()
    lines = body.split(b"\n")
    fields = lines[300].split(b",")         # one adjusted close, its first decimal changed
    cut = fields[5].index(b".") + 1
    fields[5] = fields[5][:cut] + (b"1" if fields[5][cut:cut + 1] != b"1" else b"2") \
        + fields[5][cut + 1:]
    lines[300] = b",".join(fields)
    path.write_bytes(b"\n".join(lines))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns
    edited = load_data(universe, settings)
    assert edited.fingerprint() != fingerprint
    assert edited.fingerprint() == load_data(universe, RunSettings(data=data, cache=False)).fingerprint()


# --- universe -------------------------------------------------------------------------------

GOOD = ('benchmark = "BENCH"\nstart = 2019-01-02\n[buckets.a]\nrank = 0\ndescription = "a"\n'
        'tickers = ["CHIPA"]\n')


@pytest.mark.parametrize("blob", [('description = "caf\xe9"\n' + GOOD).encode("latin-1"),
                                  bytes(range(256)) * 2,
                                  b"\x89PNG\r\n\x1a\n" + bytes(range(200, 256))])
def test_a_universe_that_is_not_utf8_is_refused_naming_the_file(tmp_path, blob):
    path = tmp_path / "u.toml"
    path.write_bytes(blob)
    with pytest.raises(UniverseError, match="is not UTF-8 text") as info:
        load_universe(path)
    assert str(path) in str(info.value)
    assert str(path) in refused(invoke("universes", "show", path))


def test_universe_with_a_bom_is_read(tmp_path):
    path = tmp_path / "u.toml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert load_universe(path).benchmark == "BENCH"


@pytest.mark.parametrize("nested", ["x = " + "[" * 3000 + "]" * 3000,
                                    "x = " + "{a = " * 3000 + "1" + "}" * 3000,
                                    "description = " + "[" * 600 + "]" * 600])
def test_toml_nested_thousands_deep_is_refused(tmp_path, nested):
    path = tmp_path / "u.toml"
    path.write_text(nested + "\n" + GOOD)
    text = refused(invoke("universes", "show", path))
    assert str(path) in text


@pytest.mark.parametrize("ticker, field", [("M\\u0000U", "buckets.a.tickers.0"),
                                           ("../MU", "buckets.a.tickers.0"),
                                           ("M\\u202eU", "buckets.a.tickers.0")])
def test_a_ticker_that_cannot_name_a_file_is_refused(tmp_path, ticker, field):
    path = tmp_path / "u.toml"
    path.write_text(GOOD.replace('"CHIPA"', f'"{ticker}"'))
    with pytest.raises(UniverseError) as info:
        load_universe(path)
    text = str(info.value)
    assert str(path) in text and f"field '{field}'" in text and "Tuple should" not in text


def test_a_custom_csv_that_is_a_symlink_loop_is_refused_naming_the_field(synth_data,
                                                                         synth_universe,
                                                                         tmp_path):
    (tmp_path / "capex.csv").symlink_to("capex.csv")
    path = tmp_path / "u.toml"
    path.write_text(synth_universe.read_text() + '[[signal.custom]]\nname = "capex"\n'
                    'csv = "capex.csv"\ncolumn = "v"\nlag_days = 1\n')
    out = tmp_path / "results"
    for command in (["run", "equal_weight", "--out", out], ["signal", "--html", out / "s.html"]):
        text = refused(invoke(*command, "--universe", path, "--data", synth_data))
        assert "field 'signal.custom.capex.csv'" in text and "loops back on itself" in text
    assert not out.exists()


def test_universes_list_names_the_unreadable_file_and_lists_the_rest(tmp_path, monkeypatch):
    folder = tmp_path / "universes"
    folder.mkdir()
    (folder / "good.toml").write_text(GOOD)
    (folder / "latin.toml").write_bytes(('description = "caf\xe9"\n' + GOOD).encode("latin-1"))
    (folder / "junk.toml").write_bytes(bytes(range(256)))
    monkeypatch.chdir(tmp_path)
    result = invoke("universes", "list")
    text = refused(result)
    listing = " ".join(result.stdout.split())
    assert "good" in listing and "ai_capex" in listing
    assert "latin.toml: is not UTF-8" in text and "junk.toml: is not UTF-8" in text


# --- CLI ------------------------------------------------------------------------------------

def test_duration_window_longer_than_the_data_is_refused(synth_data, synth_universe, tmp_path):
    chart = tmp_path / "d.html"
    text = refused(invoke("duration", "--universe", synth_universe, "--data", synth_data,
                          "--window", 100000, "--html", chart))
    assert "--window 100000 weeks is longer than the" in text and not chart.exists()


def test_a_universe_name_never_steers_the_default_page_path(synth_data, synth_universe,
                                                            tmp_path, monkeypatch):
    path = tmp_path / "u.toml"
    path.write_text('name = "../../escaped/x"\n' + synth_universe.read_text())
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = invoke("signal", "--universe", path, "--data", synth_data)
    assert result.exit_code == 0, result.output
    pages = [p.relative_to(work) for p in work.rglob("*.html")]
    assert pages and all(p.parts[0] == "results" and len(p.parts) == 2 for p in pages), pages
    assert not (tmp_path / "escaped").exists()


@pytest.mark.parametrize("name, message", [("a" * 300, "at most 64 characters"),
                                           ("none", "a Python keyword"),
                                           ("true", "a Python keyword")])
def test_strategies_new_with_a_bad_name_creates_nothing(tmp_path, name, message):
    plugins, tests = tmp_path / "strategies", tmp_path / "tests"
    text = refused(invoke("strategies", "new", name, "--strategies-dir", plugins,
                          "--tests-dir", tests))
    assert message in text and not plugins.exists() and not tests.exists()


def test_strategies_new_writes_both_files_or_neither(tmp_path):
    plugins, tests = tmp_path / "strategies", tmp_path / "tests"
    tests.write_text("a file where the tests folder should be")
    refused(invoke("strategies", "new", "tilt", "--strategies-dir", plugins, "--tests-dir", tests))
    assert not plugins.exists()
    tests.unlink()
    assert invoke("strategies", "new", "tilt", "--strategies-dir", plugins,
                  "--tests-dir", tests).exit_code == 0
    assert (plugins / "tilt.py").is_file() and (tests / "test_tilt.py").is_file()


# --- run folder -----------------------------------------------------------------------------

RAISES = '''
import pandas as pd
from durationbt import Strategy


class Raises(Strategy):
    """Raises."""

    name = "raises"

    def target_weights(self, ctx):
        raise RuntimeError("no")
'''

PEEKS = '''
import pandas as pd
from durationbt import Strategy


class Peeks(Strategy):
    """Holds CHIPA when its price three weeks later is higher: looks ahead."""

    name = "peeks"
    weights_by = "ticker"

    def target_weights(self, ctx):
        later = ctx.prices["CHIPA"].shift(-15).reindex(ctx.rebalance_dates)
        now = ctx.prices["CHIPA"].reindex(ctx.rebalance_dates)
        return pd.DataFrame({"CHIPA": (later > now).astype(float)}, index=ctx.rebalance_dates)
'''


@pytest.fixture
def hostile(tmp_path) -> Path:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "raises.py").write_text(RAISES)
    (plugins / "peeks.py").write_text(PEEKS)
    return plugins


@pytest.mark.parametrize("strategy", ["raises", "peeks"])
@pytest.mark.parametrize("tearsheet", [[], ["--no-tearsheet"]])
def test_a_refused_run_leaves_no_out_folder(synth_data, synth_universe, hostile, tmp_path,
                                            strategy, tearsheet):
    out = tmp_path / "out" / "nested"
    refused(invoke("run", strategy, "--universe", synth_universe, "--data", synth_data,
                   "--strategies-dir", hostile, "--out", out, *tearsheet))
    assert not (tmp_path / "out").exists()


def test_a_refused_run_keeps_an_out_folder_that_was_there(synth_data, synth_universe, hostile,
                                                          tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    refused(invoke("run", "raises", "--universe", synth_universe, "--data", synth_data,
                   "--strategies-dir", hostile, "--out", out))
    assert out.is_dir() and list(out.iterdir()) == []


# ---- writes: an output path that is a device, pipe or socket -------------------------------

def test_an_output_that_is_not_a_regular_file_is_refused_and_left_alone(synth_data,
                                                                        synth_universe, tmp_path):
    # a rename into place would replace the device itself: as root, `--csv /dev/null` once
    # turned /dev/null into a regular file for the whole machine. A FIFO stands in for it.
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    text = refused(invoke("duration", "--universe", synth_universe, "--data", synth_data,
                          "--csv", fifo, "--html", tmp_path / "d.html"))
    assert "pipe.csv is not a regular file" in text
    assert fifo.is_fifo() and not (tmp_path / "d.html").exists()
