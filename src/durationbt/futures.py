"""The data a lookahead replay sees: the context cut at a decision date, its future
either absent (``truncate``) or replaced (``mirror``, ``scramble``, ``rescale``), and the
seeded choice of cut dates. A replaced future spans at most FUTURE_ROWS trading days, so
a replay costs that future, not the whole history again. Which series exist after the cut
is what was known at it: a series with a value at the cut runs on to the end of the
replaced future, one without has no future, so a filter on whose data end later
(survivorship) sees every member that was alive."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .strategy import Context

__all__ = ["VARIANTS", "SEED", "MIN_SAMPLE", "FUTURE_ROWS", "CutData", "choose_cuts"]

VARIANTS = ("truncate", "mirror", "scramble", "rescale")
SEED = 20_260_101      # the default seed of the cut sample and the replaced futures
MIN_SAMPLE = 100       # cut dates on a weekly or daily schedule, before bisection
FUTURE_ROWS = 252      # trading days of replaced future after a cut (a year): a shift(-k)
                       # up to a year, a centred window or a whole-column reduction sees it


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


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column: the row of its last value (-1: none), and whether it has a hole between
    its first and last value; read once, so a replay finds the series that stop within
    its future without scanning it."""
    missing = np.isnan(values)
    count = len(values) - np.count_nonzero(missing, axis=0)
    first = missing.argmin(axis=0)
    last = np.where(count > 0, len(values) - 1 - missing[::-1].argmin(axis=0), -1)
    return last, (count > 0) & (count != last - first + 1)


