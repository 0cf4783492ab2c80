"""Number formatting shared by the terminal tables and the HTML pages: missing or
non-finite values show as ``n/a``. A metric's format and label are declared with it in
``durationbt.metrics``; the headers of other columns are here."""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["fmt_pct", "fmt_num", "fmt_param", "plain_text", "LABELS"]


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


# reStructuredText inline markup, in the order it is undone: roles (:class:`Strategy`,
# :func:`title <target>`; a ~ keeps the last name, as Sphinx shows it), hyperlinks
# (`text <url>`_), literals (``x``), interpreted text (`x`), strong (**x**) and emphasis
# (*x*); emphasis needs text tight inside its stars, so "rank >= 1 * 2" stays as written
_RST = (
    (re.compile(r":[\w.+-]+:`([^`<]*?)\s*(?:<[^`>]*>)?`"),
     lambda m: m[1][1:].rsplit(".", 1)[-1] if m[1].startswith("~") else m[1]),
    (re.compile(r"`([^`<]*?)\s*<[^`>]*>`__?"), r"\1"),
    (re.compile(r"``(.+?)``"), r"\1"),
    (re.compile(r"`([^`]+)`_{0,2}"), r"\1"),
    (re.compile(r"\*\*(\S(?:.*?\S)?)\*\*"), r"\1"),
    (re.compile(r"(?<![\w*])\*(\S(?:[^*]*?\S)?)\*(?![\w*])"), r"\1"),
)


def plain_text(text: str) -> str:
    """``text`` (a docstring's reStructuredText) as a reader sees it rendered: inline
    markup removed and lines joined. '``top_k`` buckets' -> 'top_k buckets'."""
    for pattern, repl in _RST:
        text = pattern.sub(repl, text)
    return " ".join(text.split())


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
