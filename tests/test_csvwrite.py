"""Run-folder tables written fast and read back fast, with the same bytes and the same
numbers as before: ``csvwrite`` against pandas' ``to_csv(float_format="%.10g")`` on awkward
values, the table it returns against the file read back, and the quick reader against the
one that reads every cell as text."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import durationbt.csvwrite as csvwrite
from durationbt import readback
from durationbt.errors import DataError
from durationbt.readback import CsvLayout, read_frame
from durationbt.runs import write_frame

AWKWARD = [0.0, -0.0, 1e-05, 1e10, 123456789012.0, np.nan, np.inf, -np.inf, -1e-17, -3e-300,
           5e-324, 1e308, -1e300, 0.5, 1.25, 123456789.25, 12345678905.0, 1234567890.5,
           9999999999.5, 99999.999995, 0.0001, 9.9999999995e-05, 1e16, 100.0, 7.0, -42.0,
           1e-4, 0.1 + 0.2, 2.0 / 3.0, -1.0 / 3.0, 1e22, 1e23, 1.7976931348623157e308]


def _pandas_bytes(frame, path: Path) -> bytes:
    frame.to_csv(path, float_format="%.10g", date_format="%Y-%m-%d", lineterminator="\n")
    return path.read_bytes()


@pytest.fixture
def every_frame_fast(monkeypatch):
    """Every frame through the kernel, however small (production leaves small ones to
    pandas)."""
    monkeypatch.setattr(csvwrite, "FAST_FROM", 0)


def _same_bytes(frame, tmp_path: Path):
    ours = tmp_path / "ours.csv"
    table = csvwrite.write_csv(ours, frame, parsed=True)
    assert ours.read_bytes() == _pandas_bytes(frame, tmp_path / "pandas.csv")
    return ours, table


def _bits(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).view(np.int64)


def _random_numbers(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    k = rng.integers(0, 12, n)
    return np.concatenate([
        rng.normal(size=n) * 10.0 ** rng.integers(-40, 40, n),       # every magnitude
        rng.normal(size=n // 4) * 10.0 ** rng.integers(-320, 300, n // 4),
        np.rint(rng.normal(size=n) * 10.0 ** k) / 10.0 ** k,          # few decimals: ties
        rng.integers(-10**12, 10**12, n).astype(float),                # whole numbers
        np.nextafter(10.0 ** rng.integers(-20, 20, n), 0),             # just under 10**k
        np.nextafter(10.0 ** rng.integers(-20, 20, n), np.inf),
        rng.normal(size=n) * 1e-4,                                     # weights' size
        *_ties(rng, n)])


def _ties(rng, n: int) -> list[np.ndarray]:
    """Numbers on or a last bit beside a tie of the 10th digit: ``(d + 1/2) * 10**p``, the
    exact ties among them (d + 1/2 is a binary fraction: 12345678905, 123456789.25)."""
    digits = rng.integers(10**9, 10**10, n).astype(float) + 0.5
    tie = digits * 10.0 ** rng.integers(-12, 13, n)
    return [tie, np.nextafter(tie, 0), np.nextafter(tie, np.inf), digits, digits / 2,
            digits * 2.0 ** rng.integers(-30, 30, n)]


def test_awkward_numbers_strings_bools_and_dates_are_pandas_bytes(every_frame_fast, tmp_path):
    n = len(AWKWARD)
    frame = pd.DataFrame({
        "x": AWKWARD, "neg": [-v for v in AWKWARD], "whole": np.arange(n) - 5,
        "flag": np.arange(n) % 3 == 0,
        "name": ["a,b", 'say "hi"', "line\nbreak", "", "é ü", "tab\tx", " pad ", "-0",
                 None, "x"] * (n // 10) + ["y"] * (n % 10),
        "text": pd.array(["buy", None] * (n // 2) + ["sell"] * (n % 2), dtype="string"),
        "nullable": pd.array([1, None] * (n // 2) + [3] * (n % 2), dtype="Int64"),
        "mixed": [1.5, "x", None, 2, np.float64(0.1), True] * (n // 6) + [0.25] * (n % 6),
        "when": pd.date_range("1999-12-30", periods=n, freq="D")},
        index=pd.date_range("2020-01-01", periods=n, freq="D", name="date"))
    _same_bytes(frame, tmp_path)


def test_a_million_numbers_are_pandas_bytes_and_read_back_bit_for_bit(every_frame_fast,
                                                                      tmp_path):
    values = _random_numbers(150_000, seed=7)
    values = values[: len(values) // 8 * 8].reshape(-1, 8)
    frame = pd.DataFrame(values, columns=[f"c{i}" for i in range(8)],
                         index=pd.bdate_range("1950-01-02", periods=len(values), name="date"))
    path, table = _same_bytes(frame, tmp_path)
    layout = CsvLayout("numbers.csv", finite=())
    from_file = read_frame(path, layout)
    from_table = read_frame(path, layout, table=table)
    pd.testing.assert_frame_equal(from_file, from_table, check_exact=True)
    for column in frame:        # NaN aside (pandas' own), every bit the same
        assert (_bits(from_file[column]) == _bits(from_table[column])).all(), column
        text = pd.Series([f"{v:.10g}" for v in frame[column]])
        assert (_bits(from_file[column]) == _bits(pd.to_numeric(text))).all(), column


@pytest.mark.parametrize("cells", [["-0", "0", "3"], ["-0", "", "3"], ["-0", "0.5", "3"],
                                   ["0", "-0", "-0"], ["-0", "1e+20", "0"]])
def test_minus_zero_reads_as_to_numeric_reads_it(every_frame_fast, tmp_path, cells):
    """A column of whole numbers without an empty cell is read as integers by
    ``to_numeric`` (so '-0' is 0.0); otherwise '-0' stays -0.0. The quick reader and the
    writer's own table say the same."""
    text = "date,x\n" + "".join(f"2020-01-0{i + 1},{c}\n" for i, c in enumerate(cells))
    path = tmp_path / "zeros.csv"
    path.write_text(text)
    layout = CsvLayout("zeros.csv", finite=())
    expected = pd.to_numeric(pd.Series(cells, dtype="str").where(lambda s: s != ""))
    assert (_bits(read_frame(path, layout)["x"]) == _bits(expected)).all()
    as_written = pd.DataFrame({"x": [float(c) if c else np.nan for c in cells]},
                              index=pd.date_range("2020-01-01", periods=3, name="date"))
    table = csvwrite.write_csv(tmp_path / "again.csv", as_written, parsed=True)
    assert (tmp_path / "again.csv").read_text() == text
    assert (_bits(read_frame(path, layout, table=table)["x"]) == _bits(expected)).all()


