"""Generated inputs through the loaders and the CLI: price CSVs, FRED files and universe
TOMLs as a careless tool or a hostile hand might write them. The only outcomes allowed are
success or a clear DurationbtError (exit 2) — never another exception or a traceback.
Derandomised, so CI sees the same cases every time."""

import datetime as dt
from pathlib import Path
from unittest.mock import patch

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from durationbt.cli.app import app
from durationbt.data import CsvProvider, load_market_data
from durationbt.data import csv as csv_module
from durationbt.data.csv import read_fred_csv, read_price_csv
from durationbt.data.moves import check_suspicious, scan_series
from durationbt.errors import DataError, DurationbtError, UniverseError
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


# Files as tools write them, some with one hostile cell, so pyarrow's fast reader takes
# many: the pandas reader is the reference it must match, value for value, or leave the
# file to.
clean_values = st.one_of(
    st.floats(-1e6, 1e6).map(repr), st.floats(1e-12, 1e12).map(lambda x: f"{x:.17g}"),
    st.integers(-10**20, 10**20).map(str), st.floats(0.01, 1e4).map(lambda x: f"{x:.4f}"),
    st.sampled_from(["", ".", "null", "NaN", "nan", "+1.5", "1.", ".5", "0", "1e5"]))
hostile_cells = st.sampled_from([
    "", "null", "NAN", "-0", "-0.0", " 1.5", "1.5 ", "inf", "-Infinity", "1e400", "5e-324",
    "0x10", "1,5", "\"2\"", "caf\u00e9", "2024-02-30", "2024-1-02", "2024-01-02 00:00:00",
    " 2024-01-02", "20240102", "1799-12-31", "0999-01-01", "9999-12-31", "2024-06",
    "2024-01-02 23:00:00-05:00"])
plain_headers = st.sampled_from([
    "Date,Open,High,Low,Close,Adj Close,Volume", "Date,Close", "Date,Adj Close,Close",
    "observation_date,X", "Date,Value", "Date,Close,Close", "\"Date\",Close", "Date,Close,",
    "\ufeffDate,Close", "DATE,Value", "date,X",
])


@st.composite
def plain_files(draw) -> str:
    header = draw(plain_headers)
    width = max(1, header.count(",") + 1)
    days = draw(st.lists(st.dates(dt.date(1990, 1, 1), dt.date(2025, 12, 31)).map(str),
                         max_size=30, unique=True))
    rows = [[d, draw(clean_values)] for d in sorted(days)]
    if rows and draw(st.booleans()):
        k, cell, where = draw(st.integers(0, len(rows) - 1)), draw(hostile_cells), draw(
            st.integers(0, 2))
        if where < 2:
            rows[k][where] = cell
        else:
            rows.append(list(rows[k]) if draw(st.booleans()) else [rows[k][0], cell])
    lines = [header] + [",".join([d] + [v] * (width - 1)) for d, v in rows]
    if draw(st.booleans()):
        lines = lines[:1] + lines[:0:-1]               # newest first
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    return ending.join(lines) + draw(st.sampled_from([ending, ""]))


@FUZZ
@given(body=plain_files())
@example(body="Date,Close\n2024-01-02,-0\n2024-01-03,1\n")      # pandas: an integer 0, not -0.0
@example(body="Date,Close\n,1\n2024-01-03,2\n")                 # a kept row without a date
@example(body="Date,Close\nnull,1\n")
@example(body="Date,Close\n1799-12-31,1\n")
@example(body="Date,Close\n2024-01-03,1\n2024-01-02,2\n")      # newest first: sorted
@example(body="Date,Close\n2024-01-02,1\n2024-01-02,1\n")      # the same row twice: merged
def test_the_fast_reader_reads_what_pandas_reads_or_leaves_the_file_to_it(tmp_path_factory,
                                                                           body):
    path = tmp_path_factory.mktemp("plain") / "X.csv"
    path.write_text(body, encoding="utf-8")
    today = pd.Timestamp(dt.datetime.now(dt.UTC).date())
    for columns in (("Adj Close", "Close"), ("Value", "X")):
        fast = csv_module._read_plain(path, columns, csv_module.DATE_COLUMNS, today)
        if fast is None:
            continue
        with patch.object(csv_module, "_read_plain", lambda *a: None):
            slow = csv_module._read_dated_csv(path, columns)   # raises if pandas refuses it
        pd.testing.assert_series_equal(fast, slow, check_freq=True, check_exact=True)
        assert fast.index.name == slow.index.name == "date"
        assert (fast.to_numpy().view("int64") == slow.to_numpy().view("int64")).all()


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


