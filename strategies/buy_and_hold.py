"""Buy and hold: equal weight across every bucket member on the first day, then no trades."""

import pandas as pd

from durationbt import Context, Strategy


class BuyAndHold(Strategy):
    """Buy equal weights of all buckets' members on the first day, then hold without trading.

    Positions drift with prices and are never rebalanced (``equal_weight`` is the same
    portfolio rebalanced on the schedule). Members that list later are never bought."""

    name = "buy_and_hold"
    weights_by = "ticker"
    holds = True

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        tickers = list(ctx.universe.tickers)
        listed = ctx.prices.loc[ctx.rebalance_dates, tickers].notna()
        return listed.div(listed.sum(axis=1), axis=0).fillna(0.0)
