"""``sensitivity``: is a bucket the most (or least) liquidity-sensitive, or do buckets rank
in a given order? Sensitivity is minus the weekly liquidity beta (``duration.liquidity_betas``:
weekly return on the weekly change of the composite and the benchmark's return), in % lost
per one-z rise of scarcity, so larger means it falls more as capital gets scarcer.

The composite is rebuilt without the components made from the tested buckets' own prices
(declared inputs: crypto_stress reads BTC-USD), so a bucket is not credited with moving
with a signal built from it; the full composite's betas are reported beside. The estimate
is the gap the claim needs to be positive (the bucket minus the strongest other one, or the
smallest step of the order), with a stationary-bootstrap interval over weeks, and the
bootstrap probability that the buckets rank as claimed."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from ..duration import bucket_levels, liquidity_betas, weekly
from ..errors import did_you_mean
from ..inference import optimal_block, stationary_bootstrap, stationary_bootstrap_indices
from .claim import Claim, ClaimKind, ClaimScore, no_score
from .data import MIN_OBSERVATIONS, ClaimFieldError, ThesisData, Window

__all__ = ["SensitivityClaim", "KIND", "score", "betas_of_replicates"]

BOOT_REPLICATES = 1000
_WORDS = ("largest", "smallest", "order")


class SensitivityClaim(Claim):
    """``bucket`` with ``expect = "largest"`` or ``"smallest"`` among all buckets, or
    ``order`` (most sensitive first) with ``expect = "order"``; ``leave_own_out`` (default
    true) rebuilds the composite without the tested buckets' own components."""

    kind: Literal["sensitivity"]
    expect: str = "order"
    bucket: str | None = None
    order: tuple[str, ...] | None = None
    leave_own_out: bool = True

    @classmethod
    def parse_expect(cls, expect: str) -> int:
        if expect.strip() not in _WORDS:
            raise ValueError(f'cannot read expect = "{expect}": write "largest" or "smallest" '
                             '(with bucket), or "order" (with order = [most sensitive, ...])')
        return 1

    @property
    def tested(self) -> list[str]:
        return list(self.order) if self.expect.strip() == "order" else [str(self.bucket)]


def check(claim: SensitivityClaim, data: ThesisData) -> None:
    """The claim names buckets of the universe, with the fields its ``expect`` needs."""
    word = claim.expect.strip()
    if word == "order" and (not claim.order or len(claim.order) < 2):
        raise ClaimFieldError("order", 'expect = "order" needs order = [two or more buckets, '
                              "most sensitive first]")
    if word != "order" and claim.bucket is None:
        raise ClaimFieldError("bucket", f'expect = "{word}" needs the bucket it is about')
    names = data.universe.bucket_names
    for name in claim.tested:
        if name not in names:
            field = "order" if word == "order" else "bucket"
            raise ClaimFieldError(field, f'unknown bucket "{name}".' + did_you_mean(name, names)
                                  + f" Buckets: {', '.join(names)}.")


def betas_of_replicates(sample: np.ndarray) -> np.ndarray:
    """Liquidity betas (% per one-z rise) of every bucket in every replicate: ``sample`` is
    replicates x weeks x (buckets..., composite change, benchmark return); OLS of each
    bucket on [1, composite change, benchmark], solved for all replicates at once."""
    y, f, m = sample[..., :-2], sample[..., -2], sample[..., -1]
    X = np.stack([np.ones_like(f), f, m], axis=-1)
    xtx = np.einsum("rni,rnj->rij", X, X)
    xty = np.einsum("rni,rnk->rik", X, y)
    with np.errstate(invalid="ignore"):
        beta = np.linalg.solve(xtx + 1e-12 * np.eye(3), xty)
    return beta[:, 1, :] * 100.0


def _gap(sens: np.ndarray, claim: SensitivityClaim, columns: list[str]) -> np.ndarray:
    """The claim's margin in each replicate (replicates x buckets of sensitivities)."""
    word = claim.expect.strip()
    if word == "order":
        idx = [columns.index(b) for b in claim.order or ()]
        steps = sens[:, idx[:-1]] - sens[:, idx[1:]]
        return steps.min(axis=1)
    k = columns.index(str(claim.bucket))
    others = np.delete(sens, k, axis=1)
    if word == "largest":
        return sens[:, k] - others.max(axis=1)
    return others.min(axis=1) - sens[:, k]


