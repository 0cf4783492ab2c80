"""A continuous duration target that shortens as capital gets scarcer."""

import numpy as np
import pandas as pd

from durationbt import Context, Param, Strategy


class DurationTilt(Strategy):
    """Target a portfolio duration rank that falls as the scarcity score rises.

    On each decision date t the target rank is ``neutral_rank - sensitivity * score_t``
    (score: the composite z-score, data up to t), clipped to the universe's lowest and
    highest bucket ranks; it is met by splitting the weight between the two buckets whose
    ranks bracket it, linearly. A score of 0 holds ``neutral_rank``; +1 z shortens by
    ``sensitivity`` ranks. Before the score exists the target is ``neutral_rank``."""

    name = "duration_tilt"

    neutral_rank = Param(2.5, "target duration rank when the score is 0", low=0.0,
                         grid=(2.0, 2.5, 3.0))
    sensitivity = Param(1.5, "ranks the target falls per +1 z of scarcity", low=0.0,
                        grid=(0.5, 1.5, 3.0))

    @classmethod
    def _score(cls, ctx: Context) -> np.ndarray:
        """The composite score on the decision dates, 0 before it exists."""
        return ctx.require_signal(cls.name).composite.loc[ctx.rebalance_dates].fillna(0.0).to_numpy()

    @staticmethod
    def _split(ctx: Context, score: np.ndarray, neutral_rank: np.ndarray,
               sensitivity: np.ndarray) -> np.ndarray:
        """Parameter sets x decision dates x buckets (one parameter set per entry of
        ``neutral_rank`` and ``sensitivity``): each date's target rank met by the two
        bracketing ranks (one when it sits on a rank), shared equally by a rank's buckets."""
        ranks = np.array(sorted({b.rank for b in ctx.universe.buckets}))
        goal = np.clip(neutral_rank[:, None] - sensitivity[:, None] * score[None, :],
                       ranks[0], ranks[-1])
        hi = np.searchsorted(ranks, goal)          # the first rank >= goal (goal is clipped)
        on_rank = ranks[hi] == goal
        lo = np.where(on_rank, hi, hi - 1)
        width = np.where(on_rank, 1, ranks[hi] - ranks[lo])
        upper = np.where(on_rank, 1.0, (goal - ranks[lo]) / width)
        share = np.zeros((*goal.shape, len(ranks)))           # sets x dates x ranks
        np.put_along_axis(share, lo[..., None], (1.0 - upper)[..., None], axis=-1)
        np.put_along_axis(share, hi[..., None], upper[..., None], axis=-1)  # on a rank: all
        names = list(ctx.universe.bucket_names)
        weights = np.zeros((*goal.shape, len(names)))
        for j, rank in enumerate(ranks):
            held = ctx.buckets_ranked(int(rank), int(rank))
            for bucket in held:
                weights[..., names.index(bucket)] = share[..., j] / len(held)
        return weights

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        weights = self._split(ctx, self._score(ctx), np.array([self.neutral_rank]),
                              np.array([self.sensitivity]))
        return pd.DataFrame(weights[0], index=ctx.rebalance_dates,
                            columns=list(ctx.universe.bucket_names))

    @classmethod
    def target_weights_grid(cls, ctx: Context, combos) -> dict[str, np.ndarray]:
        """The same weights for many combinations at once (sweeps): the score is read once
        and every combination is computed in the same vector operations."""
        params = [cls(**combo) for combo in combos]
        out = cls._split(ctx, cls._score(ctx), np.array([p.neutral_rank for p in params]),
                         np.array([p.sensitivity for p in params]))
        return {b: out[:, :, j] for j, b in enumerate(ctx.universe.bucket_names)}
