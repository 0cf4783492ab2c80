"""The data a lookahead replay sees: the context cut at a decision date, its future
either absent (``truncate``) or replaced (``mirror``, ``scramble``, ``rescale``), and the
seeded choice of cut dates. Which series exist after the cut is what was known at it: a
series with a value at the cut runs on to the end, one without has no future, so a filter
on whose data end later (survivorship) sees every member that was alive."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .strategy import Context

__all__ = ["VARIANTS", "SEED", "MIN_SAMPLE", "CutData", "choose_cuts"]

VARIANTS = ("truncate", "mirror", "scramble", "rescale")
SEED = 20_260_101      # the default seed of the cut sample and the replaced futures
MIN_SAMPLE = 100       # cut dates on a weekly or daily schedule, before bisection


def choose_cuts(dates: pd.DatetimeIndex, every: bool, seed: int,
                size: int = MIN_SAMPLE) -> pd.DatetimeIndex:
    """Every decision date, or a seeded sample of ``size`` (at least a fifth of them, or all,
    from the final 10%), always with the first and last date."""
    if every or len(dates) <= size:
        return dates
    rng = np.random.default_rng(seed)
    split = int(len(dates) * 0.9)
    tail_n = min(len(dates) - split, max(size // 5, 2), size - 1)
    head = rng.choice(split, size=size - tail_n, replace=False)
    tail = split + rng.choice(len(dates) - split, size=tail_n, replace=False)
    picks = np.union1d(np.union1d(head, tail), [0, len(dates) - 1])
    return dates[picks]


def _replace_future(values: np.ndarray, n_past: int, positive: np.ndarray, variant: str,
                    rng: np.random.Generator) -> np.ndarray:
    """Rows from ``n_past`` on replaced; positive series (prices, VIX) multiplicatively,
    others (yields, z-scores) additively, so each stays a plausible series of its kind.
    A series with a value at the cut runs on to the end (the gaps of its future, such as
    the rows after a later delisting, continued from its last level by a random walk); one
    without has no future (a later listing is not announced)."""
    out = np.empty_like(values)
    out[:n_past] = values[:n_past]
    if n_past == len(values):
        return out
    if not n_past:               # nothing was known at the cut
        out[:] = np.nan
        return out
    future = values[n_past:]
    alive = ~np.isnan(values[n_past - 1])
    gaps = np.isnan(future)
    gaps &= alive
    cols = np.flatnonzero(gaps.any(axis=0))    # few: the series that stop later
    if cols.size:
        stacked = values[n_past - 1:, cols]      # the cut's row, then the future
        last = np.where(np.isnan(stacked), 0, np.arange(len(stacked))[:, None])
        level = np.take_along_axis(stacked, np.maximum.accumulate(last, axis=0), axis=0)[1:]
        drift = np.cumsum(rng.normal(0.0, 0.02, level.shape), axis=0)
        fill = _by_kind(positive[cols], lambda: level * np.exp(drift), lambda: level + drift)
        future = future.copy()
        future[:, cols] = np.where(gaps[:, cols], fill, future[:, cols])
    anchor = values[n_past - 1]
    shape = future.shape
    with np.errstate(divide="ignore", invalid="ignore"):
        if variant == "mirror":
            new = _by_kind(positive, lambda: anchor ** 2 / future, lambda: 2 * anchor - future)
        elif variant == "scramble":
            walk = np.cumsum(rng.normal(0.0, 0.04, shape), axis=0)
            new = _by_kind(positive, lambda: future * np.exp(walk), lambda: future + 10 * walk)
        else:  # rescale: each series by its own factor between 1/100 and 1/10 or 10 and 100
            factor = 10 ** (rng.uniform(1, 2, shape[1]) * rng.choice([-1, 1], shape[1]))
            new = future * factor
    new[:, ~alive] = np.nan
    out[n_past:] = new
    return out


def _by_kind(positive: np.ndarray, multiplicative, additive) -> np.ndarray:
    """Per column: ``multiplicative()`` where ``positive``, else ``additive()`` (each
    computed only when some column needs it)."""
    if positive.all():
        return multiplicative()
    if not positive.any():
        return additive()
    return np.where(positive, multiplicative(), additive())


def _replace_regimes(regime: pd.Series, cut: pd.Timestamp, variant: str,
                     rng: np.random.Generator) -> pd.Series:
    """The regimes after ``cut`` swapped (scarce <-> abundant, the rest neutral), shuffled
    or reversed; taken from the series itself, so its dtype stays."""
    n, n_past = len(regime), int(regime.index.searchsorted(cut, side="right"))
    if variant == "mirror":
        later = np.arange(n) >= n_past
        is_ = {label: (regime == label).to_numpy(dtype=bool, na_value=False)
               for label in ("scarce", "abundant", "neutral")}
        swap = {"scarce": "abundant", "abundant": "scarce"}
        order = np.arange(n)
        for label in ("scarce", "abundant", None):
            rows = later & (is_[label] if label else ~is_["scarce"] & ~is_["abundant"])
            source = is_[swap.get(label, "neutral")]
            if rows.any() and not source.any():   # no row of that label anywhere: write it
                return (regime.mask(later & is_["scarce"], "abundant")
                        .mask(later & is_["abundant"], "scarce")
                        .mask(later & ~is_["scarce"] & ~is_["abundant"], "neutral"))
            order[rows] = int(np.argmax(source))
    else:
        tail = rng.permutation(n - n_past) if variant == "scramble" else np.arange(n - n_past)[::-1]
        order = np.concatenate([np.arange(n_past), n_past + tail])
    return pd.Series(regime.array.take(order), index=regime.index, name=regime.name)


class CutData:
    """The float arrays and series kinds of one full context, read once; each replay
    copies them and replaces the future."""

    def __init__(self, ctx: Context, seed: int = SEED) -> None:
        self.ctx = ctx
        self.seed = seed
        self._frames = {"prices": ctx.prices, "inputs": ctx.inputs}
        if ctx.signal is not None:
            self._frames["components"] = ctx.signal.components
            self._frames["composite"] = ctx.signal.composite.to_frame()
        self._arrays = {k: f.to_numpy(dtype=float) for k, f in self._frames.items()}
        self._positive = {k: (np.nan_to_num(a, nan=1.0) > 0).all(axis=0)
                          if k in ("prices", "inputs") else np.zeros(a.shape[1], dtype=bool)
                          for k, a in self._arrays.items()}

    def context_at(self, cut: pd.Timestamp, variant: str) -> Context:
        """The full context with everything after ``cut`` removed or replaced."""
        ctx = self.ctx
        if variant == "truncate":
            return ctx.as_of(cut)
        position = int(np.searchsorted(ctx.rebalance_dates, cut))
        rng = np.random.default_rng([self.seed, position, VARIANTS.index(variant)])

        def frame(key: str) -> pd.DataFrame:
            data = self._frames[key]
            n_past = int(data.index.searchsorted(cut, side="right"))
            values = _replace_future(self._arrays[key], n_past, self._positive[key], variant, rng)
            return pd.DataFrame(values, index=data.index, columns=data.columns, copy=False)

        signal = ctx.signal
        if signal is not None:
            signal = replace(signal, regime=_replace_regimes(signal.regime, cut, variant, rng))
            signal = replace(signal, composite=frame("composite").iloc[:, 0],
                             components=frame("components"))
        return replace(ctx, prices=frame("prices"), inputs=frame("inputs"),
                       rebalance_dates=ctx.rebalance_dates[ctx.rebalance_dates <= cut],
                       signal=signal)

