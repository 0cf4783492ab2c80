"""Number formatting shared by the terminal tables and the HTML pages: missing or
non-finite values show as ``n/a``. A metric's format and label are declared with it in
``durationbt.metrics``; the headers of other columns are here."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["fmt_pct", "fmt_num", "fmt_param", "LABELS"]


def _missing(value: Any) -> bool:
    return value is None or not math.isfinite(float(value))


def fmt_pct(value: Any, digits: int = 2) -> str:
    """0.1234 -> '12.34%'."""
    return "n/a" if _missing(value) else f"{100 * float(value):,.{digits}f}%"


def fmt_num(value: Any, digits: int = 2) -> str:
    """1234.5 -> '1,234.50'."""
    return "n/a" if _missing(value) else f"{float(value):,.{digits}f}"


def fmt_param(value: Any) -> str:
    """A parameter value as the user would type it: 3.0 -> '3', 0.25 -> '0.25'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "item"):  # numpy scalars from a DataFrame
        return fmt_param(value.item())
    return str(value)


# column keys of leaderboard.csv, sweep.csv and the regime tables that are not metrics ->
# the header a reader sees on a page (``metrics.label`` reads metrics' labels first); keys
# not listed are shown with underscores as spaces
LABELS = {
    "sharpe_ci": "Sharpe 95% CI", "sharpe_vs_benchmark_ci": "Sharpe − benchmark 95% CI",
    "rebalance": "Schedule", "costs": "Costs (fees + slippage, bp)", "risk_free": "Risk-free",
    "start": "Start", "end": "End", "trial": "Trial", "universe": "Universe",
    "cash_asset": "Cash asset", "cash": "Uninvested weight", "benchmark": "Benchmark",
    "train_start": "Train start", "train_end": "Train end", "test_end": "Test end",
    "avg_spell_days": "Avg spell (days)",
}
