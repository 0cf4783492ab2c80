"""Rotate between short- and long-duration buckets on the 10-year yield's momentum."""

import pandas as pd

from durationbt import Context, Param, Strategy


class LiquidityRotation(Strategy):
    """Hold short-duration buckets while the 10-year yield rises, long-duration ones otherwise.

    On each decision date t, the change of ^TNX (10-year Treasury yield, in percentage points)
    over the last ``lookback`` trading days is compared with ``threshold``. Above it, capital
    is treated as scarce: the buckets with duration rank <= ``short_max_rank`` (bills, memory
    chips) share the portfolio equally. Otherwise the buckets with rank >= ``long_min_rank``
    (long Treasuries, SaaS, crypto) do. Uses ^TNX up to and including t only."""

    name = "liquidity_rotation"

    lookback = Param(63, "trading days over which the 10-year yield change is measured",
                     low=1, grid=(21, 63, 126))
    threshold = Param(0.25, "yield rise in percentage points above which capital is scarce",
                      grid=(0.0, 0.25, 0.5))
    short_max_rank = Param(1, "highest duration rank held when capital is scarce", low=0)
    long_min_rank = Param(3, "lowest duration rank held when capital is abundant", low=0)

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        ctx.require_inputs(self.name, "^TNX")
        tnx = ctx.inputs["^TNX"]
        change = (tnx - tnx.shift(self.lookback)).loc[ctx.rebalance_dates]
        scarce = change > self.threshold
        ranks = {b.name: b.duration for b in ctx.universe.buckets}
        short = [b for b, r in ranks.items() if r <= self.short_max_rank]
        long = [b for b, r in ranks.items() if r >= self.long_min_rank]
        if not short or not long:
            from durationbt.errors import ParameterError

            raise ParameterError(f'Strategy "{self.name}": no bucket has rank <= '
                                 f"{self.short_max_rank} or none has rank >= "
                                 f"{self.long_min_rank} in universe {ctx.universe.name}.")
        weights = pd.DataFrame(0.0, index=ctx.rebalance_dates, columns=list(ranks))
        weights.loc[scarce, short] = 1.0 / len(short)
        weights.loc[~scarce, long] = 1.0 / len(long)
        return weights
