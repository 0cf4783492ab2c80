"""durationbt benchmark: single-run time, sweep throughput and peak memory, next to a pure
numpy target-weight simulation (and vectorbt's from_orders) measured in the same run.

    make bench            # or: .venv/bin/python bench/bench.py [--quick]

Each case runs in a fresh child process so its peak memory (max RSS, which includes the
interpreter, numpy, pandas and numba: about 200 MB before any work) is its own. Timings
exclude numba's one-off compilation, which is reported separately."""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SNAPSHOT = Path(os.environ.get("DURATIONBT_DATA", REPO.parent / "shared" / "market-data"))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _market(assets: int, days: int, seed: int = 0):
    import pandas as pd

    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2000-01-03", periods=days, name="date")
    steps = rng.normal(3e-4, 0.015, (days, assets))
    prices = pd.DataFrame(100 * np.exp(np.cumsum(steps, axis=0)), index=index,
                          columns=[f"A{i:03d}" for i in range(assets)])
    month_end = index.to_series().groupby(index.to_period("M")).transform("max") == index
    decisions = index[month_end.to_numpy()].union(index[:1])
    return prices, decisions


def _targets(combos: int, executions: int, assets: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    raw = rng.random((combos, executions, assets), dtype=np.float64)
    raw /= raw.sum(axis=2, keepdims=True)
    return raw


def numpy_reference(prices: np.ndarray, rows: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Zero-cost target-weight simulation vectorized over combinations: at each rebalance
    shares = w x value / price, then the value drifts with prices until the next one."""
    combos, _, assets = targets.shape
    days = len(prices)
    equity = np.empty((combos, days))
    value = np.full(combos, 1_000_000.0)
    equity[:, : rows[0] + 1] = value[:, None]
    bounds = [*rows.tolist(), days]
    for k, row in enumerate(rows):
        shares = targets[:, k, :] * value[:, None] / prices[row]
        segment = shares @ prices[row:bounds[k + 1]].T
        equity[:, row:bounds[k + 1]] = segment
        if bounds[k + 1] < days:  # the next rebalance is valued with these holdings
            value = shares @ prices[bounds[k + 1]]
    return equity


def case_sweep(assets: int, days: int, combos: int, chunk: int | None,
               long_short: bool = False) -> dict:
    """The sweep's path (``simulate_grid``): numba kernel with streaming metrics and CSCV
    block moments, chunked; then PBO over all trials, timed apart. ``long_short``: every
    other asset shorted (gross 1, net about 0), borrow 50 bps charged daily."""
    from durationbt.engine import Costs
    from durationbt.statistics import pbo_from_moments
    from durationbt.sweep.kernel import execution_rows, simulate_stats
    from durationbt.sweep.metrics import stats_metrics

    prices, decisions = _market(assets, days)
    rows, _ = execution_rows(prices.index, decisions)
    targets = _targets(combos, len(rows), assets)
    carry = None
    if long_short:
        targets[:, :, ::2] *= -1.0
        carry = np.full(assets, 50 / 1e4 / 252)
    started = time.perf_counter()
    simulate_stats(prices, targets[:1], rows, costs=Costs(), carry_rate=carry)  # compile / cache
    compile_s = time.perf_counter() - started
    size = chunk or 2_000
    started = time.perf_counter()
    sharpe, moments = [], []
    for lo in range(0, combos, size):
        _, traded, stats, blocks = simulate_stats(prices, targets[lo:lo + size], rows, costs=Costs(),
                                                  carry_rate=carry)
        sharpe.append(stats_metrics(stats, traded, days, 1e6)["sharpe"])
        moments.append(blocks.transpose(1, 2, 0))
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    pbo = pbo_from_moments(np.concatenate(moments, axis=2))
    pbo_s = time.perf_counter() - started
    return {"combos": combos, "seconds": seconds, "per_second": combos / seconds,
            "compile_seconds": compile_s, "peak_mb": _peak_mb(),
            "best_sharpe": float(np.nanmax(np.concatenate(sharpe))), "pbo": pbo,
            "pbo_seconds": pbo_s, "chunk": size, "long_short": long_short}


def case_numpy(assets: int, days: int, combos: int) -> dict:
    prices, decisions = _market(assets, days)
    from durationbt.sweep.kernel import execution_rows

    rows, _ = execution_rows(prices.index, decisions)
    targets = _targets(combos, len(rows), assets)
    values = prices.to_numpy()
    numpy_reference(values, rows, targets[:10])
    started = time.perf_counter()
    numpy_reference(values, rows, targets)
    seconds = time.perf_counter() - started
    return {"combos": combos, "seconds": seconds, "per_second": combos / seconds,
            "peak_mb": _peak_mb()}


def case_from_orders(assets: int, days: int, combos: int) -> dict:
    """vectorbt Portfolio.from_orders, one group of ``assets`` columns per combination."""
    import pandas as pd
    import vectorbt as vbt

    from durationbt.sweep.kernel import execution_rows

    prices, decisions = _market(assets, days)
    rows, _ = execution_rows(prices.index, decisions)
    targets = _targets(combos, len(rows), assets)
    close = pd.concat([prices] * combos, axis=1, keys=range(combos))
    size = np.full(close.shape, np.nan)
    for c in range(combos):
        size[rows, c * assets:(c + 1) * assets] = targets[c]

    def go(n_combos: int) -> None:
        cols = n_combos * assets
        vbt.Portfolio.from_orders(close=close.iloc[:, :cols], size=size[:, :cols],
                                  size_type="targetpercent", direction="longonly", fees=0.001,
                                  slippage=0.0005, init_cash=1e6, cash_sharing=True,
                                  group_by=np.repeat(np.arange(n_combos), assets),
                                  call_seq="auto", freq="1D").value()

    go(2)
    started = time.perf_counter()
    go(combos)
    seconds = time.perf_counter() - started
    return {"combos": combos, "seconds": seconds, "per_second": combos / seconds,
            "peak_mb": _peak_mb()}


def case_engine_vs_from_orders(assets: int, days: int) -> dict:
    """``engine.simulate``, the whole call a run pays (checks, vectorbt, daily equity, weights
    and cash, the order log), beside a plain vectorbt ``from_orders`` + ``value()`` of the
    same shape: ``assets`` equal-weight columns over ``days``, monthly decisions, one
    cash-sharing group, ``call_seq="auto"``, fees and slippage. Warm (numba compiled first);
    the engine best of three, then vectorbt once (it is the slow one); peak memory read
    after the engine, before vectorbt runs."""
    import pandas as pd

    from durationbt.engine import Costs, execution_schedule, import_vectorbt, simulate

    vbt = import_vectorbt()
    prices, decisions = _market(assets, days)
    targets = pd.DataFrame(1.0 / assets, index=decisions, columns=prices.columns)
    size = np.full(prices.shape, np.nan)
    size[prices.index.get_indexer(execution_schedule(prices.index, decisions).index)] = 1 / assets
    costs = Costs()

    def engine(n: int) -> float:
        started = time.perf_counter()
        simulate(prices.iloc[:n], targets.loc[:prices.index[n - 1]], costs=costs)
        return time.perf_counter() - started

    def plain(n: int) -> float:
        started = time.perf_counter()
        vbt.Portfolio.from_orders(close=prices.iloc[:n], size=size[:n], size_type="targetpercent",
                                  direction="longonly", fees=costs.fees, slippage=costs.slippage,
                                  init_cash=1e6, cash_sharing=True, group_by=True,
                                  call_seq="auto", freq="1D").value()
        return time.perf_counter() - started

    engine(60), plain(60)                     # compile / load numba's cache
    engine_s = min(engine(days) for _ in range(3))
    peak = _peak_mb()
    plain_s = plain(days)
    cells = assets * days
    return {"assets": assets, "days": days, "engine_seconds": engine_s,
            "from_orders_seconds": plain_s, "ratio": engine_s / plain_s,
            "engine_ns_per_cell": engine_s / cells * 1e9,
            "from_orders_ns_per_cell": plain_s / cells * 1e9, "engine_peak_mb": peak}


def case_single_run() -> dict:
    """``durationbt run liquidity_rotation`` on the snapshot beside ``bench/by_hand.py`` (the
    vectorbt + quantstats script a user would write), each as a fresh command, alternated
    three times (warm caches, best of three); then the run's phases from one run in-process."""
    import tempfile

    from durationbt.api import RunSettings, run_backtest

    if not (SNAPSHOT / "SPY.csv").is_file():
        return {"skipped": f"no snapshot at {SNAPSHOT}"}
    cli = Path(sys.executable).parent / "durationbt"
    with tempfile.TemporaryDirectory() as out:
        commands = {
            "durationbt": [str(cli), "run", "liquidity_rotation", "--data", str(SNAPSHOT),
                           "--out", out],
            "by_hand": [sys.executable, str(REPO / "bench" / "by_hand.py"), str(SNAPSHOT),
                        str(Path(out) / "by_hand.html")],
        }
        walls: dict[str, list[float]] = {name: [] for name in commands}
        for argv in commands.values():            # warm: numba cache, market cache, disk
            subprocess.run(argv, capture_output=True, check=True)
        for _ in range(3):
            for name, argv in commands.items():
                started = time.perf_counter()
                subprocess.run(argv, capture_output=True, check=True)
                walls[name].append(time.perf_counter() - started)
        phases = run_backtest("liquidity_rotation", RunSettings(data=SNAPSHOT, out=Path(out))).timings
    return {"seconds": min(walls["durationbt"]), "by_hand_seconds": min(walls["by_hand"]),
            "all": walls, "phases": phases, "peak_mb": _peak_mb()}


def case_timing() -> dict:
    """The timing attribution of ``durationbt run liquidity_rotation`` on the snapshot
    (static mix, paired bootstrap, 1,000 re-timed placebos on the sweep kernel): its first
    call in a fresh process (the kernel loaded from numba's cache included) and a second."""
    from durationbt.api import RunSettings, Session, backtest
    from durationbt.inference.timing import timing_attribution

    if not (SNAPSHOT / "SPY.csv").is_file():
        return {"skipped": f"no snapshot at {SNAPSHOT}"}
    session = Session(RunSettings(data=SNAPSHOT))
    done = backtest(session.strategy("liquidity_rotation"), session)
    seconds, cpu = [], []
    for _ in range(2):
        started, cpu_started = time.perf_counter(), time.process_time()
        found = timing_attribution(done, session)
        seconds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return {"first_seconds": seconds[0], "warm_seconds": seconds[1], "first_cpu": cpu[0],
            "warm_cpu": cpu[1], "placebos": found.placebo.n, "p_value": found.placebo.p_value}


def case_thesis() -> dict:
    """``durationbt thesis`` on the default universe (every claim, the timing placebos, the
    page) as a fresh command: warmed once, then the best of two (target: 30 s)."""
    import tempfile

    if not (SNAPSHOT / "SPY.csv").is_file():
        return {"skipped": f"no snapshot at {SNAPSHOT}"}
    cli = Path(sys.executable).parent / "durationbt"
    fundamentals = SNAPSHOT.parent / "fundamentals"
    with tempfile.TemporaryDirectory() as out:
        argv = [str(cli), "thesis", "--data", str(SNAPSHOT), "--out", out,
                *(["--fundamentals", str(fundamentals)] if fundamentals.is_dir() else [])]
        subprocess.run(argv, capture_output=True, check=True)
        walls = []
        for _ in range(2):
            started = time.perf_counter()
            subprocess.run(argv, capture_output=True, check=True)
            walls.append(time.perf_counter() - started)
    return {"seconds": min(walls), "all": walls}


def case_real_sweep() -> dict:
    """``durationbt sweep liquidity_rotation`` (its declared 45-point grid) on the snapshot."""
    from durationbt.api import RunSettings, lookahead_probe
    from durationbt.engine import Costs
    from durationbt.sweep.grid import combinations
    from durationbt.sweep.sweep import load_setup, run_grid

    if not (SNAPSHOT / "SPY.csv").is_file():
        return {"skipped": f"no snapshot at {SNAPSHOT}"}
    setup = load_setup("liquidity_rotation", [], {}, RunSettings(data=SNAPSHOT))
    contexts = lookahead_probe(setup.ctx, "monthly")
    combos = combinations(setup.grid)
    run_grid(setup.strategy, combos[:1], setup.ctx, setup.window, costs=Costs(), init_cash=1e6)
    started = time.perf_counter()
    run = run_grid(setup.strategy, combos, setup.ctx, setup.window, costs=Costs(), init_cash=1e6,
                   lookahead=contexts)
    return {"combos": len(combos), "trials": run.n_trials, "seconds": time.perf_counter() - started,
            "weights_seconds": run.weights_seconds, "simulate_and_score_seconds": run.simulate_seconds,
            "peak_mb": _peak_mb()}


def case_real_grid(executor: str, values: int) -> dict:
    """End to end on the snapshot: liquidity_rotation over ``values`` neutral_short values x
    its 9 rank pairs (weights through its grid method, lookahead replays, dedupe, kernel,
    metrics), on ``executor``: "1" (one worker), "local" (every core) or "dask" (a local
    Dask cluster of one single-threaded process per core). Per extra combination: the
    difference to a one-combination run, over the extra combinations."""
    from durationbt.api import RunSettings, lookahead_probe
    from durationbt.engine import Costs
    from durationbt.sweep import DaskCluster, combinations, executor_for
    from durationbt.sweep.executors import all_cores
    from durationbt.sweep.sweep import load_setup, run_grid

    if not (SNAPSHOT / "SPY.csv").is_file():
        return {"skipped": f"no snapshot at {SNAPSHOT}"}
    shares = ",".join(f"{x:.6f}" for x in np.linspace(0.0, 1.0, values))
    setup = load_setup("liquidity_rotation", [f"neutral_short={shares}", "short_max_rank=0,1,2",
                                              "long_min_rank=3,4,5"], {},
                       RunSettings(data=SNAPSHOT))
    probe = lookahead_probe(setup.ctx, "monthly")
    combos = combinations(setup.grid)

    def timed(grid, runner) -> float:
        started = time.perf_counter()
        run_grid(setup.strategy, grid, setup.ctx, setup.window, costs=Costs(), init_cash=1e6,
                 lookahead=probe, executor=runner)
        return time.perf_counter() - started

    timed(combos[:1], None)   # numba cache load, first-call costs
    cluster = None
    if executor == "dask":
        from distributed import LocalCluster

        cluster = LocalCluster(n_workers=all_cores(), threads_per_worker=1, processes=True,
                               dashboard_address=":0")
        runner = DaskCluster(cluster.scheduler_address)
    else:
        runner = executor_for(1 if executor == "1" else None)
    try:
        one = timed(combos[:1], None)
        seconds = timed(combos, runner)
    finally:
        runner.close()
        if cluster is not None:
            cluster.close()
    extra = (seconds - one) / (len(combos) - 1)
    return {"combos": len(combos), "workers": runner.workers, "seconds": seconds,
            "one_seconds": one, "ms_per_extra": extra * 1e3, "per_second": 1.0 / extra,
            "peak_mb": _peak_mb()}


def _sweep_grids(values: dict[str, int]) -> dict[str, list[str]]:
    """``--grid`` specs for each built-in strategy with parameters: ``values[name]`` values
    of a widened parameter, listed first (so it varies slowest and a smaller grid's
    combinations are the first ones of a larger grid's), times a few values of the others
    (an expensive one where it has one: duration_spread's neutralize, inverse_vol_duration's
    window, momentum_gate's lookback itself)."""
    def steps(start: float, step: float, name: str) -> str:
        return ",".join(f"{start + i * step:g}" for i in range(values[name]))

    return {
        "duration_spread": [f"gross={steps(0.5, 0.001, 'duration_spread')}",
                            "short_max_rank=0,1", "long_min_rank=3,4,5",
                            "neutralize=dollar,duration", "gate=always,scarce"],
        "duration_tilt": [f"neutral_rank={steps(1.0, 0.002, 'duration_tilt')}",
                          "sensitivity=0.5,1.0,1.5,2.0,3.0"],
        "inverse_vol_duration": [f"max_avg_rank={steps(0.0, 0.0005, 'inverse_vol_duration')}",
                                 "vol_window=21,63,126"],
        "liquidity_rotation": [f"neutral_short={steps(0.0, 0.0005, 'liquidity_rotation')}",
                               "short_max_rank=0,1,2", "long_min_rank=3,4,5"],
        "momentum_gate": [f"lookback={steps(21, 1, 'momentum_gate')}", "top_k=1,2,3",
                          "long_min_rank=1,2,3,4,5"],
        "sixty_forty": [f"equity_share={steps(0.0, 0.0005, 'sixty_forty')}"],
    }


SWEEP_COMBOS_PER_VALUE = {"duration_spread": 24, "duration_tilt": 5, "inverse_vol_duration": 3,
                          "liquidity_rotation": 9, "momentum_gate": 15, "sixty_forty": 1}


def _cpu_seconds(pids: list[int]) -> float:
    """CPU time so far of this process, its finished children and the live ``pids``."""
    own, gone = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + gone.ru_utime + gone.ru_stime
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:       # not Linux, or already gone (then counted in RUSAGE_CHILDREN)
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _ms_each(seconds: float, count: int) -> float:
    """Milliseconds per item; NaN without items (a grid of one batch has none after it)."""
    return seconds / count * 1e3 if count else float("nan")


def case_sweep_per_combo(large: int = 1_280) -> dict:
    """``durationbt sweep`` of every built-in strategy on the snapshot as the command runs it
    (one worker process, lookahead replays, cash in the risk-free asset, dedupe, kernel,
    metrics): its first combination alone, then about ``large`` combinations. Two figures
    per extra combination: over the one-combination run ((time - time of 1) / extra, as
    ``real_grid``), which spreads the first batch's replay of its 256 combinations at every
    decision date over the grid; and beyond that first batch (the time after it over the
    combinations after it), what each further combination adds. Each as wall time and as
    CPU time of this process and its worker (what the wall time is on an idle machine;
    the wall time swings with the load of a shared one)."""
    from durationbt.api import RunSettings, Session
    from durationbt.sweep import OneWorker, combinations, run_grid
    from durationbt.sweep.grid import parse_grid

    if not (SNAPSHOT / "SPY.csv").is_file():
        return {"skipped": f"no snapshot at {SNAPSHOT}"}
    session = Session(RunSettings(data=SNAPSHOT, strategies_dir=REPO / "strategies"))

    def timed(cls, combos: list[dict]) -> dict:
        """Wall and CPU seconds in all and after the first batch, its size, the trials."""
        executor = OneWorker()
        pids = lambda: [c.pid for c in getattr(executor, "_children", [])]  # noqa: E731
        head: list[tuple[float, float, int]] = []

        def progress(stage: str, done: int, total: int) -> None:
            if not head:
                head.append((time.perf_counter(), _cpu_seconds(pids()), done))

        started, cpu = time.perf_counter(), _cpu_seconds([])
        run = run_grid(cls, combos, session.ctx, session.window, costs=session.settings.costs,
                       init_cash=session.settings.init_cash, lookahead=session.probe,
                       risk_free=session.risk_free, book=session.book(cls), progress=progress,
                       executor=executor)
        ended, cpu_ended = time.perf_counter(), _cpu_seconds([])
        return {"wall": ended - started, "cpu": cpu_ended - cpu, "after_wall": ended - head[0][0],
                "after_cpu": cpu_ended - head[0][1], "head": head[0][2], "trials": run.n_trials}

    timed(session.strategy_class("liquidity_rotation"), [{}])   # numba cache, first calls
    grids = _sweep_grids({k: -(-large // c) for k, c in SWEEP_COMBOS_PER_VALUE.items()})
    out: dict[str, dict] = {}
    for name in sorted(p.stem for p in (REPO / "strategies").glob("*.py")):
        cls = session.strategy_class(name)
        if name not in grids:
            out[name] = {"skipped": "no parameters to sweep" if not cls.params()
                         else "no bench grid"}
            continue
        combos = combinations(parse_grid(cls, grids[name], {}))
        one, many = timed(cls, combos[:1]), timed(cls, combos)
        extra, after = len(combos) - 1, len(combos) - many["head"]
        out[name] = {"combos": len(combos), "trials": many["trials"], "grid_method": cls.has_grid(),
                     "seconds": many["wall"], "one_seconds": one["wall"],
                     "ms_per_extra": _ms_each(many["wall"] - one["wall"], extra),
                     "cpu_ms_per_extra": _ms_each(many["cpu"] - one["cpu"], extra),
                     "ms_after_first_batch": _ms_each(many["after_wall"], after),
                     "cpu_ms_after_first_batch": _ms_each(many["after_cpu"], after)}
    return out


def print_sweep_per_combo(found: dict, target_ms: float = 3.0) -> None:
    """The table of ``case_sweep_per_combo`` and its verdict against ``target_ms``."""
    print("\nevery built-in strategy swept as `durationbt sweep` runs it on the snapshot (one "
          "worker process, lookahead replays, cash, dedupe, kernel, metrics): ms per extra "
          "combination over a 1-combination run, and beyond the first batch (whose 256 "
          "combinations are replayed at every decision date); CPU = this process + its worker")
    header = (f"{'strategy':<22}{'combos':>7}{'1 combo s':>10}{'all s':>8}{'ms/extra':>10}"
              f"{'CPU':>8}{'after 1st':>10}{'CPU':>8}")
    print(header)
    print("-" * len(header))
    over: dict[str, list[str]] = {"cpu_ms_after_first_batch": [], "cpu_ms_per_extra": []}
    for name, row in found.items():
        if "skipped" in row:
            print(f"{name:<22} skipped ({row['skipped']})")
            continue
        print(f"{name:<22}{row['combos']:>7,}{row['one_seconds']:>10.2f}{row['seconds']:>8.2f}"
              f"{row['ms_per_extra']:>10.2f}{row['cpu_ms_per_extra']:>8.2f}"
              f"{row['ms_after_first_batch']:>10.2f}{row['cpu_ms_after_first_batch']:>8.2f}")
        for key, names in over.items():
            names += [name] if row[key] > target_ms else []
    for key, label in (("cpu_ms_after_first_batch", "beyond the first batch"),
                       ("cpu_ms_per_extra", "over a 1-combination run")):
        print(f"target <= {target_ms:g} ms per extra combination (CPU, {label}): "
              + (f"MISSES for {', '.join(over[key])}" if over[key] else "meets for every strategy"))

CASES = {
    "single_run": lambda a: case_single_run(),
    "real_sweep": lambda a: case_real_sweep(),
    "timing": lambda a: case_timing(),
    "thesis": lambda a: case_thesis(),
    "real_grid": lambda a: case_real_grid(a.executor, a.values),
    "sweep_per_combo": lambda a: case_sweep_per_combo(a.grid_combos),
    "sweep": lambda a: case_sweep(a.assets, a.days, a.combos, a.chunk),
    "sweep_long_short": lambda a: case_sweep(a.assets, a.days, a.combos, a.chunk, True),
    "numpy": lambda a: case_numpy(a.assets, a.days, a.combos),
    "from_orders": lambda a: case_from_orders(a.assets, a.days, a.combos),
    "engine_vs_from_orders": lambda a: case_engine_vs_from_orders(a.assets, a.days),
}


def _child(case: str, **sizes) -> dict:
    args = [sys.executable, __file__, "--case", case]
    for key, value in sizes.items():
        args += [f"--{key}", str(value)]
    one_core = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                 "NUMBA_NUM_THREADS")}
    done = subprocess.run(args, capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, **one_core})
    if done.returncode:
        raise SystemExit(f"bench case {case} {sizes} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES))
    parser.add_argument("--assets", type=int, default=10)
    parser.add_argument("--days", type=int, default=2520)
    parser.add_argument("--combos", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=0)
    parser.add_argument("--executor", choices=("1", "local", "dask"), default="1")
    parser.add_argument("--values", type=int, default=1_001)
    parser.add_argument("--grid-combos", type=int, default=1_280)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(CASES[args.case](args)))
        return

    quick = args.quick
    small = {"assets": 10, "days": 2520, "combos": 1_000 if quick else 10_000}
    large = {"assets": 200 if not quick else 50, "days": 5040 if not quick else 2520,
             "combos": 1_000 if not quick else 100}
    print("durationbt benchmark (one core unless stated; times exclude numba compilation)\n")
    run = _child("single_run")
    if "skipped" in run:
        print(f"single run: skipped ({run['skipped']})")
    else:
        print(f"single run  `durationbt run liquidity_rotation` on the snapshot: "
              f"{run['seconds']:.2f} s; the same by hand (bench/by_hand.py: vectorbt "
              f"from_orders + quantstats tearsheet): {run['by_hand_seconds']:.2f} s; ratio "
              f"{run['seconds'] / run['by_hand_seconds']:.2f} (best of 3, alternated, warm)")
        print("            phases (wall, in-process): " + ", ".join(
            f"{name} {sec:.2f} s" for name, sec in run["phases"].items()))
    timing = _child("timing")
    if "skipped" not in timing:
        print(f"timing attribution of that run (static mix, paired bootstrap, "
              f"{timing['placebos']:,} re-timed placebos): {timing['first_seconds']:.2f} s in a "
              f"fresh process, {timing['warm_seconds']:.2f} s warm (CPU {timing['first_cpu']:.2f} "
              f"s and {timing['warm_cpu']:.2f} s; budget 2 s)")
    thesis = _child("thesis")
    if "skipped" not in thesis:
        print(f"thesis      `durationbt thesis` on the default universe: {thesis['seconds']:.2f} s "
              f"(warm, best of 2; target <= 30 s: "
              f"{'meets' if thesis['seconds'] <= 30 else 'MISSES'})")
    real = _child("real_sweep")
    if "skipped" not in real:
        print(f"real sweep  liquidity_rotation, {real['combos']} combinations ({real['trials']} "
              f"distinct): weights + lookahead checks {real['weights_seconds']:.2f} s, "
              f"simulate + score {real['simulate_and_score_seconds']:.3f} s, peak {real['peak_mb']:.0f} MB")
    values = 101 if quick else 1_001
    per_combo = _child("sweep_per_combo", **{"grid-combos": 768 if quick else 1_280})
    grids = {label: _child("real_grid", executor=key, values=values)
             for label, key in (("1 worker process", "1"), ("every local core", "local"),
                                ("local Dask cluster", "dask"))}
    print()
    rows = []
    for label, sizes in (("10 assets x 2,520 days", small), (
            f"{large['assets']} assets x {large['days']:,} days", large)):
        sweep = _child("sweep", **sizes)
        ref = _child("numpy", **sizes)
        rows.append((label, sizes, sweep, ref))
    from_orders = _child("from_orders", assets=10, days=2520, combos=100 if quick else 500)
    long_short = _child("sweep_long_short", **small)
    engine = _child("engine_vs_from_orders", assets=500 if quick else 2_000, days=2520)

    header = (f"{'size':<26}{'combos':>8}{'kernel/s':>11}{'numpy/s':>11}{'ratio':>8}{'peak MB':>9}"
              f"{'PBO s':>8}{'compile s':>11}")
    print(header)
    print("-" * len(header))
    for label, sizes, sweep, ref in rows:
        print(f"{label:<26}{sizes['combos']:>8,}{sweep['per_second']:>11,.0f}{ref['per_second']:>11,.0f}"
              f"{sweep['per_second'] / ref['per_second']:>8.2f}{sweep['peak_mb']:>9,.0f}"
              f"{sweep['pbo_seconds']:>8.2f}{sweep['compile_seconds']:>11.2f}")
    small_sweep = rows[0][2]
    print(f"\nvectorbt from_orders, {from_orders['combos']} combinations of 10 assets x 2,520 days: "
          f"{from_orders['per_second']:,.0f} combos/s (kernel is "
          f"{small_sweep['per_second'] / from_orders['per_second']:.0f}x faster, with costs)")
    print(f"engine.simulate, {engine['assets']:,} assets x 2,520 days (monthly, equal weight; "
          f"checks, daily equity, weights, cash and order log included): "
          f"{engine['engine_seconds']:.2f} s, beside a plain vectorbt from_orders + value() of the "
          f"same shape: {engine['from_orders_seconds']:.2f} s; ratio {engine['ratio']:.2f} (goal "
          f"<= 1.5: {'meets' if engine['ratio'] <= 1.5 else 'MISSES'}), "
          f"{engine['engine_peak_mb']:,.0f} MB peak")
    print(f"long/short kernel, {small['combos']:,} combinations of 10 assets x 2,520 days (half "
          f"the assets short, borrow 50 bps daily): {long_short['per_second']:,.0f} combos/s, "
          f"{long_short['per_second'] / small_sweep['per_second']:.0%} of long-only (goal: >= 80%)")
    print("numpy reference: zero costs, no order sorting or cash trimming, no metrics, each "
          "segment between rebalances one BLAS matrix product over all combinations; kernel: "
          "fees + slippage, sells first, metrics and CSCV moments included (PBO timed apart). "
          "Both on one thread: every case's process runs with BLAS, OpenMP and numba threads at 1.")
    print(f"\nreal plugin end to end: liquidity_rotation, {values:,} neutral_short values x 9 rank "
          "pairs, lookahead replays, dedupe, kernel and metrics included; per extra combination "
          "= (time - time of 1 combination) / extra combinations")
    header = f"{'map on':<26}{'workers':>8}{'combos':>8}{'seconds':>9}{'ms/extra':>10}{'combos/s':>10}"
    print(header)
    print("-" * len(header))
    for label, grid in grids.items():
        if "skipped" in grid:
            print(f"{label:<26} skipped ({grid['skipped']})")
            continue
        print(f"{label:<26}{grid['workers']:>8}{grid['combos']:>8,}{grid['seconds']:>9.2f}"
              f"{grid['ms_per_extra']:>10.3f}{grid['per_second']:>10,.0f}")
    target = 5_000
    verdict = "meets" if small_sweep["per_second"] >= target else "MISSES"
    print(f"target >= {target:,} combos/s at 10 x 2,520 with 10,000 combos under 2 GB: {verdict} "
          f"({small_sweep['per_second']:,.0f}/s, {small_sweep['peak_mb']:,.0f} MB)")
    if "skipped" not in per_combo:
        print_sweep_per_combo(per_combo)
    print_scaling(quick)


def print_scaling(quick: bool) -> None:
    """The scaling table (bench/scaling.py): `durationbt run equal_weight` end to end on
    synthetic universes, cold and warm, with the growth exponents and the goal's verdict."""
    import scaling

    assets, years = ([10, 100, 500], [5, 10]) if quick else ([10, 100, 500, 2_000], [10, 30])
    print("\nscaling: `durationbt run equal_weight` end to end (data, signal, lookahead replay, "
          "engine, scores, run folder, report, tearsheet) on synthetic universes of N random "
          "walks over Y years, each case in a fresh process, cold (CSVs read) then warm (cache)")
    scaling.report(scaling.table(assets, years), assets, years)


if __name__ == "__main__":
    main()
