"""``regime_spread``: does one leg fall behind another when capital is scarce? The estimate
is the difference, scarce days minus abundant days, of the mean daily return of ``long``
minus ``short``, annualised (x 252). A day counts in the regime known at the previous
close (what a strategy could act on). Newey-West errors by default (regimes last months,
so days are not independent), or a stationary bootstrap; the spells of each regime are
counted, and fewer than three of either leave the claim without a verdict.

The regime is the signal's own; the estimate with the regime rebuilt without the
components made from the legs' own prices (crypto_stress reads BTC-USD) is reported
beside it, and ``leave_own_out = true`` makes that the claim's estimate."""

from __future__ import annotations

import re
from typing import Literal

import numpy as np

from ..inference import (
    count_spells,
    hac_mean_difference,
    optimal_block,
    stationary_bootstrap,
)
from ..metrics import PERIODS_PER_YEAR
from ..regimes import acting_regime
from .claim import Claim, ClaimKind, ClaimScore, Leg, no_score
from .data import MIN_SPELLS, ThesisData, Window

__all__ = ["RegimeSpreadClaim", "KIND", "score"]

_EXPECT = re.compile(r"^\s*(scarce|abundant)\s*([<>])\s*(scarce|abundant)\s*$")
BOOT_REPLICATES = 1000


class RegimeSpreadClaim(Claim):
    """``long`` minus ``short`` (buckets or tickers; a list is held at equal weight),
    ``expect = "scarce < abundant"`` (the spread is lower when scarce) or ``"scarce >
    abundant"``; ``method`` "hac" or "bootstrap"; ``leave_own_out``: score against the
    regime built without the components made from the legs' prices."""

    kind: Literal["regime_spread"]
    long: Leg
    short: Leg
    method: Literal["hac", "bootstrap"] = "hac"
    leave_own_out: bool = False

    @classmethod
    def parse_expect(cls, expect: str) -> int:
        match = _EXPECT.match(expect)
        if not match or match.group(1) == match.group(3):
            raise ValueError(f'cannot read expect = "{expect}": write "scarce < abundant" or '
                             '"scarce > abundant"')
        first, sign = match.group(1), match.group(2)
        return (1 if sign == ">" else -1) * (1 if first == "scarce" else -1)


def check(claim: RegimeSpreadClaim, data: ThesisData) -> None:
    """The legs are buckets or tickers of the universe."""
    data.check_leg("long", claim.long)
    data.check_leg("short", claim.short)


def _difference(x: np.ndarray, scarce: np.ndarray, abundant: np.ndarray, method: str,
                seed: int):
    """Mean of ``x`` on scarce days minus on abundant days, per day, with its interval."""
    if method == "hac":
        return hac_mean_difference(x, scarce, abundant)
    keep = np.isfinite(x)
    table = np.column_stack([x[keep], scarce[keep], abundant[keep]])

    def statistic(sample: np.ndarray) -> np.ndarray:
        value, s, a = sample[..., 0], sample[..., 1], sample[..., 2]
        with np.errstate(invalid="ignore", divide="ignore"):
            return (value * s).sum(-1) / s.sum(-1) - (value * a).sum(-1) / a.sum(-1)

    est = stationary_bootstrap(table, statistic, mean_block=optimal_block(x[keep]),
                               n_boot=BOOT_REPLICATES, seed=seed)
    est.extra.update(days_a=int(scarce[keep].sum()), days_b=int(abundant[keep].sum()))
    return est


def _one(spread, regime, window: Window, method: str, seed: int):
    """The estimate, annualised, and the sample's counts over the window's days."""
    days = spread.loc[window.start:window.end]
    acting = acting_regime(regime, days.index).loc[days.index]
    valid = days.notna().to_numpy()
    scarce = acting.eq("scarce").to_numpy() & valid
    abundant = acting.eq("abundant").to_numpy() & valid
    x = days.to_numpy(dtype=float)
    est = _difference(x, scarce, abundant, method, seed).scaled(PERIODS_PER_YEAR)
    sample = {"days_scarce": int(scarce.sum()), "days_abundant": int(abundant.sum()),
              "spells_scarce": count_spells(scarce), "spells_abundant": count_spells(abundant),
              "mean_scarce": float(np.nanmean(x[scarce]) * PERIODS_PER_YEAR) if scarce.any()
              else None,
              "mean_abundant": float(np.nanmean(x[abundant]) * PERIODS_PER_YEAR)
              if abundant.any() else None}
    return est, sample


def score(claim: RegimeSpreadClaim, data: ThesisData, window: Window) -> ClaimScore:
    """The claim on ``window``; the other regime (own components in or out) as detail."""
    spread = data.leg_returns(claim.long) - data.leg_returns(claim.short)
    guard = data.guarded(data.leg_tickers(claim.long) | data.leg_tickers(claim.short))
    seed = 0
    full = _one(spread, data.signal.regime, window, claim.method, seed)
    own_out = _one(spread, guard.regime, window, claim.method, seed) if guard.left_out else full
    (est, sample), (other, other_sample) = (own_out, full) if claim.leave_own_out else (full, own_out)
    if not sample["days_scarce"] and not sample["days_abundant"]:
        return no_score("no scarce or abundant day with both legs priced in the window",
                        est.method, 0, **sample)
    short = min(sample["spells_scarce"], sample["spells_abundant"])
    insufficient = (f"{sample['spells_scarce']} scarce and {sample['spells_abundant']} abundant "
                    f"spells (at least {MIN_SPELLS} of each are needed)"
                    if short < MIN_SPELLS else None)
    label = "with" if claim.leave_own_out else "without"
    detail = {"regime": ("signal without " + ", ".join(guard.left_out)) if claim.leave_own_out
              and guard.left_out else "signal (all components)",
              "left_out": list(guard.left_out)}
    if guard.left_out:
        detail[f"{label}_own_components"] = {**other.to_json(), **other_sample,
                                              "components": list(guard.left_out)}
    return ClaimScore(est, insufficient, sample, detail)


KIND = ClaimKind("regime_spread", "long minus short, scarce days vs abundant days (per year)",
                 "difference of mean return, scarce - abundant (per year)",
                 RegimeSpreadClaim, check, score)
