"""Risk parity across buckets, with a cap on the portfolio's average duration rank."""

import pandas as pd

from durationbt import Context, Param, Strategy


class InverseVolDuration(Strategy):
    """Weight buckets by inverse volatility, then cap the average duration rank.

    Bucket volatility is the standard deviation of the equal-weight bucket's daily returns
    over the last ``vol_window`` days up to t. If the weighted average rank exceeds
    ``max_avg_rank``, every non-cash bucket is scaled down by the same factor and the
    difference goes to the rank-0 buckets, which brings the average exactly to the cap.
    Members are spread by inverse volatility too."""

    name = "inverse_vol_duration"
    within_bucket = "inverse_vol"

    vol_window = Param(63, "trading days of returns behind each volatility", low=20,
                       grid=(21, 63, 126))
    max_avg_rank = Param(2.0, "cap on the weighted average duration rank", low=0.0,
                         grid=(1.0, 2.0, 3.0))

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        levels = ctx.bucket_levels()
        vol = levels.pct_change(fill_method=None).rolling(self.vol_window, min_periods=20).std()
        inverse = (1.0 / vol.loc[ctx.rebalance_dates]).where(lambda v: v < 1e6)
        weights = inverse.div(inverse.sum(axis=1), axis=0).fillna(0.0)
        ranks = ctx.bucket_ranks
        average = weights.mul(ranks, axis=1).sum(axis=1)
        cash = list(ranks[ranks == 0].index)
        if cash:
            scale = (self.max_avg_rank / average).where(average > self.max_avg_rank, 1.0)
            risky = list(ranks[ranks > 0].index)
            moved = weights[risky].mul(1 - scale, axis=0).sum(axis=1)
            weights[risky] = weights[risky].mul(scale, axis=0)
            weights[cash] = weights[cash].add(moved / len(cash), axis=0)
        return weights
