"""Statistics that keep a backtest honest, as pure functions (the building blocks of the
sweep and compare commands).

* Probabilistic and deflated Sharpe ratio: Bailey & López de Prado, "The Sharpe Ratio
  Efficient Frontier" (2012) and "The Deflated Sharpe Ratio" (2014). The variance term uses
  the *raw* (Pearson) kurtosis, 3 for a normal; vectorbt plugs in excess kurtosis there.
* Stationary bootstrap (Politis & Romano 1994): resamples blocks of geometric length so
  volatility clustering survives, unlike i.i.d. resampling.
* Probability of backtest overfitting by combinatorially symmetric cross-validation
  (Bailey, Borwein, López de Prado & Zhu 2017).

Sharpe ratios here are per period (not annualised) unless a function says otherwise, and
of the returns they are given: callers pass returns in excess of the risk-free return
(``excess_returns``), so the null of PSR/DSR is "no excess return"."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from statistics import NormalDist

import numpy as np

from .inference.bootstrap import stationary_bootstrap_indices
from .metrics import PERIODS_PER_YEAR, cagr, sharpe, sharpe_from_sums

__all__ = ["excess_returns", "probabilistic_sharpe_ratio", "expected_max_sharpe",
           "deflated_sharpe_ratio", "stationary_bootstrap_indices", "bootstrap_ci",
           "probability_of_backtest_overfitting",
           "pbo_from_moments", "block_moments", "bootstrap_summary", "EULER_GAMMA"]

EULER_GAMMA = 0.5772156649015329
_N = NormalDist()


def excess_returns(returns: np.ndarray, risk_free: np.ndarray | None = None) -> np.ndarray:
    """``returns`` minus the same days' ``risk_free`` returns (``None``: a zero rate)."""
    r = np.asarray(returns, dtype=float)
    return r if risk_free is None else r - np.asarray(risk_free, dtype=float)


def probabilistic_sharpe_ratio(returns: np.ndarray, benchmark_sr: float = 0.0) -> float:
    """P(true SR > ``benchmark_sr``) = Phi((SR - SR*) sqrt(n - 1) /
    sqrt(1 - skew SR + (kurt - 1) / 4 SR^2)), with kurt the raw kurtosis (normal = 3)."""
    r = np.asarray(returns, dtype=float)
    n = len(r)
    sr = sharpe(r, periods=1)
    if n < 3 or not math.isfinite(sr):
        return float("nan")
    z = (r - r.mean()) / r.std(ddof=0)
    skew = float((z ** 3).mean())
    kurt = float((z ** 4).mean())
    denom = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr ** 2
    if denom <= 0:
        return float("nan")
    return _N.cdf((sr - benchmark_sr) * math.sqrt(n - 1) / math.sqrt(denom))


def expected_max_sharpe(n_trials: int, sr_variance: float) -> float:
    """Expected maximum per-period SR of ``n_trials`` unskilled trials whose SRs vary with
    ``sr_variance``: sqrt(V) ((1 - g) Phi^-1(1 - 1/N) + g Phi^-1(1 - 1/(N e)))."""
    if n_trials < 1:
        raise ValueError("n_trials must be at least 1")
    if n_trials == 1:
        return 0.0
    return math.sqrt(sr_variance) * ((1 - EULER_GAMMA) * _N.inv_cdf(1 - 1 / n_trials)
                                     + EULER_GAMMA * _N.inv_cdf(1 - 1 / (n_trials * math.e)))


def deflated_sharpe_ratio(returns: np.ndarray, n_trials: int, sr_variance: float) -> float:
    """PSR against the SR that the best of ``n_trials`` noise strategies would reach."""
    return probabilistic_sharpe_ratio(returns, expected_max_sharpe(n_trials, sr_variance))


def bootstrap_ci(series: np.ndarray, statistic: Callable[[np.ndarray], float], *,
                 mean_block: float = 21.0, n_boot: int = 2000, level: float = 0.95,
                 seed: int = 0) -> tuple[float, float, float]:
    """(estimate, low, high): percentile interval of ``statistic`` over stationary-bootstrap
    resamples of the rows of ``series`` (1-D, or 2-D to keep columns paired)."""
    data = np.asarray(series, dtype=float)
    rng = np.random.default_rng(seed)
    idx = stationary_bootstrap_indices(len(data), mean_block, n_boot, rng)
    draws = np.array([statistic(data[i]) for i in idx])
    tail = (1 - level) / 2
    low, high = np.nanquantile(draws, [tail, 1 - tail])
    return float(statistic(data)), float(low), float(high)


