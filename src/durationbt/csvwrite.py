"""Large tables written as CSV fast, byte for byte as ``DataFrame.to_csv(float_format="%.10g",
date_format="%Y-%m-%d", lineterminator="\\n")`` writes them. pandas formats each number in
Python (about 3 µs a cell: 20 s for a 2,000-asset run's weights); here ``numtext``'s numba
kernel writes the rows, so a results folder keeps readable, diffable, byte-stable CSV files
without paying for them. Frames the kernel does not cover (a MultiIndex, time zones,
complex or period columns, text holding NUL) and small ones are written by pandas itself.

Asked for, ``write_csv`` also returns the table as ``readback`` parses the file it wrote
(the numbers rounded to what the text says, as pandas reads it), so the page of a run just
written is drawn from memory exactly as ``durationbt report`` draws it from the files."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from .readback import Table, header_names

__all__ = ["write_csv", "FAST_FROM"]

FAST_FROM = 20_000      # cells: below this pandas is as quick and numba need not load
_CHUNK = 1 << 20        # cells a block of rows holds (about 20 MB of text)
_OPTIONS = {"float_format": "%.10g", "date_format": "%Y-%m-%d", "lineterminator": "\n"}


def write_csv(path: Path, frame: pd.DataFrame | pd.Series, parsed: bool = False
              ) -> Table | None:
    """``frame`` written to ``path`` as pandas' ``to_csv`` with the options above would.
    ``parsed``: also return its cells as a reader parses them (None when pandas wrote the
    file, or a text needed quoting: read the file then)."""
    frame = frame.to_frame() if isinstance(frame, pd.Series) else frame
    parts = _columns(frame) if frame.size >= FAST_FROM else None
    if parts is None:
        frame.to_csv(path, **_OPTIONS)
        return None
    floats, texts, words, kinds = parts
    header = frame.iloc[:0].to_csv(**_OPTIONS).encode("utf-8")
    values = np.empty(floats.shape if parsed else (0, 0), order="F")    # column by column
    fraction = np.zeros(floats.shape[1], dtype=np.bool_)
    rows = max(1, min(len(frame), _CHUNK // len(kinds)))
    scratch = _Scratch(rows, floats.shape[1], sum(t.itemsize for t in texts), len(kinds),
                       parsed)
    with open(path, "wb") as out:
        out.write(header)
        for start in range(0, len(frame), rows):
            part = slice(start, min(len(frame), start + rows))
            _write_rows(out, floats[part], [t[part] for t in texts], kinds,
                        values[part] if parsed else None, fraction, scratch)
    if not parsed or any(w is None for w in words):
        return None
    values[:, np.flatnonzero(~fraction)] += 0.0     # whole numbers read as integers: -0 is 0
    columns = header_names(header)
    return Table(columns, {c: words[-1 - k] for c, k in zip(columns, kinds, strict=True)
                           if k < 0}, values, [c for c, k in zip(columns, kinds, strict=True)
                                               if k >= 0])


class _Scratch:
    """The kernel's arrays for a block of ``rows`` rows, made once for a table and used
    for each block (fresh ones cost the kernel's page faults again, a tenth of a second
    for a 2,000-asset run's weights)."""

    def __init__(self, rows: int, n_floats: int, text_width: int, n_columns: int,
                 parsed: bool) -> None:
        from .numtext import WIDTH

        self.text = np.empty(rows * (n_floats * WIDTH + text_width + n_columns), np.uint8)
        self.cells = np.empty((rows, n_floats))
        self.hard = np.empty((3, rows * n_floats), np.int64)
        self.got = np.empty((rows, n_floats) if parsed else (0, 0))


def _write_rows(out, floats: np.ndarray, texts: list[np.ndarray], kinds: np.ndarray,
                parsed: np.ndarray | None, fraction: np.ndarray, scratch: _Scratch) -> None:
    """A block of rows through the kernel into ``out``; ``parsed`` (when asked for)
    receives the numbers as read back."""
    from .numtext import render_rows

    n = len(texts[0])
    widths = np.array([t.itemsize for t in texts], dtype=np.int64)
    block = np.concatenate([t.view(np.uint8).reshape(n, -1) for t in texts], axis=1)
    offsets = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
    buf, hard = scratch.text, scratch.hard
    cells = scratch.cells[:n]
    cells[:] = floats
    got = scratch.got[:n] if parsed is not None else scratch.got
    length, n_hard, n_loose = render_rows(cells, block, offsets, widths, kinds, buf, hard,
                                          got, fraction)
    _write_hard(out, memoryview(buf)[:length], hard[:2, :n_hard], cells,
                None if parsed is None else got, fraction)
    for flat in hard[2, :n_loose]:      # past 10**22: Python reads it as pandas does
        got.flat[flat] = float("%.10g" % cells.flat[flat])  # noqa: UP031 (as pandas)
    if parsed is not None:
        parsed[:] = got


def _write_hard(out, text: memoryview, hard: np.ndarray, cells: np.ndarray,
                parsed: np.ndarray | None, fraction: np.ndarray) -> None:
    """The kernel's text into ``out`` with the numbers it left to Python in their places
    (``hard``: place in the text, flat position in ``cells``)."""
    at = 0
    n_floats = cells.shape[1]
    pieces = []
    for pos, flat in hard.T:
        value = cells.flat[flat]
        written = "%.10g" % value     # noqa: UP031 (pandas formats with %)
        pieces += [text[at:pos], written.encode()]
        at = pos
        if parsed is not None:
            parsed.flat[flat] = float(written)     # correctly rounded, as pandas reads it
        if not written.lstrip("-").isdigit():       # finite and not 0 (the kernel's)
            fraction[flat % n_floats] = True
    pieces.append(text[at:])
    out.writelines(pieces)


def _columns(frame: pd.DataFrame):
    """The frame split for the kernel: its float columns as one array; every other column
    (the index first) as fixed-width UTF-8 text, with its cells as ``str`` (None where a
    cell needed quoting); each output column's place (``k >= 0``: float column k,
    ``k < 0``: text column ``-1 - k``). None where pandas must write the frame."""
    if frame.columns.nlevels != 1 or frame.index.nlevels != 1 or frame.shape[1] == 0:
        return None
    texts = [_text(frame.index)]
    is_float = [isinstance(t, np.dtype) and t.kind == "f" for t in frame.dtypes]
    kinds, n_floats = [-1], 0
    for i, number in enumerate(is_float):
        if number:
            kinds.append(n_floats)
            n_floats += 1
        else:
            kinds.append(-1 - len(texts))
            texts.append(_text(frame.iloc[:, i]))
    if any(t is None for t in texts):
        return None
    values = frame.to_numpy(np.float64) if all(is_float) else \
        frame.iloc[:, np.flatnonzero(is_float)].to_numpy(np.float64)
    return (values, [t[0] for t in texts], [t[1] for t in texts],
            np.array(kinds, dtype=np.int64))


def _text(values: pd.Index | pd.Series
          ) -> tuple[np.ndarray, np.ndarray | pd.Categorical | None] | None:
    """A column (or the index) as pandas writes its cells: a fixed-width bytes array and
    the cells as text (None when one needed quoting), or None for a kind left to pandas.
    Dates, integers and names are made text once per distinct value and spread."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        codes, distinct = pd.factorize(np.asarray(values))
        written = distinct.astype("S")
        return _spread(codes, written, written.astype(str).astype(object))
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        codes, distinct = pd.factorize(np.asarray(values))      # NaT: -1, written empty
        days = distinct.astype("datetime64[D]")
        years = days.astype("datetime64[Y]").astype(np.int64) + 1970
        if len(years) and (years.min() < 1000 or years.max() > 9999):
            return None         # pandas writes the year 999 unpadded
        written = days.astype("S10")
        return _spread(codes, written, written.astype(str).astype(object))
    if isinstance(dtype, np.dtype) and dtype.kind != "O" or isinstance(
            dtype, pd.DatetimeTZDtype | pd.PeriodDtype | pd.IntervalDtype | pd.SparseDtype):
        return None             # floats in the index, complex, timedelta, time zones...
    if isinstance(dtype, pd.CategoricalDtype) and dtype.categories.dtype.kind in "mM":
        return None
    if isinstance(dtype, pd.StringDtype) or pd.api.types.infer_dtype(
            dtype.categories if isinstance(dtype, pd.CategoricalDtype) else values,
            skipna=True) == "string":                     # names, the usual case
        codes, distinct = pd.factorize(values)            # missing: -1, written empty
        words = np.asarray(distinct, dtype=object)
        if any("\x00" in w for w in words):
            return None
        quoted = [_quoted(w) for w in words]
        written = np.array([q.encode("utf-8") for q in quoted], dtype="S")
        texts, cells = _spread(codes, written, words)
        return texts, None if any(q is not w for q, w in zip(quoted, words, strict=True)) \
            else cells
    cells = np.array(values, dtype=object)
    cells[pd.isna(cells)] = ""
    words = [_cell(v) for v in cells]
    if any("\x00" in w for w in words):
        return None
    written = [_quoted(w) for w in words]
    quoted = any(q is not w for q, w in zip(written, words, strict=True))
    return (_wide(np.array([q.encode("utf-8") for q in written], dtype="S")),
            None if quoted else np.array(words, dtype=object))


def _spread(codes: np.ndarray, written: np.ndarray, words: np.ndarray
            ) -> tuple[np.ndarray, pd.Categorical]:
    """Each row's bytes and text from its distinct value's (``codes``: the row's value
    among them, -1 for a missing one, written empty)."""
    if len(codes) and codes.min() < 0:
        codes = np.where(codes < 0, len(written), codes)
        written = np.append(written, np.array([b""], dtype="S1"))
        words = np.append(words, np.array([""], dtype=object))
    again, names = pd.factorize(words)      # values written alike (two times of a day)
    return _wide(written[codes]), pd.Categorical.from_codes(again[codes], names)


def _wide(texts: np.ndarray) -> np.ndarray:
    """At least one byte wide, so every column has a place in the kernel's rows."""
    return texts if texts.itemsize else texts.astype("S1")


_SPECIAL = (",", '"', "\r", "\n")


def _cell(value) -> str:
    """One cell's text as the csv module makes it (pandas writes through it): a float's
    own repr (numpy's float64 too, not its 'np.float64(...)'), str otherwise."""
    return value if isinstance(value, str) else \
        float.__repr__(value) if isinstance(value, float) else str(value)


def _quoted(text: str) -> str:
    """``text`` as the csv module writes it: quoted when it holds a separator, a quote or
    a line break (``text`` itself otherwise)."""
    if not any(c in text for c in _SPECIAL):
        return text
    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow([text, ""])
    return line.getvalue()[:-2]
