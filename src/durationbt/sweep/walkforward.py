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

from ..book import Book
from ..engine import Costs
from ..errors import ParameterError
from ..longshort import simulate_book
from ..lookahead import LookaheadProbe
from ..metrics import METRICS
from ..riskfree import RiskFree
from ..scoring import performance_metrics
from ..strategy import Context, Strategy
from .executors import Executor
from .kernel import execution_rows
from .metrics import equity_metrics
from .sweep import Budget, GridRun, check_metric, run_grid

__all__ = ["Window", "parse_span", "walk_forward_windows", "choose_per_window",
           "window_metrics", "WalkForwardResult", "walk_forward"]

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
                  end: pd.Timestamp, metric: str, risk_free: np.ndarray | None) -> np.ndarray:
    lo, hi = calendar.get_loc(start), calendar.get_loc(end)
    part = equity[:, lo:hi + 1]
    rf = None if risk_free is None else risk_free[lo:hi + 1]
    return equity_metrics(part, np.zeros(len(part)), rf)[metric]


def window_metrics(equity: np.ndarray, calendar: pd.DatetimeIndex, windows: list[Window],
                   metric: str, risk_free: np.ndarray | None = None) -> np.ndarray:
    """``metric`` of each row of ``equity`` over each window's training days: trials x
    windows; ``risk_free``: daily risk-free returns on ``calendar`` (None: 0)."""
    return np.column_stack([_slice_metric(equity, calendar, w.train_start, w.train_end, metric,
                                          risk_free) for w in windows])


def _choose(values: np.ndarray, windows: list[Window], metric: str) -> list[tuple[int, float]]:
    chosen = []
    for k, w in enumerate(windows):
        column = values[:, k]
        if np.isnan(column).all():
            raise ParameterError(f"No combination has a finite {metric} on the training window "
                                 f"{w.train_start.date()} to {w.train_end.date()}.")
        best = METRICS[metric].best(column)
        chosen.append((best, float(column[best])))
    return chosen


def choose_per_window(equity: np.ndarray, calendar: pd.DatetimeIndex, windows: list[Window],
                      metric: str, risk_free: np.ndarray | None = None) -> list[tuple[int, float]]:
    """For each window, the trial (row of ``equity``) with the best ``metric`` over the
    training days only, and that in-sample value. Ties go to the lowest trial number."""
    return _choose(window_metrics(equity, calendar, windows, metric, risk_free), windows, metric)


@dataclass(frozen=True)
class WalkForwardResult:
    """Windows with their choices, the stitched out-of-sample equity, and the comparison."""

    metric: str
    windows: pd.DataFrame        # one row per window: dates, chosen params, IS and OOS metric
    equity: pd.DataFrame         # out-of-sample, default params, hindsight best, benchmark
    summary: pd.DataFrame        # rows: the curves above plus in-sample; columns: metrics


