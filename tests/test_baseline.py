"""compare --baseline (issue 23): paired Sharpe differences, the deflated Sharpe against the
baseline, Hansen's SPA, and the refusals of a baseline that cannot be paired."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from durationbt import metrics
from durationbt.baseline import (
    BASELINE_COLUMNS,
    Footing,
    against_baseline,
    check_footing,
    resolve_baseline,
)
from durationbt.cli.app import app
from durationbt.errors import ParameterError
from durationbt.statistics import probabilistic_sharpe_ratio

DAYS = pd.bdate_range("2012-01-02", periods=2520)


def curve(daily: np.ndarray) -> pd.Series:
    return pd.Series(1e6 * np.cumprod(1 + np.concatenate([[0.0], daily[1:]])), index=DAYS)


@pytest.fixture(scope="module")
def curves():
    """A baseline, a planted winner (the baseline plus 0.04% a day, +10% a year, with a
    little noise of its own) and a placebo (the baseline plus noise, no edge)."""
    rng = np.random.default_rng(23)
    market = rng.normal(3e-4, 0.01, len(DAYS))
    return {"base": curve(market),
            "winner": curve(market + 4e-4 + rng.normal(0, 0.002, len(DAYS))),
            "placebo": curve(market + rng.normal(0, 0.002, len(DAYS)))}


def test_a_planted_edge_over_the_baseline_is_found_and_a_placebo_is_not(curves):
    rf = pd.Series(1e-4, index=DAYS)
    frame, summary = against_baseline(curves, "base", rf, "here", ["winner", "placebo"])
    assert list(frame.columns) == list(BASELINE_COLUMNS)
    r = {k: c.pct_change().iloc[1:] for k, c in curves.items()}
    by_hand = metrics.sharpe(r["winner"], rf) - metrics.sharpe(r["base"], rf)
    winner, placebo = frame.loc["winner"], frame.loc["placebo"]
    assert winner["sharpe_vs_baseline"] == pytest.approx(by_hand, rel=1e-12)
    assert winner["sharpe_vs_baseline_ci_low"] > 0 and winner["sharpe_vs_baseline_p"] < 0.01
    assert placebo["sharpe_vs_baseline_ci_low"] < 0 < placebo["sharpe_vs_baseline_ci_high"]
    assert placebo["sharpe_vs_baseline_p"] > 0.05
    assert frame.loc["base", "sharpe_vs_baseline"] == 0.0
    assert math.isnan(frame.loc["base", "sharpe_vs_baseline_p"])
    # SPA over the set: the winner is found, and named
    assert summary.spa is not None and summary.spa.p_value < 0.05 and summary.spa.best == "winner"
    assert summary.n_trials == 2 and summary.name == "base"
    assert "higher mean excess return" in summary.spa_sentence()


def test_deflated_sharpe_is_measured_against_the_baseline_not_zero(curves):
    rf = pd.Series(0.0, index=DAYS)
    frame, summary = against_baseline({k: curves[k] for k in ("base", "placebo")}, "base", rf,
                                      "here", ["placebo"])
    placebo = curves["placebo"].pct_change().iloc[1:].to_numpy()
    base = curves["base"].pct_change().iloc[1:].to_numpy()
    # one candidate: no deflation for trials, the bar is the baseline's own Sharpe
    bar = metrics.sharpe(base, periods=1)
    assert frame.loc["placebo", "dsr_vs_baseline"] == pytest.approx(
        probabilistic_sharpe_ratio(placebo, bar), rel=1e-12)
    assert frame.loc["placebo", "dsr_vs_baseline"] < probabilistic_sharpe_ratio(placebo, 0.0)
    assert summary.spa is None and "three or more" in summary.spa_note
    assert summary.sharpe == pytest.approx(metrics.sharpe(base), rel=1e-12)


def test_resolving_a_baseline(tmp_path):
    folder = tmp_path / "20260101-000000-equal_weight-abc"
    folder.mkdir()
    strategies = ["equal_weight", "buy_and_hold", "liquidity_rotation"]
    assert resolve_baseline("buy_and_hold", ["buy_and_hold", "equal_weight"], {},
                            strategies) == (["buy_and_hold", "equal_weight"], "buy_and_hold")
    # a strategy not compared is added; so is a folder
    assert resolve_baseline("equal_weight", ["buy_and_hold"], {}, strategies) == (
        ["buy_and_hold", "equal_weight"], "equal_weight")
    assert resolve_baseline(str(folder), ["buy_and_hold"], {}, strategies)[1] == str(folder)
    # a compared folder named by its path (another spelling of it) or by its label
    items = [str(folder), "buy_and_hold"]
    labels = {str(folder): "equal_weight@20260101-000000"}
    assert resolve_baseline(str(tmp_path / "." / folder.name), items, labels,
                            strategies) == (items, str(folder))
    assert resolve_baseline("equal_weight@20260101-000000", items, labels,
                            strategies) == (items, str(folder))
    with pytest.raises(ParameterError, match='Did you mean "liquidity_rotation"'):
        resolve_baseline("liquidity_rotaton", items, labels, strategies)


def test_a_baseline_on_another_footing_is_refused():
    settings = {"start": "2019-01-02", "end": "2021-06-30", "rebalance": "monthly",
                "costs": "10 + 5", "risk_free": "bills"}
    definition = {"benchmark": "BENCH", "buckets": {"a": 1}}
    base = Footing("base", "synth", definition, settings)
    check_footing(base, [base, Footing("weekly", "synth", definition,
                                       {**settings, "rebalance": "weekly"})])  # a schedule may
    cases = [(Footing("x", "other", definition, settings), "universe synth vs other"),
             (Footing("x", "synth", {**definition, "benchmark": "SPY"}, settings),
              "edited between the runs: benchmark"),
             (Footing("x", "synth", definition, {**settings, "start": "2020-01-02"}),
              "start: 2019-01-02 vs 2020-01-02"),
             (Footing("x", "synth", definition, {**settings, "costs": "20 + 5"}),
              "costs (fees + slippage, bps): 10 + 5 vs 20 + 5"),
             (Footing("x", "synth", definition, {**settings, "risk_free": "0"}),
              "risk-free rate: bills vs 0")]
    for other, words in cases:
        with pytest.raises(ParameterError, match="differ in") as caught:
            check_footing(base, [other])
        assert words in str(caught.value)
    # a key an older durationbt did not record is not held against a run
    check_footing(base, [Footing("old", "synth", {"benchmark": "BENCH"}, settings)])


# ---- through the CLI, on the synthetic data ----------------------------------------------

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def last_path(result):
    from pathlib import Path

    return Path(result.output.strip().splitlines()[-1])


@pytest.fixture
def base(synth_data, synth_universe, strategies_dir, tmp_path):
    out = tmp_path / "results"
    return ["--universe", str(synth_universe), "--data", str(synth_data),
            "--strategies-dir", str(strategies_dir), "--out", str(out)], out


def test_compare_two_runs_against_the_first(base):
    args, out = base
    run_a = last_path(invoke("run", "equal_weight", *args, "--no-tearsheet"))
    run_b = last_path(invoke("run", "liquidity_rotation", *args, "--no-tearsheet"))
    result = invoke("compare", run_a, run_b, "--baseline", run_a, *args,
                    "--sort", "sharpe_vs_baseline")
    assert result.exit_code == 0, result.output
    folder = last_path(result)
    board = pd.read_csv(folder / "leaderboard.csv", index_col="strategy")
    assert list(board.columns[-5:]) == list(BASELINE_COLUMNS)
    a, b = f"equal_weight@{run_a.name[:15]}", f"liquidity_rotation@{run_b.name[:15]}"
    assert board.loc[a, "sharpe_vs_baseline"] == 0.0
    assert board.loc[b, "sharpe_vs_baseline"] == pytest.approx(
        board.loc[b, "sharpe"] - board.loc[a, "sharpe"], abs=1e-8)   # CSV: 10 digits
    low, high = board.loc[b, ["sharpe_vs_baseline_ci_low", "sharpe_vs_baseline_ci_high"]]
    assert low < board.loc[b, "sharpe_vs_baseline"] < high
    assert 0 < board.loc[b, "sharpe_vs_baseline_p"] <= 1
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["baseline"]["name"] == a and manifest["baseline"]["spa"] is None
    assert "Against the baseline" in (folder / "compare.html").read_text()
    assert "three or more strategies" in " ".join(result.output.split())


def test_compare_with_a_named_baseline_runs_spa(base):
    args, out = base
    result = invoke("compare", "liquidity_rotation", "momentum_gate", "--baseline",
                    "equal_weight", *args)
    assert result.exit_code == 0, result.output
    folder = last_path(result)
    board = pd.read_csv(folder / "leaderboard.csv", index_col="strategy")
    assert "equal_weight" in board.index                    # the baseline joined the set
    spa = json.loads((folder / "manifest.json").read_text())["baseline"]["spa"]
    assert spa["models"] == 2 and 0 <= spa["p_value"] <= 1 and spa["seed"] == 0
    assert "Hansen's SPA test, 2 strategies vs equal_weight" in " ".join(result.output.split())


def test_a_baseline_that_cannot_be_paired_exits_2_and_writes_nothing(base, synth_universe,
                                                                     tmp_path):
    args, out = base
    run_a = last_path(invoke("run", "equal_weight", *args, "--no-tearsheet"))
    later = last_path(invoke("run", "equal_weight", *args, "--no-tearsheet",
                             "--start", "2020-01-02"))
    dearer = last_path(invoke("run", "equal_weight", *args, "--no-tearsheet",
                              "--fees-bps", "20"))
    other = tmp_path / "other.toml"
    other.write_text(synth_universe.read_text().replace("synthetic test universe", "another"))
    elsewhere_args = [*args]
    elsewhere_args[1] = str(other)
    elsewhere = last_path(invoke("run", "equal_weight", *elsewhere_args, "--no-tearsheet"))
    before = sorted(p.name for p in out.iterdir())
    for baseline, words in ((later, "differ in start: 2020-01-02 vs 2019-01-02"),
                            (dearer, "differ in costs (fees + slippage, bps): 20 + 5 vs 10 + 5"),
                            (elsewhere, "differ in universe other vs synth"),
                            ("equal_wieght", 'Did you mean "equal_weight"?')):
        result = invoke("compare", run_a, "--baseline", baseline, *args)
        assert result.exit_code == 2, result.output
        assert words in " ".join(result.output.split()), result.output
        assert "Traceback" not in result.output
    assert sorted(p.name for p in out.iterdir()) == before
    refused = invoke("compare", run_a, *args, "--sort", "sharpe_vs_baseline")
    assert refused.exit_code == 2 and "needs --baseline" in refused.output
