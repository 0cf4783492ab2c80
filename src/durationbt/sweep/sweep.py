"""``durationbt sweep``: every parameter combination of a strategy on data loaded once.

A map over batches of combinations (``mapping``: weights, lookahead check, target arrays)
run in-process, on local worker processes or on a Dask cluster (``executors``), and a
reduce on the driver: combinations that produce identical targets are simulated once and
count as one trial for the deflated Sharpe ratio and PBO; the numba kernel simulates the
distinct ones in chunks, so memory stays bounded whatever the grid size. The results are
the same whatever executor ran the map. Before the bulk of the work starts the time is
estimated from the first batches, and a grid past its budget is refused."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..book import Book, resolve_book
from ..data import MarketData
from ..engine import Costs, check_prices_to_trade
from ..errors import ParameterError
from ..longshort import carry_rates
from ..lookahead import LookaheadProbe
from ..metrics import PERIODS_PER_YEAR, best_first
from ..riskfree import RiskFree
from ..session import Session
from ..statistics import (
    deflated_sharpe_ratio,
    excess_returns,
    pbo_from_moments,
    probabilistic_sharpe_ratio,
)
from ..strategy import Context, Strategy
from ..universe import Universe
from ..weights import tradable
from .executors import Executor, OneWorker, in_a_child
from .grid import combinations, parse_grid
from .kernel import execution_rows, simulate_many, simulate_stats
from .mapping import SWEEP_REPLAYS, BatchResult, GridJob, plan_tasks
from .metrics import SWEEP_METRICS, stats_metrics

__all__ = ["GridRun", "SweepResult", "Budget", "run_grid", "run_sweep", "check_metric",
           "SweepSetup", "load_setup", "sweep_summary", "SWEEP_REPLAYS",
           "format_seconds"]

GridProgress = Callable[[str, int, int], None]   # stage, done, total
PBO_SPLITS = 16


def check_metric(metric: str) -> str:
    if metric not in SWEEP_METRICS:
        raise ParameterError(f'--metric "{metric}" is not a sweep metric; choose one of '
                             f"{', '.join(SWEEP_METRICS)}.")
    return metric


Reducer = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Budget:
    """How large a grid may run: at most ``max_combos`` combinations and, unless the user
    raised the limit (``max_seconds`` None), an estimated ``max_seconds``."""

    max_combos: int = 100_000
    max_seconds: float | None = 3600.0


def format_seconds(seconds: float) -> str:
    """``42 s``, ``12 min``, ``3.4 h``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


@dataclass(frozen=True)
class GridRun:
    """Every distinct trial of a grid, simulated and scored. Targets are not kept (they
    were simulated chunk by chunk and dropped); ``targets_of`` recomputes one on demand."""

    strategy: type[Strategy]
    combos: list[dict[str, Any]]
    prices: pd.DataFrame            # backtest window x traded tickers
    rows: np.ndarray                # execution rows in ``prices``
    decisions: pd.DatetimeIndex     # decision date of each execution row
    trial_of_combo: np.ndarray      # combo -> trial
    first_combo: np.ndarray         # trial -> the first combo that produced it
    metrics: dict[str, np.ndarray]  # SWEEP_METRICS per trial
    moments: np.ndarray             # CSCV block moments: splits x 3 x trials
    reduced: np.ndarray | None      # per trial, what ``reduce`` made of its daily equity
    weights_seconds: float          # the map's work, summed over workers
    simulate_seconds: float
    job: GridJob
    workers: int = 1
    wall_seconds: float = 0.0
    risk_free: RiskFree | None = None  # where uninvested weight goes; None: it stays as cash
    carry_rate: np.ndarray | None = None   # each ticker's daily carry on a short (book.py)

    @property
    def cash(self) -> str | None:
        """The cash asset: uninvested weight and closed-out positions go there."""
        return None if self.risk_free is None else self.risk_free.cash_ticker

    @property
    def n_trials(self) -> int:
        return len(self.first_combo)

    def params_of(self, trial: int) -> dict[str, Any]:
        return self.combos[int(self.first_combo[trial])]

    def targets_of(self, trial: int, ctx: Context) -> pd.DataFrame:
        """The trial's target weights (decision dates x tickers), recomputed by the path its
        sweep took, in a worker process (``ctx``: the sweep's own context)."""
        return self.targets([trial])[trial]

    def targets(self, trials: list[int]) -> dict[int, pd.DataFrame]:
        """Several trials' target weights, recomputed in one worker process."""
        found = in_a_child(self.job, _weights_of, [self.params_of(t) for t in trials])
        return {t: pd.DataFrame(values, index=pd.DatetimeIndex(dates), columns=self.job.columns)
                for t, (values, dates) in zip(trials, found, strict=True)}

    def equity_of(self, trial: int, ctx: Context, costs: Costs, init_cash: float) -> pd.Series:
        """The trial's daily equity, re-simulated by the kernel."""
        frame = self.targets_of(trial, ctx)
        array = frame.loc[self.decisions, list(self.prices.columns)].to_numpy(dtype=np.float64)
        equity, _ = simulate_many(self.prices, array[None], self.rows, costs=costs,
                                  init_cash=init_cash, cash=self.cash,
                                  carry_rate=self.carry_rate,
                                  band=self.job.book.band if self.job.book else 0.0)
        return pd.Series(equity[0], index=self.prices.index, name="equity")


