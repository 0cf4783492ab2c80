"""Generated inputs through the loaders and the CLI: price CSVs, FRED files and universe
TOMLs as a careless tool or a hostile hand might write them. The only outcomes allowed are
success or a clear DurationbtError (exit 2) — never another exception or a traceback.
Derandomised, so CI sees the same cases every time."""

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from durationbt.cli.app import app
from durationbt.data import CsvProvider, load_market_data
from durationbt.data.csv import read_fred_csv, read_price_csv
from durationbt.errors import DurationbtError
from durationbt.universe import load_universe

LOADER_CASES = 200
CLI_CASES = 40
FUZZ = settings(max_examples=LOADER_CASES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

dates = st.one_of(
    st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)).map(str),
    st.dates(dt.date(2020, 1, 1), dt.date(2024, 12, 31)).map(lambda d: f"{d} 00:00:00-05:00"),
    st.dates(dt.date(2020, 1, 1), dt.date(2024, 12, 31)).map(lambda d: f"{d}T00:00:00Z"),
    st.dates(dt.date(2020, 1, 1), dt.date(2024, 12, 31)).map(lambda d: f"{d}T00:00:00 Z"),
    st.dates(dt.date(2020, 1, 1), dt.date(2024, 12, 31)).map(lambda d: f"{d} 00:00:00 +00:00"),
    st.sampled_from(["", "yesterday", "2024-13-01", "2024-02-30", "01/02/2024", "0", "2099-01-01",
                     "2024-06", "1600-01-01", "0001-01-01", "2024-01-02 25:00"]),
    st.text(max_size=12).filter(lambda t: "," not in t and "\n" not in t and "\r" not in t),
)
values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(0.01, 1e4).map(lambda x: f"{x:.4f}"),
    st.sampled_from(["", ".", "null", "NaN", "0", "-1", "1e308", "1e-320", "abc", "inf"]),
)
headers = st.sampled_from([
    "Date,Open,High,Low,Close,Adj Close,Volume", "Date,Close", "Date,Adj Close",
    "observation_date,X", "Date,Value", "Day,Close", "Date", "", "Date,Close,Close",
])


def csv_text(header: str, rows: list[tuple[str, str]]) -> str:
    width = max(1, header.count(",") + 1)
    lines = [header] + [",".join([d] + [v] * (width - 1)) for d, v in rows]
    return "\n".join(lines) + "\n"


files = st.builds(csv_text, headers, st.lists(st.tuples(dates, values), max_size=25))


def _accepted(series: pd.Series) -> None:
    assert series.index.is_monotonic_increasing and not series.index.has_duplicates
    assert np.isfinite(series.to_numpy()).all()
    assert (series.index <= pd.Timestamp.today().normalize()).all()


@FUZZ
@given(body=files)
def test_price_and_fred_files_load_or_are_refused_clearly(tmp_path_factory, body):
    folder = tmp_path_factory.mktemp("fuzz")
    for reader, name in ((read_price_csv, "X.csv"), (read_fred_csv, "X.csv")):
        path = folder / name
        path.write_text(body, encoding="utf-8")
        try:
            _accepted(reader(path))
        except DurationbtError as exc:
            assert str(path) in str(exc)


@pytest.fixture(scope="module")
def small_universe(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("u") / "small.toml"
    path.write_text('benchmark = "BENCH"\nstart = 2020-01-02\n[buckets.a]\nduration = 0\n'
                    'description = "a"\ntickers = ["A"]\n[signal]\ntickers = []\nfred = []\n')
    return path


def _bench(folder: Path) -> None:
    days = pd.bdate_range("2019-06-03", "2021-06-30")
    frame = pd.DataFrame({"Date": days.strftime("%Y-%m-%d"),
                          "Close": 100 * np.exp(np.linspace(0, 0.2, len(days)))})
    frame.to_csv(folder / "BENCH.csv", index=False)


@FUZZ
@given(rows=st.lists(st.tuples(st.dates(dt.date(2019, 6, 1), dt.date(2021, 7, 31)).map(str),
                               values), min_size=0, max_size=40))
def test_market_data_from_generated_asset_file(tmp_path_factory, small_universe, rows):
    folder = tmp_path_factory.mktemp("fuzzdata")
    _bench(folder)
    (folder / "A.csv").write_text(csv_text("Date,Close", rows))
    try:
        market = load_market_data(load_universe(small_universe), CsvProvider(folder))
    except DurationbtError:
        return
    window = market.prices.loc[market.start:market.end]
    assert (window.dropna() > 0).all().all() and market.start < market.end


names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
                max_size=8)
toml_value = st.one_of(names.map(lambda t: '"' + t.replace("\\", "").replace('"', "") + '"'),
                       st.integers(-3, 9).map(str), st.sampled_from(
                           ["2015-01-02", "2031-01-01", "[]", '["A", "A"]', '["A"]', "{}",
                            "true", "1.5", "[1, 2]", '"2015-01-02"']))


@FUZZ
@given(benchmark=toml_value, start=toml_value, duration=toml_value, tickers=toml_value,
       extra=st.sampled_from(["", "colour = 1", "cash = \"ZZZ\"", "[ticker_start]\nA = 2020-01-01",
                              "[signal]\nwindow = 10\nmin_history = 20", "[signal]\nclip = -1",
                              "[buckets.b]\nduration = 1", "end = 2014-01-01", "buckets = 3"]))
def test_universe_files_load_or_are_refused_naming_the_file(tmp_path_factory, benchmark, start,
                                                            duration, tickers, extra):
    path = tmp_path_factory.mktemp("fuzzu") / "u.toml"
    path.write_text(f"benchmark = {benchmark}\nstart = {start}\n{extra}\n[buckets.a]\n"
                    f"duration = {duration}\ndescription = \"a\"\ntickers = {tickers}\n",
                    encoding="utf-8")
    try:
        universe = load_universe(path)
    except DurationbtError as exc:
        assert str(path) in str(exc)
        return
    assert universe.buckets and universe.benchmark


runner = CliRunner()


@settings(max_examples=CLI_CASES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=files)
def test_cli_on_generated_files_exits_0_or_2_never_a_traceback(tmp_path_factory, small_universe,
                                                               body):
    folder = tmp_path_factory.mktemp("fuzzcli")
    _bench(folder)
    (folder / "A.csv").write_text(body, encoding="utf-8")
    for argv in (["data", "status"], ["signal", "--html", str(folder / "s.html")]):
        result = runner.invoke(app, [*argv, "--universe", str(small_universe), "--data",
                                     str(folder)])
        assert result.exit_code in (0, 2), result.output
        assert "Traceback" not in result.output and result.exception is None or \
            isinstance(result.exception, SystemExit), result.exception
