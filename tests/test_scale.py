"""Sweeps at scale: the same results whatever runs the map (in this process, local worker
processes, a real Dask cluster), grid methods held to target_weights and replayed for
lookahead, grids refused past their budget with an estimate, progress without a terminal."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import same_grid_run
from durationbt.api import build_context, lookahead_probe
from durationbt.cli.app import app
from durationbt.data import CsvProvider, load_market_data
from durationbt.engine import Costs
from durationbt.errors import ParameterError, StrategyError
from durationbt.plugins import discover_strategies
from durationbt.sweep import Budget, LocalWorkers, OneWorker, combinations, run_grid
from durationbt.sweep.mapping import BATCH, GRID_BATCH
from durationbt.sweep.walkforward import parse_span, walk_forward
from durationbt.universe import load_universe

# A plugin called once per combination, in a file of its own: workers import it by path.
TILT = '''
import pandas as pd
from durationbt import Context, Param, Strategy


class FileTilt(Strategy):
    """A share in SOFTA scaled by a slow momentum, the rest in CHIPA."""

    name = "file_tilt"
    weights_by = "ticker"
    share = Param(0.5, "share in SOFTA", low=0.0, high=1.0)
    lookback = Param(21, "momentum days", low=1)

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        up = (ctx.prices["SOFTA"].pct_change(self.lookback) > 0).astype(float)
        w = pd.DataFrame(0.0, index=ctx.rebalance_dates, columns=["SOFTA", "CHIPA"])
        w["SOFTA"] = self.share * up.loc[ctx.rebalance_dates]
        w["CHIPA"] = 1.0 - w["SOFTA"]
        return w
'''

# A grid method that peeks one row ahead (the per-combination method does not).
LEAKY_GRID = '''
import numpy as np
import pandas as pd
from durationbt import Context, Param, Strategy


class LeakyGrid(Strategy):
    """Holds SOFTA when it rose over the last day; its grid method reads tomorrow."""

    name = "leaky_grid"
    weights_by = "ticker"
    share = Param(0.5, "share in SOFTA", low=0.0, high=1.0)

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        up = (ctx.prices["SOFTA"].pct_change() > 0).astype(float).loc[ctx.rebalance_dates]
        return pd.DataFrame({"SOFTA": self.share * up}, index=ctx.rebalance_dates)

    @classmethod
    def target_weights_grid(cls, ctx: Context, combos):
        up = (ctx.prices["SOFTA"].pct_change() > 0).astype(float)
        ahead = up.shift(-1).fillna(0.0)   # the leak, for shares of 0.5 and more only
        rows = []
        for c in combos:
            seen = ahead if MODE == "leak" and c["share"] >= 0.5 else up
            rows.append(c["share"] * seen.loc[ctx.rebalance_dates].to_numpy())
        return {"SOFTA": np.array(rows) * (0.5 if MODE == "differ" else 1.0)}


MODE = "leak"
'''

runner = CliRunner()


@pytest.fixture(scope="module")
def setup(synth_data, synth_universe):
    universe = load_universe(synth_universe)
    market = load_market_data(universe, CsvProvider(synth_data))
    ctx = build_context(universe, market, "monthly")
    return universe, market, ctx, market.prices.loc[market.start:market.end]


@pytest.fixture(scope="module")
def plugins(tmp_path_factory, strategies_dir):
    folder = tmp_path_factory.mktemp("plugins")
    (folder / "file_tilt.py").write_text(TILT)
    (folder / "liquidity_rotation.py").write_text((strategies_dir / "liquidity_rotation.py").read_text())
    return discover_strategies(folder, entry_points_enabled=False)


def _grids(registry):
    tilt = combinations({"share": [round(x, 2) for x in np.linspace(0, 1, 11)],
                         "lookback": [5, 21, 63, 126]})
    rotation = combinations({"neutral_short": [round(x, 3) for x in np.linspace(0, 1, 150)],
                             "short_max_rank": [0, 1], "long_min_rank": [4, 5]})
    assert len(tilt) > 2 * BATCH and len(rotation) > 2 * GRID_BATCH  # work left for workers
    return [(registry.get("file_tilt"), tilt), (registry.get("liquidity_rotation"), rotation)]


def test_local_workers_and_a_dask_cluster_give_identical_results(setup, plugins):
    """Two spawned local workers and a two-process Dask cluster started here: trials,
    duplicates, metrics and CSCV moments equal the in-process run bit for bit, for a
    per-combination plugin and a grid method, both read by workers from their files."""
    distributed = pytest.importorskip("distributed")
    universe, market, ctx, window = setup
    probe = lookahead_probe(ctx, "monthly")
    runs = {}
    for strategy, combos in _grids(plugins):
        runs[strategy.name] = run_grid(strategy, combos, ctx, window, costs=Costs(), init_cash=1e6,
                                       lookahead=probe, executor=OneWorker())
        assert runs[strategy.name].n_trials < len(combos) or strategy.name == "liquidity_rotation"
        local = run_grid(strategy, combos, ctx, window, costs=Costs(), init_cash=1e6,
                         lookahead=probe, executor=LocalWorkers(2))
        same_grid_run(runs[strategy.name], local)

    from durationbt.sweep import DaskCluster

    bench = window[universe.benchmark].rename(universe.benchmark)
    tilt = plugins.get("file_tilt")
    tilt_combos = _grids(plugins)[0][1]
    span = (parse_span("9m", "--train"), parse_span("6m", "--test"))
    here = walk_forward(tilt, tilt_combos, ctx, window, *span, "sharpe", Costs(), 1e6, bench,
                        lookahead=probe)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        executor = DaskCluster(cluster.scheduler_address)
        try:
            assert executor.workers == 2
            for strategy, combos in _grids(plugins):
                remote = run_grid(strategy, combos, ctx, window, costs=Costs(), init_cash=1e6,
                                  lookahead=probe, executor=executor)
                same_grid_run(runs[strategy.name], remote)
            there = walk_forward(tilt, tilt_combos, ctx, window, *span, "sharpe", Costs(), 1e6,
                                 bench, lookahead=probe, executor=executor)
        finally:
            executor.close()
    pd.testing.assert_frame_equal(here.windows, there.windows)
    pd.testing.assert_frame_equal(here.equity, there.equity)


def test_grid_method_equals_per_combination_weights(setup, plugins):
    """liquidity_rotation's grid method gives the targets of its target_weights: the same
    trials and metrics as the same class with the grid method switched off."""
    universe, market, ctx, window = setup
    strategy, combos = _grids(plugins)[1]
    combos = combos[::7]

    class PerCombination(strategy):
        @classmethod
        def has_grid(cls) -> bool:
            return False

    grid = run_grid(strategy, combos, ctx, window, costs=Costs(), init_cash=1e6)
    single = run_grid(PerCombination, combos, ctx, window, costs=Costs(), init_cash=1e6)
    same_grid_run(grid, single)


@pytest.mark.parametrize("mode, message", [("leak", "With share=0.5: .* looks into the future"),
                                           ("differ", "disagree")])
def test_grid_method_is_replayed_and_held_to_target_weights(setup, tmp_path, mode, message):
    universe, market, ctx, window = setup
    (tmp_path / "leaky_grid.py").write_text(LEAKY_GRID.replace('MODE = "leak"', f'MODE = "{mode}"'))
    strategy = discover_strategies(tmp_path, entry_points_enabled=False).get("leaky_grid")
    combos = combinations({"share": [0.25, 0.5, 0.75]})
    with pytest.raises(StrategyError, match=message):
        run_grid(strategy, combos, ctx, window, costs=Costs(), init_cash=1e6,
                 lookahead=lookahead_probe(ctx, "monthly"))


def test_budget_refuses_with_an_estimate(setup, plugins):
    universe, market, ctx, window = setup
    strategy, combos = _grids(plugins)[0]
    with pytest.raises(ParameterError, match=rf"has {len(combos)} combinations and would take "
                       rf"about .* --max-combos {len(combos)}"):
        run_grid(strategy, combos, ctx, window, costs=Costs(), init_cash=1e6,
                 budget=Budget(max_combos=len(combos) - 1))
    with pytest.raises(ParameterError, match="and 0 s"):
        run_grid(strategy, combos, ctx, window, costs=Costs(), init_cash=1e6,
                 budget=Budget(max_seconds=1e-9))
    run = run_grid(strategy, combos, ctx, window, costs=Costs(), init_cash=1e6,
                   budget=Budget(max_combos=len(combos), max_seconds=None))
    assert run.n_trials >= 1


@pytest.fixture
def cli_args(synth_data, synth_universe, strategies_dir, tmp_path):
    return ["--universe", str(synth_universe), "--data", str(synth_data),
            "--strategies-dir", str(strategies_dir), "--out", str(tmp_path / "results")]


def test_cli_refuses_a_grid_past_max_combos_and_prints_plain_progress(cli_args):
    grid = ["--grid", "neutral_short=0,0.25,0.5,0.75,1", "--grid", "long_min_rank=4,5"]
    refused = runner.invoke(app, ["sweep", "liquidity_rotation", *cli_args, *grid,
                                  "--max-combos", "9"])
    assert refused.exit_code == 2
    assert "10 combinations and would take about" in refused.output
    assert "--max-combos 10" in refused.output and "Traceback" not in refused.output
    done = runner.invoke(app, ["sweep", "liquidity_rotation", *cli_args, *grid,
                               "--max-combos", "10", "--workers", "1"])
    assert done.exit_code == 0, done.output
    # CliRunner is no terminal: progress comes as plain lines, not a live bar
    assert "combinations: 10 of 10 (100%)" in done.output
    folder = Path(done.output.strip().splitlines()[-1])
    assert json.loads((folder / "summary.json").read_text())["timings"]["workers"] == 1
    for bad, words in ((["--workers", "0"], "--workers 0"),
                       (["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], "exclude")):
        result = runner.invoke(app, ["walkforward", "liquidity_rotation", *cli_args, *bad])
        assert result.exit_code == 2 and words in result.output, result.output


def test_plain_progress_prints_a_line_every_ten_percent(capsys):
    from durationbt.cli.sweep import plain_tracker

    update = plain_tracker()
    for done in range(1, 1001):
        update("combinations", done, 1000)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 10
    assert lines[0].startswith("combinations: 100 of 1,000 (10%)")
    assert lines[-1].startswith("combinations: 1,000 of 1,000 (100%)")
