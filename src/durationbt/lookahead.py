"""The point-in-time guarantee, checked by replay: the weight a strategy gives on decision
date t must equal the weight it gives when it sees data up to t only.

For each checked decision date (every one on a monthly schedule; on weekly and daily ones a
seeded sample of at least 100, a fifth of them from the final 10%, then a bisection to the
first offending date) the strategy is called again, from a fresh import of its file, on the
context cut at that date, with the removed future either absent (``truncate``) or replaced
over the next year of trading days (``futures.FUTURE_ROWS``): mirrored around the level at
the cut, scrambled by a random walk, or rescaled by large per-asset factors (``mirror``,
``scramble``, ``rescale``, in rotation), so that code which tolerates NaN or compares price
levels across the cut still changes. Which series exist is also what was known at the
cut: a series with a value at the cut runs on to the end of that future (a later
delisting or a feed that stops is hidden), one without stays absent (a later
listing is hidden), so survivorship filters show. Its validated weights (columns left out
at 0, as the engine reads them) on every decision date up to the cut must equal those of
the full run; when they do not, the strategy is called again on the full data, and a
different answer is reported as not deterministic rather than as lookahead. Strategies in
the per-date form (``Strategy.weights_on``) only ever see past data and are not replayed.

One probe per context serves every strategy and command: run, compare, sweep, walk-forward,
``strategies check`` and ``now``."""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from .book import Book
from .errors import StrategyError
from .futures import MIN_SAMPLE, SEED, VARIANTS, CutData, choose_cuts
from .loading import fresh_class, fresh_instance, plugin_file
from .sandbox import PluginTimeout, in_child, plugin_call
from .strategy import Context, Strategy
from .weights import DEFAULT_TIMEOUT, grid_bucket_weights, tradable, validated_weights

__all__ = ["LookaheadProbe", "LookaheadReport", "LookaheadSettings", "Finding", "VARIANTS",
           "SEED", "MIN_SAMPLE"]

LookaheadSettings = tuple[bool, int, "float | None"]   # every_date, seed, timeout: a probe's recipe

TOLERANCE = 1e-9       # weights are fractions: a larger difference is a decision moved

HINTS = {
    "truncate": "it changes when the future is simply absent: look for shift(-k), bfill(), "
                "centred rolling windows, whole-column reductions (.max(), .mean(), .iloc[-1], "
                "rank over the whole history) or resample(...).last() spread back to earlier days",
    "mirror": "it changes when later prices fall instead of rise: a rule reads returns after "
              "the decision date (shift(-k), bfill(), centred windows, whole-column reductions)",
    "scramble": "it changes when later data are scrambled: a rule reads rows after the decision "
                "date (shift(-k), bfill(), centred windows, whole-column statistics)",
    "rescale": "it changes when later price levels are rescaled: a rule compares levels across "
               "the whole history (the highest final price, normalising by a future value)",
}
SURVIVORSHIP = ("or it filters assets or series by whether their data run to the end "
                "(iloc[-1], last_valid_index(), dropna(), counts of rows): a series that stops "
                "later was still alive on the decision date")


