"""Newey-West with lags > 0 held to statsmodels (OLS with HAC covariance, Bartlett kernel,
no small-sample correction), the reference for durations and IC t-statistics."""

import numpy as np
import pytest

sm = pytest.importorskip("statsmodels.api")

from durationbt.duration import regress  # noqa: E402
from durationbt.inference import newey_west_lags  # noqa: E402
from durationbt.signals.evaluate import newey_west_t  # noqa: E402


def autocorrelated(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    noise = np.convolve(rng.normal(size=n + 4), np.ones(5) / 5, mode="valid")[:n]
    y = 0.3 + x @ np.array([-1.5, 0.8]) + noise
    return y, x


@pytest.mark.parametrize("n, seed", [(104, 1), (300, 2), (600, 3)])
def test_duration_regression_matches_statsmodels_hac(n, seed):
    y, x = autocorrelated(n, seed)
    lags = newey_west_lags(n)
    assert lags >= 4
    beta, se, r2, used = regress(y, x)
    ref = sm.OLS(y, sm.add_constant(x)).fit(cov_type="HAC",
                                           cov_kwds={"maxlags": lags, "use_correction": False})
    np.testing.assert_allclose(beta, ref.params, rtol=1e-10)
    np.testing.assert_allclose(se, ref.bse, rtol=1e-10)
    assert r2 == pytest.approx(ref.rsquared, rel=1e-12) and used == n


@pytest.mark.parametrize("lags", [1, 5, 21, 63])
def test_ic_t_statistic_matches_statsmodels_hac_of_a_mean(lags):
    rng = np.random.default_rng(lags)
    u = 0.05 + np.convolve(rng.normal(size=800 + lags), np.ones(lags + 1), mode="valid")[:800]
    ref = sm.OLS(u, np.ones((len(u), 1))).fit(cov_type="HAC",
                                             cov_kwds={"maxlags": lags, "use_correction": False})
    assert newey_west_t(u, lags) == pytest.approx(float(ref.tvalues[0]), rel=1e-10)
