"""Parameter sweeps and walk-forward analysis on the numba kernel."""

from .executors import DaskCluster, LocalWorkers, OneWorker, executor_for
from .grid import combinations, parse_grid
from .kernel import simulate_many, simulate_stats
from .metrics import SWEEP_METRICS, equity_metrics, stats_metrics
from .sweep import Budget, GridRun, SweepResult, run_grid, run_sweep
from .walkforward import WalkForwardResult, walk_forward

__all__ = ["combinations", "parse_grid", "simulate_many", "simulate_stats", "SWEEP_METRICS",
           "equity_metrics", "stats_metrics", "Budget", "GridRun", "SweepResult", "run_grid", "run_sweep",
           "WalkForwardResult", "walk_forward", "executor_for", "OneWorker", "LocalWorkers",
           "DaskCluster"]