# --- family: data. Moves that change numbers silently (issue 28, part 1) ---------------------

MOVE_CASES = 100
factors = st.sampled_from([2, 3, 4, 5, 10, 20, 100, 1000, 1 / 2, 1 / 3, 1 / 10, 1 / 100, 1 / 1000])


def _walk(seed: int, days: int = 300, vol: float = 0.015) -> pd.Series:
    index = pd.bdate_range("2020-01-01", periods=days)
    steps = np.random.default_rng(seed).normal(0, vol, days)
    return pd.Series(100 * np.exp(np.cumsum(steps)), index=index, name="MU")


@settings(max_examples=MOVE_CASES, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), factor=factors, at=st.integers(1, 299),
       length=st.one_of(st.none(), st.integers(1, 5)))
def test_a_scaled_stretch_of_a_stock_is_found_where_it_starts(seed, factor, at, length):
    """A stock's prices times ``factor`` from row ``at`` on (or for ``length`` rows): one
    finding on that day, whatever happens after it; a split hint naming the factor; an
    error with strict, naming ticker, date and size."""
    series = _walk(seed)
    end = len(series) if length is None else min(len(series), at + length)
    series.iloc[at:end] *= factor
    [found] = scan_series(series)
    reverts = end < len(series)
    assert (found.date, found.kind) == (series.index[at], "spike" if reverts else "shift")
    if reverts:
        assert (found.last, found.back, found.days) == (series.index[end - 1],
                                                        series.index[end], end - at)
    n = round(max(factor, 1 / factor))
    assert f"{n}:1 split" in found.hint if factor < 1 else f"1:{n} reverse split" in found.hint
    with pytest.raises(DataError, match=f"Suspicious price: MU (on|from) {series.index[at].date()}"):
        check_suspicious([found], strict=True, source="test")


@settings(max_examples=MOVE_CASES, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), crypto=st.booleans())
def test_an_ordinary_random_walk_is_not_suspicious(seed, crypto):
    """Daily moves of 1.5% (stock) or 4% (crypto, every day of the week) raise nothing."""
    series = _walk(seed, vol=0.04 if crypto else 0.015)
    if crypto:
        series.index = pd.date_range("2020-01-01", periods=len(series), freq="D")
    assert scan_series(series) == []


def test_bounds_by_class_by_hand():
    """Stocks: |ln| 0.4; crypto (a 7-day series): 0.6; a quiet series: 60 robust sigmas of
    its typical daily move (1.4826 x the median size of its nonzero log moves), at least
    0.02. 40 moves of +s, 40 of -s and the jump: a typical move of 1.4826 s."""
    def series(step: float, jump: float, weekly_days: bool = True) -> pd.Series:
        logs = np.r_[np.tile([step, -step], 20), jump, np.tile([step, -step], 20)]
        index = (pd.bdate_range("2024-01-01", periods=len(logs) + 1) if weekly_days else
                 pd.date_range("2024-01-01", periods=len(logs) + 1, freq="D"))
        return pd.Series(100 * np.exp(np.r_[0, np.cumsum(logs)]), index=index, name="X")

    assert scan_series(series(0.02, 0.39)) == []
    assert [s.ratio for s in scan_series(series(0.02, 0.41))] == [pytest.approx(np.exp(0.41))]
    assert scan_series(series(0.02, -0.59, weekly_days=False)) == []
    assert len(scan_series(series(0.02, -0.61, weekly_days=False))) == 1
    # the one-day spike rule of before holds for every class: +58% undone the next day
    crypto = series(0.02, 0.46, weekly_days=False)
    crypto.iloc[42:] *= np.exp(-0.45)
    [spike] = scan_series(crypto)
    assert (spike.kind, spike.days) == ("spike", 1) and "+50% or -33%" in str(spike)
    # a bills ETF: 60 x 1.4826 x 0.0002 = 0.0178 -> the floor 0.02
    assert scan_series(series(0.0002, 0.019)) == []
    [quiet] = scan_series(series(0.0002, 0.021))
    assert "0.98..1.02, the bound for this quiet series" in str(quiet)
    # a quieter-than-stocks series: 60 x 1.4826 x 0.003 = 0.267
    assert scan_series(series(0.003, 0.26)) == [] and len(scan_series(series(0.003, 0.28))) == 1


