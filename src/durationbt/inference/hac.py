"""Newey-West (HAC) estimates: means, differences of means between two groups of days and
regression slopes whose errors survive autocorrelation (overlapping windows, regimes that
last for months). Bartlett kernel, no small-sample correction: statsmodels' ``OLS(...).fit(
cov_type="HAC", cov_kwds={"maxlags": L, "use_correction": False})``, which the tests hold
these numbers to. Intervals and p-values use the normal approximation."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from .estimate import Estimate

__all__ = ["newey_west_lags", "hac_ols", "hac_mean", "hac_mean_difference", "hac_slope"]

_Z = NormalDist().inv_cdf(0.975)


def newey_west_lags(n: int) -> int:
    """The usual automatic bandwidth floor(4 (n / 100)^(2/9)) (Newey & West 1994)."""
    return int(np.floor(4 * (max(n, 0) / 100.0) ** (2.0 / 9.0)))


def hac_ols(y: np.ndarray, X: np.ndarray, lags: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OLS coefficients, HAC standard errors and residuals of ``y`` on the columns of ``X``
    (which includes any constant), Bartlett weights 1 - l / (lags + 1)."""
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    xtx_inv = np.linalg.inv(X.T @ X)
    scores = X * resid[:, None]
    meat = scores.T @ scores
    for lag in range(1, min(lags, len(y) - 1) + 1):
        gamma = scores[lag:].T @ scores[:-lag]
        meat += (1.0 - lag / (lags + 1.0)) * (gamma + gamma.T)
    cov = xtx_inv @ meat @ xtx_inv
    return beta, np.sqrt(np.clip(np.diag(cov), 0.0, None)), resid


def _normal_estimate(value: float, se: float, n: int, method: str, **extra: object) -> Estimate:
    t = value / se if se > 0 else float("nan")
    p = 2.0 * (1.0 - NormalDist().cdf(abs(t))) if math.isfinite(t) else float("nan")
    value, se = float(value), float(se)
    return Estimate(value, (value - _Z * se, value + _Z * se), p, n, method, se,
                    float(t), dict(extra))


def _nan(n: int, method: str, **extra: object) -> Estimate:
    nan = float("nan")
    return Estimate(nan, (nan, nan), None, n, method, None, None, dict(extra))


def hac_mean(x: np.ndarray, lags: int | None = None) -> Estimate:
    """The mean of ``x`` (NaN dropped) with a Newey-West interval; ``lags`` default: the
    automatic bandwidth, or the overlap of the windows (horizon - 1) when the caller knows it."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    lags = newey_west_lags(n) if lags is None else int(lags)
    method = f"Newey-West HAC mean (Bartlett, {lags} lags)"
    if n < 3:
        return _nan(n, method)
    beta, se, _ = hac_ols(x, np.ones((n, 1)), lags)
    return _normal_estimate(beta[0], se[0], n, method)


def hac_mean_difference(x: np.ndarray, in_a: np.ndarray, in_b: np.ndarray,
                        lags: int | None = None) -> Estimate:
    """mean(x on ``in_a`` days) - mean(x on ``in_b`` days): the slope of x on [1, in_a]
    over the days in either group, in time order, with Newey-West errors. ``extra`` holds
    each group's days."""
    x = np.asarray(x, dtype=float)
    a, b = np.asarray(in_a, dtype=bool), np.asarray(in_b, dtype=bool)
    keep = (a | b) & np.isfinite(x)
    y, dummy = x[keep], a[keep].astype(float)
    n, n_a = len(y), int(dummy.sum())
    lags = newey_west_lags(n) if lags is None else int(lags)
    method = f"difference of means, Newey-West HAC (Bartlett, {lags} lags)"
    if n_a < 2 or n - n_a < 2:
        return _nan(n, method, days_a=n_a, days_b=n - n_a)
    beta, se, _ = hac_ols(y, np.column_stack([np.ones(n), dummy]), lags)
    return _normal_estimate(beta[1], se[1], n, method, days_a=n_a, days_b=n - n_a)


def hac_slope(y: np.ndarray, x: np.ndarray, lags: int | None = None) -> Estimate:
    """The slope of ``y`` on ``[1, x]`` (rows with a NaN dropped) with Newey-West errors."""
    y, x = np.asarray(y, dtype=float), np.asarray(x, dtype=float)
    ok = np.isfinite(y) & np.isfinite(x)
    y, x = y[ok], x[ok]
    n = len(y)
    lags = newey_west_lags(n) if lags is None else int(lags)
    method = f"OLS slope, Newey-West HAC (Bartlett, {lags} lags)"
    if n < 4 or np.ptp(x) == 0:
        return _nan(n, method)
    beta, se, _ = hac_ols(y, np.column_stack([np.ones(n), x]), lags)
    return _normal_estimate(beta[1], se[1], n, method)
