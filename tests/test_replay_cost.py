"""The lookahead replay at a cost linear in the data: the validation of a replay's weights
costs one lookup per column."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pandas as pd

from durationbt.strategy import Strategy
from durationbt.universe import load_universe
from durationbt.weights import validated_weights


def _bare_context(prices: pd.DataFrame, dates: pd.DatetimeIndex):
    from durationbt.strategy import Context

    return Context(universe=None, prices=prices, inputs=prices.iloc[:, :0],  # type: ignore[arg-type]
                   rebalance_dates=dates, start=dates[0], end=prices.index[-1])


class _Wide(Strategy):
    """Ticker weights over every ticker of a wide universe."""

    name = "wide"
    weights_by = "ticker"


def test_validating_the_weights_of_thousands_of_tickers_costs_one_lookup_each(tmp_path):
    """20,000 tickers: the columns were matched to the universe's by list scans (columns x
    tickers comparisons, about 10 s, once per lookahead replay); now by one index lookup."""
    tickers = [f"T{i:05d}" for i in range(20_000)]
    path = tmp_path / "wide.toml"
    path.write_text('description = "wide"\nbenchmark = "T00000"\ncash = "T00000"\nstart = 2024-01-01\n\n'
                    '[buckets.bills]\nrank = 0\ndescription = "cash"\ntickers = ["T00000"]\n\n'
                    '[buckets.all]\nrank = 1\ndescription = "the rest"\ntickers = ['
                    + ", ".join(f'"{t}"' for t in tickers[1:]) + "]\n")
    universe = load_universe(path)
    dates = pd.bdate_range("2024-01-01", periods=6)
    prices = pd.DataFrame(1.0, index=dates, columns=tickers)
    wide = replace(_bare_context(prices, dates), universe=universe)
    raw = pd.DataFrame(1.0 / 20_000, index=dates, columns=tickers[::-1])
    began = time.perf_counter()
    checked = validated_weights(raw, _Wide(), wide)
    assert time.perf_counter() - began < 1.0
    assert list(checked.columns) == tickers and np.allclose(checked.to_numpy(), 1 / 20_000)
