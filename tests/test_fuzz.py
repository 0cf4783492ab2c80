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
    st.sampled_from(["", "yesterday", "2024-13-01", "2024-02-30", "01/02/2024", "0", "2099-01-01"]),
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
