"""Every built-in strategy's grid method (``target_weights_grid``, the sweep's fast path):
equal to its ``target_weights`` on every combination, the same sweep numbers as the
per-combination path bit for bit, clean under the sweep's lookahead replay on the real
snapshot, and a grid method of bucket weights that disagrees is refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import same_grid_run
from durationbt.api import RunSettings, Session, build_context
from durationbt.engine import Costs
from durationbt.errors import ParameterError, StrategyError
from durationbt.plugins import discover_strategies, real_class
from durationbt.sweep import combinations, run_grid
from durationbt.synthetic import synthetic_market
from durationbt.universe import load_universe
from durationbt.weights import grid_bucket_weights, validated_weights

# each declared grid, widened where the rule has edges: bounds of ranks, caps that bind and
# do not, lookbacks longer than some histories, more slots than buckets, tickers swapped
GRIDS = {
    "duration_spread": {"short_max_rank": [0, 1, 2], "long_min_rank": [3, 4, 5],
                        "neutralize": ["dollar", "duration"], "gate": ["always", "scarce"],
                        "gross": [0.5, 2.0], "window": [52, 104]},
    "duration_tilt": {"neutral_rank": [0.0, 1.3, 2.0, 2.5, 3.0, 5.5],
                      "sensitivity": [0.0, 0.5, 1.5, 3.0, 7.0]},
    "inverse_vol_duration": {"vol_window": [20, 21, 63, 126],
                             "max_avg_rank": [0.0, 0.1, 0.3, 1.0, 2.0, 3.0]},
    "liquidity_rotation": {"short_max_rank": [0, 1, 2], "long_min_rank": [3, 4, 5],
                           "neutral_short": [0.0, 0.25, 0.5, 0.75, 1.0]},
    "momentum_gate": {"lookback": [5, 63, 126, 252, 2000], "top_k": [1, 2, 3, 6],
                      "long_min_rank": [1, 3, 6]},
    "sixty_forty": {"equity_share": [0.0, 0.4, 0.6, 0.8, 1.0], "equity": ["SPY", "TLT"],
                    "bonds": ["IEF", "SPY"]},
}
# a combination each strategy refuses, and what it says
REFUSED = {
    "duration_spread": ({"short_max_rank": 4, "long_min_rank": 3}, StrategyError, "must be below"),
    "liquidity_rotation": ({"short_max_rank": 3, "long_min_rank": 3}, ParameterError,
                           "not the same ones"),
    "sixty_forty": ({"equity": "QQQ"}, ParameterError, "QQQ is neither a member"),
}


@pytest.fixture(scope="module")
def library(strategies_dir):
    found = discover_strategies(strategies_dir, entry_points_enabled=False)
    return {name: real_class(found.get(name)) for name in found.names()}


@pytest.fixture(scope="module")
def synthetic(default_universe):
    universe = load_universe(default_universe)
    market = synthetic_market(universe)
    return universe, market, build_context(universe, market, "monthly")


@pytest.fixture(scope="module")
def real(snapshot, strategies_dir):
    return Session(RunSettings(data=snapshot, strategies_dir=strategies_dir))


def test_every_built_in_strategy_with_parameters_has_a_grid_method(library):
    assert {n for n, cls in library.items() if cls.params()} == set(GRIDS)
    assert all(library[name].has_grid() for name in GRIDS)
    for name, grid in GRIDS.items():
        for param, declared in library[name].params().items():     # the declared grid, at least
            assert set(declared.grid) <= set(grid.get(param, [])), (name, param)


def _held_equal(cls, ctx, combos):
    """The grid method's checked output equals each combination's validated target_weights
    to 1e-12 (they are computed by the same helpers, so in fact bit for bit)."""
    grid = grid_bucket_weights(cls.target_weights_grid(ctx, combos), cls, ctx, len(combos))
    assert grid.shape == (len(combos), len(ctx.rebalance_dates), grid.shape[2])
    for k, combo in enumerate(combos):
        instance = cls(**combo)
        single = validated_weights(instance.target_weights(ctx), instance, ctx).to_numpy()
        np.testing.assert_allclose(grid[k], single, rtol=0, atol=1e-12, err_msg=str(combo))
        np.testing.assert_array_equal(grid[k], single, err_msg=str(combo))


@pytest.mark.parametrize("name", sorted(GRIDS))
def test_grid_method_equals_target_weights_on_synthetic_data(name, library, synthetic):
    """Every combination of the widened grid, on the full history and on one cut three
    decisions in (lookbacks and estimates not there yet)."""
    _, _, ctx = synthetic
    combos = combinations(GRIDS[name])
    _held_equal(library[name], ctx, combos)
    _held_equal(library[name], ctx.as_of(ctx.rebalance_dates[3]), combos[::3])


@pytest.mark.parametrize("name", sorted(GRIDS))
def test_grid_method_equals_target_weights_on_the_snapshot(name, library, real):
    """Real data: late listings (SNDK, ETH), series that stop, crypto on every day."""
    _held_equal(library[name], real.ctx, combinations(GRIDS[name]))


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_grid_method_refuses_what_target_weights_refuses(name, library, synthetic):
    _, _, ctx = synthetic
    combo, error, message = REFUSED[name]
    cls = library[name]
    with pytest.raises(error, match=message):
        cls(**combo).target_weights(ctx)
    with pytest.raises(error, match=message):
        cls.target_weights_grid(ctx, [{}, combo])


@pytest.mark.parametrize("name", sorted(GRIDS))
def test_sweep_numbers_equal_the_per_combination_path(name, strategies_dir, synthetic):
    """The grid method changes how fast a sweep runs, not what it finds: trials, duplicates,
    every metric and CSCV moment equal those of the same class with the grid method
    switched off (one target_weights call per combination), bit for bit, with uninvested
    weight in the cash asset as the command places it."""
    universe, market, ctx = synthetic
    session = Session(RunSettings(), universe=universe, market=market)
    strategy = discover_strategies(strategies_dir, entry_points_enabled=False).get(name)

    class PerCombination(strategy):
        @classmethod
        def has_grid(cls) -> bool:
            return False

    combos = combinations({k: v[:3] for k, v in GRIDS[name].items()})[:40]
    window = market.prices.loc[market.start:market.end]
    runs = [run_grid(cls, combos, ctx, window, costs=Costs(), init_cash=1e6,
                     risk_free=session.risk_free, book=session.book(strategy))
            for cls in (strategy, PerCombination)]
    same_grid_run(*runs)


def test_grid_methods_pass_the_sweeps_lookahead_replay_on_the_snapshot(real):
    """Each built-in grid method replayed at all 140 decision dates (the head batch) with
    the future cut and replaced, as ``durationbt sweep`` does: none is refused."""
    for name in sorted(GRIDS):
        cls = real.strategy_class(name)
        combos = combinations({k: v[:1] if k == "window" else v[:2]
                               for k, v in GRIDS[name].items()})
        run = run_grid(cls, combos, real.ctx, real.window, costs=Costs(), init_cash=1e6,
                       lookahead=real.probe, risk_free=real.risk_free, book=real.book(cls))
        assert run.n_trials >= 1


DISAGREE = '''
import numpy as np
import pandas as pd
from durationbt import Context, Param, Strategy


class HalfGrid(Strategy):
    """Bills and SaaS; the grid method halves SaaS on the last decision only."""

    name = "half_grid"
    share = Param(0.5, "share in saas", low=0.0, high=1.0)

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        return pd.DataFrame({"bills": 1 - self.share, "saas": self.share},
                            index=ctx.rebalance_dates)

    @classmethod
    def target_weights_grid(cls, ctx: Context, combos):
        saas = np.array([[c["share"]] * len(ctx.rebalance_dates) for c in combos])
        saas[:, -1] /= 2
        return {"bills": 1 - np.array([[c["share"]] for c in combos]) + 0 * saas, "saas": saas}
'''


def test_a_bucket_grid_method_that_disagrees_is_refused_naming_the_bucket(tmp_path, synthetic):
    """The first combination of every batch is held to target_weights in the plugin's own
    columns (buckets here): a disagreement on the last date is named, bucket and date."""
    universe, market, ctx = synthetic
    (tmp_path / "half_grid.py").write_text(DISAGREE)
    strategy = discover_strategies(tmp_path, entry_points_enabled=False).get("half_grid")
    window = market.prices.loc[market.start:market.end]
    last = ctx.rebalance_dates[-1].date()
    with pytest.raises(StrategyError, match=rf"disagree with share=0.5: saas on {last} is 0.25 "
                                            r"in the grid method and 0.5 in target_weights"):
        run_grid(strategy, [{"share": 0.5}], ctx, window, costs=Costs(), init_cash=1e6)


PEEK = '''
import numpy as np
import pandas as pd
from durationbt import Context, Param, Strategy
from durationbt.duration import known_on, rolling_durations


class Peek(Strategy):
    """Memory chips by their trailing duration estimate (bills the rest), read SHIFT days
    ahead."""

    name = "NAME"
    window = Param(52, "weeks behind each estimate", low=52, high=520)

    @staticmethod
    def memory(ctx: Context, window: int) -> np.ndarray:
        prices = ctx.prices.shift(-SHIFT) if SHIFT else ctx.prices
        rolling = rolling_durations(prices, ctx.inputs["^TNX"], ctx.universe.benchmark, window,
                                    columns=["MU"], since=ctx.rebalance_dates[0])
        return np.clip(0.5 + known_on(rolling, ctx.rebalance_dates)["MU"].fillna(0.0)
                       .to_numpy() / 100, 0.0, 1.0)

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        memory = self.memory(ctx, self.window)
        return pd.DataFrame({"memory": memory, "bills": 1 - memory}, index=ctx.rebalance_dates)

    @classmethod
    def target_weights_grid(cls, ctx: Context, combos):
        memory = np.array([cls.memory(ctx, cls(**combo).window) for combo in combos])
        return {"memory": memory, "bills": 1 - memory}
'''


def test_a_leak_through_the_remembered_duration_estimates_is_refused(tmp_path, synthetic):
    """Rolling duration estimates remember their running sums between a sweep's replays
    (``durationbt.running``). A grid method that reads them a few days ahead is still
    refused: each replay's estimates are its own data's, not the full run's; the same
    plugin reading them honestly passes the same replays."""
    from durationbt.lookahead import LookaheadProbe

    universe, market, ctx = synthetic
    window = market.prices.loc[market.start:market.end]
    probe = LookaheadProbe(ctx, every_date=True)
    for name, shift in (("honest_estimates", 0), ("peeking_estimates", 3)):
        (tmp_path / f"{name}.py").write_text(PEEK.replace("NAME", name)
                                             .replace("SHIFT", str(shift)))
        strategy = discover_strategies(tmp_path, entry_points_enabled=False).get(name)
        combos = [{"window": 52}, {"window": 60}]
        if not shift:
            assert run_grid(strategy, combos, ctx, window, costs=Costs(), init_cash=1e6,
                            lookahead=probe).n_trials == 2
            continue
        with pytest.raises(StrategyError, match=r'With window=52: Strategy "peeking_estimates" '
                                                r"looks into the future"):
            run_grid(strategy, combos, ctx, window, costs=Costs(), init_cash=1e6, lookahead=probe)


def test_bench_grids_cover_every_built_in_strategy_with_parameters(library):
    """bench.py's per-combination case sweeps every strategy that has parameters, with
    grids whose smaller sizes are the first combinations of the larger ones."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench", Path(__file__).resolve().parents[1] / "bench" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    from durationbt.sweep.grid import parse_grid

    per = bench.SWEEP_COMBOS_PER_VALUE
    assert set(per) == {n for n, cls in library.items() if cls.params()}
    small, large = bench._sweep_grids(dict.fromkeys(per, 2)), bench._sweep_grids(dict.fromkeys(per, 5))
    for name, cls in library.items():
        if name in per:
            few = combinations(parse_grid(cls, small[name], {}))
            many = combinations(parse_grid(cls, large[name], {}))
            assert len(few) == 2 * per[name] and len(many) == 5 * per[name]
            assert many[:len(few)] == few


