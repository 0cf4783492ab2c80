"""The ``[thesis]`` table of a universe file: claims written as data, the event windows to
look at, the user's own series (quarterly capex, say) with the dates they became public,
and when the thesis was written (months after it are out of sample).

This module only checks the table's shape, so a universe with a thesis loads for every
command; each claim's own fields are checked against its kind (``thesis.kinds``) when
``durationbt thesis`` scores it, and a claim never changes a backtest (the table is left out
of a universe's dump, hence of run ids and cache keys)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

__all__ = ["ClaimSpec", "EventSpec", "SeriesSpec", "ThesisTable", "CLAIM_ID", "STALE_SLACK_DAYS"]

CLAIM_ID = r"^[A-Za-z][A-Za-z0-9_-]*$"
STALE_SLACK_DAYS = 100   # a quarterly value stays in use until the next one, a week late

Name = Annotated[str, StringConstraints(pattern=CLAIM_ID, max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClaimSpec(BaseModel):
    """One ``[[thesis.claims]]`` entry as written: the fields every claim has; the rest
    belong to its kind and are checked by it."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: Name
    text: Text
    kind: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    expect: str | None = None

    def fields(self) -> dict[str, Any]:
        """Every field as written (common and kind-specific)."""
        return {**self.model_dump(exclude_none=True), **(self.model_extra or {})}


class EventSpec(_Table):
    """A named window (``[[thesis.events]]``) to show bucket returns, yields, spreads and
    the regime path over: the 2022 tightening, SVB, ..."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    start: dt.date
    end: dt.date
    note: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> EventSpec:
        if self.end < self.start:
            raise ValueError(f"event ends ({self.end}) before it starts ({self.start})")
        return self


class SeriesSpec(_Table):
    """A user series (``[[thesis.series]]``): one column of a CSV, used from the day each
    value became public: the date in its ``available_from`` column, or its own date plus
    ``lag_days``. The file is ``csv`` (relative to the universe file) or ``fundamentals``
    (a file name in the fundamentals folder: ``--fundamentals DIR`` or
    ``DURATIONBT_FUNDAMENTALS``, never copied into the repository)."""

    name: Name
    csv: Path | None = None
    fundamentals: Annotated[str, StringConstraints(min_length=1)] | None = None
    column: Annotated[str, StringConstraints(min_length=1)]
    date_column: str | None = None      # default: Date / date / observation_date / quarter_end
    available_from: str | None = None   # the column holding each value's publication date
    lag_days: Annotated[int, Field(ge=0, le=3660, strict=True)] | None = None
    transform: Literal["level", "change", "pct_change"] = "level"
    periods: Annotated[int, Field(ge=1, le=10_000, strict=True)] = 1
    max_stale_days: Annotated[int, Field(ge=0, le=36_600, strict=True)] | None = None
    summary: str = ""

    @model_validator(mode="after")
    def _one_of_each(self) -> SeriesSpec:
        if (self.csv is None) == (self.fundamentals is None):
            raise ValueError("give the file as csv (a path relative to the universe file) or "
                             "fundamentals (a file name in the fundamentals folder), one of them")
        if (self.available_from is None) == (self.lag_days is None):
            raise ValueError("say when each value became public: available_from (the column "
                             "holding the publication date) or lag_days, one of them")
        return self

    @property
    def file_label(self) -> str:
        """How messages name the file."""
        return str(self.csv) if self.csv is not None else f"{self.fundamentals} (fundamentals)"


class ThesisTable(_Table):
    """The ``[thesis]`` table: ``written`` (the date the thesis was written: scores are also
    given before and after it), the multiple-testing ``adjust``ment, the claims, the events
    and the user series."""

    written: dt.date | None = None
    adjust: Literal["holm", "bh"] = "holm"
    claims: Annotated[tuple[ClaimSpec, ...], Field(min_length=1)]
    events: tuple[EventSpec, ...] = ()
    series: tuple[SeriesSpec, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> ThesisTable:
        for what, names in (("claims", [c.id for c in self.claims]),
                            ("events", [e.name for e in self.events]),
                            ("series", [s.name for s in self.series])):
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f'two [[thesis.{what}]] entries are named "{twice[0]}"; '
                                 "each needs its own")
        return self
