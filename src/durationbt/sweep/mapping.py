"""The map of a grid run: one batch of combinations -> their weights, checked for lookahead,
as target arrays keyed by digest. The same function runs in-process, in a local worker
process or on a Dask worker; what it needs travels once per worker as a ``GridJob``.

Batches are planned on the driver with a fixed size (not per executor), so every executor
checks the same combinations at the same dates and returns the same arrays."""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..book import Book, resolve_book
from ..errors import StrategyError
from ..loading import plugin_file
from ..lookahead import TOLERANCE, LookaheadProbe
from ..plugins import PluginRef, real_class
from ..riskfree import RiskFree, refuse_leverage
from ..strategy import Context, Strategy
from ..weights import (
    bucket_shares,
    call_grid,
    call_strategy,
    check_cash_short,
    grid_bucket_weights,
    resolve_target_weights,
    spread_grid,
    validated_weights,
)

__all__ = ["Task", "BatchResult", "GridJob", "plan_tasks", "map_batch", "SWEEP_REPLAYS",
           "BATCH", "GRID_BATCH"]

SWEEP_REPLAYS = 8   # replayed decision dates per combination (or grid batch) after the first
BATCH = 16          # combinations per task for a plugin called once per combination
GRID_BATCH = 256    # combinations per task for a plugin with a grid method


@dataclass(frozen=True)
class Task:
    """One batch: its number (0 = the head, replayed at every checked date), the grid
    position of its first combination, and the combinations."""

    number: int
    start: int
    combos: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class BatchResult:
    """Each combination's target digest, the array of each digest's first occurrence in
    the batch (the driver settles duplicates across batches), and the batch's time."""

    start: int
    digests: tuple[str, ...]
    arrays: dict[str, np.ndarray]
    seconds: float


def plan_tasks(strategy: type[Strategy], combos: list[dict[str, Any]]) -> list[Task]:
    """The grid cut into batches of a fixed size: larger for a grid method, whose cost per
    call is mostly fixed."""
    size = GRID_BATCH if strategy.has_grid() else BATCH
    return [Task(n, lo, tuple(combos[lo:lo + size]))
            for n, lo in enumerate(range(0, len(combos), size))]


class GridJob:
    """What a worker needs, once: the strategy (by ``PluginRef`` when pickled), the
    context, the lookahead settings (the probe is rebuilt from them, deterministically) and
    the layout of the target arrays (decision dates traded x tickers). The plugin's class,
    the probe and the buckets' spread shares are built once per worker process, on first
    use; the command's own process never runs the plugin (``executors``)."""

    def __init__(self, strategy: type[Strategy], ctx: Context, decisions: pd.DatetimeIndex,
                 columns: list[str], probe: LookaheadProbe | None,
                 risk_free: RiskFree | None = None, book: Book | None = None) -> None:
        self.strategy = strategy
        self.token = uuid.uuid4().hex       # tells a worker's kept process which job it serves
        self.name = strategy.name
        self.file = plugin_file(strategy)
        self.ctx = ctx
        self.decisions = decisions
        self.rows = ctx.rebalance_dates.get_indexer(decisions)
        self.columns = columns
        self.lookahead = None if probe is None else probe.settings
        self.timeout = None if probe is None else probe.timeout
        self.risk_free = risk_free
        self.book = book     # None: the universe's [portfolio] and the strategy's defaults
        self._local: tuple | None = None     # built where the plugin's code runs (``local``)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if not isinstance(self.strategy, PluginRef):   # a worker may pass it on as it came
            state["strategy"] = PluginRef.of(self.strategy)
        state["_local"] = None
        return state

    def local(self) -> tuple[type[Strategy], LookaheadProbe | None, dict | None]:
        """(class, probe, spread shares) in this process: the plugin's own class (imported
        here from its file when the job holds a reference or a registry's proxy)."""
        if self._local is None:
            ref = self.strategy
            cls = real_class(ref.load() if isinstance(ref, PluginRef) else ref)
            probe = None
            if self.lookahead is not None:
                every, seed, timeout = self.lookahead
                probe = LookaheadProbe(self.ctx, every_date=every, seed=seed, timeout=timeout)
            self._local = (cls, probe, None)
        cls, probe, shares = self._local
        if shares is None and cls.has_grid() and cls.weights_by == "bucket":
            shares = bucket_shares(cls.within_bucket, self.ctx, self.ctx.rebalance_dates)
            self._local = (cls, probe, shares)
        return self._local

    def weights_of(self, params: dict[str, Any]) -> pd.DataFrame:
        """One combination's target weights as traded (decision dates traded x tickers,
        uninvested weight placed), by the same path its sweep took."""
        cls, _, shares = self.local()
        if cls.has_grid():
            values = grid_bucket_weights(call_grid(cls, self.ctx, [params], self.timeout), cls,
                                         self.ctx, 1, self.book)
            dates = self.ctx.rebalance_dates[:1] if cls.holds else self.ctx.rebalance_dates
            array = spread_grid(values, cls, self.ctx, shares)[:, :len(dates)]
            return pd.DataFrame(self.place_cash(array, dates)[0], index=dates,
                                columns=self.columns)
        instance = cls(**params)
        weights = resolve_target_weights(call_strategy(instance, self.ctx, self.timeout),
                                         instance, self.ctx, self.book)
        weights = instance.traded(weights)
        if self.risk_free is not None:
            weights = self.risk_free.hold_cash(weights, self.ctx.prices)
        return weights[self.columns]

    def place_cash(self, arrays: np.ndarray, dates: pd.DatetimeIndex) -> np.ndarray:
        """``RiskFree.hold_cash`` on combinations x ``dates`` x tickers at once: each
        row's uninvested weight added to the cash ticker on dates it has a price (sums in
        numpy's order, so equal to the frame version up to rounding)."""
        ticker = None if self.risk_free is None else self.risk_free.cash_ticker
        residual = 1.0 - arrays.sum(axis=2)
        if ticker is None or ticker not in self.columns:
            refuse_leverage(pd.Series(residual.min(axis=0), index=dates), None)
            return arrays
        priced = self.ctx.prices[ticker].reindex(dates).notna().to_numpy()
        # leverage on a day the cash asset has no price: nothing to borrow in
        refuse_leverage(pd.Series(np.where(priced, 0.0, residual.min(axis=0)), index=dates),
                        ticker)
        placed = priced & ((residual > 1e-12) | (residual < -1e-9))
        out = arrays.copy()
        out[:, :, self.columns.index(ticker)] += np.where(placed, residual, 0.0)
        return out


