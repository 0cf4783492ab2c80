"""A run folder's files read back, each checked against what ``publish.write_run`` writes:
dates that parse, increase and span the run, the columns the pages and ``compare`` read,
numbers where numbers belong. A damaged file (a hand edit, a truncated copy, a full disk)
is a DataError naming the file and what is wrong, never a traceback further down."""

from __future__ import annotations

import json
from dataclasses import dataclass
from io import BytesIO, StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError

__all__ = ["CsvLayout", "LAYOUTS", "Table", "header_names", "read_frame", "read_json",
           "check_regime_tables"]

_REGIMES = ("scarce", "neutral", "abundant")
_NO_SIGNAL = "no signal"        # a day without a composite value (signals.composite)
_FIX = ("It is not as durationbt wrote it (edited, truncated or damaged): restore it from a "
        "copy, or run the backtest again (manifest.json records how).")


@dataclass(frozen=True)
class CsvLayout:
    """What one CSV file of a run folder holds. Its first column is ``date`` (YYYY-MM-DD);
    ``numbers`` are numeric columns it must have, ``texts`` text columns (with their allowed
    values, or None for any name); ``rest_numeric``: every other column is a number too
    (weights by ticker, signal components). No number may be infinite; ``finite``: the
    columns (True: all) where an empty cell is an error too, elsewhere a missing value;
    ``positive``: columns that must be > 0; ``daily``: one row per trading day of the run,
    dates strictly increasing (else several rows a day, never decreasing)."""

    name: str
    numbers: tuple[str, ...] = ()
    texts: tuple[tuple[str, frozenset[str] | None], ...] = ()
    rest_numeric: bool = True
    finite: tuple[str, ...] | bool = True
    positive: tuple[str, ...] = ()
    daily: bool = True


LAYOUTS = {
    "equity.csv": CsvLayout("equity.csv", numbers=("equity", "benchmark"),
                            positive=("benchmark",)),
    "weights.csv": CsvLayout("weights.csv"),
    "signal.csv": CsvLayout("signal.csv", numbers=("composite",),
                            texts=(("regime", frozenset((*_REGIMES, _NO_SIGNAL))),), finite=()),
    "duration.csv": CsvLayout("duration.csv", numbers=("duration",), finite=()),
    "timing.csv": CsvLayout("timing.csv", numbers=("strategy", "static_mix"),
                            finite=("strategy", "static_mix")),
    "exposures.csv": CsvLayout("exposures.csv", numbers=("long", "short", "gross", "net")),
    "orders.csv": CsvLayout("orders.csv", numbers=("quantity", "price", "notional", "fees",
                                                   "slippage"),
                            texts=(("ticker", None),
                                   ("side", frozenset({"buy", "sell", "short", "cover"}))),
                            rest_numeric=False, positive=("price",), daily=False),
}


@dataclass(frozen=True)
class Table:
    """A CSV file's cells as parsed, before any check: the header as pandas reads it (a
    repeated name gets '.1'), the cells of the ``numeric`` columns as one float64 block
    (the values pandas' ``to_numeric`` makes of their text, NaN for an empty cell) and
    every other column's as text ("" for an empty cell): an array of ``str``, or a
    ``pd.Categorical`` of them (a column of few distinct names is checked once per name).
    ``csvwrite`` makes one of a file it has just written."""

    columns: list[str]
    texts: dict[str, np.ndarray | pd.Categorical]
    numbers: np.ndarray
    numeric: list[str]


class _Doubt(Exception):
    """The quick parse cannot say what is wrong: read every cell as text and check again."""


def _fail(path: Path, what: str) -> DataError:
    return DataError(f"{path}: {what}. {_FIX}")