def run_grid(strategy: type[Strategy], combos: list[dict[str, Any]], ctx: Context,
             market_window: pd.DataFrame, *, costs: Costs, init_cash: float,
             lookahead: LookaheadProbe | None = None, chunk_size: int = 1_000,
             reduce: Reducer | None = None, progress: GridProgress | None = None,
             executor: Executor | None = None, budget: Budget | None = None,
             risk_free: RiskFree | None = None, book: Book | None = None) -> GridRun:
    """One pass over the grid. The map (``mapping.map_batch``: weights, the lookahead
    check when a probe is given, uninvested weight placed by ``risk_free``, target arrays)
    runs batch by batch on ``executor`` (default: one worker process; the plugin's code
    never runs here), the first one (two with a ``budget``, to time it) before the rest are
    sent out. The reduce, here, in grid order:
    keep each target set not seen before, and every ``chunk_size`` distinct trials simulate
    them, keep their metrics, CSCV moments and ``reduce(equity)``, and drop the targets.
    Memory is bounded by the chunk, whatever the grid's size. ``market_window``: prices
    from the backtest's first to last day. ``risk_free``: the return Sharpe-like metrics
    are in excess of, and where uninvested weight is held. With a ``budget``, a grid too
    large or estimated too long is refused (a ParameterError giving the estimate) before
    the rest is sent out."""
    began = time.perf_counter()
    say = progress or (lambda *_: None)
    executor = executor or OneWorker()
    try:
        return _run_grid(strategy, combos, ctx, market_window, costs, init_cash, lookahead,
                         chunk_size, reduce, say, executor, budget, risk_free, book, began)
    finally:
        executor.release()          # its worker processes, kept for the grid's batches


def _run_grid(strategy, combos, ctx, market_window, costs, init_cash, lookahead, chunk_size,
              reduce, say, executor, budget, risk_free, book, began) -> GridRun:
    # the dates traded: every decision, or the first only for a strategy that ``holds``
    traded = ctx.rebalance_dates[:1] if strategy.holds else ctx.rebalance_dates
    rows, decisions = execution_rows(pd.DatetimeIndex(market_window.index), traded)
    columns = list(tradable(ctx))
    prices = market_window[columns]
    book = book or resolve_book(None, ctx.universe, strategy)
    job = GridJob(strategy, ctx, decisions, columns, lookahead, risk_free, book)
    # borrow on shorts, financing on a short in the cash asset (as ``run`` charges them)
    carry = carry_rates(columns, book, None if risk_free is None else risk_free.cash_ticker)
    tasks = plan_tasks(strategy, combos)
    seen: dict[str, int] = {}
    first_combo: list[int] = []
    trial_of_combo = np.empty(len(combos), dtype=np.int64)
    pending: list[np.ndarray] = []
    parts: list[dict[str, np.ndarray]] = []
    moments: list[np.ndarray] = []
    reduced: list[np.ndarray] = []
    splits = PBO_SPLITS if len(market_window) > 4 * PBO_SPLITS else 2
    rf = None if risk_free is None else risk_free.returns(market_window, ctx.inputs).to_numpy()
    totals = {"map": 0.0, "simulate": 0.0, "done": 0}

    def flush() -> None:
        if not pending:
            return
        started = time.perf_counter()
        targets = np.stack(pending)
        pending.clear()
        check_prices_to_trade(prices, rows, targets)
        equity, traded, stats, blocks = simulate_stats(
            prices, targets, rows, costs=costs, init_cash=init_cash, n_blocks=splits,
            keep_equity=reduce is not None, risk_free=rf,
            cash=None if risk_free is None else risk_free.cash_ticker, carry_rate=carry,
            band=book.band)
        parts.append(stats_metrics(stats, traded, len(prices), init_cash))
        moments.append(blocks.transpose(1, 2, 0))
        if reduce is not None:
            reduced.append(reduce(equity))
        totals["simulate"] += time.perf_counter() - started

    def take(result: BatchResult) -> None:
        for i, key in enumerate(result.digests):
            k = result.start + i
            if key not in seen:
                seen[key] = len(first_combo)
                first_combo.append(k)
                pending.append(result.arrays[key])
                if len(pending) >= chunk_size:
                    flush()
            trial_of_combo[k] = seen[key]
        totals["map"] += result.seconds
        totals["done"] += len(result.digests)
        say("combinations", int(totals["done"]), len(combos))

    head = tasks[:2] if budget is not None else tasks[:1]
    timed = []
    for task, result in zip(head, executor.map(job, head), strict=True):
        timed.append((task, result))
        take(result)
    if budget is not None:
        flush()
        _check_budget(budget, combos, tasks, timed, first_combo, totals, executor.workers,
                      time.perf_counter() - began)
    for result in executor.map(job, tasks[len(head):]):
        take(result)
    flush()
    return GridRun(strategy=strategy, combos=combos, prices=prices, rows=rows, decisions=decisions,
                   trial_of_combo=trial_of_combo, first_combo=np.array(first_combo),
                   metrics={key: np.concatenate([p[key] for p in parts]) for key in parts[0]},
                   moments=np.concatenate(moments, axis=2),
                   reduced=np.concatenate(reduced) if reduce is not None else None,
                   weights_seconds=totals["map"], simulate_seconds=totals["simulate"], job=job,
                   workers=executor.workers, wall_seconds=time.perf_counter() - began,
                   risk_free=risk_free, carry_rate=carry)