def probability_of_backtest_overfitting(returns: np.ndarray, n_splits: int = 16) -> float:
    """CSCV PBO of a T x N matrix (one column per trial): over all ways of choosing half of
    ``n_splits`` blocks as in-sample, the share of times the in-sample best trial ranks at
    or below the median out of sample (logit <= 0)."""
    m = np.asarray(returns, dtype=float)
    t, n = m.shape
    if n < 2 or n_splits % 2 or t < n_splits * 2:
        raise ValueError("need >= 2 trials, an even n_splits and >= 2 rows per split")
    return pbo_from_moments(block_moments(m, n_splits))


def block_moments(returns: np.ndarray, n_splits: int) -> np.ndarray:
    """Count, sum and sum of squares of a T x N return matrix in ``n_splits`` consecutive
    blocks: splits x 3 x N, all CSCV needs to score any union of blocks."""
    m = np.asarray(returns, dtype=float)
    return np.stack([np.stack([np.full(m.shape[1], len(b), dtype=float), m[b].sum(axis=0),
                               (m[b] ** 2).sum(axis=0)])
                     for b in np.array_split(np.arange(len(m)), n_splits)])


def pbo_from_moments(moments: np.ndarray, batch: int = 256) -> float:
    """CSCV PBO from per-block return moments (splits x [count, sum, sum of squares] x
    trials), so a sweep need not keep every daily return of every trial. All C(S, S/2)
    in-sample choices are evaluated as matrix products, ``batch`` choices at a time."""
    n_splits, _, n = moments.shape
    if n < 2 or n_splits % 2 or n_splits < 2:
        raise ValueError("need >= 2 trials and an even number of splits")
    choices = np.array(list(itertools.combinations(range(n_splits), n_splits // 2)))
    masks = np.zeros((len(choices), n_splits))
    masks[np.arange(len(choices))[:, None], choices] = 1.0
    totals = moments.sum(axis=0)  # 3 x trials
    below = 0
    for lo in range(0, len(masks), batch):
        m = masks[lo:lo + batch]
        ins = [m @ moments[:, k, :] for k in range(3)]            # batch x trials each
        sr_in = sharpe_from_sums(*ins, periods=1)
        sr_out = sharpe_from_sums(*(totals[k] - ins[k] for k in range(3)), periods=1)
        sr_in = np.where(np.isnan(sr_in), -np.inf, sr_in)
        best = np.argmax(sr_in, axis=1)
        chosen = sr_out[np.arange(len(m)), best][:, None]
        rank = (sr_out < chosen).sum(axis=1) + 0.5 * ((sr_out == chosen).sum(axis=1) - 1) + 1
        omega = rank / (n + 1)
        below += int((np.log(omega / (1 - omega)) <= 0).sum())
    return below / len(masks)


def bootstrap_summary(returns: np.ndarray, benchmark: np.ndarray,
                      risk_free: np.ndarray | None = None, *, periods: int = PERIODS_PER_YEAR,
                      mean_block: float = 21.0, n_boot: int = 2000, level: float = 0.95,
                      seed: int = 0) -> dict[str, tuple[float, float, float]]:
    """Stationary-bootstrap (estimate, low, high) of the annualised Sharpe ratio, the CAGR
    and the Sharpe difference to the benchmark, from daily returns; Sharpe ratios are in
    excess of ``risk_free`` (days resampled together, so each day keeps its own rate).
    Mean block of 21 days keeps about a month of volatility clustering."""
    r = np.asarray(returns, dtype=float)
    rf = np.zeros(len(r)) if risk_free is None else np.asarray(risk_free, dtype=float)
    rows = np.column_stack([r, np.asarray(benchmark, dtype=float), rf])
    root = math.sqrt(periods)
    options = {"mean_block": mean_block, "n_boot": n_boot, "level": level, "seed": seed}
    return {
        "sharpe": bootstrap_ci(rows, lambda x: sharpe(x[:, 0], x[:, 2], periods), **options),
        "cagr": bootstrap_ci(r, lambda x: cagr(x, periods), **options),
        "sharpe_minus_benchmark": bootstrap_ci(
            rows, lambda x: (sharpe(x[:, 0], x[:, 2], 1) - sharpe(x[:, 1], x[:, 2], 1)) * root,
            **options),
    }