@dataclass(frozen=True)
class Finding:
    """The first decision date whose weight moved when only the future changed."""

    date: pd.Timestamp
    column: str           # bucket or ticker, as the strategy names its columns
    full: float           # weight in the full run
    replay: float         # weight seen with data up to ``cut`` (NaN: missing)
    cut: pd.Timestamp
    variant: str
    error: str = ""       # the replay raised, or returned invalid weights (``kind``)
    combo: int = 0        # which combination of a grid replay (``check_grid``)
    kind: str = "moved"   # "moved", "raised", "invalid", or "random": the full data twice

    def describe(self, strategy: str) -> str:
        if self.kind == "random":
            twice = (f"called again on the same data it failed ({self.error})" if self.error
                     else f"called twice on the same data it gave {self.column} on "
                     f"{self.date.date()} the weights {self.full:.6g} and {self.replay:.6g}")
            return (f'Strategy "{strategy}" is not deterministic: {twice}, so neither a run '
                    "nor the lookahead check can reproduce it. Its weights must follow from "
                    "the data and its "
                    "parameters only: seed any random numbers (np.random.default_rng(seed)) "
                    "and do not read the clock or state kept between calls.")
        cut = f"given data up to {self.cut.date()} only ({self.variant} future)"
        if self.kind == "invalid":
            return (f'Strategy "{strategy}" looks into the future: {cut}, its weights were '
                    f"invalid where they are valid with all the data ({self.error}). A strategy "
                    f"must compute the weight at t from rows up to t; {HINTS[self.variant]}.")
        if self.kind == "raised":
            return (f'Strategy "{strategy}" looks into the future: {cut}, it raised '
                    f"{self.error}. A strategy must compute the weight at t from rows up to t; "
                    f"{HINTS[self.variant]}.")
        return (f'Strategy "{strategy}" looks into the future: its weight for {self.column} on '
                f"{self.date.date()} is {self.full:.6g} with all the data but {self.replay:.6g} "
                f"when it sees data up to {self.cut.date()} only ({self.variant} future). Likely "
                f"cause: {HINTS[self.variant]}, {SURVIVORSHIP}. Use only rows up to each "
                "decision date, or write the strategy in the per-date form (weights_on), see "
                "docs/strategies.md.")


@dataclass(frozen=True)
class LookaheadReport:
    """What was checked, how long it took, and the first finding (None: passed)."""

    strategy: str
    method: str                           # "replay" or "point-in-time form"
    seed: int
    cuts: tuple[pd.Timestamp, ...]        # decision dates replayed, in order
    calls: int
    seconds: float
    fresh_state: bool                     # each replay used a fresh import of the plugin
    finding: Finding | None
    file: str = ""                        # the plugin's file, named in a refusal

    @property
    def ok(self) -> bool:
        return self.finding is None

    def refuse(self) -> None:
        """Raise the user-facing refusal when the check failed."""
        if self.finding is not None:
            raise StrategyError(self.describe())

    def describe(self) -> str:
        """The finding in words, with the plugin's file ('' when it passed)."""
        if self.finding is None:
            return ""
        return self.finding.describe(self.strategy) + (f" Its file: {self.file}."
                                                       if self.file else "")

    def manifest(self) -> dict:
        """What a run folder records: method, seed, dates checked, time."""
        return {"method": self.method, "seed": self.seed, "variants": list(VARIANTS),
                "dates_checked": len(self.cuts), "dates": [str(d.date()) for d in self.cuts],
                "calls": self.calls, "seconds": round(self.seconds, 3),
                "fresh_plugin_state": self.fresh_state}


def _first_move(expected: pd.DataFrame, seen: pd.DataFrame, cut: pd.Timestamp,
                variant: str) -> Finding | None:
    """The first (date, column) whose weight differs by more than TOLERANCE, or None."""
    want, got = expected.to_numpy(dtype=float), seen.to_numpy(dtype=float)
    if np.array_equal(got, want):      # the usual answer, in one pass
        return None
    moved = ~(np.abs(got - want) <= TOLERANCE)
    if not moved.any():
        return None
    row, col = np.argwhere(moved)[0]
    return Finding(expected.index[row], str(expected.columns[col]), float(want[row, col]),
                   float(got[row, col]), cut, variant)