def test_levels_by_hand():
    """A level (FRED, a ^ ticker): a change beyond 40 typical changes (1.4826 x the median
    size of its nonzero changes) that also halves or doubles it; values beyond median +- 25
    robust spreads (1.4826 MAD). A series alternating a, a + 0.1 changes by a typical
    0.148 (40 of them: 5.93)."""
    index = pd.bdate_range("2024-01-01", periods=60)
    oas = pd.Series(np.tile([4.0, 4.1], 30), index=index, name="BAMLH0A0HYM2")
    assert scan_series(oas, fred=True) == []
    tnx = pd.Series(np.tile([40.0, 40.1], 30), index=index, name="^TNX")
    divided = tnx.copy()
    divided.iloc[30:] /= 10                   # 40.1 -> 4.0: -36.1 = 244 typical, and a tenth
    [shift] = scan_series(divided)
    assert (shift.series, shift.kind, shift.date) == ("level", "shift", index[30])
    assert (shift.before, shift.after) == (40.1, 4.0)
    assert "looks like a unit or scale error (÷10)" in str(shift)
    crisis = tnx.copy()
    crisis.iloc[30:] += 15                    # 40.1 -> 55: 100 typical, but not doubling
    assert scan_series(crisis) == []
    spike = oas.copy()
    spike.iloc[20:23] *= 1000                 # 4.1 -> 4000 and back after three rows
    [found] = scan_series(spike, fred=True)
    assert (found.kind, found.date, found.last, found.back, found.days) == (
        "spike", index[20], index[22], index[23], 3)
    ramp = oas.copy()
    ramp.iloc[20:23] = 9.0    # +4.9 = 33 typical; median 4.1, MAD 0.1: 9 > 4.1 + 25 x 0.148
    [out] = scan_series(ramp, fred=True)
    assert (out.kind, out.date, out.last, out.days, out.after) == ("range", index[20],
                                                                   index[22], 3, 9.0)
    assert str(out) == ("FRED series BAMLH0A0HYM2 from 2024-01-29 to 2024-01-31 (3 values): 9, "
                        "far outside its own range (median 4.1 +/- 25 x 0.148); check the source")


@pytest.mark.parametrize("line, field", [
    ("weights = { rates = inf }", "signal.weights.rates"),
    ("weights = { rates = nan }", "signal.weights.rates"),
    ("enter_scarce = inf", "signal.enter_scarce"),
    ("exit_abundant = -inf", "signal.exit_abundant"),
    ("clip = inf", "signal.clip"),
])
def test_signal_numbers_must_be_finite(tmp_path, line, field):
    """weights = { rates = inf } switched the signal off (neutral every day), and `signal`
    blamed "too little history"."""
    path = tmp_path / "u.toml"
    path.write_text('benchmark = "SPY"\nstart = 2020-01-02\n[buckets.a]\nrank = 0\n'
                    f'description = "a"\ntickers = ["A"]\n[signal]\n{line}\n')
    with pytest.raises(UniverseError, match=f"field '{field}': Input should be a finite number"):
        load_universe(path)
    result = runner.invoke(app, ["signal", "--universe", str(path)])
    assert result.exit_code == 2 and field in result.output


# --- family "plugin": hostile plugins through `run` -----------------------------------------
# Each generated plugin does one to three hostile things, then returns weights (the same valid
# weights, or a broken answer). Allowed: exit 0 with every number equal to a clean plugin's
# run, or exit 2 naming the plugin with nothing written; never a traceback, a hang or a
# number changed silently.

PLUGIN_CASES = 40
PLUGIN_TIMEOUT = "2"

