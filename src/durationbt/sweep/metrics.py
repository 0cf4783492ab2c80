"""The run metrics (``durationbt.scoring``) for many equity curves at once (one row per
combination), by the formulas of ``durationbt.metrics``: volatility, Sharpe and Sortino of
the daily returns and, from the curves themselves, total return, CAGR, drawdown and Calmar
when the curves are kept; its ``*_from_*`` helpers on the kernel's streamed sums when not.
The tests hold both equal to a run's ``performance_metrics`` for sampled curves."""

from __future__ import annotations

import math

import numpy as np

from ..metrics import (
    METRICS,
    PERIODS_PER_YEAR,
    cagr_from_total,
    calmar_from,
    max_drawdown_from_wealth,
    ratio,
    std_from_sums,
    turnover,
)

__all__ = ["SWEEP_METRICS", "equity_metrics", "stats_metrics"]

SWEEP_METRICS = ("total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown",
                 "calmar", "turnover")


def equity_metrics(equity: np.ndarray, traded: np.ndarray,
                   risk_free: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Each metric as one value per row of ``equity`` (combos x days, first column = the
    initial capital); ``traded`` is each row's total traded notional; ``risk_free`` the
    daily risk-free return on each day (the first is not used; None: 0)."""
    returns = (equity[:, 1:] / equity[:, :-1] - 1.0).T     # days x combos, as metrics take them
    rf = None if risk_free is None else np.asarray(risk_free, dtype=float)[1:]
    n = len(returns)
    total = equity[:, -1] / equity[:, 0] - 1.0
    cagr = cagr_from_total(total, n)
    drawdown = max_drawdown_from_wealth(equity)
    return _ruined({
        "total_return": total,
        "cagr": cagr,
        **{name: METRICS[name].compute(returns, rf, PERIODS_PER_YEAR)
           for name in ("volatility", "sharpe", "sortino")},
        "max_drawdown": drawdown,
        "calmar": calmar_from(cagr, drawdown),
        "turnover": turnover(traded, equity.mean(axis=1), n),
    }, equity.min(axis=1) <= 0)


def _ruined(metrics: dict[str, np.ndarray], ruined: np.ndarray) -> dict[str, np.ndarray]:
    """A combination whose equity reached 0 (a long/short book that lost more than its
    capital) has no meaningful returns after that day: every metric NaN (ranked last)
    except a drawdown of -100%, as ``run`` refuses such a book."""
    if not np.any(ruined):
        return metrics
    out = {k: np.where(ruined, np.nan, np.asarray(v, dtype=float)) for k, v in metrics.items()}
    out["max_drawdown"] = np.where(ruined, -1.0, out["max_drawdown"])
    return out


def stats_metrics(stats: np.ndarray, traded: np.ndarray, days: int,
                  init_cash: float) -> dict[str, np.ndarray]:
    """The same metrics from the kernel's streaming statistics (``kernel.STATS``), for
    sweeps that keep no daily equity. Variance from sums: exact to ~1e-12 relative."""
    sum_r, sum_r2, sum_x, sum_x2, sum_down2, drawdown, mean_equity, final = stats.T
    n = days - 1
    total = final / init_cash - 1.0
    cagr = cagr_from_total(total, n)
    return _ruined({
        "total_return": total,
        "cagr": cagr,
        "volatility": std_from_sums(n, sum_r, sum_r2) * math.sqrt(PERIODS_PER_YEAR),
        "sharpe": ratio(sum_x / n, std_from_sums(n, sum_x, sum_x2)),
        "sortino": ratio(sum_x / n, np.sqrt(sum_down2 / n)),
        "max_drawdown": drawdown,
        "calmar": calmar_from(cagr, drawdown),
        "turnover": turnover(traded, mean_equity, n),
    }, drawdown <= -1.0)     # equity at or below 0 on some day