@pytest.mark.parametrize("frame", [
    pd.Series([1.5, -0.0, np.nan], name="v",
              index=pd.date_range("2020-01-01", periods=3, name="date")),
    pd.Series([1.5, 2.5]),                                                  # unnamed
    pd.DataFrame({"a": [0.1, 0.2]}, index=pd.Index(["x,y", "z"], name="label")),
    pd.DataFrame({"a": [0.1, 0.2]}, index=pd.RangeIndex(2, name="rank")),
    pd.DataFrame({"a": [0.1, 0.2]}, index=pd.DatetimeIndex(["2020-01-01", None], name="d")),
    pd.DataFrame({"a": [0.1, 0.2]}, index=pd.date_range("2020-01-01", periods=2, tz="UTC")),
    pd.DataFrame({"a": [0.1, 0.2]}, index=pd.to_datetime(["0999-01-01", "2000-01-01"],
                                                         format="%Y-%m-%d").as_unit("s")),
    pd.DataFrame({"a": [0.1, 0.2]}, index=[0.5, 1.5]),                       # float index
    pd.DataFrame({("a", "b"): [0.1, 0.2]}),                                 # MultiIndex
    pd.DataFrame({"a": [1 + 2j, 3j]}),                                      # left to pandas
    pd.DataFrame({"a": ["nul\x00here", "x"]}),
    pd.DataFrame({"a": [0.1, 0.2], "a ": [1.0, 2.0], 3: [4.0, 5.0]}),
    pd.DataFrame({"a": pd.Categorical(["u", "v"]), "b": [np.nan, 1e-7]}),
    pd.DataFrame(index=pd.date_range("2020-01-01", periods=2, name="date")),   # no column
    pd.DataFrame({"a": pd.Series([], dtype=float)}),                        # no row
])
def test_every_kind_of_frame_is_pandas_bytes(every_frame_fast, tmp_path, frame):
    _same_bytes(frame, tmp_path)


