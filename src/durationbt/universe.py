"""universes/*.toml -> Universe: buckets ranked by cash-flow duration, benchmark, dates and
the signal inputs. Validated on load so that everything downstream can trust it."""

from __future__ import annotations

import datetime as dt
import tomllib
import unicodedata
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from .errors import UniverseError, did_you_mean
from .paths import search_dirs
from .thesis.table import ClaimSpec, EventSpec, SeriesSpec, ThesisTable

__all__ = ["Bucket", "CustomComponent", "SignalSettings", "PortfolioSettings", "Universe",
           "load_universe", "list_universes", "resolve_universe_path", "COMPONENT_NAME"]



def _file_safe(ticker: str) -> str:
    """A ticker names a file (``TICKER.csv``, a cache entry): no control character (a NUL
    cannot be in a path), no path separator, no leading dot."""
    bad = next((ch for ch in ticker if unicodedata.category(ch).startswith("C")), None)
    if bad is not None:
        raise ValueError(f"ticker {ticker!r} contains the control character "
                         f"U+{ord(bad):04X}; a ticker is printable text such as MU or ^TNX")
    if "/" in ticker or "\\" in ticker or ticker.startswith("."):
        raise ValueError(f"ticker {ticker!r} contains a path separator or starts with a dot; "
                         "a ticker names a file TICKER.csv, so it cannot")
    return ticker


def _readable_path(path: Path) -> Path:
    if "\0" in str(path):
        raise ValueError("a path cannot contain a NUL character")
    return path


Ticker = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32),
                   AfterValidator(_file_safe)]
COMPONENT_NAME = r"^[A-Za-z][A-Za-z0-9_-]*$"
QUARTER_SLACK_DAYS = 100   # a quarterly value stays in use until the next one, a week late


class _Model(BaseModel):
    # every number finite: weights = { rates = inf } would switch the signal off silently
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, allow_inf_nan=False)


class Bucket(_Model):
    """A named group of assets sharing one cash-flow-duration rank (0 = cash-like)."""

    @model_validator(mode="before")
    @classmethod
    def _one_spelling(cls, data: Any) -> Any:
        if isinstance(data, dict) and "rank" in data and "duration" in data:
            raise ValueError("give rank or duration (its older spelling), not both")
        return data

    name: str
    # the declared cash-flow-duration rank (``duration`` is the older spelling in TOML)
    rank: Annotated[int, Field(ge=0, strict=True,
                               validation_alias=AliasChoices("rank", "duration"))]
    description: Annotated[str, StringConstraints(min_length=1)]
    tickers: Annotated[tuple[Ticker, ...], Field(min_length=1)]


class CustomComponent(_Model):
    """A ``[[signal.custom]]`` entry: a component from one column of the user's own CSV
    (e.g. quarterly hyperscaler capex). A value dated d is used from d + ``lag_days`` on
    (its publication), carried forward until a newer one is public or it is older than
    ``max_stale_days`` (counted from d), like a FRED series."""

    name: Annotated[str, StringConstraints(pattern=COMPONENT_NAME)]
    csv: Annotated[Path, AfterValidator(_readable_path)]   # relative: against the universe file
    column: Annotated[str, StringConstraints(min_length=1)]
    date_column: str | None = None   # default: Date / date / observation_date
    lag_days: Annotated[int, Field(ge=0, le=3660, strict=True)]   # at most ten years
    transform: Literal["level", "change", "pct_change"] = "level"
    periods: Annotated[int, Field(ge=1, le=10_000, strict=True)] = 1   # observations back
    sign: Literal[1, -1] = 1         # +1: a higher value means scarcer capital
    max_stale_days: Annotated[int, Field(ge=0, le=36_600, strict=True)] | None = None
    summary: str = ""                # why higher (times sign) means scarcer

    @property
    def stale_after(self) -> int:
        """Days after its observation date a value stops being used (default: the lag plus
        a quarter and a week, so a quarterly series is never stale between releases)."""
        if self.max_stale_days is not None:
            return self.max_stale_days
        return self.lag_days + QUARTER_SLACK_DAYS

    def reads(self) -> str:
        """What it reads, in words, for listings."""
        change = {"level": "level", "change": f"change over {self.periods} observation(s)",
                  "pct_change": f"% change over {self.periods} observation(s)"}[self.transform]
        sign = "" if self.sign == 1 else "minus the "
        return (f"{sign}{change} of column {self.column} of {self.csv.name}, used "
                f"{self.lag_days} days after its date (stale after {self.stale_after})")


