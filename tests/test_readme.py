"""The README's example strategy runs as written."""

import re
import types

import pytest

from conftest import REPO
from durationbt import load_market_data
from durationbt.api import build_context, compute_weights
from durationbt.data import CsvProvider
from durationbt.universe import load_universe


@pytest.mark.integration
def test_readme_strategy_example(snapshot, default_universe):
    text = (REPO / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    module = types.ModuleType("readme_example")
    exec(compile(code, "README.md", "exec"), module.__dict__)
    strategy = module.Tilt(lookback="21")
    universe = load_universe(default_universe)
    ctx = build_context(universe, load_market_data(universe, CsvProvider(snapshot)), "monthly")
    weights = compute_weights(strategy, ctx)
    memory = weights[["MU", "WDC", "STX", "SNDK"]].sum(axis=1)
    saas = weights[["CRM", "NOW", "ADBE", "WDAY", "INTU", "ADSK"]].sum(axis=1)
    assert ((memory.round(12) == 1) ^ (saas.round(12) == 1)).all()


def test_readme_signal_table_is_valid():
    import tomllib

    from durationbt.universe import SignalSettings

    text = (REPO / "README.md").read_text()
    block = re.search(r"```toml\n(\[signal\].*?)```", text, re.S).group(1)
    cfg = SignalSettings.model_validate(tomllib.loads(block)["signal"])
    assert cfg.components == ("rates", "credit", "dollar") and cfg.weights == {"rates": 2.0}


def test_readme_cli_examples_use_real_parameters():
    from durationbt.plugins import discover_strategies

    text = (REPO / "README.md").read_text()
    registry = discover_strategies(REPO / "strategies", entry_points_enabled=False)
    for strategy, params in re.findall(r"durationbt run (\w+)((?: --param \w+=\S+)+)", text):
        names = re.findall(r"--param (\w+)=", params)
        assert set(names) <= set(registry.get(strategy).params()), (strategy, names)


@pytest.mark.integration
def test_readme_notebook_example_runs(snapshot, monkeypatch, capsys, tmp_path):
    text = (REPO / "README.md").read_text()
    code = re.findall(r"```python\n(.*?)```", text, re.S)[1]
    assert "Session(" in code
    code = code.replace('"../shared/market-data"', repr(str(snapshot))).replace(
        "RunSettings(data=", f"RunSettings(cache_dir={str(tmp_path)!r}, data=")
    exec(compile(code, "README.md", "exec"), {})
    sharpe, buckets = capsys.readouterr().out.split(" ", 1)
    assert float(sharpe) > 0 and buckets.strip() == "['bills', 'memory']"
