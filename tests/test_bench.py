"""The benchmark script keeps working, and its numpy reference is a fair one: at zero costs
it computes the same equity as the sweep kernel."""

import importlib.util
import math

import numpy as np
import pandas as pd
import pytest

from conftest import REPO
from durationbt.engine import Costs
from durationbt.sweep.kernel import execution_rows, simulate_many


def _script(name: str):
    """A bench/ script imported as a module."""
    spec = importlib.util.spec_from_file_location(name, REPO / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bench():
    return _script("bench")


def test_numpy_reference_equals_the_kernel_at_zero_costs():
    bench = _bench()
    prices, decisions = bench._market(assets=7, days=600)
    rows, _ = execution_rows(prices.index, decisions)
    targets = bench._targets(20, len(rows), 7)
    kernel, _ = simulate_many(prices, targets, rows, costs=Costs(0, 0))
    reference = bench.numpy_reference(prices.to_numpy(), rows, targets)
    np.testing.assert_allclose(reference, kernel, rtol=1e-9)


def test_bench_cases_report_their_figures():
    bench = _bench()
    sweep = bench.case_sweep(assets=5, days=400, combos=50, chunk=20)
    assert sweep["combos"] == 50 and sweep["per_second"] > 0 and 0 <= sweep["pbo"] <= 1
    assert sweep["peak_mb"] > 0
    assert bench.case_numpy(assets=5, days=400, combos=50)["per_second"] > 0
    short = bench.case_sweep(assets=5, days=400, combos=50, chunk=20, long_short=True)
    assert short["long_short"] and short["per_second"] > 0


def test_engine_case_times_the_engine_beside_plain_from_orders():
    found = _bench().case_engine_vs_from_orders(assets=20, days=300)
    assert found["engine_seconds"] > 0 and found["from_orders_seconds"] > 0
    assert found["ratio"] == found["engine_seconds"] / found["from_orders_seconds"]
    assert found["engine_ns_per_cell"] == found["engine_seconds"] / (20 * 300) * 1e9


def _scaling():
    return _script("scaling")


def test_scaling_exponents_are_the_growth_beyond_the_floor():
    scaling = _scaling()
    # 2 s of fixed cost; beyond it 4x the assets costs 4x (linear) and 3x the years 9x; the
    # wall times (a loaded machine) are not what the exponent reads
    small = {"assets": 500, "years": 10, "cpu_seconds": 2 + 3.0, "seconds": 9.0}
    large = {"assets": 2000, "years": 10, "cpu_seconds": 2 + 12.0, "seconds": 11.0}
    longer = {"assets": 2000, "years": 30, "cpu_seconds": 2 + 108.0, "seconds": 50.0}
    assert scaling.exponent(small, large, "assets", floor=2.0) == pytest.approx(1.0)
    assert scaling.exponent(large, longer, "years", floor=2.0) == pytest.approx(2.0)
    assert scaling.exponent(small, large, "assets", floor=2.0, measure="seconds") == pytest.approx(
        math.log(9 / 7) / math.log(4))


def test_scaling_report_names_the_goal_and_misses_it_honestly(capsys):
    scaling = _scaling()
    rows = [{"assets": a, "years": y, "seconds": s, "cpu_seconds": s * 1.5, "peak_mb": 500.0,
             "cold_seconds": s + 1, "cold_cpu_seconds": s * 2, "cold_peak_mb": 600.0}
            for (a, y, s) in ((10, 5, 4.0), (100, 5, 5.0), (10, 10, 4.5), (100, 10, 25.0))]
    scaling.report(rows, [10, 100], [5, 10])
    out = capsys.readouterr().out
    assert "100 assets x 10 years <= 20 s" in out and "MISSES (25.0 s, 500 MB" in out
    # CPU (1.5x wall here) beyond the 6 s floor: 0.75 -> 31.5 s over 10x the assets at 10
    # years (log10 42), 1.5 -> 31.5 s over 2x the years at 100 assets (log2 21)
    assert "over 10 years: exponent 1.62" in out and "at 100 assets: exponent 4.39" in out


def test_scaling_market_is_a_universe_durationbt_runs(tmp_path):
    """The synthetic market loads and runs end to end, cold then warm, as the table's cases do."""
    scaling = _scaling()
    universe = scaling.write_market(tmp_path / "data", assets=4, years=1)
    prices = pd.read_csv(tmp_path / "data" / "S0003.csv")
    spy = pd.read_csv(scaling.SNAPSHOT / "SPY.csv")
    assert set(prices["Date"]) <= set(spy["Date"])       # the benchmark's trading days
    assert len(prices) == 252 + 300 and "S0003" in universe.read_text()
    row = scaling.run_once(4, 1, repeats=1)
    assert row["seconds"] > 0 and row["cold_seconds"] > 0 and row["peak_mb"] > 100
    assert row["cpu_seconds"] > 0 and row["cold_cpu_seconds"] > 0
