import textwrap

import numpy as np
import pandas as pd
import pytest

from durationbt.api import build_context, compute_weights
from durationbt.data import CsvProvider, load_market_data
from durationbt.errors import ParameterError, StrategyError
from durationbt.plugins import StrategyRegistry, discover_strategies
from durationbt.strategy import Param, Strategy, parse_param_overrides
from durationbt.universe import load_universe


class Tilt(Strategy):
    """A test strategy."""

    name = "tilt"
    share = Param(0.5, "weight of chips", low=0.0, high=1.0)
    window = Param(21, "days", low=1)
    label = Param("x")
    flag = Param(False)

    def target_weights(self, ctx):
        w = pd.DataFrame(0.0, index=ctx.rebalance_dates, columns=ctx.universe.bucket_names)
        w["chips"] = self.share
        return w


@pytest.fixture(scope="module")
def ctx(synth_data, synth_universe):
    u = load_universe(synth_universe)
    return build_context(u, load_market_data(u, CsvProvider(synth_data)), "monthly")


def test_params_default_and_coerced():
    s = Tilt(share="0.25", window="10", flag="yes")
    assert s.values() == {"share": 0.25, "window": 10, "label": "x", "flag": True}
    assert Tilt().values()["share"] == 0.5


@pytest.mark.parametrize("overrides, message", [
    ({"shar": 1}, 'no parameter "shar". Did you mean "share"'),
    ({"share": "abc"}, "must be float, got 'abc'"),
    ({"share": 1.5}, r"must lie in \[0.0, 1.0\]"),
    ({"window": "2.5"}, "must be int"),
    ({"flag": "maybe"}, "must be bool"),
    ({"share": "nan"}, "must be finite"),
])
def test_bad_params(overrides, message):
    with pytest.raises(ParameterError, match=message):
        Tilt(**overrides)


def test_parse_param_overrides():
    assert parse_param_overrides(["a=1", " b = x "]) == {"a": "1", "b": "x"}
    with pytest.raises(ParameterError, match='"oops" is not of the form name=value'):
        parse_param_overrides(["oops"])


def test_bucket_weights_spread_over_listed_members(ctx):
    weights = compute_weights(Tilt(), ctx)
    before = weights.loc[:"2020-05-29"]
    after = weights.loc["2020-06-30":]
    assert (before["CHIPA"] == 0.5).all() and (before["LATE"] == 0).all()
    assert np.allclose(after["CHIPA"], 0.25) and np.allclose(after["LATE"], 0.25)
    assert weights.index.equals(ctx.rebalance_dates)
    assert ctx.rebalance_dates[0] == ctx.start


def test_inverse_vol_spread(ctx):
    class InvVol(Tilt):
        name = "invvol"
        spread = "inverse_vol"

        def target_weights(self, ctx):
            w = pd.DataFrame(0.0, index=ctx.rebalance_dates, columns=["software"])
            w["software"] = 1.0
            return w

    weights = compute_weights(InvVol(), ctx)
    date = ctx.rebalance_dates[10]
    vol = ctx.returns[["SOFTA", "SOFTB"]].loc[:date].tail(63).std()
    expected = (1 / vol) / (1 / vol).sum()
    np.testing.assert_allclose(weights.loc[date, ["SOFTA", "SOFTB"]], expected, rtol=1e-12)


def bad(body):
    class Bad(Strategy):
        name = "bad"
        weights_by = "bucket"

        def target_weights(self, ctx):
            return body(ctx)

    return Bad()


def frame(ctx, **cols):
    return pd.DataFrame(cols, index=ctx.rebalance_dates)


@pytest.mark.parametrize("body, message", [
    (lambda c: None, "expected a pandas DataFrame, got NoneType"),
    (lambda c: frame(c, chips=np.nan), "nan for chips .* must be finite"),
    (lambda c: frame(c, chips=0.8, software=0.5), "sum to 1.3 .* at most 1"),
    (lambda c: frame(c, chips=-0.1), "must be >= 0"),
    (lambda c: frame(c, chipz=0.5), 'unknown bucket "chipz". Did you mean "chips"'),
    (lambda c: frame(c, chips=0.5).iloc[1:], "no row for decision date"),
    (lambda c: 1 / 0, r'"bad" raised ZeroDivisionError: division by zero \(.*line'),
])
def test_bad_strategy_output_names_plugin_and_problem(ctx, body, message):
    with pytest.raises(StrategyError, match=message):
        compute_weights(bad(body), ctx)