def test_a_2000_column_table_is_written_and_read_in_linear_time(tmp_path):
    """The run-folder cost that failed at scale: 2,000 weight columns over 1,000 days.
    pandas' to_csv took about 3 µs of CPU a cell (3 s here) and the old read-back, one
    ``to_numeric`` a column, 2 µs; the bound leaves room for a loaded machine."""
    rng = np.random.default_rng(3)
    days = pd.bdate_range("2000-01-03", periods=1000, name="date")
    weights = pd.DataFrame(rng.dirichlet(np.ones(2000), size=1000), index=days,
                           columns=[f"S{i:04d}" for i in range(2000)])
    write_frame(tmp_path / "warm.csv", weights.iloc[:20])        # numba's cache loaded
    started = time.process_time()
    table = write_frame(tmp_path / "weights.csv", weights, parsed=True)
    written = time.process_time() - started
    started = time.process_time()
    back = read_frame(tmp_path / "weights.csv", readback.LAYOUTS["weights.csv"])
    read = time.process_time() - started
    assert written < 1.0 and read < 1.0, (written, read)
    assert (tmp_path / "weights.csv").read_bytes() == _pandas_bytes(weights, tmp_path / "p.csv")
    pd.testing.assert_frame_equal(back, read_frame(tmp_path / "weights.csv",
                                                   readback.LAYOUTS["weights.csv"],
                                                   table=table), check_exact=True)
    assert np.abs(back.to_numpy() - weights.to_numpy()).max() < 1e-10


def test_the_quick_reader_reads_what_the_text_reader_reads(tmp_path):
    """Files a hand could have made: spaces, quotes, a BOM, CRLF, '+' signs, whole-number
    columns, an empty cell. The quick reader's frame is the all-text reader's."""
    text = ('\ufeffdate,ticker,side,quantity,price,notional,fees,slippage\r\n'
            '2020-01-02, AAA ,buy,+3, 1.5,"4.5",0,-0\r\n'
            '2020-01-02,BBB,sell,-2,1e2,2e2,0.25,\r\n'
            '2020-01-03,"CCC",short,7,  3.25  ,22.75,0,0\r\n')
    path = tmp_path / "orders.csv"
    path.write_bytes(text.encode("utf-8"))
    layout = readback.LAYOUTS["orders.csv"]
    layout = CsvLayout("orders.csv", numbers=layout.numbers, texts=layout.texts,
                       rest_numeric=False, finite=("price",), daily=False)
    quick = read_frame(path, layout)
    slow = readback._checked(path, layout, readback._raw(path), None, None)
    pd.testing.assert_frame_equal(quick, slow, check_exact=True)
    for column in ("quantity", "price", "notional", "fees", "slippage"):
        assert (_bits(quick[column]) == _bits(slow[column])).all(), column


