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

    def target_weights(self, ctx: Context) -> pd.DataFrame:
        score = ctx.require_signal(self.name).composite.loc[ctx.rebalance_dates]
        ranks = sorted(set(ctx.bucket_ranks))
        by_rank = {r: ctx.buckets_ranked(r, r) for r in ranks}
        target = (self.neutral_rank - self.sensitivity * score.fillna(0.0)).clip(ranks[0], ranks[-1])
        names = list(ctx.universe.bucket_names)
        weights = np.zeros((len(target), len(names)))
        for i, goal in enumerate(target.to_numpy(dtype=float)):
            hi = int(np.searchsorted(ranks, goal))
            if hi == 0 or ranks[min(hi, len(ranks) - 1)] == goal:
                share = {ranks[min(hi, len(ranks) - 1)]: 1.0}
            else:
                lo_rank, hi_rank = ranks[hi - 1], ranks[hi]
                upper = (goal - lo_rank) / (hi_rank - lo_rank)
                share = {lo_rank: 1.0 - upper, hi_rank: upper}
            for rank, part in share.items():
                for bucket in by_rank[rank]:
                    weights[i, names.index(bucket)] += part / len(by_rank[rank])
        return pd.DataFrame(weights, index=ctx.rebalance_dates, columns=names)
