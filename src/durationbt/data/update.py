"""``durationbt data update``: extend a CSV folder (per-ticker Yahoo-layout files and
``fred/SERIES.csv``) with the rows published since each file's last date.

Rules that keep a folder trustworthy:

* Only final rows are added: those dated before today's New York date (today's row may be
  an intraday quote, and a crypto day closes at 20:00 New York).
* Old rows are never rewritten. The download overlaps each file's last ``overlap_days``; an
  adjusted close is rescaled by every new dividend or split, so new adjusted closes are
  chained onto the file's own basis (scaled by stored / downloaded on the last common day:
  returns are Yahoo's, levels continue the file's). If, after that scaling, any overlapping
  value differs by more than ``tolerance`` (relative, with a floor of 1 for values near 0),
  the history was revised: the file is left as it is and the revision reported.
* Atomic: every changed file, ``manifest.csv`` and ``PROVENANCE.md`` is written to a hidden
  temporary file first and renamed over the original only when all downloads and writes
  have succeeded; a failure leaves the folder as it was."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import DataError
from . import yahoo
from .csv import DATE_COLUMNS, read_fred_csv, read_price_csv
from .fetch import quiet_libraries
from .fred import FredProvider
from .yahoo import extract_field

__all__ = ["Revision", "FileUpdate", "UpdateReport", "update_folder", "DEFAULT_TOLERANCE",
           "OVERLAP_DAYS"]

DEFAULT_TOLERANCE = 1e-4   # 1 bp of the level: far above float32 noise, far below a correction
OVERLAP_DAYS = 30          # calendar days re-downloaded before each file's last date
_GIVE_UP_AFTER = 3         # consecutive Yahoo failures, with no success yet, that mean offline
_YAHOO_FIELDS = ("Open", "High", "Low", "Close", "Adj Close", "Volume")


@dataclass(frozen=True)
class Revision:
    """A stored value that the source now publishes differently."""

    date: pd.Timestamp
    stored: float
    fetched: float          # after chaining onto the file's basis

    @property
    def relative(self) -> float:
        return (self.fetched - self.stored) / max(abs(self.stored), 1.0)


@dataclass(frozen=True)
class FileUpdate:
    """What happened to one file."""

    file: str               # relative to the folder, e.g. "MU.csv" or "fred/DGS10.csv"
    source: str             # "yahoo" or "fred"
    last_before: pd.Timestamp
    added: int = 0
    last_after: pd.Timestamp | None = None
    revisions: tuple[Revision, ...] = ()
    error: str = ""

    @property
    def status(self) -> str:
        if self.error:
            return "not updated: " + self.error
        if self.revisions:
            return f"left as it was: {len(self.revisions)} value(s) revised"
        return f"+{self.added} rows" if self.added else "up to date"


@dataclass(frozen=True)
class UpdateReport:
    """Every file's outcome; ``complete`` when none was left behind."""

    folder: Path
    today: pd.Timestamp
    files: tuple[FileUpdate, ...] = field(default=())

    @property
    def complete(self) -> bool:
        return not any(f.error or f.revisions for f in self.files)


@dataclass
class _Staged:
    """A file's new text, to be renamed into place at the end."""

    path: Path
    text: str


def _new_york_today() -> pd.Timestamp:
    return pd.Timestamp.now(tz="America/New_York").normalize().tz_localize(None)


def _number(value: float) -> str:
    return "" if value is None or not math.isfinite(value) else repr(float(value))


def _revisions(stored: pd.Series, fetched: pd.Series, tolerance: float) -> tuple[Revision, ...]:
    common = stored.index.intersection(fetched.index)
    out = []
    for day in common:
        a, b = float(stored[day]), float(fetched[day])
        if abs(b - a) > tolerance * max(abs(a), 1.0):
            out.append(Revision(day, a, b))
    return tuple(out)


def _append(path: Path, lines: list[str]) -> str:
    text = path.read_text(encoding="utf-8")
    newline = "\r\n" if "\r\n" in text else "\n"
    if text and not text.endswith(("\n", "\r")):
        text += newline
    return text + "".join(line + newline for line in lines)


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig") as handle:
        return [c.strip() for c in handle.readline().strip().split(",")]