def _without_plot_ids(page: bytes) -> bytes:
    """plotly names each chart's div with a random id, the page's only moving part."""
    import re

    return re.sub(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", b"id", page)


def test_a_run_writes_pandas_bytes_and_the_page_report_redraws(synth_data, synth_universe,
                                                               strategies_dir, tmp_path,
                                                               monkeypatch):
    """Every table of a run through the kernel gives the files pandas gave; the page drawn
    from the tables in memory is the page ``durationbt report`` draws from the files."""
    from typer.testing import CliRunner

    from durationbt.cli.app import app

    def run(fast_from: int) -> Path:
        monkeypatch.setattr(csvwrite, "FAST_FROM", fast_from)
        result = CliRunner().invoke(app, [
            "run", "liquidity_rotation", "--universe", str(synth_universe), "--data",
            str(synth_data), "--strategies-dir", str(strategies_dir), "--out",
            str(tmp_path / str(fast_from)), "--no-tearsheet"])
        assert result.exit_code == 0, result.output
        return Path(result.output.strip().splitlines()[-1])

    fast, by_pandas = run(0), run(10**12)
    tables = sorted(p.name for p in by_pandas.glob("*.csv"))
    assert {"weights.csv", "orders.csv", "timing.csv", "exposures.csv"} <= set(tables)
    assert all((fast / name).read_bytes() == (by_pandas / name).read_bytes() for name in tables)
    drawn = (fast / "report.html").read_bytes()
    result = CliRunner().invoke(app, ["report", str(fast), "--no-tearsheet"])
    assert result.exit_code == 0, result.output
    assert _without_plot_ids((fast / "report.html").read_bytes()) == _without_plot_ids(drawn)


def test_a_row_sums_as_it_did_whichever_way_the_table_came(every_frame_fast, tmp_path):
    """The report sums each day's weights (cash is one minus that sum). A frame laid out
    row by row sums in another order than pandas' column by column one, a last bit apart
    (the page of a real run moved by 2e-16): every way of reading lays it out alike."""
    rng = np.random.default_rng(11)
    weights = pd.DataFrame(rng.dirichlet(np.ones(300), size=400) * rng.random((400, 1)),
                           index=pd.bdate_range("2001-01-01", periods=400, name="date"),
                           columns=[f"T{i}" for i in range(300)])
    path = tmp_path / "weights.csv"
    table = csvwrite.write_csv(path, weights, parsed=True)
    layout = readback.LAYOUTS["weights.csv"]
    as_text = readback._checked(path, layout, readback._raw(path), None, None)  # the old way
    for frame in (read_frame(path, layout), read_frame(path, layout, table=table)):
        assert (_bits(frame.sum(axis=1)) == _bits(as_text.sum(axis=1))).all()


def _orders(tickers, sides, days) -> pd.DataFrame:
    n = len(tickers)
    return pd.DataFrame({"ticker": pd.array(tickers, dtype="str"), "side": sides,
                         "quantity": np.arange(n) + 0.5, "price": np.full(n, 2.25),
                         "notional": np.arange(n) * 2.25, "fees": np.zeros(n),
                         "slippage": np.full(n, 0.125)},
                        index=pd.DatetimeIndex(days, name="date"))


def test_names_and_dates_from_memory_are_the_file_read_back(every_frame_fast, tmp_path):
    """Text columns are made and checked once per distinct value (a 2,000-asset run's
    orders.csv holds 722,000 rows of 2,000 tickers on 362 days): the bytes are pandas',
    the frame and any refusal are those of the file read back."""
    days = np.repeat(pd.bdate_range("2020-01-01", periods=40).to_numpy(), 50)
    tickers = [f"T{i % 7}" if i % 13 else "Zürich" for i in range(len(days))]
    sides = np.where(np.arange(len(days)) % 3, "buy", "sell")
    layout = readback.LAYOUTS["orders.csv"]
    path, table = _same_bytes(_orders(tickers, sides, days), tmp_path)
    assert isinstance(table.texts["ticker"], pd.Categorical)
    ours = read_frame(path, layout, table=table)
    from_file = read_frame(path, layout)
    as_text = readback._checked(path, layout, readback._raw(path), None, None)
    for frame in (from_file, as_text):
        pd.testing.assert_frame_equal(ours, frame, check_exact=True)
        assert ours.index.dtype == frame.index.dtype and (ours.dtypes == frame.dtypes).all()
    bad_side = sides.copy()
    bad_side[777] = "hold"
    missing = list(tickers)
    missing[1234] = None
    for frame in (_orders(tickers, bad_side, days), _orders(missing, sides, days)):
        path, table = _same_bytes(frame, tmp_path)
        with pytest.raises(DataError) as from_memory:
            read_frame(path, layout, table=table)
        with pytest.raises(DataError) as read_back:
            read_frame(path, layout)
        assert str(from_memory.value) == str(read_back.value)
        assert "row 779" in str(from_memory.value) or "row 1236" in str(from_memory.value)