class SignalSettings(_Model):
    """The ``[signal]`` table: which components make the scarcity score (the built-ins,
    installed ones by name, and the universe's own from CSV), their weights, extra input
    series, the standardisation window and the regime thresholds (in z-score units)."""

    # extra series to load besides the ones the selected components declare (strategies
    # read them from ctx.inputs)
    tickers: tuple[Ticker, ...] = ()
    fred: tuple[Ticker, ...] = ()
    components: tuple[str, ...] | None = None      # None: every built-in component
    custom: tuple[CustomComponent, ...] = ()       # always in the composite (weight 0 mutes)
    weights: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    window: Annotated[int, Field(ge=20)] = 756      # trailing z-score window, trading days
    min_history: Annotated[int, Field(ge=20)] = 252
    clip: Annotated[float, Field(gt=0)] = 3.0
    enter_scarce: float = 0.5
    exit_scarce: float = 0.0
    enter_abundant: float = -0.5
    exit_abundant: float = 0.0

    @model_validator(mode="after")
    def _custom_names(self) -> SignalSettings:
        names = [c.name for c in self.custom]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f'two [[signal.custom]] entries are named "{twice[0]}"; each '
                             "needs its own name")
        return self

    @model_validator(mode="after")
    def _thresholds(self) -> SignalSettings:
        if not (self.enter_abundant <= self.exit_abundant <= self.exit_scarce <= self.enter_scarce):
            raise ValueError("regime thresholds must satisfy enter_abundant <= exit_abundant <= "
                             "exit_scarce <= enter_scarce")
        if self.min_history > self.window:
            raise ValueError("min_history must not exceed window")
        return self


class PortfolioSettings(_Model):
    """The ``[portfolio]`` table: a universe's default exposure limits and carry for
    long/short books (see ``durationbt.book``); a CLI option overrides each."""

    max_gross: Annotated[float, Field(gt=0, le=100)] | None = None
    max_net: Annotated[float, Field(ge=-100, le=100)] | None = None
    borrow_bps: Annotated[float, Field(ge=0, le=10_000)] | None = None
    financing_bps: Annotated[float, Field(ge=0, le=10_000)] | None = None


