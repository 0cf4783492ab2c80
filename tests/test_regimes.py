"""Regime-conditional scores on hand-made cases."""

import numpy as np
import pandas as pd
import pytest

from durationbt.regimes import (
    acting_regime,
    bucket_contribution,
    regime_scores,
    tables_from_json,
    tables_to_json,
    time_in_regime,
    transition_matrix,
)
from durationbt.statistics import bootstrap_summary

DAYS = pd.bdate_range("2024-01-01", periods=8)
REGIME = pd.Series(["scarce", "scarce", "scarce", "neutral", "neutral", "abundant", "abundant",
                    "scarce"], index=DAYS)


def test_a_days_return_belongs_to_the_previous_closes_regime():
    acting = acting_regime(REGIME, DAYS)
    assert acting.isna().iloc[0]
    assert list(acting.iloc[1:]) == list(REGIME.iloc[:-1])


def test_scores_by_regime_by_hand():
    r = pd.Series([0.0, 0.01, -0.02, 0.03, 0.01, 0.02, -0.01, 0.04], index=DAYS)
    scores = regime_scores(pd.DataFrame({"s": r}), REGIME)
    scarce = r.iloc[[1, 2, 3]]  # days after the scarce closes of days 0, 1, 2
    row = scores.loc[("s", "scarce")]
    assert row["days"] == 3
    assert row["cagr"] == pytest.approx(np.prod(1 + scarce) ** (252 / 3) - 1)
    assert row["volatility"] == pytest.approx(scarce.std() * np.sqrt(252))
    assert row["sharpe"] == pytest.approx(scarce.mean() / scarce.std() * np.sqrt(252))
    assert scores.loc[("s", "all"), "days"] == 7
    assert scores.loc[("s", "abundant"), "days"] == 2


def test_time_and_transitions_by_hand():
    time = time_in_regime(REGIME)
    assert time.loc["scarce", "days"] == 4 and time.loc["scarce", "spells"] == 2
    assert time.loc["scarce", "avg_spell_days"] == 2.0
    assert time["share"].sum() == pytest.approx(1.0)
    counts = transition_matrix(REGIME, normalise=False)
    assert counts.loc["scarce", "scarce"] == 2 and counts.loc["scarce", "neutral"] == 1
    assert counts.loc["abundant", "scarce"] == 1 and counts.to_numpy().sum() == 7
    probs = transition_matrix(REGIME)
    assert probs.loc["scarce"].sum() == pytest.approx(1.0)
    assert probs.loc["neutral", "abundant"] == pytest.approx(0.5)


def test_bucket_contributions_add_up_to_the_gross_return():
    prices = pd.DataFrame({"A": [100, 101, 99, 102, 103, 101, 104, 105.0],
                           "B": [50, 50.5, 51, 50, 49, 50, 51, 52.0]}, index=DAYS)
    weights = pd.DataFrame({"A": 0.6, "B": 0.3}, index=DAYS)
    out = bucket_contribution(weights, prices, {"short": ("A",), "long": ("B",)}, REGIME)
    r = prices.pct_change()
    daily = 0.6 * r["A"] + 0.3 * r["B"]
    acting = acting_regime(REGIME, DAYS)
    assert out.loc["total", "scarce"] == pytest.approx(daily[acting.eq("scarce")].mean() * 252)
    assert out.loc["short", "all"] == pytest.approx((0.6 * r["A"]).iloc[1:].mean() * 252)
    assert out.loc["total"].to_numpy() == pytest.approx(out.loc[["short", "long"]].sum().to_numpy())
    back = tables_from_json(tables_to_json({"contribution": out}))["contribution"]
    assert list(back.columns) == ["scarce", "neutral", "abundant", "all"]
    np.testing.assert_allclose(back.loc["total"].to_numpy(), out.loc["total", back.columns].to_numpy())


def test_bootstrap_summary_brackets_the_estimates():
    rng = np.random.default_rng(3)
    r = rng.normal(0.0006, 0.01, 1500)
    b = rng.normal(0.0002, 0.01, 1500)
    out = bootstrap_summary(r, b, n_boot=400)
    est, low, high = out["sharpe"]
    assert est == pytest.approx(r.mean() / r.std(ddof=1) * np.sqrt(252))
    assert low < est < high
    cagr = out["cagr"]
    assert cagr[0] == pytest.approx(np.prod(1 + r) ** (252 / 1500) - 1)
    diff = out["sharpe_minus_benchmark"]
    assert diff[0] == pytest.approx(est - b.mean() / b.std(ddof=1) * np.sqrt(252))
    assert diff[1] < diff[0] < diff[2]


def test_scores_of_runs_written_before_the_registry_still_read():
    old = {"scores": [{"series": "strategy", "regime": "scarce", "days": 3, "ann_return": 0.1,
                       "volatility": 0.2, "sharpe": 0.5}]}
    scores = tables_from_json(old)["scores"]
    assert scores.loc[("strategy", "scarce"), "cagr"] == 0.1