def test_ticker_weight_on_unlisted_ticker_is_refused(ctx):
    class Early(Strategy):
        name = "early"
        weights_by = "ticker"

        def target_weights(self, ctx):
            return pd.DataFrame({"LATE": 0.5}, index=ctx.rebalance_dates)

    with pytest.raises(StrategyError, match="weight on LATE on 2019-01-02, a day on which it has no"):
        compute_weights(Early(), ctx)


# --- discovery --------------------------------------------------------------------------------

PLUGIN = '''
import pandas as pd
from durationbt import Strategy

class {cls}(Strategy):
    """{doc}"""
    name = "{name}"

    def target_weights(self, ctx):
        return pd.DataFrame(0.0, index=ctx.rebalance_dates, columns=["bills"])
'''


def write_plugin(folder, file, name, cls="P", doc="Doc line."):
    (folder / file).write_text(PLUGIN.format(cls=cls, name=name, doc=doc))


def test_discovery_loads_builtin_strategies(strategies_dir):
    registry = discover_strategies(strategies_dir, entry_points_enabled=False)
    assert {"buy_and_hold", "liquidity_rotation"} <= set(registry.names())
    assert registry.source("buy_and_hold").endswith("buy_and_hold.py")


def test_duplicate_names_are_listed_and_refused_only_when_used(tmp_path):
    write_plugin(tmp_path, "a.py", "same")
    write_plugin(tmp_path, "b.py", "same", cls="Q")
    write_plugin(tmp_path, "c.py", "other", cls="R")
    registry = discover_strategies(tmp_path, entry_points_enabled=False, builtins=False)
    assert registry.names() == ["other"] and registry.get("other")
    assert [p.rsplit("/", 1)[-1] for p in registry.clashes["same"]] == ["a.py", "b.py"]
    with pytest.raises(StrategyError, match=r'Two strategies are named "same": .*a\.py and .*b\.py'):
        registry.get("same")


@pytest.mark.parametrize("name", ["a/b", "../up", "", "x y", "<script>"])
def test_a_name_that_cannot_be_a_folder_name_is_a_load_error(tmp_path, name):
    write_plugin(tmp_path, "bad.py", name)
    write_plugin(tmp_path, "good.py", "good", cls="Q")
    registry = discover_strategies(tmp_path, entry_points_enabled=False, builtins=False)
    assert registry.names() == ["good"]
    if name:   # a class without a name is not a strategy at all (a base class)
        assert ("has name " + repr(name)) in str(registry.errors[0])


def test_sys_exit_at_import_is_a_load_error_not_an_exit(tmp_path):
    (tmp_path / "quits.py").write_text("import sys\nsys.exit(0)\n")
    write_plugin(tmp_path, "good.py", "good")
    registry = discover_strategies(tmp_path, entry_points_enabled=False, builtins=False)
    assert registry.names() == ["good"]
    assert "quits.py: calls sys.exit(0) while being imported" in str(registry.errors[0])


def test_broken_plugin_is_reported_with_line_and_others_load(tmp_path):
    write_plugin(tmp_path, "good.py", "good")
    (tmp_path / "broken.py").write_text("import pandas\n\ndef oops(:\n")
    (tmp_path / "raises.py").write_text(textwrap.dedent("""
        x = 1
        raise RuntimeError("boom")
    """))
    registry = discover_strategies(tmp_path, entry_points_enabled=False, builtins=False)
    assert registry.names() == ["good"]
    errors = sorted(map(str, registry.errors))
    assert "broken.py: line 3: syntax error" in errors[0]
    assert "raises.py: line 3: RuntimeError: boom" in errors[1]
    with pytest.raises(StrategyError, match=r'Unknown strategy "goo". Did you mean "good".*broken\.py'):
        registry.get("goo")


def test_registry_is_an_object_not_global(tmp_path):
    write_plugin(tmp_path, "one.py", "one")
    a = discover_strategies(tmp_path, entry_points_enabled=False, builtins=False)
    b = StrategyRegistry()
    assert a.names() == ["one"] and b.names() == []