class LookaheadProbe:
    """The replay contexts of one full context: built once, used for every strategy (and
    parameter set) checked on it. ``every_date``: replay every decision date (monthly)."""

    def __init__(self, ctx: Context, *, every_date: bool, seed: int = SEED,
                 timeout: float | None = DEFAULT_TIMEOUT) -> None:
        self.ctx = ctx
        self.seed = seed
        self.timeout = timeout
        self.every_date = every_date
        self.cuts = choose_cuts(ctx.rebalance_dates, every_date, seed)
        self.data = CutData(ctx, seed)

    @property
    def settings(self) -> LookaheadSettings:
        """What rebuilds this probe in another process (with the same context)."""
        return (self.every_date, self.seed, self.timeout)

    def context_at(self, cut: pd.Timestamp, variant: str) -> Context:
        """The full context with everything after ``cut`` removed or replaced (valid until
        the next call: replaced futures share one working copy, ``futures.CutData``)."""
        return self.data.context_at(cut, variant)

    def _call_fresh(self, name: str, method: str, fresh: Callable[[], Any],
                    call: Callable[[Any], Any], check: Callable[[Any], Any],
                    cut: pd.Timestamp, variant: str) -> tuple[Any, Finding | None, bool]:
        """``call(twin)`` on a fresh import of the plugin (``fresh()``; None when it cannot
        be re-imported, and ``call`` falls back to the loaded class), its prints silenced
        (they belong to the main call) and under the time limit; then ``check`` of what it
        returned, once the plugin's call is over. Returns the checked result, or a finding
        when the plugin failed on data cut at ``cut``, and whether state was fresh."""
        sink = io.StringIO()
        twin = None
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            try:
                with plugin_call(f"{method} replayed on data up to {cut.date()}", self.timeout):
                    try:
                        twin = fresh()
                    except (Exception, SystemExit):   # a file that no longer imports: same class
                        twin = None
                    raw = call(twin)
            except PluginTimeout:
                raise StrategyError(f'Strategy "{name}" did not return within '
                                    f"{self.timeout:g} s when its {method} was replayed on "
                                    f"data up to {cut.date()} and was stopped. If it is only "
                                    "slow, raise --timeout.") from None
            except KeyboardInterrupt:
                if not in_child():         # Ctrl-C (in a sandbox child: the plugin's own)
                    raise
                return None, Finding(cut, "", float("nan"), float("nan"), cut, variant,
                                     "KeyboardInterrupt", kind="raised"), False
            except BaseException as exc:   # whatever it raised, custom BaseExceptions too
                return None, Finding(cut, "", float("nan"), float("nan"), cut, variant,
                                     f"{type(exc).__name__}: {exc}", kind="raised"), False
            try:
                return check(raw), None, twin is not None
            except StrategyError as exc:
                return None, Finding(cut, "", float("nan"), float("nan"), cut, variant,
                                     str(exc), kind="invalid"), twin is not None

    def _replay(self, strategy: Strategy, full: pd.DataFrame, cut: pd.Timestamp,
                variant: str, book: Book | None) -> tuple[Finding | None, bool]:
        """One replay at ``cut``: the finding (None: equal) and whether state was fresh.
        ``full``: the validated weights of the full run; the replay's are validated the same
        way (columns left out hold 0, ``book``'s limits), so only a weight that moved
        counts."""
        past = int(full.index.searchsorted(cut, side="right"))
        ctx = self.context_at(cut, variant)
        seen, failed, fresh = self._call_fresh(
            strategy.name, "target_weights", lambda: fresh_instance(strategy),
            lambda twin: (twin or type(strategy)(**strategy.values())).target_weights(
                ctx.private()),
            lambda raw: validated_weights(raw, strategy, ctx, book), cut, variant)
        if failed is not None:
            return failed, fresh
        return _first_move(full.iloc[:past], seen.iloc[:past], cut, variant), fresh

    def sample(self, size: int, salt: int = 0) -> pd.DatetimeIndex:
        """A smaller seeded set of the probe's cuts (with the final 10%): what a sweep
        replays for each combination after the first (or batch after the first: ``salt``,
        the batch's number, draws a different set for each)."""
        return choose_cuts(self.cuts, False, self.seed + salt, size)

    def check(self, strategy: Strategy, full_raw: pd.DataFrame,
              cuts: pd.DatetimeIndex | None = None, book: Book | None = None) -> LookaheadReport:
        """Replay ``strategy`` (whose full-data output is ``full_raw``, already validated
        within ``book``'s limits: None, the universe's and the strategy's defaults) at the
        probe's cut dates (or ``cuts``); bisect to the first offending date when one fails,
        and call it once more on the full data to tell lookahead from randomness."""
        began = time.perf_counter()
        if strategy.point_in_time():
            return LookaheadReport(strategy.name, "point-in-time form", self.seed, (), 0,
                                   0.0, True, None)
        full = validated_weights(full_raw, strategy, self.ctx, book)
        report = self._scan(strategy.name, "replay", began, self.cuts if cuts is None else cuts,
                            lambda cut, variant: self._replay(strategy, full, cut, variant,
                                                              book),
                            plugin_file(strategy))
        if report.finding is None or report.finding.kind != "moved":
            return report
        again = self._again(strategy, full, book)
        return report if again is None else replace(report, finding=again,
                                                     calls=report.calls + 1)

    def _again(self, strategy: Strategy, full: pd.DataFrame, book: Book | None) -> Finding | None:
        """The strategy called again on the full data (fresh state, as a replay): a
        finding of kind "random" when its weights differ from the first call's."""
        end = self.ctx.rebalance_dates[-1]
        seen, failed, _ = self._call_fresh(
            strategy.name, "target_weights", lambda: fresh_instance(strategy),
            lambda twin: (twin or type(strategy)(**strategy.values())).target_weights(
                self.ctx.private()),
            lambda raw: validated_weights(raw, strategy, self.ctx, book), end, "truncate")
        if failed is not None:
            return replace(failed, kind="random")
        moved = _first_move(full, seen, end, "truncate")
        return None if moved is None else replace(moved, kind="random")

    def check_grid(self, strategy: type[Strategy], combos: list[dict], full: np.ndarray,
                   cuts: pd.DatetimeIndex | None = None,
                   book: Book | None = None) -> LookaheadReport:
        """The same replay for a grid method (``Strategy.target_weights_grid``): one call
        per cut date checks every combination of ``combos`` at once. ``full``: its checked
        output on the full context (``weights.grid_bucket_weights``: combinations x decision
        dates x columns). A finding names the combination (``Finding.combo``)."""
        return self._scan(strategy.name, "grid replay", time.perf_counter(),
                          self.cuts if cuts is None else cuts,
                          lambda cut, variant: self._replay_grid(strategy, combos, full, cut,
                                                                 variant, book),
                          plugin_file(strategy))

    def _replay_grid(self, strategy: type[Strategy], combos: list[dict], full: np.ndarray,
                     cut: pd.Timestamp, variant: str,
                     book: Book | None) -> tuple[Finding | None, bool]:
        dates = self.ctx.rebalance_dates
        past = int(dates.searchsorted(cut, side="right"))

        ctx = self.context_at(cut, variant)
        seen, failed, fresh = self._call_fresh(
            strategy.name, "target_weights_grid", lambda: fresh_class(strategy),
            lambda twin: (twin or strategy).target_weights_grid(ctx.private(), combos),
            lambda raw: grid_bucket_weights(raw, strategy, ctx, len(combos), book), cut,
            variant)
        if failed is not None:
            return failed, fresh
        expected = full[:, :past]
        moved = ~(np.abs(seen[:, :past] - expected) <= TOLERANCE)
        if not moved.any():
            return None, fresh
        combo, row, col = np.argwhere(moved)[0]
        columns = (self.ctx.universe.bucket_names if strategy.weights_by == "bucket"
                   else tradable(self.ctx))
        return Finding(dates[row], str(columns[col]), float(expected[combo, row, col]),
                       float(seen[combo, row, col]), cut, variant, combo=int(combo)), fresh

    def _scan(self, name: str, method: str, began: float, cuts: pd.DatetimeIndex,
              replay, file: str = "") -> LookaheadReport:
        """Replay at each of ``cuts`` in turn (variants in rotation) until one moves a
        weight, then bisect between the last clean cut and it, with the same future."""
        dates = self.ctx.rebalance_dates
        checked: list[pd.Timestamp] = []
        calls = 0
        fresh_all = True
        finding = None
        previous_clean = -1
        for k, cut in enumerate(cuts):
            variant = VARIANTS[k % len(VARIANTS)]
            found, fresh = replay(cut, variant)
            checked.append(cut)
            calls += 1
            fresh_all &= fresh
            if found is None:
                previous_clean = int(dates.get_loc(cut))
                continue
            lo, hi = previous_clean, int(dates.get_loc(cut))
            finding = found
            while hi - lo > 1:
                mid = (lo + hi) // 2
                again, _ = replay(dates[mid], variant)
                checked.append(dates[mid])
                calls += 1
                if again is None:
                    lo = mid
                else:
                    hi, finding = mid, again
            break
        return LookaheadReport(name, method, self.seed, tuple(checked), calls,
                               time.perf_counter() - began, fresh_all, finding, file)