def test_the_docs_grid_method_example_runs_as_written(tmp_path, synthetic):
    """docs/strategies.md's grid-method plugin, from its own file: its grid method equals
    its target_weights (the docs' own test snippet, run), and a sweep takes the fast path
    and finds the same numbers as without it."""
    import re

    universe, market, ctx = synthetic
    text = (Path(__file__).resolve().parents[1] / "docs" / "strategies.md").read_text()
    section = text[text.index("**A grid method: the fast path for sweeps.**"):]
    plugin, snippet = re.findall(r"```python\n(.*?)```", section, re.S)[:2]
    (tmp_path / "soft_momentum.py").write_text(plugin)
    strategy = discover_strategies(tmp_path, entry_points_enabled=False).get("soft_momentum")
    assert strategy.has_grid()
    namespace = {"SoftMomentum": real_class(strategy)}
    exec(compile(snippet, "docs/strategies.md", "exec"), namespace)
    namespace["test_grid_method_equals_target_weights"](ctx)

    class PerCombination(strategy):
        @classmethod
        def has_grid(cls) -> bool:
            return False

    combos = combinations({"lookback": [21, 63, 126], "margin": [0.0, 0.05, 0.1]})
    window = market.prices.loc[market.start:market.end]
    runs = [run_grid(cls, combos, ctx, window, costs=Costs(), init_cash=1e6)
            for cls in (strategy, PerCombination)]
    same_grid_run(*runs)
    assert runs[0].n_trials > 1


def test_a_strategy_without_parameters_is_refused_as_nothing_to_sweep(library):
    """buy_and_hold and equal_weight have no parameters: the grid is refused saying so
    (not asking for a --grid no parameter could take)."""
    from durationbt.sweep import parse_grid

    for name in ("buy_and_hold", "equal_weight"):
        with pytest.raises(ParameterError, match=rf'"{name}" has no parameters, so there is '
                                                 "nothing to sweep"):
            parse_grid(library[name], [], {})
