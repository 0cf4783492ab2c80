"""Event windows (``[[thesis.events]]``): what happened in a named episode. The total return
of each bucket and the benchmark from the close before the window to its last close, the
change of the 10-year yield and of the high-yield spread over the same span, and the
regime path (its runs and the share of days in each regime)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..duration import bucket_levels
from ..errors import UniverseError
from ..signals.composite import REGIMES, regime_runs
from ..signals.inputs import point_in_time
from .data import ThesisData
from .table import EventSpec

__all__ = ["EventResult", "check_events", "event_results", "TEN_YEAR", "HIGH_YIELD"]

TEN_YEAR = ("DGS10", "^TNX")       # FRED first, the market quote otherwise (percent)
HIGH_YIELD = ("BAMLH0A0HYM2",)     # ICE BofA US high-yield OAS (percent)


@dataclass(frozen=True)
class EventResult:
    """One event window as measured."""

    name: str
    note: str
    start: pd.Timestamp            # first trading day inside the window
    end: pd.Timestamp              # last trading day inside the window
    returns: dict[str, float | None]     # bucket / benchmark -> total return
    ten_year_change: float | None        # percentage points
    high_yield_change: float | None      # percentage points
    regime_path: list[tuple[pd.Timestamp, pd.Timestamp, str]]
    regime_share: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "note": self.note, "start": str(self.start.date()),
                "end": str(self.end.date()), "returns": self.returns,
                "ten_year_change_pp": self.ten_year_change,
                "high_yield_change_pp": self.high_yield_change,
                "regime_path": [{"from": str(a.date()), "to": str(b.date()), "regime": r}
                                for a, b, r in self.regime_path],
                "regime_share": self.regime_share}


def check_events(events: tuple[EventSpec, ...], data: ThesisData, where: str,
                 narrowed: bool = False) -> tuple[tuple[EventSpec, ...], list[str]]:
    """The events to measure and notes on those left out. An event outside the data (with a
    close before it to measure from) is an error naming it, unless the user ``narrowed``
    the window with --start/--end: then it is left out with a note."""
    cal = data.calendar
    priced = cal[cal >= data.market.prices[data.universe.benchmark].first_valid_index()]
    first, last = priced[1] if len(priced) > 1 else priced[0], data.market.end
    kept, notes = [], []
    for event in events:
        outside = [(f, d) for f, d in (("start", event.start), ("end", event.end))
                   if not first <= pd.Timestamp(d) <= last]
        if outside and narrowed:
            notes.append(f"event {event.name} ({event.start} to {event.end}) lies outside the "
                         f"data window ({first.date()} to {last.date()}): left out")
            continue
        for field, day in outside:
            raise UniverseError(f"{where}: field 'thesis.events.{event.name}.{field}': "
                                f"{day} is outside the data ({first.date()} to "
                                f"{last.date()}). Move the event inside it or pass other "
                                "--start/--end.")
        if not ((cal >= pd.Timestamp(event.start)) & (cal <= pd.Timestamp(event.end))).any():
            raise UniverseError(f"{where}: field 'thesis.events.{event.name}.start': no "
                                f"trading day between {event.start} and {event.end}.")
        kept.append(event)
    return tuple(kept), notes


def _first(data: ThesisData, names: tuple[str, ...]) -> pd.Series | None:
    for name in names:
        if name in data.market.fred and not data.market.fred[name].dropna().empty:
            return point_in_time(data.market.fred[name], data.calendar, 0, 10)
        if name in data.market.inputs.columns and data.market.inputs[name].notna().any():
            return data.market.inputs[name]
    return None


def _change(series: pd.Series | None, before: pd.Timestamp, end: pd.Timestamp) -> float | None:
    if series is None:
        return None
    a, b = series.loc[:before].dropna(), series.loc[:end].dropna()
    if a.empty or b.empty:
        return None
    return float(b.iloc[-1] - a.iloc[-1])


def event_results(events: tuple[EventSpec, ...], data: ThesisData) -> list[EventResult]:
    """Each event measured on the data (``check_events`` first)."""
    cal = data.calendar
    levels = bucket_levels(data.market.prices, data.universe)
    bench = data.universe.benchmark
    levels[bench] = data.market.prices[bench]
    ten, hy = _first(data, TEN_YEAR), _first(data, HIGH_YIELD)
    out = []
    for event in events:
        inside = cal[(cal >= pd.Timestamp(event.start)) & (cal <= pd.Timestamp(event.end))]
        start, end = inside[0], inside[-1]
        before = cal[cal.get_loc(start) - 1]
        returns = {}
        for column in levels.columns:
            a, b = levels.at[before, column], levels.at[end, column]
            returns[column] = float(b / a - 1.0) if pd.notna(a) and pd.notna(b) else None
        regime = data.signal.regime.loc[start:end]
        share = {r: float(regime.eq(r).mean()) for r in REGIMES}
        out.append(EventResult(event.name, event.note, start, end, returns,
                               _change(ten, before, end), _change(hy, before, end),
                               regime_runs(regime), share))
    return out
