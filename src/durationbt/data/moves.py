"""Suspicious moves in prices and levels, found where data enter whether or not they
revert: an unadjusted split or a unit error is a permanent level shift, a bad print may
last several days or sit on a series' last row. Each finding names the series, the date
and the size; it is a warning (run notes, ``manifest.json``, ``data status``), or an error
with ``strict``.

Prices (stocks, ETFs, crypto): a one-day ``|ln(p[t]/p[t-1])|`` beyond the asset class's
bound: ``STOCK_MOVE`` (0.4, a day's ratio outside 0.67..1.49) for stocks and ETFs,
``CRYPTO_MOVE`` (0.6, outside 0.55..1.82) for 7-day series (crypto, as the calendar tells
them: ``calendar.is_continuous``); and, whatever the class, a one-day spike of +50% (or
-33%) that the next day undoes by three quarters (the rule before this one). A quiet
series gets a tighter bound: ``QUIET_SIGMAS`` times its own typical daily move (1.4826
times the median size of its nonzero log moves), never below ``QUIET_FLOOR``, so a bills
ETF is flagged past about 2%.

Levels (yields and indices, a ticker that starts with ``^``: ^TNX, ^IRX, ^VIX; FRED
series; any series with a zero or negative value): a one-observation change larger than
``LEVEL_JUMP`` times its typical change (the same measure on its changes) that also halves
or doubles the level (a real crisis day is one or the other, a unit error both); and
values further from the series' median than ``LEVEL_RANGE`` robust spreads (1.4826 MAD of
its levels).

A flagged move followed within ten rows by one in the other direction that undoes at
least three quarters of it is one finding, a spike of as many days as it lasted; a move
that is not undone is a level shift. A stock or ETF moving by a ratio near an integer N
or 1/N (N >= 2) looks like an unadjusted split; a crypto or level series jumping by a
power of ten looks like a unit or scale error. On the real snapshot (47 tickers
1971-2026, 13 FRED series) these bounds flag nothing from 2015 on; before it, only four
crash days of MSTR (2000-2001) and NVDA (2004)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from ..errors import DataError
from .calendar import is_continuous

__all__ = ["Suspicious", "find_suspicious", "scan_series", "check_suspicious",
           "suspicious_notes", "STOCK_MOVE", "CRYPTO_MOVE", "QUIET_SIGMAS", "QUIET_FLOOR",
           "LEVEL_JUMP", "LEVEL_RANGE", "SPLIT_TOLERANCE", "SPIKE_MOVE"]

STOCK_MOVE = 0.4        # |ln move| a stock or ETF may make in a day
CRYPTO_MOVE = 0.6       # |ln move| of a 7-day (crypto) series
QUIET_SIGMAS = 60       # ... or this many of the series' own typical daily moves,
QUIET_FLOOR = 0.02      # ... but never a bound below 2%
LEVEL_JUMP = 40         # a level's change: robust sigmas of its own nonzero changes
LEVEL_RANGE = 25        # a level's distance from its median: robust spreads of its levels
SPLIT_TOLERANCE = 0.06  # |ln(ratio / N)| within which a ratio is "near N"
REVERTS = 0.75          # share of a move the opposite one must undo to close a spike
SPIKE_MOVE = float(np.log(1.5))  # a one-day +50% (or -33%) undone the next day: any price
SPLIT_RATIOS = (2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50)
SPIKE_ROWS = 10         # ... within this many rows (a longer excursion is two shifts)
NOTES_PER_SERIES = 3    # findings listed per series in the notes; the rest are counted

Kind = Literal["spike", "shift", "range"]


def _robust_sigma(values: np.ndarray) -> float:
    """1.4826 MAD: the standard deviation of normal values, robust to a few bad ones."""
    if len(values) == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def _typical_move(steps: np.ndarray) -> float:
    """1.4826 times the median size of the nonzero steps: a normal step's sigma, robust to
    bad ones and never zero for a series that moves (a MAD is, when most steps are equal)."""
    moved = np.abs(steps[steps != 0])
    return float(1.4826 * np.median(moved)) if len(moved) else 0.0


def _num(value: float) -> str:
    return f"{value:,.0f}" if 1e5 <= abs(value) < 1e15 else f"{value:,.4g}"


def _ratio(value: float) -> str:
    """``×0.1042, -89.6%``; a ratio beyond 0.01..100 without the percent."""
    text = f"×{value:,.0f}" if 1e4 <= value < 1e15 else f"×{value:.4g}"
    return f"{text}, {value - 1:+.1%}" if 0.01 <= value <= 100 else text


@dataclass(frozen=True)
class Suspicious:
    """One finding: a spike (bad values from ``date`` to ``last``, undone on ``back``), a
    level shift from ``date`` on, or a run of levels outside the series' own range.
    ``before`` is the value before ``date``; ``after`` the value on ``date`` (the most
    extreme one for a range)."""

    ticker: str
    series: Literal["price", "level", "fred"]
    kind: Kind
    date: pd.Timestamp
    last: pd.Timestamp
    before: float
    after: float
    bound: str                          # the bound it broke, in words
    back: pd.Timestamp | None = None    # a spike: the first good day after it
    days: int = 1                       # rows from date to last
    hint: str = ""                      # "looks like an unadjusted 10:1 split"
    final: bool = False                 # a shift on the series' last row

    @property
    def name(self) -> str:
        return f"FRED series {self.ticker}" if self.series == "fred" else self.ticker

    @property
    def noun(self) -> str:
        """``price`` for an asset's price, ``value`` for a level or FRED series."""
        return "price" if self.series == "price" else "value"

    @property
    def ratio(self) -> float | None:
        """``after / before`` when both are positive."""
        if self.before > 0 and self.after > 0:
            return self.after / self.before
        return None

    def size(self) -> str:
        """The move in words: ratio and percent for prices, ratio or change for levels."""
        ratio = self.ratio
        if self.series == "price" and ratio is not None:
            return _ratio(ratio)
        change = f"change {self.after - self.before:+,.4g}"
        return f"{_ratio(ratio)}, {change}" if ratio is not None else change

    def __str__(self) -> str:
        hint = f": {self.hint}" if self.hint else ""
        if self.kind == "range":
            span = (f"on {self.date.date()}" if self.days == 1 else
                    f"from {self.date.date()} to {self.last.date()} ({self.days} values)")
            return (f"{self.name} {span}: {_num(self.after)}, far outside its own range "
                    f"({self.bound}){hint}; check the source")
        move = f"{_num(self.after)} after {_num(self.before)} ({self.size()}; {self.bound})"
        if self.kind == "spike":
            span = (f"on {self.date.date()}" if self.days == 1 else
                    f"from {self.date.date()} to {self.last.date()}")
            return (f"{self.name} {span}: {move}, back on {self.back.date()}: a "
                    f"{self.days}-day spike that reverts{hint}; check the source")
        where = ("on the series' last row, nothing after it to revert" if self.final
                 else "and it does not revert")
        return f"{self.name} on {self.date.date()}: {move} {where}{hint}; check the source"

    def record(self) -> dict[str, object]:
        """The finding as the manifest stores it (``manifest.SuspiciousRecord``)."""
        return {"ticker": self.ticker, "series": self.series, "kind": self.kind,
                "date": str(self.date.date()), "last": str(self.last.date()),
                "before": self.before if np.isfinite(self.before) else None,
                "after": self.after, "ratio": self.ratio, "hint": self.hint, "note": str(self)}


