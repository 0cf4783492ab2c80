"""The benchmark script keeps working, and its numpy reference is a fair one: at zero costs
it computes the same equity as the sweep kernel."""

import importlib.util

import numpy as np

from conftest import REPO
from durationbt.engine import Costs
from durationbt.sweep.kernel import execution_rows, simulate_many


def _bench():
    spec = importlib.util.spec_from_file_location("bench", REPO / "bench" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
