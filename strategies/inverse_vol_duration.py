"""Risk parity across buckets, with a cap on the portfolio's average duration rank."""

import numpy as np
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

    @staticmethod
    def _risk_parity(ctx: Context, levels: pd.DataFrame, vol_window: int) -> tuple[np.ndarray, np.ndarray]:
        """Decision dates x buckets inverse-volatility weights, and their average rank."""
        vol = levels.pct_change(fill_method=None).rolling(vol_window, min_periods=20).std()
        inverse = (1.0 / vol.loc[ctx.rebalance_dates]).where(lambda v: v < 1e6)
        weights = inverse.div(inverse.sum(axis=1), axis=0).fillna(0.0)
        average = weights.mul(ctx.bucket_ranks, axis=1).sum(axis=1)
        return weights.to_numpy(dtype=float), average.to_numpy(dtype=float)

    @staticmethod
    def _cap(ctx: Context, weights: np.ndarray, average: np.ndarray,
             max_avg_rank: np.ndarray) -> np.ndarray:
        """Caps x decision dates x buckets: ``weights`` with the non-cash buckets scaled
        down where the average rank is above each cap in ``max_avg_rank``, the difference
        shared by the rank-0 buckets (none: left as it is)."""
        ranks = np.array([b.rank for b in ctx.universe.buckets])
        cash, risky = ranks == 0, ranks > 0
        out = np.repeat(weights[None], len(max_avg_rank), axis=0)
        if not cash.any():
            return out
        cap = max_avg_rank[:, None]
        over = average[None, :] > cap
        scale = np.where(over, cap / np.where(over, average[None, :], 1.0), 1.0)
        # summed bucket by bucket, as pandas sums a row (numpy's pairwise sum rounds
        # differently from 8 columns on)
        moved = sum(weights[None, :, j] * (1 - scale) for j in np.flatnonzero(risky))
        out[:, :, risky] = weights[None, :, risky] * scale[..., None]
        out[:, :, cash] = weights[None, :, cash] + (moved / cash.sum())[..., None]
        return out

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        weights, average = self._risk_parity(ctx, ctx.bucket_levels(), self.vol_window)
        capped = self._cap(ctx, weights, average, np.array([self.max_avg_rank]))
        return pd.DataFrame(capped[0], index=ctx.rebalance_dates,
                            columns=list(ctx.universe.bucket_names))

    @classmethod
    def target_weights_grid(cls, ctx: Context, combos) -> dict[str, np.ndarray]:
        """The same weights for many combinations at once (sweeps): bucket levels are read
        once, each distinct window's volatilities computed once and all its caps applied in
        the same vector operations."""
        params = [cls(**combo) for combo in combos]
        levels = ctx.bucket_levels()
        out = np.empty((len(combos), len(ctx.rebalance_dates), len(ctx.universe.bucket_names)))
        for window in dict.fromkeys(p.vol_window for p in params):
            chosen = [k for k, p in enumerate(params) if p.vol_window == window]
            out[chosen] = cls._cap(ctx, *cls._risk_parity(ctx, levels, window),
                                   np.array([params[k].max_avg_rank for k in chosen]))
        return {b: out[:, :, j] for j, b in enumerate(ctx.universe.bucket_names)}
