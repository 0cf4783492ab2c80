"""`strategies check`: run a strategy, validate its weights, and catch lookahead by
changing the future: for each cut date the data after it are altered, and no weight on a
decision date up to the cut may move."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .api import build_context, compute_weights
from .data.market import MarketData
from .errors import DurationbtError
from .strategy import Context, Strategy
from .universe import Universe

__all__ = ["CheckResult", "alter_after", "altered_contexts", "lookahead_in", "find_lookahead",
           "check_strategy"]


@dataclass(frozen=True)
class CheckResult:
    """Outcome of checking one strategy on one data set."""

    data: str
    ok: bool
    problems: tuple[str, ...]
    seconds: float            # one call of target_weights, validation included
    decisions: int


def alter_after(market: MarketData, cut: pd.Timestamp, how: str = "reflect",
                seed: int = 99) -> MarketData:
    """A copy of ``market`` whose future differs after ``cut`` and whose FRED observations
    after ``cut`` are gone. ``reflect`` mirrors every path at its level on the cut (positive series
    multiplicatively, series that can be <= 0 such as yields additively), so each later rise becomes a fall;
    ``scramble`` multiplies prices and inputs by an unrelated random walk."""
    rng = np.random.default_rng(seed)
    after = market.prices.index > cut
    at_cut = market.prices.index[market.prices.index <= cut][-1]

    def alter(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        future = frame.loc[after].to_numpy()
        anchor = frame.loc[at_cut].to_numpy()
        if how == "reflect":
            # positive series (prices, VIX) mirror in logs so they stay positive
            positive = (frame.fillna(1.0) > 0).all().to_numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                mirrored = np.where(positive, anchor ** 2 / future, 2 * anchor - future)
            out.loc[after] = mirrored
        else:
            shape = (int(after.sum()), frame.shape[1])
            out.loc[after] = future * np.exp(np.cumsum(rng.normal(0, 0.03, shape), axis=0))
        return out

    fred = {k: v.loc[:cut] for k, v in market.fred.items()}
    return replace(market, prices=alter(market.prices), inputs=alter(market.inputs), fred=fred)


AlteredContext = tuple[pd.Timestamp, str, Context]


def altered_contexts(universe: Universe, market: MarketData, rebalance: str,
                     cuts: list[pd.Timestamp]) -> list[AlteredContext]:
    """For each cut, a context whose data after the cut are mirrored, and one where they are
    scrambled. Built once and reused for every strategy (or parameter set) checked."""
    return [(cut, how, build_context(universe, alter_after(market, cut, how), rebalance))
            for cut in cuts for how in ("reflect", "scramble")]


def lookahead_in(strategy: Strategy, base: pd.DataFrame, contexts: list[AlteredContext],
                 tolerance: float = 1e-12) -> list[str]:
    """Weights on decision dates <= cut that change when only data after the cut change;
    ``base``: the weights on the unaltered data. Reports the first change found."""
    for cut, how, ctx in contexts:
        altered = compute_weights(strategy, ctx)
        past = base.index[base.index <= cut]
        diff = (base.loc[past] - altered.loc[past]).abs()
        moved = diff.gt(tolerance)
        if moved.to_numpy().any():
            row, col = np.argwhere(moved.to_numpy())[0]
            date, ticker = past[row], base.columns[col]
            return [f"lookahead: the weight of {ticker} on {date.date()} changed from "
                    f"{base.loc[date, ticker]:.6g} to {altered.loc[date, ticker]:.6g} "
                    f"when only data after {cut.date()} were altered ({how})"]
    return []


def find_lookahead(strategy: Strategy, universe: Universe, market: MarketData,
                   rebalance: str, cuts: list[pd.Timestamp], tolerance: float = 1e-12,
                   base: pd.DataFrame | None = None) -> list[str]:
    """Weights on decision dates <= cut that change when only data after the cut change.
    ``base``: the weights on the unaltered data, when the caller already has them."""
    if base is None:
        base = compute_weights(strategy, build_context(universe, market, rebalance))
    return lookahead_in(strategy, base, altered_contexts(universe, market, rebalance, cuts),
                        tolerance)


def check_strategy(strategy: Strategy, universe: Universe, market: MarketData, *,
                   rebalance: str = "monthly", cuts: int = 3) -> CheckResult:
    """Run, validate and lookahead-check ``strategy`` on ``market``."""
    ctx = build_context(universe, market, rebalance)
    began = time.perf_counter()
    try:
        weights = compute_weights(strategy, ctx)
    except DurationbtError as exc:
        return CheckResult(market.source, False, (str(exc),), time.perf_counter() - began,
                           len(ctx.rebalance_dates))
    seconds = time.perf_counter() - began
    dates = ctx.rebalance_dates
    picks = [dates[int(len(dates) * q)] for q in np.linspace(0.25, 0.75, cuts)]
    try:
        problems = find_lookahead(strategy, universe, market, rebalance, picks, base=weights)
    except DurationbtError as exc:
        problems = [f"on altered future data: {exc}"]
    return CheckResult(market.source, not problems, tuple(problems), seconds, len(dates))