def _weights_of(holder: Any, combos: list[dict[str, Any]]) -> list[tuple]:
    """In a worker: each combination's traded weights, as plain arrays."""
    return [(frame.to_numpy(dtype=float), frame.index.to_numpy())
            for frame in map(holder.state.weights_of, combos)]


def _check_budget(budget: Budget, combos: list, tasks: list, timed: list, first_combo: list,
                  totals: dict, workers: int, elapsed: float) -> None:
    """Refuse, with the estimate, a grid past ``budget``. The time left is the remaining
    combinations at the rate of the last timed batch (the head batch carries the one-off
    full lookahead replay), spread over ``workers``, plus their simulation at the rate
    measured so far (every combination counted as distinct: an upper bound)."""
    left = len(combos) - int(totals["done"])
    task, result = timed[-1]
    map_rate = result.seconds / len(task.combos)
    sim_rate = totals["simulate"] / max(len(first_combo), 1)
    estimate = elapsed + left * (map_rate / workers + sim_rate)
    too_many = len(combos) > budget.max_combos
    too_long = budget.max_seconds is not None and estimate > budget.max_seconds
    if too_many or too_long:
        limit = (f"the limit is {budget.max_combos:,} combinations"
                 + (f" and {format_seconds(budget.max_seconds)}" if budget.max_seconds else ""))
        raise ParameterError(
            f"This grid has {len(combos):,} combinations and would take about "
            f"{format_seconds(estimate)} with {workers} worker(s) (estimated from the "
            f"{int(totals['done']):,} combinations just computed: {map_rate * 1e3:.2f} ms each "
            f"for weights and lookahead checks, {sim_rate * 1e3:.3f} ms to simulate); {limit}. "
            f"Narrow the grid, add workers or a cluster (--workers, --scheduler), or pass "
            f"--max-combos {len(combos)} to run it anyway.")

@dataclass(frozen=True)
class SweepResult:
    """A finished sweep: one row per combination, ranked, and the honesty statistics."""

    strategy: str
    metric: str
    grid: dict[str, list[Any]]
    table: pd.DataFrame             # combos ranked best first: params, trial, metrics
    n_combos: int
    n_trials: int
    best: dict[str, Any]
    best_equity: pd.Series
    stats: dict[str, float]
    timings: dict[str, float] = field(default_factory=dict)


