"""Rotate between short- and long-duration buckets on the liquidity-scarcity regime."""

import numpy as np
import pandas as pd

from durationbt import Context, Param, Strategy
from durationbt.errors import ParameterError


class LiquidityRotation(Strategy):
    """Hold short-duration buckets when capital is scarce, long-duration ones when abundant.

    On each decision date t the scarcity regime (composite of the universe's signal
    components, with hysteresis; data up to t only) picks the mix: ``scarce`` puts
    everything in the buckets with duration rank <= ``short_max_rank`` (bills, memory
    chips), ``abundant`` everything in the buckets with rank >= ``long_min_rank`` (long
    Treasuries, SaaS, crypto), ``neutral`` puts ``neutral_short`` in the short buckets and
    the rest in the long ones. Buckets within a side share equally."""

    name = "liquidity_rotation"

    short_max_rank = Param(1, "highest duration rank held when capital is scarce", low=0,
                           grid=(0, 1, 2))
    long_min_rank = Param(3, "lowest duration rank held when capital is abundant", low=0,
                          grid=(3, 4, 5))
    neutral_short = Param(0.5, "share in short-duration buckets in the neutral regime",
                          low=0.0, high=1.0, grid=(0.0, 0.25, 0.5, 0.75, 1.0))

    def _sides(self, ctx: Context) -> tuple[list[str], list[str]]:
        """The short- and long-duration buckets these parameters select."""
        short = ctx.buckets_ranked(high=self.short_max_rank)
        long = ctx.buckets_ranked(low=self.long_min_rank)
        if not short or not long or set(short) & set(long):
            raise ParameterError(f'Strategy "{self.name}": short_max_rank {self.short_max_rank} '
                                 f"and long_min_rank {self.long_min_rank} must each select "
                                 f"buckets of universe {ctx.universe.name}, and not the same ones.")
        return short, long

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        regime = ctx.require_signal(self.name).regime.loc[ctx.rebalance_dates]
        short, long = self._sides(ctx)
        short_share = regime.map({"scarce": 1.0, "abundant": 0.0}).fillna(self.neutral_short)
        weights = pd.DataFrame(0.0, index=ctx.rebalance_dates, columns=list(ctx.universe.bucket_names))
        for bucket in short:
            weights[bucket] = short_share / len(short)
        for bucket in long:
            weights[bucket] = (1.0 - short_share) / len(long)
        return weights

    @classmethod
    def target_weights_grid(cls, ctx: Context, combos) -> dict[str, np.ndarray]:
        """The same weights for many combinations at once (sweeps): the regime is read
        once, each combination is one vector operation."""
        regime = ctx.require_signal(cls.name).regime.loc[ctx.rebalance_dates].to_numpy()
        scarce, abundant = regime == "scarce", regime == "abundant"
        out = {b: np.zeros((len(combos), len(regime))) for b in ctx.universe.bucket_names}
        for k, combo in enumerate(combos):
            params = cls(**combo)
            short, long = params._sides(ctx)
            short_share = np.where(scarce, 1.0, np.where(abundant, 0.0, params.neutral_short))
            for bucket in short:
                out[bucket][k] = short_share / len(short)
            for bucket in long:
                out[bucket][k] = (1.0 - short_share) / len(long)
        return out
