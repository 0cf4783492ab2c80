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

    @staticmethod
    def _momentum(ctx: Context, lookback: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each of ``lookback``: the risky buckets' trailing returns on the decision
        dates (lookbacks x dates x risky buckets, ``levels / levels.shift(lookback) - 1``)
        and the hurdle, the cash buckets' mean one (lookbacks x dates; 0 without cash
        buckets or before it exists)."""
        levels = ctx.bucket_levels()
        rows = pd.Series(np.arange(len(levels)), index=levels.index)[ctx.rebalance_dates].to_numpy()
        values = levels.to_numpy(dtype=float)
        past = rows[None, :] - lookback[:, None]
        then = np.where((past >= 0)[:, :, None], values[np.maximum(past, 0)], np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            momentum = values[rows][None] / then - 1
        names = list(levels.columns)
        cash = [names.index(b) for b in ctx.buckets_ranked(high=0)]
        priced = ~np.isnan(momentum[:, :, cash])
        # summed bucket by bucket, as pandas' mean sums a row
        total = sum(np.where(priced[:, :, j], momentum[:, :, c], 0.0) for j, c in enumerate(cash))
        count = priced.sum(axis=2)
        hurdle = np.where(count > 0, total / np.maximum(count, 1), 0.0)
        return momentum[:, :, [names.index(b) for b in ctx.buckets_ranked(low=1)]], hurdle

    @classmethod
    def _pick(cls, ctx: Context, values: np.ndarray, hurdle: np.ndarray, top_k: np.ndarray,
              long_min_rank: np.ndarray) -> np.ndarray:
        """Parameter sets x decision dates x buckets, from each set's momentum (sets x dates
        x risky buckets) and hurdle (sets x dates): 1/top_k in each of the top_k risky
        buckets allowed that day that beat the hurdle (ties: the earlier bucket first), the
        unused slots in the cash buckets."""
        regime = ctx.require_signal(cls.name).regime.loc[ctx.rebalance_dates]
        scarce = (regime == "scarce").to_numpy()
        names = list(ctx.universe.bucket_names)
        cash, risky = ctx.buckets_ranked(high=0), ctx.buckets_ranked(low=1)
        ranks = np.array([ctx.universe.bucket(b).rank for b in risky])
        barred = ranks[None, :] >= long_min_rank[:, None]                 # sets x risky
        allowed = ~(scarce[None, :, None] & barred[:, None, :])           # sets x dates x risky
        scores = np.where(allowed & (values > hurdle[:, :, None]), values, np.nan)
        order = np.argsort(-scores, axis=2, kind="stable")                # NaN (not eligible) last
        place = np.empty_like(order)
        np.put_along_axis(place, order, np.arange(len(risky))[None, None, :], axis=2)
        k = top_k[:, None, None]
        held = ~np.isnan(scores) & (place < k)
        weights = np.zeros((*scores.shape[:2], len(names)))
        weights[:, :, [names.index(b) for b in risky]] = np.where(held, 1.0 / k, 0.0)
        spare = 1.0 - held.sum(axis=2) / top_k[:, None]
        for bucket in cash:
            weights[:, :, names.index(bucket)] = spare / len(cash)
        return weights

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        values, hurdle = self._momentum(ctx, np.array([self.lookback]))
        weights = self._pick(ctx, values, hurdle, np.array([self.top_k]),
                             np.array([self.long_min_rank]))
        return pd.DataFrame(weights[0], index=ctx.rebalance_dates,
                            columns=list(ctx.universe.bucket_names))

    @classmethod
    def target_weights_grid(cls, ctx: Context, combos) -> dict[str, np.ndarray]:
        """The same weights for many combinations at once (sweeps): each distinct
        lookback's momentum computed once, every combination picked in the same vector
        operations."""
        params = [cls(**combo) for combo in combos]
        lookbacks = sorted({p.lookback for p in params})
        values, hurdle = cls._momentum(ctx, np.array(lookbacks))
        which = np.array([lookbacks.index(p.lookback) for p in params])
        out = cls._pick(ctx, values[which], hurdle[which], np.array([p.top_k for p in params]),
                        np.array([p.long_min_rank for p in params]))
        return {b: out[:, :, j] for j, b in enumerate(ctx.universe.bucket_names)}
