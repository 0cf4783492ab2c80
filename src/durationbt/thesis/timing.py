"""``timing``: does a strategy's timing add value? Scored by the timing attribution of
``durationbt run`` (``inference.timing``, issue 23): the strategy is backtested on the
session's data (lookahead replay included), then held against its own static mix (its
average weights, held constant with its costs) and against re-timed copies of its own
decisions. The estimate is its Sharpe ratio minus the static mix's (paired stationary
bootstrap); "timing adds value" needs both tests, so the claim's p-value is the larger of
the bootstrap's and the placebos' (an intersection-union test). Before and after the split
the same difference is measured on those days against the whole history's static mix (the
placebos are drawn over the whole history only). Fewer than 30 executed decisions leave it
without a verdict."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from ..errors import DurationbtError
from ..inference import Estimate, optimal_block, sharpe_difference
from .claim import Claim, ClaimKind, ClaimScore, no_score
from .data import MIN_OBSERVATIONS, ClaimFieldError, ThesisData, Window

__all__ = ["TimingClaim", "KIND", "score", "check"]

_MIN_BLOCK_DAYS = 21.0


class TimingClaim(Claim):
    """``strategy`` (a name ``durationbt run`` takes) with optional ``params``; ``expect =
    "> 0"``: its Sharpe ratio beats its static mix's; ``placebos``: re-timed schedules."""

    kind: Literal["timing"]
    strategy: Annotated[str, Field(min_length=1)]
    params: dict[str, Any] = Field(default_factory=dict)
    placebos: Annotated[int, Field(ge=200, le=100_000, strict=True)] = 1000
    expect: str = "> 0"


def check(claim: TimingClaim, data: ThesisData) -> None:
    """The strategy exists and takes these parameters."""
    try:
        data.session.strategy(claim.strategy, dict(claim.params))
    except DurationbtError as exc:
        field = "strategy" if claim.strategy not in data.session.registry else "params"
        raise ClaimFieldError(field, str(exc)) from None


def _attribution(claim: TimingClaim, data: ThesisData) -> tuple[Any, str | None, Any]:
    """The strategy's backtest, why it has no timing (or None) and its attribution; once
    per strategy and parameters, shared by every window."""
    from ..inference.timing import timing_attribution, untimed_reason
    from ..pipeline import backtest

    key = ("timing", claim.strategy, tuple(sorted((k, repr(v)) for k, v in claim.params.items())),
           claim.placebos)
    if key not in data.memo:
        done = backtest(data.session.strategy(claim.strategy, dict(claim.params)), data.session)
        reason = untimed_reason(done)
        attribution = None if reason else timing_attribution(
            done, data.session, placebos=claim.placebos, seed=0)
        data.memo[key] = (done, reason, attribution)
    return data.memo[key]


def _decisions(done: Any, window: Window) -> int:
    executed = done.targets.index
    return int(((executed >= window.start) & (executed <= window.end)).sum())


def score(claim: TimingClaim, data: ThesisData, window: Window) -> ClaimScore:
    """The claim on ``window`` (see the module's docstring)."""
    method = "Sharpe minus static mix's, paired stationary bootstrap"
    done, reason, att = _attribution(claim, data)
    if reason is not None:
        return no_score(reason, method)
    decisions = _decisions(done, window)
    sample = {"decisions": decisions}
    if window.name == "whole":
        est = att.sharpe_minus_static
        placebo_p = att.placebo.p_value if att.placebo is not None else 1.0
        p = max(est.p_value if est.p_value is not None else 1.0, placebo_p)
        est = Estimate(est.estimate, est.ci95, p, est.n,
                       f"{est.method}; p = max(bootstrap p, placebo p)", est.stderr, est.t,
                       {**est.extra, "bootstrap_p": est.p_value, "placebo_p": placebo_p})
        detail = {"strategy_sharpe": att.sharpe, "static_mix": att.static_mix.to_json(),
                  "placebo": att.placebo.to_json() if att.placebo is not None else None,
                  "verdict": att.verdict, "adds_value": att.adds_value}
    else:
        run = done.result.equity.pct_change().loc[window.start:window.end]
        mix = att.static_mix.equity.pct_change().reindex(run.index)
        rf = done.risk_free.reindex(run.index).fillna(0.0)
        ok = run.notna() & mix.notna()
        a, b, r = (s[ok].to_numpy(dtype=float) for s in (run, mix, rf))
        if len(a) < 3:
            return no_score(f"{len(a)} days in the window", method, len(a), **sample)
        block = optimal_block(a - b, low=_MIN_BLOCK_DAYS)
        est = sharpe_difference(a, b, r, mean_block=block, n_boot=2000, seed=0)
        detail = {"note": "against the whole history's static mix; no placebos per window"}
    insufficient = (f"{decisions} executed decisions (at least {MIN_OBSERVATIONS} are "
                    "needed)" if decisions < MIN_OBSERVATIONS else None)
    return ClaimScore(est, insufficient, sample, detail)


KIND = ClaimKind("timing", "does the strategy beat its static mix (timing attribution)",
                 "Sharpe ratio minus its static mix's", TimingClaim, check, score)
