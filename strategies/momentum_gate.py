"""Dual momentum across buckets, with long duration allowed only when liquidity is not scarce."""

import pandas as pd

from durationbt import Context, Param, Strategy
from durationbt.duration import bucket_returns


class MomentumGate(Strategy):
    """Hold the ``top_k`` buckets with the best trailing return that also beat bills;
    buckets of rank >= ``long_min_rank`` are allowed only when the regime is not scarce.

    Momentum at t is the equal-weight bucket's return over the last ``lookback`` trading
    days up to t. Unused slots go to the cash-like buckets (rank 0)."""

    name = "momentum_gate"

    lookback = Param(126, "trading days of trailing return", low=5, grid=(63, 126, 252))
    top_k = Param(2, "number of buckets held", low=1, grid=(1, 2, 3))
    long_min_rank = Param(3, "lowest rank barred while capital is scarce", low=1)

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        regime = ctx.require_signal(self.name).regime.loc[ctx.rebalance_dates]
        levels = bucket_returns(ctx.prices, ctx.universe)
        momentum = (levels / levels.shift(self.lookback) - 1).loc[ctx.rebalance_dates]
        cash = [b.name for b in ctx.universe.buckets if b.duration == 0]
        risky = [b for b in ctx.universe.buckets if b.duration > 0]
        hurdle = (momentum[cash].mean(axis=1).fillna(0.0) if cash
                  else pd.Series(0.0, index=ctx.rebalance_dates))
        weights = pd.DataFrame(0.0, index=ctx.rebalance_dates,
                               columns=list(ctx.universe.bucket_names))
        for date in ctx.rebalance_dates:
            allowed = [b.name for b in risky
                       if regime[date] != "scarce" or b.duration < self.long_min_rank]
            scores = momentum.loc[date, allowed].dropna()
            winners = scores[scores > hurdle[date]].nlargest(self.top_k).index
            for bucket in winners:
                weights.loc[date, bucket] = 1.0 / self.top_k
            spare = 1.0 - len(winners) / self.top_k
            for bucket in cash:
                weights.loc[date, bucket] = spare / len(cash)
        return weights
