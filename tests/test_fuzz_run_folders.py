"""Damaged run folders through ``report`` and ``compare``: every file they read back (equity,
weights, orders, signal, duration, regime tables, manifest, metrics) edited, truncated,
emptied or garbled. The only outcomes allowed are success or exit 2 with one paragraph
naming the file — never a traceback, never a page or compare folder written from a damaged
file. Derandomised, so CI sees the same cases every time."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from durationbt.cli.app import app

runner = CliRunner()
GENERATED_CASES = 25


@pytest.fixture(scope="module")
def run_folder(synth_data, synth_universe, strategies_dir, tmp_path_factory) -> Path:
    """One complete run on the synthetic data (every file a run writes, timing.csv too, but
    the tearsheet)."""
    out = tmp_path_factory.mktemp("damaged") / "results"
    result = runner.invoke(app, ["run", "liquidity_rotation", "--universe", str(synth_universe),
                                 "--data", str(synth_data), "--strategies-dir",
                                 str(strategies_dir), "--out", str(out), "--no-tearsheet"])
    assert result.exit_code == 0, result.output
    return Path(result.output.strip().splitlines()[-1])


def _lines(text: str, edit: Callable[[list[list[str]]], list[list[str]]]) -> str:
    rows = [line.split(",") for line in text.splitlines()]
    return "\n".join(",".join(row) for row in edit(rows)) + "\n"


def _cell(column: str, row: int, value: str):
    """Put ``value`` in ``column`` of data row ``row`` (1 = the first row under the header)."""
    def edit(rows):
        rows[row][rows[0].index(column)] = value
        return rows
    return lambda text: _lines(text, edit)


def _drop_column(column: str):
    def edit(rows):
        at = rows[0].index(column)
        return [row[:at] + row[at + 1:] for row in rows]
    return lambda text: _lines(text, edit)


def _drop_row(row: int):
    return lambda text: _lines(text, lambda rows: rows[:row] + rows[row + 1:])


def _swap_rows(a: int, b: int):
    def edit(rows):
        rows[a], rows[b] = rows[b], rows[a]
        return rows
    return lambda text: _lines(text, edit)


def _repeat_date(row: int):
    """Give data row ``row`` the date of the row above."""
    def edit(rows):
        rows[row][0] = rows[row - 1][0]
        return rows
    return lambda text: _lines(text, edit)


def _shift_dates(text: str) -> str:
    import pandas as pd

    def edit(rows):
        for row in rows[1:]:
            row[0] = str((pd.Timestamp(row[0]) + pd.Timedelta(days=365)).date())
        return rows
    return _lines(text, edit)


def _json(edit):
    def apply(text: str) -> str:
        return json.dumps(edit(json.loads(text)))
    return apply


def _scores_sharpe(data):
    data["scores"][0]["sharpe"] = "high"
    return data


def _liquidity_beta(data):
    data["liquidity"][0]["beta"] = "steep"
    return data


def _days_as_text(data):
    data["scores"][1]["days"] = "many"
    return data


# (file, damage, what the message must say besides the file's name)
DAMAGES = {
    "equity-non-numeric-cell": ("equity.csv", _cell("equity", 3, "abc"),
                                "column 'equity' on"),
    "equity-missing-column": ("equity.csv", _drop_column("benchmark"), "no column 'benchmark'"),
    "equity-truncated": ("equity.csv", lambda t: t[:len(t) // 2], "equity.csv"),
    "equity-truncated-at-a-line": ("equity.csv", lambda t: t[:t.rindex("\n", 0, len(t) // 2) + 1],
                                   "but the run's from"),
    "equity-bad-date": ("equity.csv", _cell("date", 4, "2019-13-45"), "not a YYYY-MM-DD date"),
    "equity-dates-shifted": ("equity.csv", _shift_dates, "but the run's from"),
    "equity-dates-out-of-order": ("equity.csv", _swap_rows(5, 6), "dates must increase"),
    "equity-date-twice": ("equity.csv", _repeat_date(6), "repeats the row above's"),
    "equity-empty": ("equity.csv", lambda t: "", "the file is empty"),
    "equity-header-only": ("equity.csv", lambda t: t.splitlines()[0] + "\n", "no rows"),
    "equity-infinite": ("equity.csv", _cell("equity", 9, "inf"), "not a finite number"),
    "equity-empty-cell": ("equity.csv", _cell("risk_free", 9, ""), "an empty cell"),
    "equity-benchmark-zero": ("equity.csv", _cell("benchmark", 9, "0"), "must be above 0"),
    "equity-ragged-row": ("equity.csv", _cell("equity", 9, "1,2,3"), "not a well-formed CSV"),
    "equity-first-column": ("equity.csv", lambda t: "day" + t[4:], "not 'date'"),
    "weights-non-numeric": ("weights.csv", _cell("CHIPA", 7, "lots"), "column 'CHIPA'"),
    "weights-row-missing": ("weights.csv", _drop_row(20), "days is missing"),
    "weights-empty": ("weights.csv", lambda t: "", "the file is empty"),
    "orders-bad-side": ("orders.csv", _cell("side", 2, "hold"), "not one of buy, cover, sell, short"),
    "orders-bad-price": ("orders.csv", _cell("price", 2, "x"), "column 'price'"),
    "orders-no-ticker": ("orders.csv", _drop_column("ticker"), "no column 'ticker'"),
    "orders-after-the-run": ("orders.csv", _cell("date", -1, "2030-01-02"), "dates run from"),
    "signal-bad-regime": ("signal.csv", _cell("regime", 30, "boom"),
                          "not one of abundant, neutral, no signal, scarce"),
    "signal-bad-composite": ("signal.csv", _cell("composite", 30, "n/a"), "column 'composite'"),
    "signal-row-missing": ("signal.csv", _drop_row(40), "days is missing"),
    "timing-bad-number": ("timing.csv", _cell("static_mix", 12, "?"), "column 'static_mix'"),
    "timing-row-missing": ("timing.csv", _drop_row(50), "days is missing"),
    "exposures-missing-column": ("exposures.csv", _drop_column("gross"), "no column 'gross'"),
    "duration-missing-column": ("duration.csv", _drop_column("duration"), "no column 'duration'"),
    "regimes-truncated": ("regimes.json", lambda t: t[:len(t) // 3], "not valid JSON"),
    "regimes-empty": ("regimes.json", lambda t: "", "the file is empty"),
    "regimes-not-a-table": ("regimes.json", lambda t: "[]", "not the regime tables"),
    "regimes-bad-number": ("regimes.json", _json(_scores_sharpe), "'sharpe' is 'high'"),
    "regimes-liquidity-text": ("regimes.json", _json(_liquidity_beta), "'beta' is 'steep'"),
    "regimes-mixed-kinds": ("regimes.json", _json(_days_as_text), "where row 1 has a number"),
    "regimes-table-missing": ("regimes.json", _json(lambda d: {**d, "time": None}),
                              "table 'time' is missing"),
    "manifest-truncated": ("manifest.json", lambda t: t[:len(t) // 2], "not valid JSON"),
    "manifest-empty": ("manifest.json", lambda t: "", "the file is empty"),
    "manifest-signal-config": ("manifest.json", _json(lambda m: {**m, "signal": {"config": 5}}),
                               "signal.config"),
    "metrics-garbled": ("metrics.json", lambda t: "\udcff" + t, "not UTF-8"),
}


def _damaged_copy(run_folder: Path, tmp_path: Path, name: str, damage) -> Path:
    folder = tmp_path / run_folder.name
    shutil.copytree(run_folder, folder)
    path = folder / name
    damaged = damage(path.read_text(encoding="utf-8"))
    path.write_bytes(damaged.encode("utf-8", errors="surrogateescape"))   # \udcff: byte 0xff
    return folder


def _assert_refused(result, name: str, says: str) -> None:
    text = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert name in text and says in text, text


@pytest.mark.parametrize("case", list(DAMAGES))
def test_a_damaged_file_is_named_by_report_and_compare(run_folder, tmp_path, case):
    name, damage, says = DAMAGES[case]
    folder = _damaged_copy(run_folder, tmp_path, name, damage)
    page = (folder / "report.html").read_bytes()
    _assert_refused(runner.invoke(app, ["report", str(folder), "--no-tearsheet"]), name, says)
    assert (folder / "report.html").read_bytes() == page     # nothing rewritten
    out = tmp_path / "compared"
    _assert_refused(runner.invoke(app, ["compare", str(folder), "--out", str(out)]), name, says)
    assert not out.exists() or not any(out.iterdir())       # no compare folder


def test_the_tearsheet_of_a_damaged_equity_file_is_not_drawn(run_folder, tmp_path):
    """The report that failed in review: the tearsheet computed returns of a text column."""
    folder = _damaged_copy(run_folder, tmp_path, "equity.csv", _cell("equity", 3, "abc"))
    result = runner.invoke(app, ["report", str(folder)])
    _assert_refused(result, "equity.csv", "holds 'abc', not a finite number")
    assert not (folder / "tearsheet.html").exists()


@settings(max_examples=GENERATED_CASES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=st.sampled_from(["equity.csv", "weights.csv", "orders.csv", "signal.csv",
                             "duration.csv", "timing.csv", "exposures.csv",
                             "regimes.json"]),
       at=st.floats(0.0, 1.0), cut=st.booleans(),
       junk=st.sampled_from(["", "x", ",", "\n", "nan", "-1", "1e999", "2020-02-30", '"', "\x00"]))
def test_generated_damage_is_refused_naming_the_file_or_read(run_folder, tmp_path_factory, name,
                                                             at, cut, junk):
    folder = tmp_path_factory.mktemp("fuzzrun") / run_folder.name
    shutil.copytree(run_folder, folder)
    path = folder / name
    text = path.read_text(encoding="utf-8")
    i = int(at * len(text))
    path.write_text(text[:i] + junk if cut else text[:i] + junk + text[i + 1:], encoding="utf-8")
    result = runner.invoke(app, ["report", str(folder), "--no-tearsheet"])
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output and isinstance(result.exception, (SystemExit,
                                                                               type(None)))
    if result.exit_code == 2:
        assert name in " ".join(result.output.split())