def _refuse(params: dict[str, Any], strategy: type[Strategy], report) -> None:
    if not report.ok:
        shown = ", ".join(f"{n}={v}" for n, v in params.items())
        raise StrategyError(f"With {shown}: {report.describe()}")


def _per_combination(job: GridJob, task: Task) -> np.ndarray:
    """One call (and its replays) per combination: every checked date for the grid's first
    combination, a seeded sample of SWEEP_REPLAYS dates for each other one."""
    cls, probe, _ = job.local()
    out = np.empty((len(task.combos), len(job.rows), len(job.columns)))
    for i, params in enumerate(task.combos):
        instance = cls(**params)
        raw = call_strategy(instance, job.ctx, job.timeout)
        weights = instance.traded(resolve_target_weights(raw, instance, job.ctx, job.book))
        if probe is not None:
            first = task.start + i == 0
            _refuse(params, cls, probe.check(instance, raw,
                                             None if first else probe.sample(SWEEP_REPLAYS),
                                             job.book))
        if job.risk_free is not None:
            weights = job.risk_free.hold_cash(weights, job.ctx.prices)
        out[i] = weights.loc[job.decisions, job.columns].to_numpy(dtype=np.float64)
    return out


def _grid(job: GridJob, task: Task) -> np.ndarray:
    """One call of the grid method for the whole batch, held equal to ``target_weights``
    on the batch's first combination and replayed as one call per cut date: every checked
    date for the head batch, SWEEP_REPLAYS dates (a different seeded sample per batch) for
    each later one, each replay checking every combination of the batch."""
    cls, probe, shares = job.local()
    combos = list(task.combos)
    checked = grid_bucket_weights(call_grid(cls, job.ctx, combos, job.timeout), cls, job.ctx,
                                  len(combos), job.book)
    weights = spread_grid(checked, cls, job.ctx, shares)
    check_cash_short(weights, cls, job.ctx, job.book or resolve_book(None, job.ctx.universe, cls))
    # held to target_weights as the plugin gave them (buckets or tickers, validated), before
    # the spread over members, which is the same function of both
    instance = cls(**combos[0])
    single = validated_weights(call_strategy(instance, job.ctx, job.timeout), instance,
                               job.ctx, job.book)
    moved = ~(np.abs(single.to_numpy(dtype=float) - checked[0]) <= TOLERANCE)
    if moved.any():
        row, col = np.argwhere(moved)[0]
        shown = ", ".join(f"{n}={v}" for n, v in combos[0].items())
        raise StrategyError(f'Strategy "{cls.name}": target_weights_grid and target_weights '
                            f"disagree with {shown}: {single.columns[col]} on "
                            f"{single.index[row].date()} is {checked[0, row, col]:.6g} in the "
                            f"grid method and {single.iat[row, col]:.6g} in target_weights. "
                            "The grid method must give exactly the same weights.")
    if probe is not None:
        cuts = None if task.number == 0 else probe.sample(SWEEP_REPLAYS, salt=task.number)
        report = probe.check_grid(cls, combos, checked, cuts, job.book)
        if not report.ok:
            _refuse(combos[report.finding.combo], cls, report)
    return job.place_cash(weights[:, job.rows], job.decisions)


def map_batch(job: GridJob, task: Task) -> BatchResult:
    """Weights, lookahead check and target arrays of one batch, deduplicated within it."""
    began = time.perf_counter()
    cls, _, _ = job.local()
    arrays = (_grid if cls.has_grid() else _per_combination)(job, task)
    digests = []
    first: dict[str, np.ndarray] = {}
    for array in arrays:
        array = np.ascontiguousarray(array)
        key = hashlib.sha1(array.tobytes()).hexdigest()
        digests.append(key)
        first.setdefault(key, array)
    return BatchResult(task.start, tuple(digests), first, time.perf_counter() - began)
