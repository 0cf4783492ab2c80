"""Files written by `durationbt strategies new NAME`."""

from __future__ import annotations

__all__ = ["STRATEGY_TEMPLATE", "TEST_TEMPLATE", "class_name"]


def class_name(name: str) -> str:
    """The plugin's class for strategy ``name``: ``my_tilt`` -> ``MyTilt``."""
    return "".join(part.capitalize() for part in name.split("_"))

STRATEGY_TEMPLATE = '''"""{title}: one line on what this strategy bets on."""

import pandas as pd

from durationbt import Context, Param, Strategy


class {cls}(Strategy):
    """Say in one line what it holds and when; this docstring is its help.

    Decisions are made on the close of each date in ctx.rebalance_dates using rows up to
    and including that date only; the engine trades them on the next close.
    """

    name = "{name}"
    weights_by = "bucket"       # "bucket": columns are bucket names; "ticker": tickers
    within_bucket = "equal"     # how a bucket's weight meets its members: or "inverse_vol"

    # parameters: default (its type is the parameter's type), help with units, bounds, grid
    short_share = Param(0.5, "weight in buckets of rank <= 1 when capital is scarce",
                        low=0.0, high=1.0, grid=(0.25, 0.5, 0.75))

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        signal = ctx.require_signal(self.name)
        scarce = signal.regime.loc[ctx.rebalance_dates] == "scarce"
        short = ctx.buckets_ranked(high=1)
        long = ctx.buckets_ranked(low=2)
        weights = pd.DataFrame(0.0, index=ctx.rebalance_dates,
                               columns=list(ctx.universe.bucket_names))
        share = scarce.map({{True: self.short_share, False: 1.0 - self.short_share}})
        for bucket in short:
            weights[bucket] = share / len(short)
        for bucket in long:
            weights[bucket] = (1.0 - share) / len(long)
        return weights          # rows sum to <= 1; the rest is cash
'''

TEST_TEMPLATE = '''"""Checks of the {name} strategy on synthetic data (no network, seconds)."""

from pathlib import Path

from durationbt.checks import check_strategy
from durationbt.plugins import discover_strategies
from durationbt.synthetic import synthetic_market
from durationbt.universe import load_universe

STRATEGIES = Path(__file__).resolve().parents[1] / "strategies"


def test_{name}_passes_the_checks():
    registry = discover_strategies(STRATEGIES, entry_points_enabled=False)
    universe = load_universe("ai_capex")
    result = check_strategy(registry.get("{name}")(), universe, synthetic_market(universe))
    assert result.ok, result.problems
'''