class Universe(_Model):
    """A validated universe file. ``buckets`` keeps the file's order."""

    name: str
    description: str = ""
    path: Path | None = None
    benchmark: Ticker
    cash: Ticker | None = None
    start: dt.date
    end: dt.date | None = None
    ticker_start: dict[Ticker, dt.date] = Field(default_factory=dict)
    strict_prices: bool = False   # a suspicious move (data.moves) is an error, not a warning
    buckets: Annotated[tuple[Bucket, ...], Field(min_length=1)]
    signal: SignalSettings = SignalSettings()
    portfolio: PortfolioSettings = PortfolioSettings()
    # claims scored by `durationbt thesis`; left out of dumps: a claim never changes a run
    thesis: ThesisTable | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _consistent(self) -> Universe:
        seen: dict[str, str] = {}
        for bucket in self.buckets:
            for ticker in bucket.tickers:
                if ticker in seen:
                    where = "twice in bucket" if seen[ticker] == bucket.name else "in buckets"
                    other = f'"{bucket.name}"' if seen[ticker] == bucket.name else (
                        f'"{seen[ticker]}" and "{bucket.name}"')
                    raise ValueError(f"ticker {ticker} appears {where} {other}; "
                                     "each ticker belongs to exactly one bucket")
                seen[ticker] = bucket.name
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        if self.cash is not None and self.cash not in seen:
            raise ValueError(f"cash asset {self.cash} is not in any bucket")
        for ticker in self.ticker_start:
            if ticker not in seen:
                raise ValueError(f"ticker_start names {ticker}, which is not in any bucket"
                                 + did_you_mean(ticker, seen))
        return self

    @property
    def tickers(self) -> tuple[str, ...]:
        """All bucket members, in file order."""
        return tuple(t for b in self.buckets for t in b.tickers)

    @property
    def bucket_names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self.buckets)

    def bucket(self, name: str) -> Bucket:
        """The bucket called ``name``; a UniverseError with a suggestion otherwise."""
        for bucket in self.buckets:
            if bucket.name == name:
                return bucket
        raise UniverseError(f'Universe "{self.name}" has no bucket "{name}".'
                            + did_you_mean(name, self.bucket_names)
                            + f" Buckets: {', '.join(self.bucket_names)}.")

    def bucket_of(self, ticker: str) -> Bucket:
        for bucket in self.buckets:
            if ticker in bucket.tickers:
                return bucket
        raise UniverseError(f'Ticker {ticker} is not in universe "{self.name}".'
                            + did_you_mean(ticker, self.tickers))


def list_universes(dirs: list[Path] | None = None) -> dict[str, Path]:
    """Universe names -> files, the working directory's ``universes/`` shadowing built-ins."""
    found: dict[str, Path] = {}
    for folder in dirs if dirs is not None else search_dirs("universes"):
        for path in sorted(folder.glob("*.toml")):
            found.setdefault(path.stem, path)
    return found


def resolve_universe_path(name_or_path: str | Path, dirs: list[Path] | None = None) -> Path:
    """A path (anything ending in .toml or containing a slash) or a universe name."""
    text = str(name_or_path)
    if text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(text)
        if path.is_dir():
            raise UniverseError(f"{path} is a folder, not a universe file; pass a .toml file "
                                "(e.g. universes/ai_capex.toml) or a universe name.")
        if not path.is_file():
            raise UniverseError(f"Universe file {path} does not exist.")
        return path
    known = list_universes(dirs)
    if text not in known:
        raise UniverseError(
            f'Unknown universe "{text}".' + did_you_mean(text, known)
            + f" Known universes: {', '.join(sorted(known)) or 'none'}"
            + " (see `durationbt universes list`), or pass a path to a .toml file.")
    return known[text]


_NAMED_ENTRIES = {("signal", "custom"): "name", ("thesis", "claims"): "id",
                  ("thesis", "events"): "name", ("thesis", "series"): "name"}


def _field_path(loc: tuple, raw: dict) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int) and parts == ["buckets"]:
            # buckets are a table of tables in the file; show the bucket's name
            names = list(raw.get("buckets", {}))
            parts.append(names[item] if item < len(names) else str(item))
        elif isinstance(item, int) and tuple(parts) in _NAMED_ENTRIES:
            # [[signal.custom]], [[thesis.claims]]... are arrays of tables; show the entry's
            # name (a claim's id) when it has one
            table = raw.get(parts[0])
            entries = (table.get(parts[1]) if isinstance(table, dict) else None) or []
            key = _NAMED_ENTRIES[tuple(parts)]
            name = entries[item].get(key) if item < len(entries) and isinstance(
                entries[item], dict) else None
            parts.append(str(name) if isinstance(name, str) and name else str(item))
        else:
            parts.append(str(item))
    return ".".join(p for p in parts if p)


def _resolve_custom_paths(data: dict, folder: Path) -> None:
    """A ``[[signal.custom]]`` csv path is relative to the universe file's folder."""
    signal = data.get("signal")
    if not isinstance(signal, dict) or not isinstance(signal.get("custom"), list):
        return
    entries = []
    for entry in signal["custom"]:
        if isinstance(entry, dict) and isinstance(entry.get("csv"), str) \
                and "\0" not in entry["csv"]:
            entry = {**entry, "csv": _absolute(folder, entry["csv"])}
        entries.append(entry)
    data["signal"] = {**signal, "custom": entries}


