"""Number formatting shared by the terminal tables and the HTML pages: missing or
non-finite values show as ``n/a``."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["fmt_pct", "fmt_num", "fmt_param", "label", "LABELS", "HEADLINE_ROWS"]


def _missing(value: Any) -> bool:
    return value is None or not math.isfinite(float(value))


def fmt_pct(value: Any, digits: int = 2) -> str:
    """0.1234 -> '12.34%'."""
    return "n/a" if _missing(value) else f"{100 * float(value):,.{digits}f}%"


def fmt_num(value: Any, digits: int = 2) -> str:
    """1234.5 -> '1,234.50'."""
    return "n/a" if _missing(value) else f"{float(value):,.{digits}f}"


# (label, metrics.json key, formatter): the strategy-vs-benchmark table of `run` and of
# report.html
HEADLINE_ROWS = (("Total return", "total_return", fmt_pct), ("CAGR", "cagr", fmt_pct),
                 ("Volatility", "volatility", fmt_pct), ("Sharpe", "sharpe", fmt_num),
                 ("Sortino", "sortino", fmt_num), ("Max drawdown", "max_drawdown", fmt_pct),
                 ("Calmar", "calmar", fmt_num), ("Turnover (1-way, /yr)", "turnover", fmt_num),
                 ("Final equity", "final_equity", lambda v: fmt_num(v, 0)))


def fmt_param(value: Any) -> str:
    """A parameter value as the user would type it: 3.0 -> '3', 0.25 -> '0.25'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "item"):  # numpy scalars from a DataFrame
        return fmt_param(value.item())
    return str(value)


# column keys of metrics.json, leaderboard.csv, sweep.csv and the regime tables -> the
# header a reader sees on a page; keys not listed are shown with underscores as spaces
LABELS = {
    "cagr": "CAGR", "volatility": "Volatility", "sharpe": "Sharpe", "sortino": "Sortino",
    "max_drawdown": "Max drawdown", "calmar": "Calmar", "turnover": "Turnover /yr",
    "avg_duration": "Avg duration", "information_ratio": "Information ratio",
    "total_return": "Total return", "final_equity": "Final equity",
    "sharpe_ci": "Sharpe 95% CI", "sharpe_vs_benchmark_ci": "Sharpe − benchmark 95% CI",
    "sharpe_ci_low": "Sharpe CI low", "sharpe_ci_high": "Sharpe CI high",
    "sharpe_vs_benchmark_ci_low": "Sharpe − benchmark CI low",
    "sharpe_vs_benchmark_ci_high": "Sharpe − benchmark CI high",
    "rebalance": "Schedule", "costs": "Costs (fees + slippage, bp)", "risk_free": "Risk-free",
    "start": "Start", "end": "End", "ann_return": "Return", "trial": "Trial",
    "train_start": "Train start", "train_end": "Train end", "test_end": "Test end",
    "avg_spell_days": "Avg spell (days)",
}


def label(key: str) -> str:
    """The human header of a column key (``LABELS``, else underscores as spaces)."""
    if key in LABELS:
        return LABELS[key]
    for prefix in ("in_sample_", "out_of_sample_"):
        if key.startswith(prefix):
            words = prefix[:-1].replace("_", " ")
            return f"{words[0].upper()}{words[1:]}: {label(key[len(prefix):])}"
    return key.replace("_", " ")
