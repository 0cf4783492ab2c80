"""Metrics of a run, strategy and benchmark side by side, in a stable schema.

Sharpe and Sortino ratios are on daily returns in excess of the risk-free return (see
``durationbt.riskfree``: by default the universe's cash asset's daily total return), with the
one Sharpe formula of ``statistics.sharpe``; CAGR, volatility, drawdown and Calmar use
quantstats' definitions on the raw daily returns (252 periods a year), computed here with
the same operations in the same order, so they equal quantstats' to the last bit (a test
holds them to it) without importing it: a run without a tearsheet never loads quantstats
or matplotlib. Turnover is durationbt's own.
Floats are rounded to 12 significant digits so the same inputs give the same
``metrics.json`` byte for byte."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .statistics import excess_returns, sharpe

__all__ = ["METRICS_SCHEMA", "METRIC_KEYS", "PERIODS_PER_YEAR", "performance_metrics",
           "sharpe_ratio", "sortino_ratio", "cagr", "volatility", "max_drawdown", "calmar",
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


def sharpe_ratio(returns: pd.Series | np.ndarray, risk_free: pd.Series | np.ndarray | None = None,
                 periods: int = PERIODS_PER_YEAR) -> float:
    """Annualised Sharpe ratio: mean / std (ddof 1) of daily returns in excess of the same
    days' risk-free returns, times sqrt(periods). NaN for fewer than 2 days or no variance."""
    return sharpe(np.asarray(returns, dtype=float), _aligned(returns, risk_free)) * math.sqrt(periods)


def sortino_ratio(returns: pd.Series | np.ndarray, risk_free: pd.Series | np.ndarray | None = None,
                  periods: int = PERIODS_PER_YEAR) -> float:
    """Annualised Sortino ratio of excess returns x: mean(x) / sqrt(sum(min(x, 0)^2) / n) x
    sqrt(periods) (quantstats' downside deviation). NaN without a losing day."""
    x = excess_returns(np.asarray(returns, dtype=float), _aligned(returns, risk_free))
    downside = math.sqrt(float((np.minimum(x, 0.0) ** 2).sum()) / len(x)) if len(x) else 0.0
    return float(x.mean()) / downside * math.sqrt(periods) if downside > 0 else float("nan")


def _aligned(returns: pd.Series | np.ndarray,
             risk_free: pd.Series | np.ndarray | None) -> np.ndarray | None:
    """``risk_free`` as an array on ``returns``' days (a Series is aligned by date)."""
    if risk_free is None:
        return None
    if isinstance(risk_free, pd.Series) and isinstance(returns, pd.Series):
        return risk_free.reindex(returns.index).fillna(0.0).to_numpy(dtype=float)
    return np.asarray(risk_free, dtype=float)


def cagr(returns: pd.Series, periods: int = PERIODS_PER_YEAR) -> float:
    """Compound annual growth: (prod(1 + r))^(periods / n) - 1 over n daily returns
    (quantstats' ``cagr``); NaN when wealth went below zero."""
    wealth = float(returns.add(1).prod(axis=0) - 1) + 1.0
    years = returns.count() / periods
    if wealth < 0 or years <= 0:
        return float("nan")
    return abs(wealth) ** (1.0 / years) - 1


def volatility(returns: pd.Series, periods: int = PERIODS_PER_YEAR) -> float:
    """Annualised standard deviation (ddof 1) of daily returns (quantstats' ``volatility``)."""
    return float(returns.std() * np.sqrt(periods))


def max_drawdown(returns: pd.Series) -> float:
    """Largest fall from a peak of the compounded wealth 1 + (prod(1 + r) - 1), the start
    (wealth 1) counting as a peak (quantstats' ``max_drawdown`` of returns)."""
    wealth = 1.0 + (returns.add(1).cumprod() - 1)
    path = np.concatenate([[1.0], wealth.to_numpy(dtype=float)])
    return float((path / np.maximum.accumulate(path)).min() - 1)


def calmar(returns: pd.Series, periods: int = PERIODS_PER_YEAR) -> float:
    """CAGR over the absolute maximum drawdown (quantstats' ``calmar``)."""
    worst = abs(max_drawdown(returns))
    return cagr(returns, periods) / worst if worst > 0 else float("nan")


def performance_metrics(equity: pd.Series, traded: pd.Series,
                        risk_free: pd.Series | None = None) -> dict[str, object]:
    """The METRIC_KEYS of one equity curve (daily closes, first value = initial capital);
    Sharpe and Sortino in excess of ``risk_free`` (daily returns by date; None: rf = 0)."""
    returns = equity.pct_change().iloc[1:]
    numbers = {
        "final_equity": float(equity.iloc[-1]),
        "total_return": float(equity.iloc[-1] / equity.iloc[0] - 1.0),
        "cagr": cagr(returns),
        "volatility": volatility(returns),
        "sharpe": sharpe_ratio(returns, risk_free),
        "sortino": sortino_ratio(returns, risk_free),
        "max_drawdown": max_drawdown(returns),
        "calmar": calmar(returns),
        "turnover": annual_turnover(traded, equity),
    }
    out: dict[str, object] = {"start": str(equity.index[0].date()),
                              "end": str(equity.index[-1].date()), "days": int(len(returns))}
    out.update({k: clean_number(v) for k, v in numbers.items()})
    return {k: out[k] for k in METRIC_KEYS}


def score_run(equity: pd.Series, traded: pd.Series, benchmark: pd.Series,
              benchmark_traded: pd.Series, risk_free: pd.Series | None = None,
              conventions: dict[str, object] | None = None) -> dict[str, object]:
    """``metrics.json``: schema version, the scoring conventions (``conventions`` adds the
    risk-free and cash choices, see ``RiskFree.conventions``), then strategy and benchmark
    metrics, both in excess of the same ``risk_free`` daily returns."""
    return {
        "schema": METRICS_SCHEMA,
        "conventions": {"periods_per_year": PERIODS_PER_YEAR,
                        **(conventions or {"risk_free": "0", "risk_free_ticker": None}),
                        "returns": "daily close-to-close of portfolio value",
                        "excess_returns": "Sharpe, Sortino and regime Sharpe are on daily "
                                          "returns minus the risk-free ticker's daily total "
                                          "return"},
        "strategy": performance_metrics(equity, traded, risk_free),
        "benchmark": performance_metrics(benchmark, benchmark_traded, risk_free),
    }


def summarise_duration(duration: pd.Series) -> dict[str, float | None]:
    """``metrics.json``'s ``portfolio_duration``: average, min and max of the daily
    portfolio duration (% per 100 bp of the 10-year yield)."""
    return {"average": clean_number(duration.mean()), "min": clean_number(duration.min()),
            "max": clean_number(duration.max())}