def _price_update(path: Path, frame: pd.DataFrame, today: pd.Timestamp, tolerance: float,
                  ) -> tuple[FileUpdate, _Staged | None]:
    ticker = path.stem
    stored = read_price_csv(path)
    last = stored.index[-1]
    header = _header(path)
    # the column read_price_csv reads: Adj Close when it has values, else Close
    has_adjusted = "Adj Close" in header and _column_has_values(path, "Adj Close")
    field_used = "Adj Close" if has_adjusted else "Close"
    fields = {name: _clean(extract_field(frame, ticker, (name,))) for name in _YAHOO_FIELDS}
    fetched = fields[field_used]
    fetched = fetched[fetched.index < today]
    common = stored.index.intersection(fetched.index)
    if common.empty:
        return FileUpdate(path.name, "yahoo", last, error=f"Yahoo's rows do not overlap the "
                          f"file's last {OVERLAP_DAYS} days, so they cannot be chained on "
                          "safely"), None
    anchor = common[-1]
    factor = float(stored[anchor]) / float(fetched[anchor]) if field_used == "Adj Close" else 1.0
    chained = fetched * factor
    revisions = _revisions(stored, chained, tolerance)
    new_days = chained.index[chained.index > last]
    if revisions or new_days.empty:
        return FileUpdate(path.name, "yahoo", last, revisions=revisions), None
    lines = []
    for day in new_days:
        cells = [str(day.date())]
        for column in header[1:]:
            if column == field_used:
                cells.append(_number(chained[day]))
            elif column == "Volume":
                volume = fields["Volume"].get(day)
                cells.append("" if volume is None or pd.isna(volume) else str(int(volume)))
            elif column in fields:
                cells.append(_number(fields[column].get(day, math.nan)))
            else:
                cells.append("")
        lines.append(",".join(cells))
    return (FileUpdate(path.name, "yahoo", last, len(lines), new_days[-1]),
            _Staged(path, _append(path, lines)))


def _column_has_values(path: Path, column: str) -> bool:
    frame = pd.read_csv(path, usecols=[column], dtype=str, keep_default_na=False)
    return bool((frame[column].str.strip() != "").any())


def _clean(series: pd.Series) -> pd.Series:
    series = series.dropna().astype(float)
    if series.empty:
        return series
    index = pd.DatetimeIndex(series.index)
    series.index = (index.tz_localize(None) if index.tz is not None else index).normalize()
    return series[~series.index.duplicated(keep="last")].sort_index()


def _fred_update(path: Path, fetched: pd.Series, today: pd.Timestamp, tolerance: float,
                 ) -> tuple[FileUpdate, _Staged | None]:
    name = f"fred/{path.name}"
    stored = read_fred_csv(path)
    last = stored.index[-1]
    window = stored.loc[last - pd.Timedelta(days=OVERLAP_DAYS):]
    revisions = _revisions(window, fetched, tolerance)
    new = fetched[(fetched.index > last) & (fetched.index < today)]
    if revisions or new.empty:
        return FileUpdate(name, "fred", last, revisions=revisions), None
    lines = [f"{day.date()},{_number(value)}" for day, value in new.items()]
    return (FileUpdate(name, "fred", last, len(lines), new.index[-1]),
            _Staged(path, _append(path, lines)))


def _manifest(folder: Path, updates: list[FileUpdate], today: pd.Timestamp) -> _Staged | None:
    path = folder / "manifest.csv"
    if not path.is_file():
        return None
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if not {"file", "last_date", "rows", "source"} <= set(frame.columns):
        return None
    for update in updates:
        hit = frame["file"] == update.file
        if not hit.any() or not update.added:
            continue
        rows = pd.to_numeric(frame.loc[hit, "rows"], errors="coerce").fillna(0).astype(int)
        frame.loc[hit, "rows"] = (rows + update.added).astype(str)
        frame.loc[hit, "last_date"] = str(update.last_after.date())
        frame.loc[hit, "source"] = frame.loc[hit, "source"] + (
            f" + {update.source} rows to {update.last_after.date()} "
            f"(durationbt data update {today.date()})")
    return _Staged(path, frame.to_csv(index=False, lineterminator="\n"))


def _provenance(folder: Path, report: UpdateReport, tolerance: float) -> _Staged | None:
    path = folder / "PROVENANCE.md"
    if not path.is_file():
        return None
    added = [f for f in report.files if f.added]
    left = [f for f in report.files if f.revisions or f.error]
    lines = [f"## durationbt data update, {report.today.date()}", ""]
    origin = {"yahoo": "Yahoo Finance, adjusted closes chained onto this file's basis",
              "fred": "FRED fredgraph.csv"}
    lines += [f"- {f.file}: +{f.added} rows, {f.last_before.date()} -> {f.last_after.date()} "
              f"({origin[f.source]})" for f in added]
    lines += [f"- {f.file}: {f.status}" for f in left]
    lines += ["", f"Revision tolerance {tolerance:g} (relative); revised files are never "
              "rewritten.", ""]
    return _Staged(path, _append(path, ["", *lines]))


