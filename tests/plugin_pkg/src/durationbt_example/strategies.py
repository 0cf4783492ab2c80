"""A strategy shipped by another package through the durationbt.strategies entry point."""

import pandas as pd

from durationbt import Context, Strategy


class AllBills(Strategy):
    """Everything in the cash-like buckets (rank 0): the do-nothing baseline."""

    name = "all_bills"

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        cash = [b.name for b in ctx.universe.buckets if b.rank == 0]
        weights = pd.DataFrame(0.0, index=ctx.rebalance_dates, columns=cash)
        weights[cash] = 1.0 / len(cash)
        return weights
