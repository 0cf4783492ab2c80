"""The built-in strategy library, plugin checks, scaffolding and entry points."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from durationbt.api import build_context, compute_weights
from durationbt.checks import check_strategy
from durationbt.cli.app import app
from durationbt.duration import MIN_WEEKS, rolling_durations
from durationbt.errors import DataError, ParameterError, StrategyError
from durationbt.plugins import discover_strategies
from durationbt.synthetic import synthetic_market
from durationbt.universe import load_universe

LIBRARY = ["buy_and_hold", "equal_weight", "sixty_forty", "liquidity_rotation", "duration_tilt",
           "momentum_gate", "inverse_vol_duration", "duration_spread"]
runner = CliRunner()


@pytest.fixture(scope="module")
def registry(strategies_dir):
    return discover_strategies(strategies_dir, entry_points_enabled=False)


@pytest.fixture(scope="module")
def world(default_universe):
    universe = load_universe(default_universe)
    market = synthetic_market(universe)
    return universe, market, build_context(universe, market, "monthly")


@pytest.mark.parametrize("name", LIBRARY)
def test_library_strategy_passes_checks_and_is_documented(registry, world, name):
    universe, market, _ = world
    cls = registry.get(name)
    assert cls.summary() and len((cls.__doc__ or "").splitlines()) >= 2
    result = check_strategy(cls(), universe, market)
    assert result.ok, result.problems


def with_score(ctx, score):
    sig = ctx.signal
    composite = pd.Series(score, index=ctx.prices.index)
    from durationbt.signals import regimes_with_hysteresis

    return replace(ctx, signal=replace(sig, composite=composite,
                                       regime=regimes_with_hysteresis(composite, sig.config)))


def test_sixty_forty(registry, world):
    _, _, ctx = world
    w = compute_weights(registry.get("sixty_forty")(), ctx)
    assert (w["SPY"] == 0.6).all() and np.allclose(w["IEF"], 0.4) and np.allclose(w.sum(axis=1), 1)
    with pytest.raises(ParameterError, match="QQQ is neither a member nor the benchmark"):
        compute_weights(registry.get("sixty_forty")(equity="QQQ"), ctx)


def test_duration_tilt_follows_the_score(registry, world):
    _, _, ctx = world
    strategy = registry.get("duration_tilt")()
    neutral = compute_weights(strategy, with_score(ctx, 0.0))
    bucket = lambda w, members: w[members].sum(axis=1)  # noqa: E731
    assert np.allclose(bucket(neutral, ["IEI", "IEF"]), 0.5)          # rank 2
    assert np.allclose(bucket(neutral, ["TLT"]), 0.5)                 # rank 3
    scarce = compute_weights(strategy, with_score(ctx, 3.0))          # 2.5 - 4.5 -> rank 0
    assert np.allclose(bucket(scarce, ["BIL", "SHV"]), 1.0)
    abundant = compute_weights(strategy, with_score(ctx, -1.0))       # 2.5 + 1.5 = rank 4
    assert np.allclose(bucket(abundant, ["CRM", "NOW", "ADBE", "WDAY", "INTU", "ADSK"]), 1.0)


def test_momentum_gate_bars_long_duration_when_scarce(registry, world):
    _, _, ctx = world
    w = compute_weights(registry.get("momentum_gate")(), with_score(ctx, 2.0))
    long = ["TLT", "CRM", "NOW", "ADBE", "WDAY", "INTU", "ADSK", "BTC-USD", "ETH-USD"]
    assert (w[long] == 0).all().all()
    assert np.allclose(w.sum(axis=1), 1.0)


def test_duration_spread_is_dollar_neutral_and_gated(registry, world):
    """Default: long rank <= 1 (bills, memory), short rank >= 4 (saas, crypto), gross 2:
    each leg 1, each bucket 0.5, net 0; gated on scarce, flat when not."""
    _, _, ctx = world
    cls = registry.get("duration_spread")
    raw = cls().target_weights(ctx)
    assert list(raw.columns) == ["bills", "memory", "saas", "crypto"]
    assert np.allclose(raw.to_numpy(), [[0.5, 0.5, -0.5, -0.5]])
    scarce = cls(gate="scarce").target_weights(with_score(ctx, 3.0))
    calm = cls(gate="scarce").target_weights(with_score(ctx, -1.0))
    assert np.allclose(scarce.iloc[-1], [0.5, 0.5, -0.5, -0.5]) and (calm == 0).all().all()
    with pytest.raises(StrategyError, match="neutralize = \"beta\" must be one of"):
        cls(neutralize="beta").target_weights(ctx)


def test_duration_spread_zeroes_the_books_measured_duration(registry, world):
    """neutralize = duration: long a, short b with a * D_long = b * D_short (the legs'
    trailing estimates), the larger leg gross/2; flat where no such a, b exist."""
    _, _, ctx = world
    cls = registry.get("duration_spread")
    strategy = cls(neutralize="duration")
    raw = strategy.target_weights(ctx)
    d = strategy.leg_durations(ctx, list(strategy.legs(ctx)))
    a = raw[["bills", "memory"]].sum(axis=1)
    b = -raw[["saas", "crypto"]].sum(axis=1)
    held = a > 0
    assert held.any() and (~held).any()
    assert np.allclose((a * d[0] - b * d[1])[held], 0.0, atol=1e-12)
    assert np.allclose(np.maximum(a, b)[held], 1.0)
    assert ((d[0] * d[1] > 0) | held.eq(False)).all()


def test_duration_spread_window_is_bounded_as_the_estimates_are(registry, world, tmp_path):
    """``window`` accepts what the rolling estimates accept (at least MIN_WEEKS = 52
    weeks): a shorter one is refused as a parameter, naming it, by ``run`` and ``sweep``
    before any data is read; it used to pass from 26 and fail in the estimates with an
    error about a ``--window`` option those commands do not have (or, with the dollar
    legs, not at all)."""
    _, _, ctx = world
    cls = registry.get("duration_spread")
    assert cls.params()["window"].low == MIN_WEEKS == 52
    with pytest.raises(ParameterError, match=r'"window" of strategy "duration_spread" must lie '
                                             r"in \[52, 520\], got 51"):
        cls(window=51)
    raw = cls(window=52, neutralize="duration").target_weights(ctx)    # the shortest allowed
    assert np.isfinite(raw.to_numpy()).all() and (raw != 0).any().any()
    with pytest.raises(DataError, match="window must be at least 52 weeks, got 30"):
        rolling_durations(ctx.prices, ctx.inputs["^TNX"], "SPY", 30)
    for args in (["run", "duration_spread", "-p", "window=30", "-p", "neutralize=duration"],
                 ["sweep", "duration_spread", "--grid", "window=30,104"]):
        done = runner.invoke(app, [*args, "--data", str(tmp_path / "unread"), "--out",
                                   str(tmp_path / "out")])
        assert done.exit_code == 2, done.output
        text = " ".join(done.output.split())
        assert 'Parameter "window" of strategy "duration_spread" must lie in [52, 520]' in text
        assert "--window" not in text and not (tmp_path / "out").exists()


def test_inverse_vol_duration_respects_the_cap(registry, world):
    universe, _, ctx = world
    w = compute_weights(registry.get("inverse_vol_duration")(max_avg_rank=1.5), ctx)
    ranks = pd.Series({t: universe.bucket_of(t).rank for t in universe.tickers})
    average = w[list(universe.tickers)].mul(ranks, axis=1).sum(axis=1)
    assert (average <= 1.5 + 1e-9).all() and np.allclose(w.sum(axis=1), 1.0)


# --- bad plugins ---------------------------------------------------------------------------

BAD_PLUGINS = {
    "syntax_error": "def oops(:\n",
    "raises": "raise_in_method",
    "nan_weights": "frame(ctx, bills=float('nan'))",
    "too_much": "frame(ctx, bills=0.8, saas=0.5)",
    "unknown_ticker": "frame(ctx, XYZ=0.5)",
    "peeking": "peek(ctx)",
}

PLUGIN = '''
import pandas as pd
from durationbt import Strategy

def frame(ctx, **cols):
    return pd.DataFrame(cols, index=ctx.rebalance_dates)

def peek(ctx):
    future = ctx.prices["MU"].shift(-21).loc[ctx.rebalance_dates]
    up = (future > ctx.prices["MU"].loc[ctx.rebalance_dates]).astype(float)
    return pd.DataFrame({{"MU": up, "BIL": 1 - up}})

class Bad(Strategy):
    """A broken plugin."""
    name = "{name}"
    weights_by = "{by}"

    def target_weights(self, ctx):
        if "{body}" == "raise_in_method":
            raise KeyError("no such column")
        return {body}
'''


def write_bad_plugins(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in BAD_PLUGINS.items():
        if name == "syntax_error":
            (folder / f"{name}.py").write_text(body)
            continue
        by = "ticker" if name in ("unknown_ticker", "peeking") else "bucket"
        code = PLUGIN.format(name=name, by=by, body=body if body != "raise_in_method" else "None")
        code = code.replace('if "None" == "raise_in_method"', 'if True') if name == "raises" else code
        (folder / f"{name}.py").write_text(code)
    return folder


@pytest.mark.parametrize("name, message", [
    ("syntax_error", "syntax_error.py: line 1: syntax error"),
    ("raises", '"raises" raised KeyError'),
    ("nan_weights", "nan for bills"),
    ("too_much", "sum to 1.3"),
    ("unknown_ticker", 'unknown ticker "XYZ"'),
    ("peeking", 'Strategy "peeking" looks into the future: its weight for'),
])
def test_bad_plugins_are_caught_by_run(name, message, tmp_path, default_universe, snapshot):
    plugins = write_bad_plugins(tmp_path / "strategies")
    out = tmp_path / "results"
    result = runner.invoke(app, ["run", name, "--universe", str(default_universe), "--data",
                                 str(snapshot), "--strategies-dir", str(plugins), "--out",
                                 str(out)])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert not out.exists() or not any(out.iterdir())


def test_check_reports_lookahead_date_and_ticker(tmp_path, default_universe):
    plugins = write_bad_plugins(tmp_path / "strategies")
    universe = load_universe(default_universe)
    registry = discover_strategies(plugins, entry_points_enabled=False)
    market = synthetic_market(universe)
    result = check_strategy(registry.get("peeking")(), universe, market)
    assert not result.ok and result.lookahead.finding is not None
    finding = result.lookahead.finding
    assert "its weight for" in result.problems[0] and str(finding.date.date()) in result.problems[0]
    result = runner.invoke(app, ["strategies", "check", "peeking", "--universe",
                                 str(default_universe), "--strategies-dir", str(plugins)])
    assert result.exit_code == 2 and "failed its checks" in " ".join(result.output.split())


# --- scaffolding ---------------------------------------------------------------------------

def test_new_scaffolds_a_working_strategy_and_refuses_to_overwrite(tmp_path, default_universe):
    args = ["--strategies-dir", str(tmp_path / "strategies"), "--tests-dir",
            str(tmp_path / "tests")]
    result = runner.invoke(app, ["strategies", "new", "my_tilt", *args])
    assert result.exit_code == 0, result.output
    plugin = tmp_path / "strategies" / "my_tilt.py"
    assert plugin.is_file() and (tmp_path / "tests" / "test_my_tilt.py").is_file()
    registry = discover_strategies(tmp_path / "strategies", entry_points_enabled=False)
    universe = load_universe(default_universe)
    assert check_strategy(registry.get("my_tilt")(), universe, synthetic_market(universe)).ok
    # the scaffold teaches today's names: within_bucket, not the older spread
    code = plugin.read_text()
    assert 'within_bucket = "equal"' in code and "spread =" not in code
    assert "within_bucket" in registry.get("my_tilt").__dict__
    again = runner.invoke(app, ["strategies", "new", "my_tilt", *args])
    assert again.exit_code == 2 and "already exists" in again.output
    bad = runner.invoke(app, ["strategies", "new", "My-Tilt", *args])
    assert bad.exit_code == 2 and "must start with a lowercase letter" in bad.output


def test_the_scaffold_and_its_test_run(tmp_path, synth_data, synth_universe):
    """What `strategies new` writes works as written: its own test passes and `run` takes it."""
    import importlib.util

    args = ["--strategies-dir", str(tmp_path / "strategies"), "--tests-dir",
            str(tmp_path / "tests")]
    assert runner.invoke(app, ["strategies", "new", "fresh_idea", *args]).exit_code == 0
    spec = importlib.util.spec_from_file_location("test_fresh_idea",
                                                  tmp_path / "tests" / "test_fresh_idea.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.test_fresh_idea_passes_the_checks()
    run = runner.invoke(app, ["run", "fresh_idea", "--strategies-dir", str(tmp_path / "strategies"),
                              "-u", str(synth_universe), "--data", str(synth_data), "--out",
                              str(tmp_path / "out"), "--no-tearsheet"])
    assert run.exit_code == 0, run.output
    manifest = (next((tmp_path / "out").iterdir()) / "manifest.json").read_text()
    assert '"within_bucket": "equal"' in manifest


# --- entry points --------------------------------------------------------------------------

def test_entry_point_plugins_load_and_can_be_disabled(installed_example, strategies_dir,
                                                     monkeypatch):
    registry = discover_strategies(strategies_dir)
    assert "all_bills" in registry.names()
    assert registry.source("all_bills").startswith("entry point all_bills")
    assert "all_bills" not in discover_strategies(strategies_dir,
                                                  entry_points_enabled=False).names()
    # the CLI turns them off from the environment (read once, at the command's start)
    listed = runner.invoke(app, ["strategies", "list"])
    assert listed.exit_code == 0 and "all_bills" in listed.output
    monkeypatch.setenv("DURATIONBT_DISABLE_PLUGIN_AUTOLOAD", "1")
    listed = runner.invoke(app, ["strategies", "list"])
    assert listed.exit_code == 0 and "all_bills" not in listed.output
    monkeypatch.setenv("DURATIONBT_DISABLE_PLUGIN_AUTOLOAD", "maybe")
    refused = runner.invoke(app, ["strategies", "list"])
    assert refused.exit_code == 2
    assert "DURATIONBT_DISABLE_PLUGIN_AUTOLOAD='maybe' cannot be used" in " ".join(
        refused.output.split())


def test_buy_and_hold_trades_once_and_equal_weight_rebalances(registry, world):
    universe, market, ctx = world
    hold, rebalance = registry.get("buy_and_hold")(), registry.get("equal_weight")()
    held = hold.traded(compute_weights(hold, ctx))
    rebalanced = rebalance.traded(compute_weights(rebalance, ctx))
    assert list(held.index) == [ctx.rebalance_dates[0]]          # one decision, then drift
    assert held.iloc[0].equals(rebalanced.iloc[0])                  # the same first portfolio
    assert len(rebalanced) == len(ctx.rebalance_dates)


def test_a_plugin_error_inside_pandas_names_the_plugins_own_line(tmp_path, world):
    _, _, ctx = world
    (tmp_path / "typo.py").write_text(
        "import pandas as pd\n"
        "from durationbt import Strategy\n"
        "\n"
        "class Typo(Strategy):\n"
        '    """Reads a column that does not exist."""\n'
        '    name = "typo"\n'
        "\n"
        "    def target_weights(self, ctx):\n"
        '        return ctx.prices["NOPE"]\n')
    strategy = discover_strategies(tmp_path, entry_points_enabled=False,
                                   builtins=False).get("typo")()
    with pytest.raises(StrategyError, match=r'"typo" raised KeyError') as caught:
        compute_weights(strategy, ctx)
    assert f"({(tmp_path / 'typo.py').resolve()}, line 9)" in str(caught.value)


def test_strategies_check_needs_no_cash_asset(tmp_path, snapshot):
    """The check neither scores nor places cash, so a universe without bills is fine; a
    run on it is refused until --risk-free says what to measure against."""
    universe = tmp_path / "nocash.toml"
    universe.write_text('benchmark = "SPY"\nstart = 2015-01-02\n[buckets.memory]\nrank = 1\n'
                        'description = "m"\ntickers = ["MU", "WDC"]\n[buckets.saas]\nrank = 4\n'
                        'description = "s"\ntickers = ["CRM", "NOW"]\n')
    checked = runner.invoke(app, ["strategies", "check", "equal_weight", "-u", str(universe),
                                  "--data", str(snapshot)])
    assert checked.exit_code == 0, checked.output
    refused = runner.invoke(app, ["run", "equal_weight", "-u", str(universe), "--data",
                                  str(snapshot), "--out", str(tmp_path / "r")])
    assert refused.exit_code == 2 and "names no cash asset" in refused.output
    assert not (tmp_path / "r").exists()


def test_strategies_list_shows_docstrings_as_plain_text(tmp_path):
    """A docstring's reStructuredText is rendered as a reader sees it, its first paragraph
    whole (momentum_gate's first line used to end mid-sentence with ``top_k`` in it)."""
    (tmp_path / "marked.py").write_text(
        "import pandas as pd\nfrom durationbt import Strategy\n\n\n"
        "class Marked(Strategy):\n"
        '    """Hold the ``top_k`` buckets named by :class:`~durationbt.Strategy` and\n'
        "    *scarce* regimes, see `the guide <https://example.org>`_; **never** 2 * 3.\n\n"
        '    Details that the list leaves out."""\n\n'
        '    name = "marked"\n\n'
        "    def target_weights(self, ctx):\n"
        "        return pd.DataFrame(0.0, index=ctx.rebalance_dates,\n"
        "                            columns=list(ctx.universe.bucket_names))\n")
    registry = discover_strategies(tmp_path, entry_points_enabled=False)
    assert registry.get("marked").summary() == (
        "Hold the top_k buckets named by Strategy and scarce regimes, see the guide; never 2 * 3.")
    assert registry.get("momentum_gate").summary() == (
        "Hold the top_k buckets with the best trailing return that also beat bills; buckets of "
        "rank >= long_min_rank are allowed only when the regime is not scarce.")
    listed = runner.invoke(app, ["strategies", "list", "--strategies-dir", str(tmp_path)])
    assert listed.exit_code == 0, listed.output
    assert "top_k" in listed.output and "marked" in listed.output
    assert "``" not in listed.output and ":class:" not in listed.output
