"""Estimates that carry their uncertainty: Newey-West (HAC) means, differences and slopes,
stationary and paired bootstrap intervals, multiple-testing adjustments and spell counts.

One module of statistics shared by runs (timing attribution, regime tables), compare
(differences to a baseline), signal evaluation and the thesis scorecard, so a number a
user reads as evidence is computed one way everywhere. statsmodels (HAC OLS, multiple
testing) and arch (block length, SPA) are the tools and the references."""

from .bootstrap import (
    optimal_block,
    paired_bootstrap,
    sharpe_difference,
    stationary_bootstrap,
    stationary_bootstrap_indices,
    stationary_bootstrap_many,
    stationary_bootstrap_sums,
)
from .estimate import Estimate
from .hac import hac_mean, hac_mean_difference, hac_slope, newey_west_lags
from .multiple import ADJUSTMENTS, adjust_pvalues
from .spa import SPAResult, spa_test
from .spells import count_spells, spell_lengths

__all__ = ["Estimate", "hac_mean", "hac_mean_difference", "hac_slope", "newey_west_lags",
           "stationary_bootstrap_indices", "stationary_bootstrap", "stationary_bootstrap_many",
           "stationary_bootstrap_sums", "paired_bootstrap",
           "sharpe_difference", "optimal_block", "ADJUSTMENTS", "adjust_pvalues",
           "count_spells", "spell_lengths", "SPAResult", "spa_test"]
