"""Dual momentum across buckets, with long duration allowed only when liquidity is not scarce."""

import numpy as np
import pandas as pd

from durationbt import Context, Param, Strategy


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
        levels = ctx.bucket_levels()
        momentum = (levels / levels.shift(self.lookback) - 1).loc[ctx.rebalance_dates]
        ranks = ctx.bucket_ranks
        cash, risky = ctx.buckets_ranked(high=0), ctx.buckets_ranked(low=1)
        hurdle = (momentum[cash].mean(axis=1).fillna(0.0) if cash
                  else pd.Series(0.0, index=ctx.rebalance_dates))
        names = list(ctx.universe.bucket_names)
        weights = np.zeros((len(ctx.rebalance_dates), len(names)))
        scarce = (regime == "scarce").to_numpy()
        values = momentum[risky].to_numpy(dtype=float)
        risky_col = [names.index(b) for b in risky]
        barred = (ranks[risky] >= self.long_min_rank).to_numpy()
        cash_col = [names.index(b) for b in cash]
        for i, bar in enumerate(hurdle.to_numpy(dtype=float)):
            allowed = ~barred if scarce[i] else np.ones(len(risky), dtype=bool)
            scores = np.where(allowed & (values[i] > bar), values[i], np.nan)
            ranked = [j for j in np.argsort(-scores, kind="stable") if not np.isnan(scores[j])]
            for j in ranked[:self.top_k]:        # ties: the earlier bucket first
                weights[i, risky_col[j]] = 1.0 / self.top_k
            spare = 1.0 - len(ranked[:self.top_k]) / self.top_k
            for col in cash_col:
                weights[i, col] = spare / len(cash)
        return pd.DataFrame(weights, index=ctx.rebalance_dates, columns=names)
