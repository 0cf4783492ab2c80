"""Long the short-duration buckets, short the long-duration ones: the thesis as a spread."""

import numpy as np
import pandas as pd

from durationbt import Context, Param, Strategy
from durationbt.duration import MIN_WEEKS, known_on, rolling_durations, row_mean
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
    window = Param(104, "weeks of trailing data behind each duration estimate", low=MIN_WEEKS,
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
        buckets = self.bucket_durations(ctx, [b for leg in legs for b in leg])
        return pd.DataFrame(self._leg_means(buckets, legs).T, index=ctx.rebalance_dates)

    @staticmethod
    def _leg_means(buckets: pd.DataFrame, legs: list[list[str]]) -> np.ndarray:
        """Legs x decision dates: each leg's mean of its buckets' durations (pandas' row
        mean, bit for bit)."""
        values = buckets.to_numpy()
        where = {bucket: j for j, bucket in enumerate(buckets.columns)}
        return np.array([row_mean(values[:, [where[b] for b in leg]]) for leg in legs])

    def bucket_durations(self, ctx: Context, buckets: list[str]) -> pd.DataFrame:
        """Decision date x bucket: the mean of the bucket's members' latest weekly duration
        estimates known that day (members listed that day only), over ``window`` weeks."""
        ctx.require_inputs(self.name, "^TNX")
        dates = ctx.rebalance_dates
        members = list(dict.fromkeys(t for b in buckets for t in ctx.universe.bucket(b).tickers))
        # estimated from the last week before the first decision on (and further back
        # only for a member without an estimate that week)
        rolling = rolling_durations(ctx.prices, ctx.inputs["^TNX"], ctx.universe.benchmark,
                                    self.window, columns=members, since=dates[0])
        known = known_on(rolling, dates).to_numpy()
        known = np.where(ctx.prices.reindex(index=dates, columns=members).notna().to_numpy(), known, np.nan)
        out = {}
        for bucket in dict.fromkeys(buckets):
            columns = pd.Index(members).get_indexer(ctx.universe.bucket(bucket).tickers)
            out[bucket] = row_mean(known[:, columns])
        return pd.DataFrame(out, index=dates)

    @staticmethod
    def _weights(n_dates: int, gross: np.ndarray, long_leg: list[str], short_leg: list[str],
                 durations: np.ndarray | None, scarce: np.ndarray | None) -> dict[str, np.ndarray]:
        """Each leg's buckets' weights, one row per value of ``gross`` x ``n_dates`` decision
        dates, from the legs' durations (rows: long, short; when neutralizing duration) and
        the scarce days (when gated)."""
        half = np.repeat(gross[:, None] / 2.0, n_dates, axis=1)
        a = b = half                            # each leg's gross
        if durations is not None:
            d_long, d_short = durations
            # long a of the leg, short b: a * d_long - b * d_short = 0 needs the same sign
            ok = d_long * d_short > 0
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(ok, d_long / d_short, 1.0)  # b per unit of a
            a = np.where(ok, np.where(ratio <= 1, half, half / ratio), 0.0)
            b = np.where(ok, np.where(ratio <= 1, half * ratio, half), 0.0)
        if scarce is not None:
            a, b = np.where(scarce, a, 0.0), np.where(scarce, b, 0.0)
        weights = {bucket: a / len(long_leg) for bucket in long_leg}
        weights.update({bucket: -b / len(short_leg) for bucket in short_leg})
        return weights

    def _scarce(self, ctx: Context) -> np.ndarray:
        return ctx.require_signal(self.name).regime.reindex(ctx.rebalance_dates).eq("scarce").to_numpy()

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        long_leg, short_leg = self.legs(ctx)
        durations = (self.leg_durations(ctx, [long_leg, short_leg]).to_numpy().T
                     if self.neutralize == "duration" else None)
        scarce = self._scarce(ctx) if self.gate == "scarce" else None
        weights = self._weights(len(ctx.rebalance_dates), np.array([self.gross]), long_leg,
                                short_leg, durations, scarce)
        return pd.DataFrame({bucket: w[0] for bucket, w in weights.items()},
                            index=ctx.rebalance_dates)

    @classmethod
    def target_weights_grid(cls, ctx: Context, combos) -> dict[str, np.ndarray]:
        """The same weights for many combinations at once (sweeps): the regime is read once,
        each window's bucket durations estimated once (for every bucket a combination with
        that window needs), and the combinations that differ only in ``gross`` computed
        together."""
        params = [cls(**combo) for combo in combos]
        groups: dict[tuple, list[int]] = {}
        for k, p in enumerate(params):
            duration = p.neutralize == "duration"
            groups.setdefault((p.short_max_rank, p.long_min_rank, p.neutralize, p.gate,
                               p.window if duration else None), []).append(k)
        first = {key: params[ks[0]] for key, ks in groups.items()}
        legs = {key: p.legs(ctx) for key, p in first.items()}
        need: dict[int, list[str]] = {}      # window -> buckets whose durations are needed
        for key, p in first.items():
            if p.neutralize == "duration":
                need.setdefault(p.window, []).extend(legs[key][0] + legs[key][1])
        by_window = {window: cls(window=window).bucket_durations(ctx, buckets)
                     for window, buckets in need.items()}
        scarce = cls()._scarce(ctx) if any(p.gate == "scarce" for p in first.values()) else None
        durations: dict[tuple, np.ndarray] = {}     # (window, legs) -> the legs' durations
        n_dates = len(ctx.rebalance_dates)
        out = {b: np.zeros((len(combos), n_dates)) for b in ctx.universe.bucket_names}
        for key, ks in groups.items():
            p, (long_leg, short_leg) = first[key], legs[key]
            pair = None
            if p.neutralize == "duration":
                pair = (p.window, tuple(long_leg), tuple(short_leg))
                if pair not in durations:
                    durations[pair] = cls._leg_means(by_window[p.window], [long_leg, short_leg])
            weights = cls._weights(n_dates, np.array([params[k].gross for k in ks]), long_leg,
                                   short_leg, None if pair is None else durations[pair],
                                   scarce if p.gate == "scarce" else None)
            for bucket, values in weights.items():
                out[bucket][ks] = values
        return out
