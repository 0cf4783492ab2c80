import math
from statistics import NormalDist

import numpy as np
import pytest

from durationbt import metrics
from durationbt.statistics import (
    bootstrap_ci,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
    stationary_bootstrap_indices,
)


def sharpe(returns):
    """Per-period Sharpe, as PSR and DSR take it."""
    return metrics.sharpe(returns, periods=1)

N = NormalDist()


def test_psr_hand_computed_with_raw_kurtosis():
    rng = np.random.default_rng(1)
    r = rng.standard_t(4, 500) * 0.01 + 0.001          # fat tails
    sr = r.mean() / r.std(ddof=1)
    z = (r - r.mean()) / r.std(ddof=0)
    skew, kurt = (z ** 3).mean(), (z ** 4).mean()
    assert kurt > 4                                      # clearly non-normal
    expected = N.cdf(sr * math.sqrt(499) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr ** 2))
    assert probabilistic_sharpe_ratio(r) == pytest.approx(expected, rel=1e-12)
    excess = N.cdf(sr * math.sqrt(499) / math.sqrt(1 - skew * sr + (kurt - 4) / 4 * sr ** 2))
    assert probabilistic_sharpe_ratio(r) != pytest.approx(excess, rel=1e-6)


def test_psr_two_point_case():
    # returns of +/-1 sd around SR 0.1: skew 0, raw kurtosis 1, so the variance term is 1
    # and PSR = Phi(0.1 sqrt(n - 1)) exactly
    r = np.array([-1.0, 1.0] * 500)
    r = (r - r.mean()) / r.std(ddof=1) + 0.1
    assert sharpe(r) == pytest.approx(0.1)
    value = N.cdf(0.1 * math.sqrt(999))
    assert probabilistic_sharpe_ratio(r) == pytest.approx(value, rel=1e-9)


def test_expected_max_sharpe_and_dsr():
    # with V = 1 the formula approximates the expected maximum of N standard normals,
    # 2.50759 for N = 100 (order-statistics tables)
    assert expected_max_sharpe(100, 1.0) == pytest.approx(2.50759, abs=0.03)
    value = expected_max_sharpe(100, 0.5)
    manual = math.sqrt(0.5) * ((1 - 0.5772156649015329) * N.inv_cdf(0.99)
                               + 0.5772156649015329 * N.inv_cdf(1 - 1 / (100 * math.e)))
    assert value == pytest.approx(manual, rel=1e-12)
    assert expected_max_sharpe(1, 0.5) == 0.0
    rng = np.random.default_rng(2)
    r = rng.normal(0.0005, 0.01, 1000)
    assert deflated_sharpe_ratio(r, 1, 0.0) == pytest.approx(probabilistic_sharpe_ratio(r))
    assert deflated_sharpe_ratio(r, 1000, 0.002) < probabilistic_sharpe_ratio(r)


def test_stationary_bootstrap_keeps_blocks():
    idx = stationary_bootstrap_indices(1000, 50, 20, np.random.default_rng(0))
    steps = np.diff(idx, axis=1)
    continued = ((steps == 1) | (steps == -999)).mean()
    assert continued == pytest.approx(1 - 1 / 50, abs=0.01)
    assert idx.min() >= 0 and idx.max() < 1000


def test_bootstrap_ci_covers_the_truth_and_widens_with_clustering():
    rng = np.random.default_rng(3)
    r = rng.normal(0.001, 0.01, 2000)
    est, low, high = bootstrap_ci(r, sharpe, n_boot=500, seed=1)
    assert low < 0.1 < high and low < est < high
    paired = np.column_stack([r, rng.normal(0, 0.01, 2000)])
    diff = lambda x: sharpe(x[:, 0]) - sharpe(x[:, 1])  # noqa: E731
    est, low, high = bootstrap_ci(paired, diff, n_boot=300, seed=1)
    assert low < est < high


def test_pbo_noise_is_about_half_and_a_dominant_trial_is_near_zero():
    # one noise matrix gives a PBO anywhere in [0, 1] (all splits share its data), so the
    # claim is about the average over independent matrices
    pbos = [probability_of_backtest_overfitting(
        np.random.default_rng(seed).normal(0, 0.01, (800, 20)), 10) for seed in range(16)]
    assert 0.35 < np.mean(pbos) < 0.65
    noise = np.random.default_rng(4).normal(0, 0.01, (1600, 20))
    skilled = noise.copy()
    skilled[:, 7] += 0.004
    assert probability_of_backtest_overfitting(skilled, 10) < 0.05