def _read(path: Path) -> tuple[bytes, str]:
    """The file's bytes and text (a BOM added by an editor tolerated); refused if empty or
    not UTF-8."""
    data = path.read_bytes()
    try:
        text = data.decode("ascii" if data.isascii() else "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(path, f"not UTF-8 text (byte {exc.start})") from None
    if not text or text.isspace():
        raise _fail(path, "the file is empty")
    return data, text


def _raw(path: Path) -> Table:
    """Every cell as text ("" for an empty cell), the header as written."""
    text = _read(path)[1]
    try:
        frame = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as exc:
        detail = " ".join(str(exc).split()).removeprefix("Error tokenizing data. C error: ")
        raise _fail(path, f"not a well-formed CSV file ({detail})") from None
    frame = frame.fillna("")     # a short (truncated) last row has missing cells
    columns = [str(c) for c in frame.columns]
    return Table(columns, {c: frame.iloc[:, i].to_numpy(dtype=object)
                           for i, c in enumerate(columns)}, np.empty((len(frame), 0)), [])


def _parse(path: Path, layout: CsvLayout) -> Table:
    """The quick read: pandas' C parser, numbers straight to float64. Anything it does not
    take as ``_raw`` and ``to_numeric`` would (a cell not a number, a ragged row) is left to
    them (``_Doubt``); so is a column without empty cells holding '-0', which
    ``to_numeric`` reads as 0.0 when every cell is a whole number."""
    data = _read(path)[0]
    columns = header_names(data)
    texts = {"date", *(name for name, _ in layout.texts)}
    numeric = [c for c in columns[1:] if c not in texts
               and (c in layout.numbers or layout.rest_numeric)]
    wanted = set(numeric)
    try:
        frame = pd.read_csv(BytesIO(data), encoding="utf-8-sig", keep_default_na=False,
                            dtype={c: np.float64 if c in wanted else str for c in columns},
                            na_values={c: [""] for c in numeric})
    except (pd.errors.ParserError, ValueError, TypeError) as exc:
        raise _Doubt from exc
    if list(frame.columns) != columns:
        raise _Doubt
    numbers = (frame.iloc[:, 1:] if numeric == columns[1:] else frame[numeric]).to_numpy(
        dtype=np.float64)
    signed = np.flatnonzero((numbers == 0).any(axis=0))     # then a closer look
    signed = [i for i in signed if _negative_zero(numbers[:, i])]
    if signed:
        again = pd.read_csv(BytesIO(data), encoding="utf-8-sig", dtype=str,
                            keep_default_na=False,
                            usecols=[columns.index(numeric[i]) for i in signed])
        numbers = numbers.copy()
        for i in signed:
            numbers[:, i], bad = _converted(again[numeric[i]].fillna(""))
            if bad.any():
                raise _Doubt
    return Table(columns, {c: frame[c].fillna("").to_numpy(dtype=object) for c in columns
                           if c not in wanted}, numbers, numeric)


def header_names(data: bytes) -> list[str]:
    """The column names pandas reads from the first line (asked of pandas when the line
    holds quotes, repeats or blanks)."""
    end = data.find(b"\n")
    first = data[:end if end >= 0 else len(data)].decode("utf-8-sig").removesuffix("\r")
    names = first.split(",")
    if '"' in first or not first.strip() or "" in names or len(set(names)) != len(names):
        return [str(c) for c in pd.read_csv(BytesIO(data), nrows=0, dtype=str,
                                            encoding="utf-8-sig").columns]
    return names


def _negative_zero(values: np.ndarray) -> bool:
    """A column without empty cells holding -0.0: whether it is 0.0 depends on its text."""
    return bool(not np.isnan(values).any() and (np.signbit(values) & (values == 0)).any())


def _converted(cells: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Text cells as ``to_numeric`` reads them, NaN for an empty one, and where a cell is
    neither a number nor empty."""
    empty = cells.str.strip() == ""
    values = pd.to_numeric(cells.where(~empty), errors="coerce").to_numpy(dtype=float)
    return values, np.isnan(values) & ~empty.to_numpy()


def _distinct(cells: np.ndarray | pd.Categorical) -> tuple[pd.Series, np.ndarray]:
    """A text column's distinct cells (as ``str``) and each cell's place among them: every
    check and conversion is done once per distinct text (a date, a ticker) and spread."""
    codes, names = (cells.codes, cells.categories) if isinstance(cells, pd.Categorical) \
        else pd.factorize(np.asarray(cells, dtype=object))
    if len(codes) and codes.min() < 0:      # a missing cell reads as an empty one
        codes = np.where(codes < 0, len(names), codes)
        names = np.append(np.asarray(names, dtype=object), "")
    return pd.Series(np.asarray(names, dtype=object), dtype="str"), codes


def _dates(path: Path, cells: np.ndarray | pd.Categorical, daily: bool) -> pd.DatetimeIndex:
    names, codes = _distinct(cells)
    parsed = pd.to_datetime(names, format="%Y-%m-%d", errors="coerce")
    bad = parsed.isna().to_numpy()[codes]
    if bad.any():
        row = int(np.argmax(bad))
        raise _fail(path, f"row {row + 2} has date {names.iloc[codes[row]]!r}, not a YYYY-MM-DD date")
    index = pd.DatetimeIndex(parsed.to_numpy()[codes], name="date")
    steps = np.diff(index.asi8)
    wrong = steps <= 0 if daily else steps < 0
    if wrong.any():
        row = int(np.argmax(wrong)) + 1
        how = "repeats" if steps[row - 1] == 0 else "comes before"
        raise _fail(path, f"row {row + 2}'s date {index[row].date()} {how} the row above's "
                          f"({index[row - 1].date()}); dates must increase")
    return index


def _numbers(path: Path, column: str, cells: np.ndarray, index: pd.DatetimeIndex,
             required: bool) -> np.ndarray:
    """A column of numbers from its text; an empty cell is a missing value unless
    ``required``."""
    text = pd.Series(cells, dtype="str")
    values, bad = _converted(text)
    bad |= np.isinf(values) | (np.isnan(values) if required else False)
    if bad.any():
        row = int(np.argmax(bad))
        shown = repr(text.iloc[row]) if text.iloc[row].strip() else "an empty cell"
        raise _fail(path, f"column {column!r} on {index[row].date()} (row {row + 2}) holds "
                          f"{shown}, not a finite number")
    return values


def _texts(path: Path, column: str, cells: np.ndarray | pd.Categorical,
           index: pd.DatetimeIndex, allowed: frozenset[str] | None, required: bool
           ) -> pd.Series:
    """A column of names (``allowed``: the only values it may hold)."""
    names, codes = _distinct(cells)
    names = names.str.strip()
    bad = (names == "") if allowed is None else ~names.isin(allowed)
    if not required:
        bad &= names != ""
    bad = bad.to_numpy()[codes]
    if bad.any():
        row = int(np.argmax(bad))
        expected = "a name" if allowed is None else f"one of {', '.join(sorted(allowed))}"
        shown = repr(names.iloc[codes[row]]) if names.iloc[codes[row]] else "an empty cell"
        raise _fail(path, f"column {column!r} on {index[row].date()} (row {row + 2}) holds "
                          f"{shown}, not {expected}")
    return pd.Series(names.take(codes).array, index=index, name=column)


def read_frame(path: Path, layout: CsvLayout, span: tuple[str, str] | None = None,
               days: pd.DatetimeIndex | None = None, table: Table | None = None
               ) -> pd.DataFrame:
    """The CSV file at ``path`` checked against ``layout``, against the run's ``span``
    (first and last date, YYYY-MM-DD; a file of orders within it) and, for a daily file,
    against the run's ``days`` (equity.csv's): a DataError naming the file and the first
    thing wrong. ``table``: its cells as already parsed (``csvwrite``), so the file is
    read only to say what is wrong."""
    try:
        return _checked(path, layout, _parse(path, layout) if table is None else table,
                        span, days)
    except _Doubt:
        return _checked(path, layout, _raw(path), span, days)


def _checked(path: Path, layout: CsvLayout, table: Table, span: tuple[str, str] | None,
             days: pd.DatetimeIndex | None) -> pd.DataFrame:
    columns = table.columns
    if not columns or columns[0] != "date":
        raise _fail(path, f"its first column is {columns[0]!r}, not 'date'" if columns
                    else "it has no header")
    wanted = [*layout.numbers, *(name for name, _ in layout.texts)]
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise _fail(path, f"no column {', '.join(repr(c) for c in missing)} (it has "
                          f"{', '.join(columns)})")
    if len(set(columns)) != len(columns):
        raise _fail(path, "a column name appears twice in its header")
    if not len(table.numbers):
        if layout.daily:
            raise _fail(path, "it has a header but no rows")
        # a run that never traded (all cash earning nothing) writes its orders' header only
        return pd.DataFrame({c: pd.Series(dtype=object if c in dict(layout.texts) else float)
                             for c in columns[1:]}, index=pd.DatetimeIndex([], name="date"))
    index = _dates(path, table.texts["date"], layout.daily)
    first, last = str(index[0].date()), str(index[-1].date())
    if span is not None and ((first, last) != span if layout.daily
                             else first < span[0] or last > span[1]):
        raise _fail(path, f"its dates run from {first} to {last}, but the run's from "
                          f"{span[0]} to {span[1]} (manifest.json)")
    if days is not None and layout.daily and not index.equals(days):
        gone = days.difference(index)
        extra = index.difference(days)
        what = (f"{len(gone)} of the run's {len(days)} days "
                f"{'is' if len(gone) == 1 else 'are'} missing, the first {gone[0].date()}"
                if len(gone) else f"it has days the run does not, the first {extra[0].date()}")
        raise _fail(path, f"{what} (equity.csv has {len(days)} days, this file {len(index)})")
    texts = dict(layout.texts)

    def required(column: str) -> bool:
        return layout.finite is True or column in (layout.finite or ())

    # numbers already parsed are only checked, all at once: a doubt is said from the text
    block, parsed = table.numbers, {c: i for i, c in enumerate(table.numeric)}
    must = [parsed[c] for c in table.numeric if required(c)]
    if block.size and (np.isinf(block).any() or np.isnan(
            block if len(must) == len(parsed) else block[:, must]).any()):
        raise _Doubt
    if any(c in texts or not (c in layout.numbers or layout.rest_numeric) for c in parsed):
        raise _Doubt
    out: dict[str, Any] = {}
    for column in columns[1:]:      # in order: the first thing wrong is the one said
        if column in texts:
            out[column] = _texts(path, column, table.texts[column], index, texts[column],
                                 required(column))
        elif column in layout.numbers or layout.rest_numeric:
            out[column] = values = block[:, parsed[column]] if column in parsed else \
                _numbers(path, column, np.asarray(table.texts[column], dtype=object), index,
                         required(column))
            if column in layout.positive and (values <= 0).any():
                row = int(np.argmax(values <= 0))
                raise _fail(path, f"column {column!r} on {index[row].date()} (row {row + 2}) "
                                  f"is {values[row]:g}; it must be above 0")
        else:
            names, codes = _distinct(table.texts[column])
            out[column] = pd.Series(names.take(codes).array, index=index, name=column)
    if table.numeric == columns[1:]:
        # numbers only, in one block laid out as pandas lays out a frame of columns (one
        # column after another), so sums across a row round as they always did
        return pd.DataFrame(np.asfortranarray(block), index=index, columns=columns[1:],
                            copy=False)
    return pd.DataFrame({c: pd.Series(v, index=index, name=c) if isinstance(v, np.ndarray)
                         else v for c, v in out.items()}, index=index)


def read_json(path: Path) -> Any:
    """A JSON file as ``runs.write_json`` writes it (a BOM added by an editor is
    tolerated); a DataError naming the file if it is empty, not UTF-8 or not JSON."""
    text = _read(path)[1]
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(path, f"not valid JSON ({exc.msg} at line {exc.lineno}, column "
                          f"{exc.colno})") from None


# regimes.json: each table's key columns, the numbers (or null) and texts the pages read, and
# whether a run always writes it (spread, liquidity and methods came with regime intervals)
_REGIME_TABLES = {
    "scores": (("series", "regime"), ("sharpe", "volatility"), (), True),
    "time": (("name",), ("share", "days", "spells", "avg_spell_days"), (), True),
    "transitions": (("from",), _REGIMES, (), True),
    "contribution": (("name",), (*_REGIMES, "all"), (), True),
    "spread": (("series",), ("estimate", "ci_low", "ci_high", "t", "p_value", "days_scarce",
                             "days_abundant", "spells_scarce", "spells_abundant"), (), False),
    "liquidity": (("name",), ("beta", "se"), ("own_components",), False),
    "methods": (("name",), (), ("method",), False),
}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return "a number" if isinstance(value, (int, float)) else type(value).__name__


def check_regime_tables(path: Path, data: Any) -> None:
    """``regimes.json`` as ``regimes.tables_to_json`` writes it: its tables (the four every
    run has, and those written since), each a list of rows with its key columns as text,
    numbers (or null) and texts where the pages read them, and one kind of value per
    column; a DataError naming the file, table, row and field otherwise."""
    if not isinstance(data, dict):
        raise _fail(path, f"it holds a {type(data).__name__}, not the regime tables")
    for table, (keys, numbers, texts, always) in _REGIME_TABLES.items():
        rows = data.get(table)
        if rows is None and not always:
            continue
        if not isinstance(rows, list) or (always and not rows):
            raise _fail(path, f"table {table!r} is missing or empty")
        kinds: dict[str, tuple[str, int]] = {}
        for i, row in enumerate(rows, 1):
            if not isinstance(row, dict):
                raise _fail(path, f"row {i} of table {table!r} is not an object")
            cagr = "ann_return" if "ann_return" in row else "cagr"
            wanted = (*numbers, cagr) if table == "scores" else numbers
            for key in (*keys, *texts):
                if not isinstance(row.get(key), str):
                    raise _fail(path, f"row {i} of table {table!r} has no text {key!r}")
            for key in wanted:
                value = row.get(key, "missing")
                if value is not None and _kind(value) != "a number":
                    raise _fail(path, f"row {i} of table {table!r}: {key!r} is {value!r}, not "
                                      "a number")
            for key, value in row.items():     # one kind of value per column
                kind = _kind(value)
                seen, first = kinds.setdefault(key, (kind, i))
                if "null" not in (kind, seen) and kind != seen:
                    raise _fail(path, f"row {i} of table {table!r}: {key!r} is {value!r}, "
                                      f"{kind} where row {first} has {seen}")
                if seen == "null" and kind != "null":
                    kinds[key] = (kind, i)
        seen_keys = [tuple(row[k] for k in keys) for row in rows]
        if len(set(seen_keys)) != len(seen_keys):
            twice = next(k for k in seen_keys if seen_keys.count(k) > 1)
            raise _fail(path, f"table {table!r} has two rows for {', '.join(twice)}")
    regimes = {row["regime"] for row in data["scores"] if row["series"] == "strategy"}
    if not regimes >= {*_REGIMES, "all"}:
        raise _fail(path, "table 'scores' lacks the strategy's scores in "
                          f"{', '.join(sorted({*_REGIMES, 'all'} - regimes))}")
