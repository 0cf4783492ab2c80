"""Stationary bootstrap (Politis & Romano 1994) of any statistic, and its paired form for
comparing two return series on the same days (a strategy and its static mix, a strategy and
a baseline): each replicate resamples the same days for both, so their common market moves
cancel and only the difference is left to vary.

The replicates' index arrays are drawn once and the statistic is evaluated on all of them at
once (vectorised over a leading replicate axis), which is what makes a 1,000-replicate
interval cost milliseconds; arch's ``StationaryBootstrap`` calls Python per replicate. arch
supplies the data-driven block length (Politis & White 2004, ``optimal_block_length``)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..metrics import PERIODS_PER_YEAR, sharpe
from .estimate import Estimate

__all__ = ["stationary_bootstrap_indices", "stationary_bootstrap", "stationary_bootstrap_many",
           "stationary_bootstrap_sums", "paired_bootstrap", "sharpe_difference", "optimal_block"]

#: replicates evaluated per batch: bounds memory at batch x days x columns floats
_BATCH = 250


def stationary_bootstrap_indices(n: int, mean_block: float, n_boot: int,
                                 rng: np.random.Generator) -> np.ndarray:
    """``n_boot`` x ``n`` index arrays: each run starts at a random point and continues
    (wrapping) with probability 1 - 1/mean_block, else jumps to a new random start."""
    from .runs import follow_runs

    return follow_runs(*_draws(n, mean_block, n_boot, rng))


def _draws(n: int, mean_block: float, n_boot: int,
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The random numbers behind ``stationary_bootstrap_indices``, in their order: first
    days, run breaks, new starts."""
    if mean_block < 1:
        raise ValueError("mean_block must be at least 1")
    first = rng.integers(0, n, n_boot)
    jumps = rng.random((n_boot, n)) < 1.0 / mean_block
    return first, jumps, rng.integers(0, n, (n_boot, n))


def optimal_block(x: np.ndarray, low: float = 1.0, high: float | None = None) -> float:
    """Politis-White automatic mean block length of the stationary bootstrap for ``x``
    (arch), clipped to [``low``, ``high``] (default: a tenth of the sample)."""
    from arch.bootstrap import optimal_block_length

    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    high = max(low, len(x) / 10.0) if high is None else high
    if len(x) < 10 or np.ptp(x) == 0:
        return float(low)
    block = float(optimal_block_length(x)["stationary"].iloc[0])
    return float(min(max(block if math.isfinite(block) else low, low), high))


def _replicates(data: np.ndarray, statistic: Callable[[np.ndarray], np.ndarray],
                mean_block: float, n_boot: int, seed: int) -> np.ndarray:
    """``statistic`` on ``n_boot`` resamples of ``data``'s rows: n_boot x outputs."""
    idx = stationary_bootstrap_indices(len(data), mean_block, n_boot, np.random.default_rng(seed))
    parts = [np.asarray(statistic(data[idx[lo:lo + _BATCH]]), dtype=float)
             for lo in range(0, n_boot, _BATCH)]
    return np.concatenate([p.reshape(len(p), -1) for p in parts])


def _described(mean_block: float, n_boot: int, seed: int) -> tuple[str, dict]:
    """The method sentence and the extra fields every bootstrap estimate carries."""
    return (f"stationary bootstrap, mean block {mean_block:.1f} days, {n_boot} replicates",
            {"block_days": float(mean_block), "replicates": int(n_boot), "seed": int(seed)})


def _estimate(estimate: float, draws: np.ndarray, n: int, method: str, extra: dict,
              null: float, level: float) -> Estimate:
    """Percentile interval and re-centred two-sided p of one output's finite draws."""
    draws = draws[np.isfinite(draws)]
    if not math.isfinite(estimate) or len(draws) < 2:
        nan = float("nan")
        return Estimate(estimate, (nan, nan), None, n, method, None, None, dict(extra))
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(draws, [tail, 1.0 - tail])
    extreme = int((np.abs(draws - estimate) >= abs(estimate - null)).sum())
    p = (1 + extreme) / (len(draws) + 1)
    return Estimate(estimate, (float(low), float(high)), float(p), n, method,
                    float(draws.std(ddof=1)), None, dict(extra))


def stationary_bootstrap(data: np.ndarray, statistic: Callable[[np.ndarray], np.ndarray], *,
                         mean_block: float, n_boot: int = 1000, seed: int = 0,
                         null: float = 0.0, level: float = 0.95) -> Estimate:
    """``statistic`` of the rows of ``data`` (days, or days x columns kept together) with a
    percentile interval and a two-sided p-value of "the truth is ``null``".

    ``statistic`` takes an array with a leading replicate axis (replicates x days [x columns])
    and returns one value per replicate. p = (1 + #{|theta* - theta| >= |theta - null|}) /
    (n_boot + 1): the bootstrap distribution re-centred on the null."""
    return stationary_bootstrap_many(data, statistic, mean_block=mean_block, n_boot=n_boot,
                                     seed=seed, null=null, level=level)[0]