def _stopping(values: np.ndarray, n_past: int, stop: int, alive: np.ndarray,
              runs: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The columns alive at the cut with a gap in rows ``n_past:stop``, in order: an
    unbroken series has one when its last value comes before the future's end."""
    last, holes = runs
    stopping = alive & ~holes & (last < stop - 1)
    broken = np.flatnonzero(alive & holes)
    stopping[broken] = np.isnan(values[n_past:stop, broken]).any(axis=0)
    return np.flatnonzero(stopping)


def _replace_future(values: np.ndarray, n_past: int, stop: int, positive: np.ndarray,
                    variant: str, rng: np.random.Generator, out: np.ndarray,
                    runs: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Rows ``n_past`` to ``stop`` of ``values`` replaced (the replay's future), written
    into ``out`` (that many rows: the working copy's, so no future is made twice);
    positive series (prices, VIX) multiplicatively, others (yields, z-scores) additively,
    so each stays a plausible series of its kind. A series with a value at the cut runs on
    to the end of that future (its gaps, such as the rows after a later delisting,
    continued from its last level by a random walk); one without has no future (a later
    listing is not announced). Only the columns with such gaps get a walk. Each element is
    the same float operation on the same seeded draws whatever the arrays' layout.
    ``runs``: ``_runs(values)``, which spares a scan of the future for gaps."""
    future = values[n_past:stop]
    if not n_past:               # nothing was known at the cut
        out[...] = np.nan
        return out
    alive = ~np.isnan(values[n_past - 1])
    cols = _stopping(values, n_past, stop, alive, runs)   # few: the series that stop later
    if cols.size:
        gaps = np.isnan(future[:, cols])
        stacked = values[n_past - 1:stop, cols]      # the cut's row, then the future
        last = np.where(np.isnan(stacked), 0, np.arange(len(stacked))[:, None])
        level = np.take_along_axis(stacked, np.maximum.accumulate(last, axis=0), axis=0)[1:]
        drift = np.cumsum(rng.normal(0.0, 0.02, level.shape), axis=0)
        fill = _by_kind(positive[cols], lambda: level * np.exp(drift), lambda: level + drift)
        out[...] = future
        out[:, cols] = np.where(gaps, fill, future[:, cols])
        future = out                                 # transformed in place below
    anchor = values[n_past - 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        if variant == "mirror":
            _by_kind_into(out, positive, lambda o: np.divide(anchor ** 2, future, out=o),
                          lambda o: np.subtract(2 * anchor, future, out=o))
        elif variant == "scramble":   # a walk of uniform steps (sd 0.04): 5x cheaper to draw
            walk = _cumsum_down(rng.uniform(-0.04 * 3 ** 0.5, 0.04 * 3 ** 0.5, future.shape))
            if positive.all():                       # the walk is not needed after: exp in place
                np.multiply(future, np.exp(walk, out=walk), out=out)
            else:
                _by_kind_into(out, positive, lambda o: np.multiply(future, np.exp(walk), out=o),
                              lambda o: np.add(future, 10 * walk, out=o))
        else:  # rescale: each series by its own factor between 1/100 and 1/10 or 10 and 100
            factor = 10 ** (rng.uniform(1, 2, future.shape[1])
                            * rng.choice([-1, 1], future.shape[1]))
            np.multiply(future, factor, out=out)
    out[:, ~alive] = np.nan
    return out


def _cumsum_down(steps: np.ndarray) -> np.ndarray:
    """``np.cumsum(steps, axis=0)`` in place, row after row: the same sequential adds, but
    along the rows numpy's cumsum of a row-major table strides through memory (5x slower)."""
    for row in range(1, len(steps)):
        np.add(steps[row - 1], steps[row], out=steps[row])
    return steps


def _by_kind_into(out: np.ndarray, positive: np.ndarray, multiplicative, additive) -> None:
    """``_by_kind`` written into ``out``: ``multiplicative(out)`` or ``additive(out)``
    write it whole; a table of both kinds takes each column from its own (both computed
    first, since either may read ``out``)."""
    if positive.all():
        multiplicative(out)
    elif not positive.any():
        additive(out)
    else:
        out[...] = np.where(positive, multiplicative(np.empty(out.shape)),
                            additive(np.empty(out.shape)))


def _by_kind(positive: np.ndarray, multiplicative, additive) -> np.ndarray:
    """Per column: ``multiplicative()`` where ``positive``, else ``additive()`` (each
    computed only when some column needs it)."""
    if positive.all():
        return multiplicative()
    if not positive.any():
        return additive()
    return np.where(positive, multiplicative(), additive())


def _regime_labels(regime: pd.Series) -> dict[str, np.ndarray]:
    """Where each regime label stands (what ``_replace_regimes`` swaps), read once."""
    return {label: (regime == label).to_numpy(dtype=bool, na_value=False)
            for label in ("scarce", "abundant", "neutral")}


def _replace_regimes(regime: pd.Series, is_: dict[str, np.ndarray], n_past: int, stop: int,
                     variant: str, rng: np.random.Generator) -> pd.Series:
    """The regimes up to row ``stop``, those from ``n_past`` on swapped (scarce <->
    abundant, the rest neutral), shuffled or reversed; taken from the series itself, so
    its dtype stays. ``is_``: ``_regime_labels(regime)``."""
    if variant == "mirror":
        later = np.arange(stop) >= n_past
        scarce, abundant = is_["scarce"][:stop], is_["abundant"][:stop]
        swap = {"scarce": "abundant", "abundant": "scarce"}
        order = np.arange(stop)
        for label, labelled in (("scarce", scarce), ("abundant", abundant),
                                (None, ~scarce & ~abundant)):
            rows = later & labelled
            source = is_[swap.get(label or "", "neutral")]
            if rows.any() and not source.any():   # no row of that label anywhere: write it
                return (regime.iloc[:stop].mask(later & scarce, "abundant")
                        .mask(later & abundant, "scarce")
                        .mask(later & ~scarce & ~abundant, "neutral"))
            order[rows] = int(np.argmax(source))
    else:
        tail = (rng.permutation(stop - n_past) if variant == "scramble"
                else np.arange(stop - n_past)[::-1])
        order = np.concatenate([np.arange(n_past), n_past + tail])
    return pd.Series(regime.array.take(order), index=regime.index[:stop], name=regime.name)


class _Table:
    """One float table of the context (prices, inputs, components, composite) as the
    replays see it: a working copy whose rows before the cut are the data and whose next
    rows hold the replaced future. Moving the cut puts back the rows the last future took
    and writes the new ones, so a replay costs its future's rows, not the table's. The copy
    is read-only between writes: a plugin's assignments go to its own copy (pandas'
    copy-on-write, ``Context.private``), never into the next replay's past."""

    def __init__(self, frame: pd.DataFrame, positive_kind: bool) -> None:
        self.frame = frame
        self.values = frame.to_numpy(dtype=float)     # a view of the data: never written
        # a series is positive when no value is <= 0 (NaN is neither), read without a copy
        self.positive = (~(self.values <= 0).any(axis=0) if positive_kind
                         else np.zeros(self.values.shape[1], dtype=bool))
        self._work: np.ndarray | None = None          # made at the first replay
        self._runs: tuple[np.ndarray, np.ndarray] | None = None
        self._taken = slice(0, 0)                     # rows the current future holds
        self._view: pd.DataFrame | None = None

    def cut(self, cut: pd.Timestamp, horizon: pd.Timestamp, variant: str,
            rng: np.random.Generator) -> pd.DataFrame:
        """The table up to ``horizon``: rows up to ``cut`` as they are, the rest replaced
        (``variant``). Valid until the next call."""
        index = self.frame.index
        n_past = int(index.searchsorted(cut, side="right"))
        stop = int(index.searchsorted(horizon, side="right"))
        work = self._writable()
        try:
            self._put_back(n_past, stop)
            _replace_future(self.values, n_past, stop, self.positive, variant, rng,
                            work[n_past:stop], self._runs)
            self._taken = slice(n_past, stop)
        except BaseException:                         # never leave a half-written future
            work[n_past:stop] = self.values[n_past:stop]
            raise
        finally:
            work.flags.writeable = False
        return self._frame(stop)

    def past(self, cut: pd.Timestamp) -> pd.DataFrame:
        """The table up to ``cut``, its future absent (``truncate``), from the working copy
        too: every variant hands a strategy the same layout, row-major (a date's values
        together: reading whole dates, as ``prices.loc[dates]`` does, costs half of the
        data's column-major layout). Valid until the next call."""
        n_past = int(self.frame.index.searchsorted(cut, side="right"))
        self._writable()
        try:
            self._put_back(n_past, len(self.values))
        finally:
            self._work.flags.writeable = False
        return self._frame(n_past)

    def _writable(self) -> np.ndarray:
        if self._work is None:
            self._work = self.values.copy()           # row-major: a date's values together
            self._runs = _runs(self.values)
        self._work.flags.writeable = True
        return self._work

    def _put_back(self, start: int, stop: int) -> None:
        """The data again in the rows the last future took outside ``start:stop``."""
        taken = self._taken
        for rows in (slice(taken.start, min(taken.stop, start)),
                     slice(max(taken.start, stop), taken.stop)):
            if rows.start < rows.stop:
                self._work[rows] = self.values[rows]
        kept = slice(max(taken.start, start), min(taken.stop, stop))
        self._taken = kept if kept.start < kept.stop else slice(0, 0)

    def _frame(self, stop: int) -> pd.DataFrame:
        # kept until the next call: while it lives, pandas copies before any write to a
        # frame made from it (copy-on-write), as it does for the full context's frames
        self._view = pd.DataFrame(self._work[:stop], index=self.frame.index[:stop],
                                  columns=self.frame.columns, copy=False)
        return self._view


class CutData:
    """The tables of one full context, read once, and the replays' views of them: the
    past as it is, the future cut off (``truncate``) or replaced over at most FUTURE_ROWS
    trading days after the cut (``mirror``, ``scramble``, ``rescale``), views of each
    table's one working copy, rewritten where the future moved (the signal's tables of a
    ``truncate`` replay: views of the data). A
    replay therefore costs its future, not the history: linear in the data over all the
    decision dates of a run. A context it returns is valid until the next call."""

    def __init__(self, ctx: Context, seed: int = SEED) -> None:
        self.ctx = ctx
        self.seed = seed
        frames = {"prices": ctx.prices, "inputs": ctx.inputs}
        if ctx.signal is not None:
            frames["components"] = ctx.signal.components
            frames["composite"] = ctx.signal.composite.to_frame()
        self._tables = {k: _Table(f, k in ("prices", "inputs")) for k, f in frames.items()}
        self._labels = None if ctx.signal is None else _regime_labels(ctx.signal.regime)

    def context_at(self, cut: pd.Timestamp, variant: str) -> Context:
        """The full context with everything after ``cut`` removed or replaced (valid until
        the next call)."""
        ctx = self.ctx
        if variant == "truncate":
            return replace(ctx.as_of(cut), prices=self._tables["prices"].past(cut),
                           inputs=self._tables["inputs"].past(cut))
        position = int(np.searchsorted(ctx.rebalance_dates, cut))
        rng = np.random.default_rng([self.seed, position, VARIANTS.index(variant)])
        index = ctx.prices.index
        last = min(int(index.searchsorted(cut, side="right")) + FUTURE_ROWS, len(index))
        horizon = index[last - 1] if last else pd.Timestamp(cut)
        tables = {k: t.cut(cut, horizon, variant, rng) for k, t in self._tables.items()}
        signal = ctx.signal
        if signal is not None:
            regime = signal.regime
            stop = int(regime.index.searchsorted(horizon, side="right"))
            past = int(regime.index.searchsorted(cut, side="right"))
            signal = replace(signal, regime=_replace_regimes(regime, self._labels, past, stop,
                                                             variant, rng),
                             composite=tables["composite"].iloc[:, 0],
                             components=tables["components"])
        return replace(ctx, prices=tables["prices"], inputs=tables["inputs"],
                       rebalance_dates=ctx.rebalance_dates[ctx.rebalance_dates <= cut],
                       end=min(ctx.end, horizon), signal=signal)