def test_local_file_shadows_the_builtin_file_of_the_same_name(tmp_path, monkeypatch,
                                                              strategies_dir):
    local = tmp_path / "strategies"
    local.mkdir()
    (local / "buy_and_hold.py").write_text((strategies_dir / "buy_and_hold.py").read_text())
    write_plugin(local, "mine.py", "mine")
    monkeypatch.chdir(tmp_path)
    registry = discover_strategies(entry_points_enabled=False)
    assert registry.source("buy_and_hold") == str((local / "buy_and_hold.py").resolve())
    assert "liquidity_rotation" in registry.names() and "mine" in registry.names()
    write_plugin(local, "clash.py", "liquidity_rotation", cls="Q")
    with pytest.raises(StrategyError, match='Two strategies are named "liquidity_rotation"'):
        discover_strategies(entry_points_enabled=False).get("liquidity_rotation")


def test_context_helpers_select_buckets_by_rank_and_give_point_in_time_levels(ctx):
    """What strategies use instead of importing analytics modules: ranks, a selection by
    rank in the universe's order, equal-weight bucket levels that respect ``as_of``."""
    ranks = ctx.bucket_ranks
    assert list(ranks.index) == list(ctx.universe.bucket_names)
    assert ctx.buckets_ranked(high=0) == [b for b, r in ranks.items() if r == 0]
    assert ctx.buckets_ranked(low=1) == [b for b, r in ranks.items() if r >= 1]
    assert ctx.buckets_ranked(1, 2) == [b for b, r in ranks.items() if 1 <= r <= 2]
    assert ctx.buckets_ranked() == list(ranks.index)
    levels = ctx.bucket_levels()
    bucket = ctx.universe.buckets[1]
    members = ctx.prices[list(bucket.tickers)].pct_change(fill_method=None)
    # by hand: the level's daily change is the mean return of the members priced that day
    day = levels.index[300]
    expected = members.loc[day].mean()
    assert levels[bucket.name].pct_change().loc[day] == pytest.approx(expected, rel=1e-12)
    cut = ctx.as_of(ctx.rebalance_dates[5]).bucket_levels()
    assert cut.index[-1] == ctx.rebalance_dates[5]
    pd.testing.assert_frame_equal(cut, levels.loc[:ctx.rebalance_dates[5]])


def test_older_spellings_of_renamed_fields_are_still_read(tmp_path):
    """``duration = N`` in a universe file is the bucket's ``rank``; a plugin's ``spread``
    is ``within_bucket``: files written before the renames keep working."""
    from durationbt import Strategy
    from durationbt.universe import load_universe

    path = tmp_path / "old.toml"
    path.write_text('benchmark = "B"\nstart = 2020-01-02\n[buckets.cash]\nduration = 0\n'
                    'description = "c"\ntickers = ["C"]\n[buckets.long]\nduration = 2\n'
                    'description = "l"\ntickers = ["L"]\n')
    assert [b.rank for b in load_universe(path).buckets] == [0, 2]

    class Old(Strategy):
        name = "old_spelling"
        spread = "inverse_vol"

    assert Old.within_bucket == "inverse_vol"


@pytest.mark.parametrize("body, message", [
    ('within_bucket = "inverse-vol"', 'within_bucket = \'inverse-vol\' must be one of "equal", '
                                      '"inverse_vol" (Did you mean "inverse_vol"?)'),
    ("within_bucket = 3", "within_bucket = 3 must be one of"),
    ('weights_by = "tickers"', "weights_by = 'tickers' must be one of"),
    ('spread = "equal"\n    within_bucket = "inverse_vol"', "sets both spread and within_bucket"),
    ("holds = 1", "holds = 1 must be True or False"),
])
def test_a_mistyped_class_setting_fails_when_the_plugin_loads(tmp_path, body, message):
    """Not silently replaced by the default, and not after a whole backtest has run."""
    (tmp_path / "p.py").write_text("from durationbt import Strategy\n\n\nclass P(Strategy):\n"
                                   f'    """p"""\n    name = "p"\n    {body}\n')
    registry = StrategyRegistry()
    registry.load_file(tmp_path / "p.py")
    assert "p" not in registry.names()
    assert message in str(registry.errors[0])
    with pytest.raises(StrategyError, match="Plugins that failed to load"):
        registry.get("p")


def test_buckets_ranked_with_low_above_high_is_a_mistake_not_an_empty_list(ctx):
    with pytest.raises(StrategyError, match="low is above high"):
        ctx.buckets_ranked(5, 1)
