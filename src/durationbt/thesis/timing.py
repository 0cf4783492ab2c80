"""``timing``: does a strategy's timing add value, i.e. does it beat its own static mix (its
average weights held throughout) and re-timed copies of its schedule? Scored by the timing
attribution of issue 23 ("Is the edge timing?"), shared with ``durationbt run``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from ..errors import DurationbtError
from .claim import Claim, ClaimKind, ClaimScore, no_score
from .data import ClaimFieldError, ThesisData, Window

__all__ = ["TimingClaim", "KIND", "score", "UNAVAILABLE"]

UNAVAILABLE = ("timing attribution is not available in this build (issue 23, \"Is the edge "
               "timing?\", has not landed): no estimate is made up")


class TimingClaim(Claim):
    """``strategy`` (a name ``durationbt run`` takes) with optional ``params``; ``expect =
    "> 0"``: its timing adds return over its static mix."""

    kind: Literal["timing"]
    strategy: Annotated[str, Field(min_length=1)]
    params: dict[str, Any] = Field(default_factory=dict)
    expect: str = "> 0"


def check(claim: TimingClaim, data: ThesisData) -> None:
    try:
        data.session.strategy(claim.strategy, dict(claim.params))
    except DurationbtError as exc:
        field = "strategy" if claim.strategy not in data.session.registry else "params"
        raise ClaimFieldError(field, str(exc)) from None


def score(claim: TimingClaim, data: ThesisData, window: Window) -> ClaimScore:
    return no_score(UNAVAILABLE, "timing attribution (unavailable)")


KIND = ClaimKind("timing", "does the strategy beat its static mix (timing attribution)",
                 "return over the static mix (per year)", TimingClaim, check, score)
