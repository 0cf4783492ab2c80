"""universes/*.toml -> Universe: buckets ranked by cash-flow duration, benchmark, dates and
the signal inputs. Validated on load so that everything downstream can trust it."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import (
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

__all__ = ["Bucket", "SignalInputs", "Universe", "load_universe", "list_universes", "resolve_universe_path"]

Ticker = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Bucket(_Model):
    """A named group of assets sharing one cash-flow-duration rank (0 = cash-like)."""

    name: str
    # the declared cash-flow-duration rank (``duration`` is the older spelling in TOML)
    rank: Annotated[int, Field(ge=0, strict=True,
                               validation_alias=AliasChoices("rank", "duration"))]
    description: Annotated[str, StringConstraints(min_length=1)]
    tickers: Annotated[tuple[Ticker, ...], Field(min_length=1)]


class SignalInputs(_Model):
    """The ``[signal]`` table: input series, which components make the scarcity score, their
    weights, the standardisation window and the regime thresholds (in z-score units)."""

    tickers: tuple[Ticker, ...] = ()
    fred: tuple[Ticker, ...] = ()
    components: tuple[str, ...] | None = None      # None: every built-in component
    weights: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    window: Annotated[int, Field(ge=20)] = 756      # trailing z-score window, trading days
    min_history: Annotated[int, Field(ge=20)] = 252
    clip: Annotated[float, Field(gt=0)] = 3.0
    enter_scarce: float = 0.5
    exit_scarce: float = 0.0
    enter_abundant: float = -0.5
    exit_abundant: float = 0.0

    @model_validator(mode="after")
    def _thresholds(self) -> SignalInputs:
        if not (self.enter_abundant <= self.exit_abundant <= self.exit_scarce <= self.enter_scarce):
            raise ValueError("regime thresholds must satisfy enter_abundant <= exit_abundant <= "
                             "exit_scarce <= enter_scarce")
        if self.min_history > self.window:
            raise ValueError("min_history must not exceed window")
        return self


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
    strict_prices: bool = False   # a suspicious one-day spike is an error, not a warning
    buckets: Annotated[tuple[Bucket, ...], Field(min_length=1)]
    signal: SignalInputs = SignalInputs()

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


def _field_path(loc: tuple, raw: dict) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int) and parts == ["buckets"]:
            # buckets are a table of tables in the file; show the bucket's name
            names = list(raw.get("buckets", {}))
            parts.append(names[item] if item < len(names) else str(item))
        else:
            parts.append(str(item))
    return ".".join(p for p in parts if p)


def load_universe(name_or_path: str | Path, dirs: list[Path] | None = None) -> Universe:
    """Read, parse and validate a universe; every problem is a UniverseError naming the file."""
    path = resolve_universe_path(name_or_path, dirs)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UniverseError(f"{path}: not valid TOML ({exc}). Fix the syntax and try again.") from exc
    except OSError as exc:
        raise UniverseError(f"{path}: cannot be read ({exc.strerror}).") from exc

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
    try:
        return Universe.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = _field_path(err["loc"], raw)
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key" + did_you_mean(str(err["loc"][-1]), _known_keys(err["loc"]))
            elif err["type"] == "missing":
                msg = "missing required field"
            problems.append(f"field '{field}': {msg}" if field else msg)
        raise UniverseError(f"{path}: " + "; ".join(problems) + ".") from exc


def _known_keys(loc: tuple) -> list[str]:
    model: type[BaseModel] = Universe
    if loc and loc[0] == "buckets":
        model = Bucket
    elif loc and loc[0] == "signal":
        model = SignalInputs
    return [k for k in model.model_fields if k not in ("path", "name")]