def update_folder(folder: Path | str, *, download: Callable[..., pd.DataFrame] | None = None,
                  fred: FredProvider | None = None, today: pd.Timestamp | None = None,
                  tolerance: float = DEFAULT_TOLERANCE) -> UpdateReport:
    """Extend every ``TICKER.csv`` from Yahoo Finance and every ``fred/SERIES.csv`` from FRED
    with their final rows since the file's last date; update ``manifest.csv`` and
    ``PROVENANCE.md`` when present. ``download`` (yfinance's signature) and ``fred`` are
    injectable so tests replay recorded responses. Raises DataError, changing nothing, when
    the folder is missing or unwritable or no source could be reached."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DataError(f"Data folder {folder} does not exist; pass --data DIR, a folder of "
                        "per-ticker CSVs such as a copy of ../shared/market-data.")
    download = download or yahoo.yf_download
    fred = fred or FredProvider(max_age_hours=0)
    today = pd.Timestamp(today or _new_york_today()).normalize()
    prices = sorted(p for p in folder.glob("*.csv") if _header(p)[0] in DATE_COLUMNS)
    series = sorted((folder / "fred").glob("*.csv"))
    if not prices and not series:
        raise DataError(f"Data folder {folder} has no TICKER.csv or fred/SERIES.csv file to "
                        "extend.")
    updates: list[FileUpdate] = []
    staged: list[_Staged] = []
    reached = False
    failures: list[str] = []
    for path in prices:
        last = read_price_csv(path).index[-1]
        if last >= today - pd.Timedelta(days=1):
            updates.append(FileUpdate(path.name, "yahoo", last))
            continue
        if len(failures) >= _GIVE_UP_AFTER and not reached:
            updates.append(FileUpdate(path.name, "yahoo", last, error="Yahoo Finance unreachable"))
            continue
        start = (last - pd.Timedelta(days=OVERLAP_DAYS)).date().isoformat()
        reason = ""
        with quiet_libraries() as noise:
            try:
                frame = download([path.stem], start=start, interval="1d", auto_adjust=False,
                                 actions=False, progress=False, threads=False, group_by="column")
            except Exception as exc:  # yfinance raises many kinds; each means "no rows"
                frame, reason = pd.DataFrame(), f"{type(exc).__name__}: {exc}"
        if frame is None or frame.empty:
            reason = reason or noise.first_reason() or "no rows"
            failures.append(reason)
            updates.append(FileUpdate(path.name, "yahoo", last,
                                      error=f"Yahoo Finance returned no rows ({reason})"))
            continue
        reached = True
        update, stage = _price_update(path, frame, today, tolerance)
        updates.append(update)
        staged += [stage] if stage else []
    fred_down = ""
    for path in series:
        last = read_fred_csv(path).index[-1]
        if fred_down:
            updates.append(FileUpdate(f"fred/{path.name}", "fred", last, error=fred_down))
            continue
        try:
            fetched = fred.download(path.stem)
        except DataError as exc:
            failures.append(str(exc))
            updates.append(FileUpdate(f"fred/{path.name}", "fred", last, error=str(exc)))
            if isinstance(exc.__cause__, OSError):   # the network, not this series: stop asking
                fred_down = "FRED unreachable"
            continue
        reached = True
        update, stage = _fred_update(path, fetched, today, tolerance)
        updates.append(update)
        staged += [stage] if stage else []
    if not reached:
        raise DataError(f"Could not reach Yahoo Finance or FRED ({failures[0]}); nothing in "
                        f"{folder} was changed. Run `durationbt data update` again with network "
                        f"access; meanwhile --data {folder} still works with the rows it has.")
    report = UpdateReport(folder, today, tuple(updates))
    if staged:
        staged += [s for s in (_manifest(folder, updates, today),
                               _provenance(folder, report, tolerance)) if s]
    _commit(folder, staged)
    return report


def _commit(folder: Path, staged: list[_Staged]) -> None:
    """Write every new text beside its file, then rename them all into place."""
    temps: list[tuple[Path, Path]] = []
    try:
        for stage in staged:
            tmp = stage.path.with_name(f".{stage.path.name}.update-tmp")
            tmp.write_text(stage.text, encoding="utf-8", newline="")
            temps.append((tmp, stage.path))
    except OSError as exc:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
        raise DataError(f"Cannot write into {folder} ({exc}); nothing was changed. Update a "
                        "writable copy of the folder.") from exc
    for tmp, final in temps:
        os.replace(tmp, final)