def stationary_bootstrap_many(data: np.ndarray, statistic: Callable[[np.ndarray], np.ndarray], *,
                              mean_block: float, n_boot: int = 1000, seed: int = 0,
                              null: float = 0.0, level: float = 0.95) -> list[Estimate]:
    """``stationary_bootstrap`` of a statistic with several outputs (replicates x k, e.g.
    the Sharpe ratio of every column): one set of resampled days serves them all, so the
    outputs' draws stay jointly consistent and the cost is one resampling. One Estimate per
    output, in order; an output that is NaN on a replicate (too few finite days) leaves that
    replicate out of its own interval."""
    data = np.asarray(data, dtype=float)
    n = len(data)
    estimates = np.asarray(statistic(data[None]), dtype=float).reshape(-1)
    method, extra = _described(mean_block, n_boot, seed)
    if n < 3:
        return [_estimate(float(e), np.empty(0), n, method, extra, null, level) for e in estimates]
    with np.errstate(invalid="ignore", divide="ignore"):
        draws = _replicates(data, statistic, mean_block, n_boot, seed)
    return [_estimate(float(e), draws[:, k], n, method, extra, null, level)
            for k, e in enumerate(estimates)]


def stationary_bootstrap_sums(data: np.ndarray, finish: Callable[[np.ndarray], np.ndarray], *,
                              mean_block: float, n_boot: int = 1000, seed: int = 0,
                              null: float = 0.0, level: float = 0.95) -> list[Estimate]:
    """``stationary_bootstrap_many`` for statistics of column sums (means, variances and
    compounded growth from sums of x, x^2 and log(1 + r)): ``finish`` maps replicates x
    columns of sums to replicates x outputs. Each replicate's sums are its day counts times
    ``data`` (one matrix product), the same resamples as the general form draws, at a
    fraction of its memory and time (no replicate x days x columns array)."""
    data = np.asarray(data, dtype=float)
    data = data.reshape(len(data), -1)
    n = len(data)
    with np.errstate(invalid="ignore", divide="ignore"):
        estimates = np.asarray(finish(data.sum(axis=0)[None]), dtype=float).reshape(-1)
    method, extra = _described(mean_block, n_boot, seed)
    if n < 3:
        return [_estimate(float(e), np.empty(0), n, method, extra, null, level) for e in estimates]
    from .runs import count_runs

    counts = count_runs(*_draws(n, mean_block, n_boot, np.random.default_rng(seed)))
    with np.errstate(invalid="ignore", divide="ignore"):
        draws = np.asarray(finish(counts @ data), dtype=float).reshape(n_boot, -1)
    return [_estimate(float(e), draws[:, k], n, method, extra, null, level)
            for k, e in enumerate(estimates)]


def paired_bootstrap(a: np.ndarray, b: np.ndarray, statistic: Callable[[np.ndarray], np.ndarray],
                     **options: object) -> Estimate:
    """statistic(a) - statistic(b) over the same resampled days for both series (``a`` and
    ``b`` may be days or days x columns, such as a return and its risk-free return);
    ``options`` as ``stationary_bootstrap``."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) != len(b):
        raise ValueError("paired series must cover the same days")
    a2 = a.reshape(len(a), -1)
    width = a2.shape[1]
    both = np.concatenate([a2, b.reshape(len(b), -1)], axis=1)

    def difference(sample: np.ndarray) -> np.ndarray:
        left, right = sample[..., :width], sample[..., width:]
        if width == 1:
            left, right = left[..., 0], right[..., 0]
        return statistic(left) - statistic(right)

    return stationary_bootstrap(both, difference, **options)  # type: ignore[arg-type]


def _sharpe_of_replicates(excess: np.ndarray, periods: int) -> np.ndarray:
    """Annualised Sharpe of each replicate (replicates x days), by ``metrics.sharpe``."""
    return np.asarray(sharpe(np.asarray(excess).T, periods=periods), dtype=float).reshape(-1)


def sharpe_difference(a: np.ndarray, b: np.ndarray, risk_free: np.ndarray | None = None, *,
                      mean_block: float, n_boot: int = 1000, seed: int = 0,
                      periods: int = PERIODS_PER_YEAR) -> Estimate:
    """Sharpe(a) - Sharpe(b), annualised, both in excess of the same days' ``risk_free``
    return, with a paired stationary-bootstrap interval and p-value."""
    rf = np.zeros(len(a)) if risk_free is None else np.asarray(risk_free, dtype=float)
    ea = np.asarray(a, dtype=float) - rf
    eb = np.asarray(b, dtype=float) - rf
    return paired_bootstrap(ea, eb, lambda x: _sharpe_of_replicates(x, periods),
                            mean_block=mean_block, n_boot=n_boot, seed=seed)