def _rank(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    return best_first(table, metric, then=["trial"]).reset_index(drop=True)


def run_sweep(strategy: type[Strategy], grid: dict[str, list[Any]], ctx: Context,
              market_window: pd.DataFrame, metric: str, costs: Costs, init_cash: float, *,
              lookahead: LookaheadProbe | None = None, progress: GridProgress | None = None,
              chunk_size: int = 1_000, executor: Executor | None = None,
              budget: Budget | None = None, risk_free: RiskFree | None = None,
              book: Book | None = None) -> SweepResult:
    """Every combination of ``grid``, scored and ranked, with the best combination's
    probabilistic and deflated Sharpe ratios (trials = distinct target sets; null: no
    return in excess of ``risk_free``) and PBO."""
    check_metric(metric)
    run = run_grid(strategy, combinations(grid), ctx, market_window, costs=costs,
                   init_cash=init_cash, lookahead=lookahead, chunk_size=chunk_size,
                   progress=progress, executor=executor, budget=budget, risk_free=risk_free,
                   book=book)
    table = pd.DataFrame(run.combos)
    table["trial"] = run.trial_of_combo
    for key, values in run.metrics.items():
        table[key] = values[run.trial_of_combo]
    table = _rank(table, metric)
    best = {k: table.loc[0, k] for k in grid}
    best_trial = int(table.loc[0, "trial"])
    best_equity = run.equity_of(best_trial, ctx, costs, init_cash)
    rf = None if risk_free is None else risk_free.returns(market_window, ctx.inputs).iloc[1:].to_numpy()
    returns = excess_returns(best_equity.pct_change().iloc[1:].to_numpy(), rf)
    per_period = run.metrics["sharpe"] / np.sqrt(PERIODS_PER_YEAR)
    n_trials = run.n_trials
    sr_variance = float(np.nanvar(per_period, ddof=1)) if n_trials > 1 else 0.0
    stats = {
        "best_sharpe": float(run.metrics["sharpe"][best_trial]),
        "psr": probabilistic_sharpe_ratio(returns),
        "dsr": deflated_sharpe_ratio(returns, n_trials, sr_variance) if n_trials > 1 else float("nan"),
        "sr_variance_per_period": sr_variance,
        "pbo": pbo_from_moments(run.moments) if n_trials > 1 else float("nan"),
        "pbo_splits": float(run.moments.shape[0]),
    }
    return SweepResult(strategy=strategy.name, metric=metric, grid=grid, table=table,
                       n_combos=len(run.combos), n_trials=n_trials, best=best,
                       best_equity=best_equity, stats=stats,
                       timings={"weights_seconds": run.weights_seconds,
                                "simulate_seconds": run.simulate_seconds,
                                "wall_seconds": run.wall_seconds, "workers": run.workers})


@dataclass(frozen=True)
class SweepSetup:
    """The session a sweep or walk-forward runs on, with the strategy class and its grid."""

    session: Session
    strategy: type[Strategy]
    grid: dict[str, list[Any]]

    @property
    def universe(self) -> Universe:
        return self.session.universe

    @property
    def market(self) -> MarketData:
        return self.session.market

    @property
    def ctx(self) -> Context:
        return self.session.ctx

    @property
    def window(self) -> pd.DataFrame:
        return self.session.window

    @property
    def source(self) -> str:
        return self.session.source(self.strategy.name)


def load_setup(strategy_name: str, grid_specs: list[str], fixed: dict[str, Any], settings,
               registry=None) -> SweepSetup:
    """Strategy class, parsed grid and a session with its data loaded. The grid is parsed
    before any data is loaded, so a typo fails fast."""
    session = Session(settings, registry)
    cls = session.strategy_class(strategy_name)
    grid = parse_grid(cls, grid_specs, fixed)
    _ = session.risk_free, session.ctx, session.risk_free_returns   # after the grid and --risk-free
    return SweepSetup(session=session, strategy=cls, grid=grid)


def sweep_summary(result: SweepResult, setup: SweepSetup, settings) -> dict[str, Any]:
    """``summary.json``: settings, best combination, statistics, bootstrap intervals."""
    from ..scoring import clean_number
    from ..statistics import bootstrap_summary

    bench = setup.window[setup.universe.benchmark]
    returns = result.best_equity.pct_change().iloc[1:]
    boot = bootstrap_summary(returns.to_numpy(), bench.pct_change().loc[returns.index].to_numpy(),
                             setup.session.risk_free_returns.loc[returns.index].to_numpy())
    return {
        "schema": 1, "command": "sweep", "strategy": result.strategy, "source": setup.source,
        "metric": result.metric, "grid": result.grid, "n_combos": result.n_combos,
        "n_trials": result.n_trials, "best": result.best,
        "best_metrics": {k: clean_number(result.table.loc[0, k]) for k in SWEEP_METRICS},
        "stats": {k: clean_number(v) for k, v in result.stats.items()},
        "bootstrap": {k: [clean_number(x) for x in v] for k, v in boot.items()},
        "timings": result.timings,
        "settings": {"universe": setup.universe.name, "start": str(setup.market.start.date()),
                     "end": str(setup.market.end.date()), "rebalance": settings.rebalance,
                     "fees_bps": settings.costs.fees_bps, "slippage_bps": settings.costs.slippage_bps,
                     "init_cash": settings.init_cash, "data": setup.market.fingerprint(),
                     **setup.session.risk_free_conventions(),
                     "book": setup.session.book(setup.strategy).record(),
                     "source": setup.market.source},
    }