def _weekly_table(data: ThesisData, composite: pd.Series, window: Window,
                  columns: list[str]) -> pd.DataFrame:
    """Weeks x (bucket returns..., composite change, benchmark return), rows complete."""
    levels = bucket_levels(data.market.prices, data.universe).loc[window.start:window.end]
    bench = data.market.prices[data.universe.benchmark].loc[window.start:window.end]
    returns = weekly(pd.concat([levels[columns], bench.rename("__market")], axis=1)).pct_change(
        fill_method=None)
    change = weekly(composite.loc[window.start:window.end].to_frame("__factor")).diff()
    return pd.concat([returns[columns], change, returns[["__market"]]], axis=1).dropna()


def _betas(data: ThesisData, composite: pd.Series, columns: list[str],
           window: Window) -> dict[str, dict[str, float]]:
    """Each bucket's liquidity beta with its Newey-West s.e., as ``durationbt duration``
    measures it (``duration.liquidity_betas``), over the window."""
    levels = bucket_levels(data.market.prices, data.universe).loc[window.start:window.end]
    daily = pd.concat([levels[columns], data.market.prices[data.universe.benchmark].loc[
        window.start:window.end]], axis=1)
    return {est.name: {"beta": float(est.value), "se": float(est.se), "weeks": int(est.weeks)}
            for est in liquidity_betas(daily, composite.loc[window.start:window.end],
                                       data.universe.benchmark, columns)}


def score(claim: SensitivityClaim, data: ThesisData, window: Window) -> ClaimScore:
    """The claim on ``window``: the margin, its bootstrap interval, P(rank as claimed),
    betas with and without the bucket's own components."""
    columns = list(data.universe.bucket_names) if claim.expect.strip() != "order" else list(
        claim.order or ())
    tickers = set().union(*(data.universe.bucket(b).tickers for b in claim.tested))
    guard = data.guarded(tickers if claim.leave_own_out else set())
    table = _weekly_table(data, guard.composite, window, columns)
    method = (f"weekly liquidity betas (OLS on composite change and {data.universe.benchmark}); "
              f"stationary bootstrap over weeks, {BOOT_REPLICATES} replicates")
    n = len(table)
    if n < 4:
        return no_score(f"{n} complete weeks in the window", method, n, weeks=n)
    values = table.to_numpy(dtype=float)
    block = optimal_block(values[:, -2])

    def statistic(sample: np.ndarray) -> np.ndarray:
        return _gap(-betas_of_replicates(sample), claim, columns)

    est = stationary_bootstrap(values, statistic, mean_block=block, n_boot=BOOT_REPLICATES,
                               seed=0)
    idx = stationary_bootstrap_indices(n, block, BOOT_REPLICATES, np.random.default_rng(0))
    draws = np.concatenate([statistic(values[idx[lo:lo + 250]]) for lo in range(0, len(idx), 250)])
    p_rank = float(np.mean(draws > 0))
    sens = -betas_of_replicates(values[None])[0]
    full = data.guarded(set()).composite
    detail = {"composite": "without " + ", ".join(guard.left_out) if guard.left_out
              else "all components", "left_out": list(guard.left_out),
              "p_rank_as_claimed": p_rank,
              "sensitivity": {c: float(v) for c, v in zip(columns, sens, strict=True)},
              "betas": _betas(data, guard.composite, columns, window),
              "betas_full_composite": _betas(data, full, columns, window)
              if guard.left_out else None}
    insufficient = (f"{n} weeks (at least {MIN_OBSERVATIONS} are needed)"
                    if n < MIN_OBSERVATIONS else None)
    return ClaimScore(est, insufficient, {"weeks": n, "block_weeks": block}, detail)


KIND = ClaimKind("sensitivity", "which bucket falls most as scarcity rises (weekly betas)",
                 "sensitivity margin (% per one-z rise of scarcity)", SensitivityClaim, check,
                 score)