def walk_forward(strategy: type[Strategy], combos: list[dict[str, Any]], ctx: Context,
                 market_window: pd.DataFrame, train: pd.DateOffset, test: pd.DateOffset,
                 metric: str, costs: Costs, init_cash: float, benchmark: pd.Series, *,
                 defaults: dict[str, Any] | None = None, lookahead: LookaheadProbe | None = None,
                 progress=None, executor: Executor | None = None,
                 budget: Budget | None = None,
                 risk_free: RiskFree | None = None, book: Book | None = None) -> WalkForwardResult:
    """Run the walk-forward over every combination (one streaming pass, see ``run_grid``,
    its map on ``executor``, bounded by ``budget``; only each trial's per-window training
    metric is kept). Sharpe-like metrics are in excess of ``risk_free``, which also holds
    uninvested weight (None: rf = 0, idle cash)."""
    check_metric(metric)
    if metric == "turnover":
        raise ParameterError("--metric turnover cannot choose parameters per window; use a "
                             "return or risk metric.")
    calendar = pd.DatetimeIndex(market_window.index)
    _, decisions = execution_rows(calendar, ctx.rebalance_dates[ctx.rebalance_dates <= calendar[-1]])
    windows = walk_forward_windows(calendar, decisions, train, test)
    oos_start = windows[0].train_end
    rf_series = (pd.Series(0.0, index=calendar) if risk_free is None
                 else risk_free.returns(market_window, ctx.inputs))
    rf = rf_series.to_numpy()

    def reduce(equity: np.ndarray) -> np.ndarray:
        return np.column_stack([window_metrics(equity, calendar, windows, metric, rf),
                                _slice_metric(equity, calendar, oos_start, calendar[-1], metric,
                                              rf)])

    run = run_grid(strategy, combos, ctx, market_window, costs=costs, init_cash=init_cash,
                   lookahead=lookahead, reduce=reduce, progress=progress, executor=executor,
                   budget=budget, risk_free=risk_free, book=book)
    chosen = _choose(run.reduced[:, :len(windows)], windows, metric)

    frames = run.targets(sorted({t for t, _ in chosen}))   # one worker process for them all
    pieces = []
    for w, (trial, _) in zip(windows, chosen, strict=True):
        frame = frames[trial]
        pieces.append(frame.loc[(frame.index >= w.train_end) & (frame.index < w.test_end)])
    oos = simulate_book(run.prices.loc[oos_start:], pd.concat(pieces), costs=costs,
                        init_cash=init_cash, book=run.job.book, cash_ticker=run.cash)

    def rebased(series: pd.Series) -> pd.Series:
        part = series.loc[oos_start:]
        return part / part.iloc[0] * init_cash

    curves = {"walk-forward (out of sample)": oos.equity}
    default_trial = _trial_with(run, defaults) if defaults is not None else None
    if default_trial is not None:
        curves["default parameters"] = rebased(run.equity_of(default_trial, ctx, costs, init_cash))
    hindsight = METRICS[metric].best(run.reduced[:, -1])
    curves["best in hindsight"] = rebased(run.equity_of(hindsight, ctx, costs, init_cash))
    curves[f"benchmark ({benchmark.name})"] = rebased(benchmark)
    equity = pd.DataFrame(curves)

    rows = []
    names = list(combos[0])
    for w, (trial, in_sample) in zip(windows, chosen, strict=True):
        params = run.params_of(trial)
        oos_part = oos.equity.loc[w.train_end:w.test_end].to_numpy()[None, :]
        oos_rf = rf_series.loc[w.train_end:w.test_end].to_numpy()
        rows.append({"train_start": w.train_start.date(), "train_end": w.train_end.date(),
                     "test_end": w.test_end.date(), **{n: params[n] for n in names},
                     f"in_sample_{metric}": in_sample,
                     f"out_of_sample_{metric}": float(
                         equity_metrics(oos_part, np.zeros(1), oos_rf)[metric][0])})
    table = pd.DataFrame(rows)
    table.index = pd.RangeIndex(1, len(table) + 1, name="window")

    zero = pd.Series(0.0, index=equity.index)
    summary = {name: performance_metrics(curve.dropna(), zero.loc[curve.dropna().index],
                                         rf_series)
               for name, curve in equity.items()}
    frame = pd.DataFrame(summary).T[["cagr", "volatility", "sharpe", "sortino", "max_drawdown",
                                     "calmar"]].astype(float)
    frame.loc["in sample (average of windows)", metric] = table[f"in_sample_{metric}"].mean()
    frame.loc["out of sample (average of windows)", metric] = table[f"out_of_sample_{metric}"].mean()
    return WalkForwardResult(metric=metric, windows=table, equity=equity, summary=frame)


def _trial_with(run: GridRun, params: dict[str, Any]) -> int | None:
    """The trial of the combination equal to ``params``, if the grid holds it."""
    for k, combo in enumerate(run.combos):
        if all(combo[name] == params.get(name) for name in combo):
            return int(run.trial_of_combo[k])
    return None
