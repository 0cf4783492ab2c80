"""From a universe's ``[thesis]`` table to typed claims and the data they are scored on.
Everything a user can get wrong is refused here, before any estimate is made and before
anything is written: an unknown kind, field, bucket, series or driver (with a "did you
mean"), an ``expect`` that cannot be read, a CSV without its publication dates, an event
outside the data, a split date outside the window. Each message names the universe file,
the claim and the field."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from ..errors import UniverseError, did_you_mean
from .claim import Claim, ClaimKind
from .data import ClaimFieldError, ThesisData, Window
from .events import check_events
from .kinds import KindRegistry, discover_kinds
from .series import load_user_series
from .table import ThesisTable

__all__ = ["typed_claims", "prepare", "windows", "Prepared"]


def _where(universe: Any) -> str:
    return str(universe.path or universe.name)


def table_of(universe: Any) -> ThesisTable:
    """The universe's ``[thesis]`` table; a UniverseError saying how to add one."""
    if universe.thesis is None:
        raise UniverseError(f"{_where(universe)} has no [thesis] table, so there are no claims "
                            "to score. Add [[thesis.claims]] entries (docs/thesis.md shows how; "
                            "universes/ai_capex.toml has the AI-capex thesis's).")
    return universe.thesis


def typed_claims(universe: Any, registry: KindRegistry | None = None
                 ) -> list[tuple[Claim, ClaimKind]]:
    """Each claim validated by its kind's model; errors name the file, claim and field."""
    registry = registry or discover_kinds()
    where = _where(universe)
    out = []
    for spec in table_of(universe).claims:
        prefix = f"{where}: claim \"{spec.id}\""
        try:
            kind = registry.get(spec.kind)
        except UniverseError as exc:
            raise UniverseError(f"{prefix}, field 'kind': {exc} Kinds: "
                                f"{', '.join(registry.names())}.") from None
        try:
            claim = kind.model.model_validate(spec.fields())
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                field = ".".join(str(p) for p in err["loc"]) or "kind"
                msg = err["msg"].removeprefix("Value error, ")
                article = "an" if kind.name[:1] in "aeiou" else "a"
                if err["type"] == "extra_forbidden":
                    known = [k for k in kind.model.model_fields if k not in ("id", "text")]
                    msg = (f"unknown key for {article} {kind.name} claim."
                           + did_you_mean(str(err["loc"][-1]), known)
                           + f" Its keys: {', '.join(known)}")
                elif err["type"] == "missing":
                    msg = f"missing required field of {article} {kind.name} claim"
                problems.append(f"field '{field}': {msg.rstrip('.')}")
            raise UniverseError(f"{prefix}, " + "; ".join(problems) + ".") from None
        out.append((claim, kind))
    return out


@dataclass(frozen=True)
class Prepared:
    """Claims checked against the data, the data, and the thesis table."""

    claims: list[tuple[Claim, ClaimKind]]
    data: ThesisData
    table: ThesisTable
    events: tuple[Any, ...] = ()
    notes: tuple[str, ...] = ()


def prepare(session: Any, provider: Any, fundamentals: Path | None,
            registry: KindRegistry | None = None) -> Prepared:
    """Typed claims, user series loaded, every claim's names and every event checked
    against the data (a UniverseError naming the claim and field otherwise)."""
    universe = session.universe
    registry = registry or discover_kinds(entry_points_enabled=session.settings.entry_points)
    claims = typed_claims(universe, registry)
    table = table_of(universe)
    series = {spec.name: load_user_series(spec, universe.path, fundamentals)
              for spec in table.series}
    data = ThesisData(session, provider, series)
    where = _where(universe)
    for claim, kind in claims:
        try:
            kind.check(claim, data)
        except ClaimFieldError as exc:
            raise UniverseError(f"{where}: claim \"{claim.id}\", field '{exc.field}': "
                                f"{exc}") from None
    settings = session.settings
    events, notes = check_events(table.events, data, where,
                                 narrowed=settings.start is not None or settings.end is not None)
    return Prepared(claims, data, table, events, tuple(notes))


def windows(data: ThesisData, split: dt.date | None, option: str,
            optional: bool = False) -> tuple[list[Window], list[str]]:
    """The whole window, then before and after ``split`` (from ``option``: --split or the
    table's ``written``) when there is one, and notes. A split outside the window is an
    error, unless ``optional`` (the table's date with a window the user narrowed): then the
    claims are scored on the whole window only, with a note."""
    start, end = data.market.start, data.market.end
    whole = Window("whole", start, end)
    if split is None:
        return [whole], []
    day = pd.Timestamp(split)
    if not start < day <= end:
        if optional:
            return [whole], [f"{option} {split} is outside the window ({start.date()} to "
                             f"{end.date()}): no before/after scores"]
        raise UniverseError(f"{option} {split} is outside the data window ({start.date()} to "
                            f"{end.date()}): give a date inside it, after its first day.")
    cal = data.calendar
    last_before = cal[cal < day][-1]
    return [whole, Window("before", start, last_before), Window("after", day, end)], []
