"""Regime-conditional scores on hand-made cases."""

import numpy as np
import pandas as pd
import pytest

from durationbt.inference import count_spells
from durationbt.regimes import (
    acting_regime,
    bucket_contribution,
    regime_cell,
    regime_scores,
    regime_spread,
    spread_cell,
    tables_from_json,
    tables_to_json,
    time_in_regime,
    transition_matrix,
    uncertainty_methods,
)
from durationbt.signals.composite import Signal, regimes_with_hysteresis
from durationbt.statistics import bootstrap_summary
from durationbt.universe import SignalSettings

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


# ---- uncertainty: intervals, spells, scarce - abundant, no signal (issue 23) -------------

def regime_path(n: int, mean_spell: int, seed: int) -> pd.Series:
    """Spells of random (geometric) length, each a random regime other than the last."""
    rng = np.random.default_rng(seed)
    labels, last = [], None
    while len(labels) < n:
        label = rng.choice([r for r in ("scarce", "neutral", "abundant") if r != last])
        labels += [label] * int(rng.geometric(1 / mean_spell))
        last = label
    return pd.Series(labels[:n], index=pd.bdate_range("2010-01-01", periods=n))


def planted(n: int = 3000):
    """Returns that earn 0.15% a day after a scarce close, -0.05% after an abundant one and
    0.05% otherwise, with 1% daily noise; the regime path they were planted on."""
    regime = regime_path(n, 60, seed=1)
    acting = acting_regime(regime, regime.index)
    drift = acting.map({"scarce": 0.0015, "abundant": -0.0005, "neutral": 0.0005}).fillna(0.0)
    noise = np.random.default_rng(2).normal(0, 0.01, n)
    return pd.DataFrame({"s": drift.to_numpy() + noise}, index=regime.index), regime


def test_a_planted_regime_effect_is_found_and_a_placebo_regime_is_not():
    returns, regime = planted()
    spread = regime_spread(returns, regime).loc["s"]
    acting = acting_regime(regime, returns.index)
    r = returns["s"]
    by_hand = (r[acting.eq("scarce")].mean() - r[acting.eq("abundant")].mean()) * 252
    assert spread["estimate"] == pytest.approx(by_hand, rel=1e-12)      # about 0.504 planted
    assert spread["ci_low"] > 0 and spread["t"] > 3 and spread["p_value"] < 0.01
    assert spread["ci_low"] < (0.0015 + 0.0005) * 252 < spread["ci_high"]  # the planted 0.504
    assert spread["days_scarce"] == acting.eq("scarce").sum()
    assert spread["spells_scarce"] == count_spells(acting.eq("scarce").to_numpy())
    # the same returns scored on an unrelated regime path: nothing to find
    placebo = regime_spread(returns, regime_path(3000, 60, seed=99)).loc["s"]
    assert placebo["ci_low"] < 0 < placebo["ci_high"] and abs(placebo["t"]) < 2
    assert placebo["p_value"] > 0.05


