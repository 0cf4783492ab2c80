"""The run metrics (``durationbt.scoring``) for many equity curves at once, in numpy, with
the same definitions (daily returns, 252 periods a year; Sharpe and Sortino on returns in
excess of the risk-free return): the tests hold them equal to ``performance_metrics`` for
sampled curves."""

from __future__ import annotations

import numpy as np

from ..scoring import PERIODS_PER_YEAR

__all__ = ["SWEEP_METRICS", "equity_metrics", "stats_metrics"]

SWEEP_METRICS = ("total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown",
                 "calmar", "turnover")


def _metrics(n: int, std: np.ndarray, mean_x: np.ndarray, std_x: np.ndarray,
             downside: np.ndarray, growth: np.ndarray, drawdown: np.ndarray,
             mean_equity: np.ndarray, traded: np.ndarray) -> dict[str, np.ndarray]:
    """The metrics from ``n`` daily returns' std (ddof 1), their excess returns' mean, std
    and downside deviation, total growth, max drawdown, average equity and traded notional
    (the Sharpe formula of ``statistics.sharpe``, from moments)."""
    root = np.sqrt(PERIODS_PER_YEAR)
    with np.errstate(divide="ignore", invalid="ignore"):
        cagr = np.where(growth < 0, np.nan, np.abs(growth) ** (PERIODS_PER_YEAR / n) - 1.0)
        return {
            "total_return": growth - 1.0,
            "cagr": cagr,
            "volatility": std * root,
            "sharpe": np.where(std_x > 0, mean_x / std_x, np.nan) * root,
            "sortino": np.where(downside > 0, mean_x / downside, np.nan) * root,
            "max_drawdown": drawdown,
            "calmar": cagr / np.abs(drawdown),
            "turnover": traded / 2.0 / mean_equity / (n / PERIODS_PER_YEAR),
        }


def equity_metrics(equity: np.ndarray, traded: np.ndarray,
                   risk_free: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Each metric as one value per row of ``equity`` (combos x days, first column = the
    initial capital); ``traded`` is each row's total traded notional; ``risk_free`` the
    daily risk-free return on each day (the first is not used; None: 0)."""
    returns = equity[:, 1:] / equity[:, :-1] - 1.0
    n = returns.shape[1]
    excess = returns if risk_free is None else returns - np.asarray(risk_free)[1:]
    downside = np.sqrt((np.minimum(excess, 0.0) ** 2).sum(axis=1) / n)
    drawdown = (equity / np.maximum.accumulate(equity, axis=1) - 1.0).min(axis=1)
    return _metrics(n, returns.std(axis=1, ddof=1), excess.mean(axis=1),
                    excess.std(axis=1, ddof=1), downside, equity[:, -1] / equity[:, 0],
                    drawdown, equity.mean(axis=1), traded)


def stats_metrics(stats: np.ndarray, traded: np.ndarray, days: int,
                  init_cash: float) -> dict[str, np.ndarray]:
    """The same metrics from the kernel's streaming statistics (``kernel.STATS``), for
    sweeps that keep no daily equity. Variance from sums: exact to ~1e-12 relative."""
    sum_r, sum_r2, sum_x, sum_x2, sum_down2, drawdown, mean_equity, final = stats.T
    n = days - 1
    mean, mean_x = sum_r / n, sum_x / n
    std = np.sqrt(np.maximum(sum_r2 - n * mean**2, 0.0) / (n - 1))
    std_x = np.sqrt(np.maximum(sum_x2 - n * mean_x**2, 0.0) / (n - 1))
    return _metrics(n, std, mean_x, std_x, np.sqrt(sum_down2 / n), final / init_cash,
                    drawdown, mean_equity, traded)