def _near(factor: float, candidates: Iterable[int]) -> int | None:
    """The candidate N with ``|ln(factor / N)| <= SPLIT_TOLERANCE``, if any."""
    for n in candidates:
        if abs(np.log(factor / n)) <= SPLIT_TOLERANCE:
            return n
    return None


def _hint(ratio: float | None, stock: bool) -> str:
    """What a jump by ``ratio`` looks like: for a stock or ETF, a ratio near N or 1/N (N
    from 2 to 10, a round 15..50 or a power of ten) an unadjusted split; a power of ten
    from 100 on (from 10 for crypto and levels, which never split) a unit or scale error."""
    if ratio is None or ratio <= 0:
        return ""
    factor = max(ratio, 1 / ratio)
    tens = tuple(10 ** k for k in range(1, 13))
    n = _near(factor, SPLIT_RATIOS + tens if stock else tens)
    if n is None:
        return ""
    unit = f"a unit or scale error ({'÷' if ratio < 1 else '×'}{n:,})"
    if not stock:
        return f"looks like {unit}"
    split = (f"an unadjusted {n}:1 split" if ratio < 1
             else f"an unadjusted 1:{n} reverse split")
    return f"looks like {split}" + (f" or {unit}" if n >= 100 else "")


def _pair(steps: np.ndarray, flagged: np.ndarray) -> list[tuple[int, int | None]]:
    """Flagged steps as (first, undone-at or None): a step and the next flagged one, at
    most ``SPIKE_ROWS`` later, in the other direction that undoes at least ``REVERTS`` of
    it are one spike."""
    out: list[tuple[int, int | None]] = []
    k = 0
    while k < len(flagged):
        i = flagged[k]
        if k + 1 < len(flagged):
            j = flagged[k + 1]
            if (j - i <= SPIKE_ROWS and np.sign(steps[i]) != np.sign(steps[j])
                    and abs(steps[i] + steps[j]) <= (1 - REVERTS) * abs(steps[i])):
                out.append((i, j))
                k += 2
                continue
        out.append((i, None))
        k += 1
    return out


