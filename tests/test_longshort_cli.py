"""Long/short books through the CLI on the synthetic data: the gate's refusals (exit 2,
nothing written) and what a spread's run folder holds."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from durationbt.cli.app import app

PLUGINS = Path(__file__).parent / "fixtures" / "longshort"
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def common(synth_data, synth_universe, tmp_path):
    out = tmp_path / "results"
    return ["--universe", synth_universe, "--data", synth_data, "--strategies-dir", PLUGINS,
            "--out", out, "--no-tearsheet"], out


def refused(result, out, *words):
    text = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in text, text
    assert not out.exists() or not any(out.iterdir())


def test_a_long_only_plugin_returning_a_short_is_refused(common):
    args, out = common
    result = invoke("run", "shorts_without_allowing", *args)
    refused(result, out, 'Strategy "shorts_without_allowing"', "-0.5 for software on 2019-",
            "allow_short = True")


@pytest.mark.parametrize("extra,words", [
    (["--max-gross", "1.5"], ["gross exposure (sum of |w|) 2 on 2019-", "above max_gross 1.5",
                              "never scaled"]),
    (["--max-net", "2", "--max-gross", "1"], ["max_net 2 (--max-net) is above max_gross 1"]),
    (["--borrow-bps", "-1"], ["--borrow-bps must be a finite number"]),
    (["--financing-bps", "nan"], ["--financing-bps must be a finite number"]),
])
def test_limits_and_carry_options_are_checked(common, extra, words):
    args, out = common
    refused(invoke("run", "chips_software_spread", *args, *extra), out, *words)


def test_a_short_in_the_cash_asset_needs_net_leverage(common):
    args, out = common
    refused(invoke("run", "shorts_cash", *args), out, "-0.5 on CASH, the universe's cash asset",
            "--max-net above 1")
    assert invoke("run", "shorts_cash", *args, "--max-net", "1.5").exit_code == 0


def test_portfolio_table_of_the_universe_sets_the_limits(common, synth_universe, tmp_path):
    args, out = common
    strict = tmp_path / "strict.toml"
    strict.write_text(synth_universe.read_text() + "\n[portfolio]\nmax_gross = 1.5\n")
    args = [str(strict) if a == synth_universe else a for a in args]
    refused(invoke("run", "chips_software_spread", *args), out, "above max_gross 1.5")
    assert invoke("run", "chips_software_spread", *args, "--max-gross", "2").exit_code == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(synth_universe.read_text() + "\n[portfolio]\nborrow_bps = -5\n")
    fresh = tmp_path / "fresh"
    args = [str(bad) if a == str(strict) else fresh if a == out else a for a in args]
    refused(invoke("run", "chips_software_spread", *args), fresh, "portfolio.borrow_bps")


def test_a_spread_run_writes_shorts_borrow_and_exposures(common):
    args, out = common
    result = invoke("run", "chips_software_spread", *args, "--borrow-bps", "100")
    assert result.exit_code == 0, result.output
    assert "borrow paid" in " ".join(result.output.split())
    folder = next(out.iterdir())
    targets = pd.read_csv(folder / "targets.csv", index_col=0)
    # the software bucket's -1 spread over its two priced members, like a long weight
    assert targets[["SOFTA", "SOFTB"]].iloc[-1].tolist() == pytest.approx([-0.5, -0.5])
    assert targets["CASH"].iloc[-1] == pytest.approx(1.0)      # dollar-neutral: capital in bills
    orders = pd.read_csv(folder / "orders.csv")
    assert {"short", "cover", "buy", "sell"} >= set(orders["side"]) >= {"short", "buy"}
    metrics = json.loads((folder / "metrics.json").read_text())
    book = metrics["book"]
    assert book["allow_short"] and book["max_gross"] == 2.0 and book["borrow_bps"] == 100
    equity = pd.read_csv(folder / "equity.csv", index_col=0)
    assert book["borrow_paid"] == pytest.approx(equity["borrow"].sum(), rel=1e-9)
    assert book["borrow_paid"] > 0 and book["financing_paid"] == 0
    exposure = pd.read_csv(folder / "exposures.csv", index_col=0)
    assert list(exposure.columns) == ["long", "short", "gross", "net"]
    assert exposure["gross"].iloc[-1] == pytest.approx(2.0, abs=0.3)   # drift between rebalances
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["engine"]["borrow_paid"] == pytest.approx(book["borrow_paid"], rel=1e-9)


def test_a_sweep_over_both_legs_reports_the_sharpe_run_reports(common, tmp_path):
    """The issue's criterion: --grid over the two legs' sizes; each combination's Sharpe in
    sweep.csv equals the one `run` writes to metrics.json (shorts, borrow and financing on
    the kernel, as in run; long 2 short 0.5 borrows 0.5 in the cash asset)."""
    args, out = common
    result = invoke("sweep", "chips_software_spread", *[a for a in args if a != "--no-tearsheet"],
                    "--grid", "long_size=0.5,2", "--grid", "short_size=0.5,1",
                    "--borrow-bps", "200", "--max-net", "1.5", "--max-gross", "3")
    assert result.exit_code == 0, result.output
    folder = next(out.iterdir())
    table = pd.read_csv(folder / "sweep.csv")
    assert len(table) == 4
    for _, row in table.iterrows():
        runs = tmp_path / f"run-{row['long_size']}-{row['short_size']}"
        run_args = [runs if a == out else a for a in args]
        done = invoke("run", "chips_software_spread", *run_args, "-p",
                      f"long_size={row['long_size']}", "-p", f"short_size={row['short_size']}",
                      "--borrow-bps", "200", "--max-net", "1.5", "--max-gross", "3")
        assert done.exit_code == 0, done.output
        metrics = json.loads((next(runs.iterdir()) / "metrics.json").read_text())
        assert row["sharpe"] == pytest.approx(metrics["strategy"]["sharpe"], rel=1e-6)
        assert row["total_return"] == pytest.approx(metrics["strategy"]["total_return"],
                                                    rel=1e-6)


def test_walkforward_and_compare_run_a_spread(common):
    args, out = common
    args = [a for a in args if a != "--no-tearsheet"]
    result = invoke("walkforward", "chips_software_spread", *args, "--grid", "short_size=0.5,1",
                    "--train", "1y", "--test", "6m")
    assert result.exit_code == 0, result.output
    result = invoke("compare", "chips_software_spread", "buy_and_hold", *args)
    assert result.exit_code == 0, result.output


def test_a_limit_a_long_only_strategy_breaks_is_refused(common):
    args, out = common
    refused(invoke("run", "buy_and_hold", *args, "--max-gross", "0.5"), out,
            'Strategy "buy_and_hold"', "weights sum to 1 on 2019-", "at most 0.5",
            "a --max-gross below 1 lowers its default")


def test_a_banded_sweep_reports_the_sharpe_a_banded_run_reports(common, tmp_path):
    """--band is honoured identically by the kernel the sweep runs and by run."""
    args, out = common
    result = invoke("sweep", "chips_software_spread", *[a for a in args if a != "--no-tearsheet"],
                    "--grid", "short_size=0.5", "--band", "0.05", "--rebalance", "weekly")
    assert result.exit_code == 0, result.output
    row = pd.read_csv(next(out.iterdir()) / "sweep.csv").iloc[0]
    runs = tmp_path / "banded"
    done = invoke("run", "chips_software_spread", *[runs if a == out else a for a in args],
                  "-p", "short_size=0.5", "--band", "0.05", "--rebalance", "weekly")
    assert done.exit_code == 0, done.output
    folder = next(runs.iterdir())
    metrics = json.loads((folder / "metrics.json").read_text())
    assert row["sharpe"] == pytest.approx(metrics["strategy"]["sharpe"], rel=1e-6)
    assert metrics["book"]["band"] == 0.05


def test_a_short_bucket_respreads_over_its_priced_members(synth_data, synth_universe):
    """chips = CHIPA + LATE (listed 2020-06-01): its -1 is all CHIPA's before LATE lists,
    then -0.5 each, as a long bucket's weight would be."""
    from durationbt.data import CsvProvider, load_market_data
    from durationbt.plugins import discover_strategies
    from durationbt.session import build_context
    from durationbt.universe import load_universe
    from durationbt.weights import resolve_target_weights

    universe = load_universe(synth_universe)
    ctx = build_context(universe, load_market_data(universe, CsvProvider(synth_data)), "monthly")
    strategy = discover_strategies(PLUGINS, entry_points_enabled=False).get("short_chips")()
    weights = resolve_target_weights(strategy.target_weights(ctx), strategy, ctx)
    before = weights.loc[:"2020-05-29"]
    after = weights.loc["2020-06-30":]
    assert (before["CHIPA"] == -1.0).all() and (before["LATE"] == 0.0).all()
    assert np.allclose(after[["CHIPA", "LATE"]], -0.5)