HOSTILE_ACTIONS = [
    "ctx.prices.loc[:, :] *= 2",
    "ctx.inputs.loc[:, :] = 0.0",
    "ctx.signal.regime.loc[:] = 'scarce'",
    "ctx.signal.composite.loc[:] = 9.0",
    "np.sqrt = lambda x: x * 0",
    "pd.DataFrame.std = None",
    "sys.stdout.close()",
    "sys.stderr = None",
    "signal.signal(signal.SIGALRM, signal.SIG_IGN)",
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)",
    "threading.Thread(target=time.sleep, args=(300,)).start()",
    "os._exit(0)",
    "os.abort()",
    "raise SystemExit(143)",
    "raise KeyboardInterrupt",
    "raise GeneratorExit('closing')",
    "raise Boom('a BaseException of its own')",
    "while True:\n            try:\n                time.sleep(60)\n"
    "            except BaseException:\n                pass",
    "os.close(0)",
]
ODD_FRAME = ("type('Odd', (pd.DataFrame,), {'__reduce__': lambda self: (os.system, "
             "('false',))})(w)")       # valid weights whose pickle would run a command
VALID_ANSWERS = ("w", ODD_FRAME)
ANSWERS = [
    *VALID_ANSWERS,
    "None",
    "w.rename(columns={'SOFTB': 'SOFTA'})",
    "w.astype(object).where(w > 1, 'x')",
    "w * float('nan')",
    "w.iloc[:0]",
    "w.T",
]
PLUGIN_TEMPLATE = """
import os
import signal
import sys
import threading
import time
import numpy as np
import pandas as pd
from durationbt import Strategy


class Boom(BaseException):
    pass


class Fuzzed(Strategy):
    '''A generated hostile plugin.'''

    name = "{name}"
    weights_by = "ticker"

    def target_weights(self, ctx):
        w = pd.DataFrame(0.5, index=ctx.rebalance_dates, columns=["SOFTA", "SOFTB"])
{actions}
        return {answer}
"""


def _plugin_run(universe, data, plugins, name, out):
    return runner.invoke(app, ["run", name, "--universe", str(universe), "--data", str(data),
                               "--strategies-dir", str(plugins), "--out", str(out),
                               "--no-tearsheet", "--timeout", PLUGIN_TIMEOUT])


def _numbers(out: Path) -> tuple[str, ...]:
    """The digests of a run's numbers."""
    import hashlib

    [folder] = list(out.iterdir())
    return tuple(hashlib.sha1((folder / name).read_bytes()).hexdigest()[:12] for name in
                 ("metrics.json", "regimes.json", "equity.csv", "weights.csv", "duration.csv"))


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory, synth_data, synth_universe):
    plugins = tmp_path_factory.mktemp("clean")
    (plugins / "fz.py").write_text(PLUGIN_TEMPLATE.format(name="fz", actions="", answer="w"))
    out = tmp_path_factory.mktemp("clean_out") / "r"
    done = _plugin_run(synth_universe, synth_data, plugins, "fz", out)
    assert done.exit_code == 0, done.output
    return _numbers(out)


@settings(max_examples=PLUGIN_CASES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(actions=st.lists(st.sampled_from(HOSTILE_ACTIONS), min_size=1, max_size=3),
       answer=st.sampled_from(ANSWERS))
def test_hostile_plugins_exit_0_with_the_same_numbers_or_2_naming_the_plugin(
        tmp_path_factory, synth_data, synth_universe, clean_run, actions, answer):
    import time

    plugins = tmp_path_factory.mktemp("fuzzplugin")
    body = "\n".join("        " + a for a in actions)
    (plugins / "fz.py").write_text(PLUGIN_TEMPLATE.format(name="fz", actions=body,
                                                          answer=answer))
    out = plugins / "results"
    started = time.perf_counter()
    result = _plugin_run(synth_universe, synth_data, plugins, "fz", out)
    assert time.perf_counter() - started < 90, "a hostile plugin held the command"
    assert result.exit_code in (0, 2), (actions, answer, result.output)
    assert "Traceback" not in result.output, result.output
    if result.exit_code == 2:
        assert 'Strategy "fz"' in result.output, result.output
        assert not out.exists() or not any(out.iterdir())
    else:
        assert answer in VALID_ANSWERS, (actions, answer, result.output)
        assert _numbers(out) == clean_run, actions