def _findings(series: pd.Series, kind: Literal["price", "level", "fred"], steps: np.ndarray,
              flagged: np.ndarray, bound: str, stock: bool) -> list[Suspicious]:
    """Findings from flagged steps (step i moves row i to row i + 1)."""
    values, index = series.to_numpy(dtype=float), series.index
    out = []
    for i, j in _pair(steps, flagged):
        before, after = float(values[i]), float(values[i + 1])
        ratio = after / before if before > 0 and after > 0 else None
        if j is None:
            out.append(Suspicious(str(series.name), kind, "shift", index[i + 1], index[i + 1],
                                  before, after, bound, hint=_hint(ratio, stock),
                                  final=i + 2 == len(values)))
        else:
            out.append(Suspicious(str(series.name), kind, "spike", index[i + 1], index[j],
                                  before, after, bound, back=index[j + 1], days=j - i,
                                  hint=_hint(ratio, stock)))
    return out


def _price_findings(series: pd.Series) -> list[Suspicious]:
    logs = np.diff(np.log(series.to_numpy(dtype=float)))
    crypto = is_continuous(series)
    cap = CRYPTO_MOVE if crypto else STOCK_MOVE
    bound = min(cap, max(QUIET_FLOOR, QUIET_SIGMAS * _typical_move(logs)))
    what = ("crypto" if crypto else "stocks and ETFs") if bound == cap else (
        f"this quiet series ({QUIET_SIGMAS} of its typical daily moves)")
    words = f"a day's ratio beyond {np.exp(-bound):.3g}..{np.exp(bound):.3g}, the bound for {what}"
    # the one-day spike rule, whatever the class: +50% (or -33%) undone by 3/4 next day
    jump, back = logs[:-1], logs[1:]
    spike = ((np.abs(jump) >= SPIKE_MOVE) & (np.abs(back) >= SPIKE_MOVE)
             & (np.abs(jump + back) <= (1 - REVERTS) * np.abs(jump)))
    beyond = np.abs(logs) > bound
    beyond[:-1] |= spike
    beyond[1:] |= spike
    found = _findings(series, "price", logs, np.flatnonzero(beyond), words, stock=not crypto)
    return [s if abs(np.log(s.ratio or 1)) > bound else
            replace(s, bound="a one-day spike of at least +50% or -33%") for s in found]


