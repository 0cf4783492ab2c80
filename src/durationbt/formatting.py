"""Number formatting shared by the terminal tables and the HTML pages: missing or
non-finite values show as ``n/a``."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["fmt_pct", "fmt_num", "HEADLINE_ROWS"]


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
