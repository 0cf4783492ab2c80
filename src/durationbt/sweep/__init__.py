"""Parameter sweeps and walk-forward analysis on the numba kernel."""

from .grid import combinations, parse_grid
from .kernel import simulate_many
from .metrics import SWEEP_METRICS, equity_metrics
from .sweep import SweepResult, prepare_grid, run_sweep, simulate_grid

__all__ = ["combinations", "parse_grid", "simulate_many", "SWEEP_METRICS", "equity_metrics",
           "SweepResult", "prepare_grid", "run_sweep", "simulate_grid"]
