"""Long the short-duration buckets, short the long-duration ones: the thesis as a spread."""

import numpy as np
import pandas as pd

from durationbt import Context, Param, Strategy
from durationbt.duration import rolling_durations
from durationbt.errors import StrategyError

NEUTRALIZE = ("dollar", "duration")
GATES = ("always", "scarce")


class DurationSpread(Strategy):
    """Long buckets of rank <= short_max_rank, short buckets of rank >= long_min_rank.

    ``neutralize = "dollar"``: each leg gross/2, so the book is dollar-neutral and its
    capital sits in the cash asset. ``"duration"``: the legs are scaled so that the book's
    empirical duration is zero, from the trailing ``window``-week estimates known on the
    decision date (each leg the equal-weight mean of its buckets' members' estimates): the
    leg with the larger |duration| gets gross/2 and the other the durations' ratio times it,
    so the book never exceeds the gross budget nor a net of gross/2. Where an estimate is
    missing or the legs' durations have opposite signs, no long/short of them is
    duration-neutral, and the book is flat (in the cash asset). ``gate = "scarce"`` holds the
    spread only while the scarcity regime is scarce, flat in bills otherwise."""

    name = "duration_spread"
    allow_short = True

    short_max_rank = Param(1, "highest rank of the long (short-duration) leg", low=0,
                           grid=(0, 1))
    long_min_rank = Param(4, "lowest rank of the short (long-duration) leg", low=0,
                          grid=(3, 4, 5))
    neutralize = Param("dollar", "dollar (equal gross per leg) or duration (zero empirical "
                       "duration)", grid=NEUTRALIZE)
    gate = Param("always", "always, or scarce (hold the spread only in the scarce regime)",
                 grid=GATES)
    gross = Param(2.0, "gross exposure of the two legs (sum of |w|)", low=0.0, high=2.0)
    window = Param(104, "weeks of trailing data behind each duration estimate", low=26,
                   high=520)

    def legs(self, ctx: Context) -> tuple[list[str], list[str]]:
        """The long and the short leg's buckets, refused if either is empty or they meet."""
        for name, value, allowed in (("neutralize", self.neutralize, NEUTRALIZE),
                                     ("gate", self.gate, GATES)):
            if value not in allowed:
                raise StrategyError(f'Strategy "{self.name}": {name} = "{value}" must be one of '
                                    + ", ".join(allowed) + ".")
        if self.short_max_rank >= self.long_min_rank:
            raise StrategyError(f'Strategy "{self.name}": short_max_rank {self.short_max_rank} '
                                f"must be below long_min_rank {self.long_min_rank}.")
        long_leg = ctx.buckets_ranked(high=self.short_max_rank)
        short_leg = ctx.buckets_ranked(low=self.long_min_rank)
        if not long_leg or not short_leg:
            raise StrategyError(f'Strategy "{self.name}": no bucket has rank <= '
                                f"{self.short_max_rank} or none rank >= {self.long_min_rank} "
                                f"(ranks: {sorted(set(ctx.bucket_ranks))}).")
        return long_leg, short_leg

    def leg_durations(self, ctx: Context, legs: list[list[str]]) -> pd.DataFrame:
        """Decision date x leg: the mean empirical duration of the leg's buckets (each the
        mean of its members' estimates), from the latest weekly estimate known that day."""
        ctx.require_inputs(self.name, "^TNX")
        members = [t for leg in legs for b in leg for t in ctx.universe.bucket(b).tickers]
        rolling = rolling_durations(ctx.prices, ctx.inputs["^TNX"], ctx.universe.benchmark,
                                    self.window, columns=list(dict.fromkeys(members)))
        dates = ctx.rebalance_dates
        known = rolling.reindex(rolling.index.union(dates)).ffill().reindex(dates)
        listed = ctx.prices.reindex(dates).notna()
        out = {}
        for i, leg in enumerate(legs):
            per_bucket = [known[list(ctx.universe.bucket(b).tickers)]
                          .where(listed[list(ctx.universe.bucket(b).tickers)]).mean(axis=1)
                          for b in leg]
            out[i] = pd.concat(per_bucket, axis=1).mean(axis=1)
        return pd.DataFrame(out, index=dates)

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        long_leg, short_leg = self.legs(ctx)
        dates = ctx.rebalance_dates
        half = self.gross / 2.0
        a = pd.Series(half, index=dates)       # long leg gross
        b = pd.Series(half, index=dates)       # short leg gross
        if self.neutralize == "duration":
            d = self.leg_durations(ctx, [long_leg, short_leg])
            d_long, d_short = d[0], d[1]
            # long a of the leg, short b: a * d_long - b * d_short = 0 needs the same sign
            ok = (d_long * d_short > 0).to_numpy()
            ratio = np.where(ok, (d_long / d_short).to_numpy(), 1.0)  # b per unit of a
            a = pd.Series(np.where(ok, np.where(ratio <= 1, half, half / ratio), 0.0), index=dates)
            b = pd.Series(np.where(ok, np.where(ratio <= 1, half * ratio, half), 0.0), index=dates)
        if self.gate == "scarce":
            on = ctx.require_signal(self.name).regime.reindex(dates).eq("scarce")
            a, b = a.where(on, 0.0), b.where(on, 0.0)
        weights = {bucket: a / len(long_leg) for bucket in long_leg}
        weights.update({bucket: -b / len(short_leg) for bucket in short_leg})
        return pd.DataFrame(weights, index=dates)