def _absolute(folder: Path, text: str) -> Path:
    """``text`` against ``folder``, symlinks resolved where they can be: a symlink loop or
    an unknown ``~user`` is left as written, for the loader to name (a path, not a crash)."""
    path = Path(text)
    try:
        path = path.expanduser()
    except RuntimeError:   # ~nosuchuser
        pass
    try:
        return (folder / path).resolve()
    except (OSError, RuntimeError):   # a symlink loop
        return folder / path


def load_universe(name_or_path: str | Path, dirs: list[Path] | None = None) -> Universe:
    """Read, parse and validate a universe; every problem is a UniverseError naming the file."""
    path = resolve_universe_path(name_or_path, dirs)
    raw = _parse(path)

    data = dict(raw)
    buckets = data.get("buckets")
    if isinstance(buckets, dict):
        bad = [k for k, v in buckets.items() if not isinstance(v, dict)]
        if bad:
            raise UniverseError(f"{path}: field 'buckets.{bad[0]}' must be a table "
                                f"([buckets.{bad[0]}] with rank, description, tickers).")
        data["buckets"] = [{"name": k, **v} for k, v in buckets.items()]
    elif buckets is not None:
        raise UniverseError(f"{path}: field 'buckets' must be a table of [buckets.NAME] tables.")
    data.setdefault("name", path.stem)
    data["path"] = path.resolve()
    _resolve_custom_paths(data, path.resolve().parent)
    try:
        return Universe.model_validate(data)
    except ValidationError as exc:
        problems = []
        errors = exc.errors()
        for err in errors:
            if err["type"] == "too_short" and any(
                    len(o["loc"]) > len(err["loc"]) and o["loc"][:len(err["loc"])] == err["loc"]
                    for o in errors):
                continue   # an echo of a refused member below it, not a second mistake
            field = _field_path(err["loc"], raw)
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key" + did_you_mean(str(err["loc"][-1]), _known_keys(err["loc"]))
            elif err["type"] == "missing":
                msg = "missing required field"
            problems.append(f"field '{field}': {msg}" if field else msg)
        raise UniverseError(f"{path}: " + "; ".join(problems) + ".") from exc


def _parse(path: Path) -> dict:
    """The file's TOML as a dict; bytes that are not UTF-8, nesting deeper than the parser
    can follow and syntax errors are UniverseErrors naming the file and where."""
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise UniverseError(f"{path}: cannot be read ({exc.strerror}).") from exc
    try:
        text = blob.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = blob[:exc.start].count(b"\n") + 1
        raise UniverseError(f"{path}: is not UTF-8 text (byte 0x{blob[exc.start]:02x} on line "
                            f"{line} cannot be decoded); a universe file is TOML saved as "
                            "UTF-8: re-save it with that encoding.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UniverseError(f"{path}: not valid TOML ({exc}). Fix the syntax and try again.") from exc
    except RecursionError:
        raise UniverseError(f"{path}: not valid TOML for durationbt: arrays or tables nested "
                            "too deeply to read. A universe needs a few levels at most; "
                            "fix the file.") from None


def _known_keys(loc: tuple) -> list[str]:
    model: type[BaseModel] = Universe
    if loc and loc[0] == "buckets":
        model = Bucket
    elif loc and loc[0] == "portfolio":
        model = PortfolioSettings
    elif loc and loc[0] == "signal":
        model = CustomComponent if len(loc) > 2 and loc[1] == "custom" else SignalSettings
    elif loc and loc[0] == "thesis":
        model = {"claims": ClaimSpec, "events": EventSpec, "series": SeriesSpec}.get(
            loc[1] if len(loc) > 2 else "", ThesisTable)
    return [k for k in model.model_fields if k not in ("path", "name")]
