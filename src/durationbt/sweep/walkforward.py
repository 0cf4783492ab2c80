"""Walk-forward analysis: on each training window pick the combination with the best
metric, trade it over the following test window, stitch the test windows into one
out-of-sample run, and set it beside the in-sample numbers (the gap is the point).

Windows end on decision dates: the parameters chosen with data up to a window's last
decision date (inclusive) set the weights decided on that date, which trade the next day.
The stitched run goes through the single-run engine, switching costs included."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..engine import Costs, simulate
from ..errors import ParameterError
from ..scoring import performance_metrics
from .metrics import equity_metrics
from .sweep import LOWER_IS_BETTER, PreparedGrid, check_metric, simulate_grid

__all__ = ["Window", "parse_span", "walk_forward_windows", "choose_per_window",
           "WalkForwardResult", "walk_forward", "default_trial_of", "write_walkforward"]

_SPAN = re.compile(r"^\s*(\d+)\s*([ymwd])\s*$", re.IGNORECASE)


def parse_span(text: str, option: str) -> pd.DateOffset:
    """``3y``, ``18m``, ``26w``, ``90d`` -> a calendar offset."""
    match = _SPAN.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise ParameterError(f"{option} {text!r} is not a span; use e.g. 3y, 18m, 26w or 90d.")
    n, unit = int(match.group(1)), match.group(2).lower()
    return {"y": pd.DateOffset(years=n), "m": pd.DateOffset(months=n),
            "w": pd.DateOffset(weeks=n), "d": pd.DateOffset(days=n)}[unit]


@dataclass(frozen=True)
class Window:
    """Train on days [train_start, train_end]; trade the choice from the day after
    train_end up to and including test_end (the next window's train_end)."""

    train_start: pd.Timestamp
    train_end: pd.Timestamp
    test_end: pd.Timestamp


def walk_forward_windows(calendar: pd.DatetimeIndex, decisions: pd.DatetimeIndex,
                         train: pd.DateOffset, test: pd.DateOffset) -> list[Window]:
    """Rolling windows: each training window spans ``train`` back from a decision date; the
    next window starts ``test`` later. The last test window ends on the calendar's end."""
    first, last = calendar[0], calendar[-1]
    ends: list[pd.Timestamp] = []
    target = first + train
    while target < last:
        candidates = decisions[decisions <= target]
        if len(candidates) and (not ends or candidates[-1] > ends[-1]):
            ends.append(candidates[-1])
        target = target + test
    if not ends:
        raise ParameterError(f"The data ({first.date()} to {last.date()}) are too short for a "
                             "training window of that length; shorten --train or lengthen the range.")
    windows = []
    for k, end in enumerate(ends):
        start = calendar[calendar.searchsorted(end - train)]
        test_end = ends[k + 1] if k + 1 < len(ends) else last
        if test_end > end:
            windows.append(Window(pd.Timestamp(start), pd.Timestamp(end), pd.Timestamp(test_end)))
    return windows


def _slice_metric(equity: np.ndarray, calendar: pd.DatetimeIndex, start: pd.Timestamp,
                  end: pd.Timestamp, metric: str) -> np.ndarray:
    lo, hi = calendar.get_loc(start), calendar.get_loc(end)
    part = equity[:, lo:hi + 1]
    return equity_metrics(part, np.zeros(len(part)))[metric]


def choose_per_window(equity: np.ndarray, calendar: pd.DatetimeIndex, windows: list[Window],
                      metric: str) -> list[tuple[int, float]]:
    """For each window, the trial (row of ``equity``) with the best ``metric`` over the
    training days only, and that in-sample value. Ties go to the lowest trial number."""
    chosen = []
    for w in windows:
        values = _slice_metric(equity, calendar, w.train_start, w.train_end, metric)
        if np.isnan(values).all():
            raise ParameterError(f"No combination has a finite {metric} on the training window "
                                 f"{w.train_start.date()} to {w.train_end.date()}.")
        best = int(np.nanargmin(values) if metric in LOWER_IS_BETTER else np.nanargmax(values))
        chosen.append((best, float(values[best])))
    return chosen


@dataclass(frozen=True)
class WalkForwardResult:
    """Windows with their choices, the stitched out-of-sample equity, and the comparison."""

    metric: str
    windows: pd.DataFrame        # one row per window: dates, chosen params, IS and OOS metric
    equity: pd.DataFrame         # out-of-sample, default params, hindsight best, benchmark
    summary: pd.DataFrame        # rows: the curves above plus in-sample; columns: metrics


def walk_forward(prep: PreparedGrid, decisions: pd.DatetimeIndex, train: pd.DateOffset,
                 test: pd.DateOffset, metric: str, costs: Costs, init_cash: float,
                 benchmark: pd.Series, default_trial: int | None = None) -> WalkForwardResult:
    """Run the walk-forward over a prepared grid (see ``prepare_grid``)."""
    check_metric(metric)
    if metric == "turnover":
        raise ParameterError("--metric turnover cannot choose parameters per window; use a "
                             "return or risk metric.")
    calendar = pd.DatetimeIndex(prep.prices.index)
    windows = walk_forward_windows(calendar, decisions, train, test)
    run = simulate_grid(prep, costs, init_cash, keep_equity=True)
    chosen = choose_per_window(run.equity, calendar, windows, metric)

    pieces = []
    for w, (trial, _) in zip(windows, chosen, strict=True):
        frame = prep.frames[trial]
        pieces.append(frame.loc[(frame.index >= w.train_end) & (frame.index < w.test_end)])
    stitched = pd.concat(pieces)
    oos_start = windows[0].train_end
    prices = prep.prices.loc[oos_start:]
    oos = simulate(prices, stitched, costs=costs, init_cash=init_cash)

    def rebased(series: pd.Series) -> pd.Series:
        part = series.loc[oos_start:]
        return part / part.iloc[0] * init_cash

    hindsight_values = _slice_metric(run.equity, calendar, oos_start, calendar[-1], metric)
    hindsight = int(np.nanargmin(hindsight_values) if metric in LOWER_IS_BETTER
                    else np.nanargmax(hindsight_values))
    curves = {"walk-forward (out of sample)": oos.equity}
    if default_trial is not None:
        curves["default parameters"] = rebased(pd.Series(run.equity[default_trial], index=calendar))
    curves["best in hindsight"] = rebased(pd.Series(run.equity[hindsight], index=calendar))
    curves[f"benchmark ({benchmark.name})"] = rebased(benchmark)
    equity = pd.DataFrame(curves)

    rows = []
    names = list(prep.combos[0])
    for w, (trial, in_sample) in zip(windows, chosen, strict=True):
        params = next(c for c, t in zip(prep.combos, prep.trial_of_combo, strict=True) if t == trial)
        oos_part = oos.equity.loc[w.train_end:w.test_end].to_numpy()[None, :]
        rows.append({"train_start": w.train_start.date(), "train_end": w.train_end.date(),
                     "test_end": w.test_end.date(), **{n: params[n] for n in names},
                     f"in_sample_{metric}": in_sample,
                     f"out_of_sample_{metric}": float(equity_metrics(oos_part, np.zeros(1))[metric][0])})
    table = pd.DataFrame(rows)
    table.index = pd.RangeIndex(1, len(table) + 1, name="window")

    zero = pd.Series(0.0, index=equity.index)
    summary = {name: performance_metrics(curve.dropna(), zero.loc[curve.dropna().index])
               for name, curve in equity.items()}
    frame = pd.DataFrame(summary).T[["cagr", "volatility", "sharpe", "sortino", "max_drawdown",
                                     "calmar"]].astype(float)
    frame.loc["in sample (average of windows)", metric] = table[f"in_sample_{metric}"].mean()
    frame.loc["out of sample (average of windows)", metric] = table[f"out_of_sample_{metric}"].mean()
    return WalkForwardResult(metric=metric, windows=table, equity=equity, summary=frame)


def default_trial_of(prep: PreparedGrid, defaults: dict[str, Any]) -> int | None:
    """The trial whose combination equals the strategy's defaults, if the grid holds it."""
    for combo, trial in zip(prep.combos, prep.trial_of_combo, strict=True):
        if all(combo[k] == defaults.get(k) for k in combo):
            return int(trial)
    return None


def write_walkforward(result: WalkForwardResult, identity: dict[str, Any], out) -> Any:
    """``results/<time>-walkforward-<strategy>-<hash>/``: windows.csv, equity.csv,
    summary.csv, manifest.json and walkforward.html, written atomically."""
    from pathlib import Path

    from ..report.walkforward_page import write_walkforward_page
    from ..runs import run_id, staging_folder, write_frame, write_json

    created = pd.Timestamp.now(tz="UTC")
    name = run_id(created, f"walkforward-{identity['strategy']}", identity)
    with staging_folder(Path(out), name) as (folder, final):
        write_json(folder / "manifest.json", {"schema": 1, "command": "walkforward",
                                              "created_utc": created.isoformat(timespec="seconds"),
                                              **identity})
        write_frame(folder / "windows.csv", result.windows)
        write_frame(folder / "equity.csv", result.equity)
        write_frame(folder / "summary.csv", result.summary)
        write_walkforward_page(folder / "walkforward.html", result, identity)
    return final[0]
