"""Metrics of a run, strategy and benchmark side by side, in a stable schema.

Performance numbers come from quantstats (daily returns, 252 periods a year, rf = 0);
turnover is durationbt's own. Floats are rounded to 12 significant digits so the same
inputs give the same ``metrics.json`` byte for byte."""

from __future__ import annotations

import math
import warnings

import pandas as pd

__all__ = ["METRICS_SCHEMA", "METRIC_KEYS", "PERIODS_PER_YEAR", "performance_metrics",
           "annual_turnover", "score_run", "summarise_duration", "LOWER_IS_BETTER"]

METRICS_SCHEMA = 1
# metrics where smaller is better when ranking (drawdowns are negative: larger is better)
LOWER_IS_BETTER = frozenset({"volatility", "turnover"})
PERIODS_PER_YEAR = 252
METRIC_KEYS = ("start", "end", "days", "final_equity", "total_return", "cagr", "volatility",
               "sharpe", "sortino", "max_drawdown", "calmar", "turnover")


def clean_number(value: float) -> float | None:
    """Round to 12 significant digits; NaN and infinities become null in JSON."""
    value = float(value)
    if not math.isfinite(value):
        return None
    return float(f"{value:.12g}")


def annual_turnover(traded: pd.Series, equity: pd.Series) -> float:
    """One-way turnover per year: half the traded notional divided by average equity, per
    year of 252 trading days. Buying the initial portfolio counts (0.5 of it, one way)."""
    years = (len(equity) - 1) / PERIODS_PER_YEAR
    if years <= 0 or equity.mean() <= 0:
        return float("nan")
    return float(traded.sum() / 2.0 / equity.mean() / years)


def performance_metrics(equity: pd.Series, traded: pd.Series) -> dict[str, object]:
    """The METRIC_KEYS of one equity curve (daily closes, first value = initial capital)."""
    import quantstats as qs  # heavy: only when scoring

    returns = equity.pct_change().iloc[1:]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"quantstats\..*")
        numbers = {
            "final_equity": float(equity.iloc[-1]),
            "total_return": float(equity.iloc[-1] / equity.iloc[0] - 1.0),
            "cagr": qs.stats.cagr(returns, periods=PERIODS_PER_YEAR),
            "volatility": qs.stats.volatility(returns, periods=PERIODS_PER_YEAR),
            "sharpe": qs.stats.sharpe(returns, periods=PERIODS_PER_YEAR),
            "sortino": qs.stats.sortino(returns, periods=PERIODS_PER_YEAR),
            "max_drawdown": qs.stats.max_drawdown(returns),
            "calmar": qs.stats.calmar(returns, periods=PERIODS_PER_YEAR),
            "turnover": annual_turnover(traded, equity),
        }
    out: dict[str, object] = {"start": str(equity.index[0].date()),
                              "end": str(equity.index[-1].date()), "days": int(len(returns))}
    out.update({k: clean_number(v) for k, v in numbers.items()})
    return {k: out[k] for k in METRIC_KEYS}


def score_run(equity: pd.Series, traded: pd.Series, benchmark: pd.Series,
              benchmark_traded: pd.Series) -> dict[str, object]:
    """``metrics.json``: schema version, then strategy and benchmark metrics."""
    return {
        "schema": METRICS_SCHEMA,
        "conventions": {"periods_per_year": PERIODS_PER_YEAR, "risk_free_rate": 0.0,
                        "returns": "daily close-to-close of portfolio value"},
        "strategy": performance_metrics(equity, traded),
        "benchmark": performance_metrics(benchmark, benchmark_traded),
    }


def summarise_duration(duration: pd.Series) -> dict[str, float | None]:
    """``metrics.json``'s ``portfolio_duration``: average, min and max of the daily
    portfolio duration (% per 100 bp of the 10-year yield)."""
    return {"average": clean_number(duration.mean()), "min": clean_number(duration.min()),
            "max": clean_number(duration.max())}