def _level_findings(series: pd.Series, kind: Literal["level", "fred"]) -> list[Suspicious]:
    values = series.to_numpy(dtype=float)
    steps = np.diff(values)
    sigma = _typical_move(steps)
    out: list[Suspicious] = []
    if sigma > 0:
        larger = np.maximum(np.abs(values[1:]), np.abs(values[:-1]))
        flagged = np.flatnonzero((np.abs(steps) > LEVEL_JUMP * sigma)
                                 & (np.abs(steps) >= 0.5 * larger))
        words = (f"more than {LEVEL_JUMP} of its typical changes ({sigma:.3g}) and at least "
                 "halving or doubling the level")
        out = _findings(series, kind, steps, flagged, words, stock=False)
    median, spread = float(np.median(values)), _robust_sigma(values)
    if spread > 0:
        outside = np.abs(values - median) > LEVEL_RANGE * spread
        explained = {s.date for s in out}
        index = series.index
        k = 0
        while k < len(values):
            if not outside[k]:
                k += 1
                continue
            end = k
            while end + 1 < len(values) and outside[end + 1]:
                end += 1
            if index[k] not in explained:
                worst = k + int(np.argmax(np.abs(values[k:end + 1] - median)))
                out.append(Suspicious(
                    str(series.name), kind, "range", index[k], index[end],
                    float(values[k - 1]) if k else float("nan"), float(values[worst]),
                    f"median {median:,.4g} +/- {LEVEL_RANGE} x {spread:.3g}",
                    days=end - k + 1))
            k = end + 1
    return out


def scan_series(series: pd.Series, fred: bool = False) -> list[Suspicious]:
    """Every suspicious move in one series (name = its ticker or FRED id), by the rules in
    this module's docstring: prices by class, a ``^`` ticker, a FRED id or a series with a
    value <= 0 as a level."""
    series = series.dropna()
    if len(series) < 2:
        return []
    with np.errstate(all="ignore"):     # hostile values (1e308, 5e-324) give inf, not noise
        if fred:
            return _level_findings(series, "fred")
        if str(series.name).startswith("^") or not (series.to_numpy() > 0).all():
            return _level_findings(series, "level")
        return _price_findings(series)


def find_suspicious(prices: Mapping[str, pd.Series],
                    fred: Mapping[str, pd.Series] | None = None,
                    until: pd.Timestamp | None = None) -> list[Suspicious]:
    """Findings in every series of ``prices`` (tickers) and ``fred`` (FRED ids), those
    dated after ``until`` left out (data a run does not read), in input order."""
    found = [s for series in prices.values() for s in scan_series(series)]
    found += [s for series in (fred or {}).values() for s in scan_series(series, fred=True)]
    return [s for s in found if until is None or s.date <= until]


def check_suspicious(found: list[Suspicious], strict: bool, source: str) -> None:
    """With ``strict`` the first finding is an error naming the series, date and size."""
    if strict and found:
        raise DataError(f"Suspicious {found[0].noun}: {found[0]} ({source}; {len(found)} finding(s) in "
                        "all). Fix the data, start the ticker after it (ticker_start), or "
                        "drop --strict-prices / strict_prices to accept them as warnings.")


def suspicious_notes(found: list[Suspicious], shown: int = NOTES_PER_SERIES) -> list[str]:
    """One note per finding, at most ``shown`` per series plus a count of the rest."""
    notes: list[str] = []
    by_series: dict[str, list[Suspicious]] = {}
    for s in found:
        by_series.setdefault(s.name, []).append(s)
    for name, items in by_series.items():
        noun = items[0].noun
        notes += [f"suspicious {noun}: {s}" for s in items[:shown]]
        if len(items) > shown:
            notes.append(f"suspicious {noun}: {len(items) - shown} more finding(s) in {name} "
                         "(`durationbt data status` lists them all)")
    return notes
