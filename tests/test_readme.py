"""The README's example strategy runs as written."""

import re
import types

import pytest

from conftest import REPO
from durationbt.api import build_context, compute_weights
from durationbt.data import CsvProvider, load_market_data
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
