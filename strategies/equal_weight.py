"""Equal weight across every bucket member: the neutral benchmark for rotation strategies."""

import pandas as pd

from durationbt import Context, Strategy


class EqualWeight(Strategy):
    """Equal weight across all buckets' members, rebalanced on the schedule (monthly by default).

    Members that have not listed yet are left out until their first price, so the weight is
    always spread over the assets that exist on the decision date."""

    name = "equal_weight"
    weights_by = "ticker"

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        tickers = list(ctx.universe.tickers)
        listed = ctx.prices.loc[ctx.rebalance_dates, tickers].notna()
        return listed.div(listed.sum(axis=1), axis=0).fillna(0.0)