def test_the_spread_t_is_statsmodels_hac_on_a_regime_dummy():
    sm = pytest.importorskip("statsmodels.api")
    returns, regime = planted(1500)
    rf = pd.Series(0.0001, index=returns.index)
    spread = regime_spread(returns, regime, rf).loc["s"]
    acting = acting_regime(regime, returns.index)
    keep = acting.isin(["scarce", "abundant"]).to_numpy()
    y = (returns["s"] - rf).to_numpy()[keep]
    dummy = acting.eq("scarce").to_numpy()[keep].astype(float)
    lags = int(np.floor(4 * (keep.sum() / 100) ** (2 / 9)))
    ref = sm.OLS(y, sm.add_constant(dummy)).fit(
        cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": False})
    assert spread["lags"] == lags
    assert spread["t"] == pytest.approx(float(ref.tvalues[1]), rel=1e-9)
    assert spread["estimate"] == pytest.approx(float(ref.params[1]) * 252, rel=1e-9)
    assert spread["p_value"] == pytest.approx(float(ref.pvalues[1]), rel=1e-6)


def test_regime_scores_carry_intervals_spells_and_their_block():
    returns, regime = planted()
    scores = regime_scores(returns, regime)
    scarce = scores.loc[("s", "scarce")]
    acting = acting_regime(regime, returns.index)
    spells = count_spells(acting.eq("scarce").to_numpy())
    assert scarce["spells"] == spells and scarce["days"] == acting.eq("scarce").sum()
    assert scarce["block_days"] == pytest.approx(scarce["days"] / spells)  # the mean spell
    x = returns["s"][acting.eq("scarce")]
    assert scarce["mean_excess"] == pytest.approx(x.mean() * 252, rel=1e-12)
    for key in ("mean_excess", "sharpe", "cagr"):
        assert scarce[f"{key}_ci_low"] < scarce[key] < scarce[f"{key}_ci_high"], key
    assert scarce["sharpe_ci_low"] > 0                  # 0.15% a day on 1% noise: found
    abundant = scores.loc[("s", "abundant")]
    assert abundant["mean_excess_ci_high"] < 0.1        # -0.05% a day: -12.6% a year planted
    assert scores.loc[("s", "all"), "spells"] == acting.ne(acting.shift()).sum() - 1  # NaN first


def test_a_cell_on_fewer_than_three_spells_says_so():
    days = pd.bdate_range("2024-01-01", periods=120)
    regime = pd.Series(["neutral"] * 30 + ["scarce"] * 30 + ["neutral"] * 30 + ["scarce"] * 30,
                       index=days)
    r = pd.DataFrame({"s": np.random.default_rng(0).normal(0.001, 0.01, 120)}, index=days)
    scores = regime_scores(r, regime)
    scarce = scores.loc[("s", "scarce")]
    assert scarce["spells"] == 2 and np.isnan(scarce["sharpe_ci_low"])
    assert regime_cell(scarce, "sharpe", lambda v: f"{v:.2f}", "scarce") == "too few spells"
    assert not np.isnan(scores.loc[("s", "all"), "sharpe_ci_low"])  # the whole run has a CI
    spread = regime_spread(r, regime).loc["s"]
    assert spread_cell(spread, lambda v: f"{v:.2f}") == "too few spells"  # no abundant day
    full = scores.loc[("s", "all")]
    text = regime_cell(full, "sharpe", lambda v: f"{v:.2f}", "all")
    assert text == (f"{full['sharpe']:.2f} ({full['sharpe_ci_low']:.2f} to "
                    f"{full['sharpe_ci_high']:.2f})")


def test_days_without_a_signal_are_no_signal_not_neutral():
    days = pd.bdate_range("2024-01-01", periods=10)
    composite = pd.Series([np.nan] * 4 + [0.6, 0.7, 0.1, -0.6, -0.7, 0.2], index=days)
    components = pd.DataFrame({"a": composite})
    signal = Signal(composite, components, {"a": 1.0},
                    regimes_with_hysteresis(composite, SignalSettings()), {}, SignalSettings())
    assert list(signal.regime.iloc[:4]) == ["neutral"] * 4       # what strategies act on
    labelled = signal.labelled_regime()
    assert list(labelled) == ["no signal"] * 4 + ["scarce", "scarce", "scarce", "abundant",
                                                  "abundant", "neutral"]
    assert list(signal.frame()["regime"].iloc[:4]) == ["no signal"] * 4
    r = pd.DataFrame({"s": np.linspace(0.001, 0.01, 10)}, index=days)
    scores = regime_scores(r, labelled)
    assert scores.loc[("s", "no signal"), "days"] == 4          # days 1-4 follow a NaN close
    assert scores.loc[("s", "neutral"), "days"] == 0            # before: these 4 were neutral
    time = time_in_regime(labelled)
    assert time.loc["no signal", "days"] == 4 and "no signal" in time.index


def test_a_run_on_data_without_an_early_signal_scores_no_signal_days(synth_data, synth_universe,
                                                                     strategies_dir):
    """The synthetic universe's one component (rates) needs a year of history, so the
    backtest's first months have no composite: they were scored as neutral before."""
    from durationbt import RunSettings, Session, backtest

    session = Session(RunSettings(data=synth_data, universe=str(synth_universe),
                                  strategies_dir=strategies_dir))
    done = backtest(session.strategy("equal_weight"), session)
    signal = session.ctx.signal.composite.loc[session.market.start:session.market.end]
    missing = int(signal.isna().sum())
    assert missing > 20
    assert done.regimes["time"].loc["no signal", "days"] == missing
    assert "no signal" in done.regimes["scores"].loc["strategy"].index
    assert done.regimes["time"]["days"].sum() == len(signal)


def test_regime_tables_json_round_trip_and_older_runs():
    returns, regime = planted(600)
    tables = {"scores": regime_scores(returns, regime), "spread": regime_spread(returns, regime),
              "methods": pd.DataFrame({"method": uncertainty_methods()}).rename_axis("name")}
    back = tables_from_json(tables_to_json(tables))
    pd.testing.assert_frame_equal(back["scores"], tables["scores"], check_exact=False,
                                  rtol=1e-10, check_dtype=False)
    pd.testing.assert_frame_equal(back["spread"], tables["spread"], check_exact=False, rtol=1e-10)
    assert back["methods"].loc["spread", "method"].startswith("scarce minus abundant")
    old = {"scores": [{"series": "strategy", "regime": "scarce", "days": 3, "cagr": 0.1,
                       "volatility": 0.2, "sharpe": 0.5}],
           "time": [{"name": "scarce", "days": 3, "share": 1.0, "spells": 1,
                     "avg_spell_days": 3.0}]}
    read = tables_from_json(old)
    assert set(read) == {"scores", "time"}
    row = read["scores"].loc[("strategy", "scarce")]
    assert regime_cell(row, "sharpe", lambda v: f"{v:.2f}", "scarce") == "0.50"  # no spells: bare
