"""What every claim kind shares: the fields of a claim, a claim scored on a window
(``ClaimScore``), and a kind itself (``ClaimKind``: data plus a check and a scorer)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator

from ..inference import Estimate

__all__ = ["Claim", "ClaimKind", "ClaimScore", "parse_sign", "Leg", "no_score"]

#: a leg: one bucket or ticker, or a list of them held at equal weight
Leg = Annotated[str, StringConstraints(min_length=1)] | tuple[
    Annotated[str, StringConstraints(min_length=1)], ...]

_SIGN = re.compile(r"^\s*([<>])\s*0\s*$")


def parse_sign(expect: str) -> int:
    """``"> 0"`` -> +1, ``"< 0"`` -> -1; a ValueError saying what to write otherwise."""
    match = _SIGN.match(expect)
    if not match:
        raise ValueError(f'cannot read expect = "{expect}": write "> 0" or "< 0"')
    return 1 if match.group(1) == ">" else -1


class Claim(BaseModel):
    """The fields every claim has. A kind's model adds its own; ``direction`` says which
    sign of the estimate the claim predicts (+1: positive)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    text: str
    kind: str
    expect: str

    @classmethod
    def parse_expect(cls, expect: str) -> int:
        """The sign ``expect`` predicts; a kind with another wording overrides this."""
        return parse_sign(expect)

    @property
    def direction(self) -> int:
        return type(self).parse_expect(self.expect)

    @field_validator("expect")
    @classmethod
    def _readable(cls, value: str) -> str:
        cls.parse_expect(value)
        return value


@dataclass(frozen=True)
class ClaimScore:
    """One claim scored on one window: the estimate (with interval, p-value, N, method),
    why there is no verdict (``insufficient``, None when there is enough data), the sample's
    counts, and robustness lines a reader checks the estimate against."""

    estimate: Estimate
    insufficient: str | None = None
    sample: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)


def no_score(reason: str, method: str, n: int = 0, **sample: Any) -> ClaimScore:
    """A claim that cannot be estimated at all (a missing series, an empty window)."""
    nan = float("nan")
    return ClaimScore(Estimate(nan, (nan, nan), None, n, method), reason, dict(sample))


@dataclass(frozen=True)
class ClaimKind:
    """A kind of claim: ``model`` validates a claim's fields, ``check`` refuses names the
    data do not have (raising ``ClaimFieldError``), ``score`` estimates it on a window.
    ``unit`` labels its estimates (one forest-plot axis per kind)."""

    name: str
    summary: str
    unit: str
    model: type[Claim]
    check: Callable[[Any, Any], None]
    score: Callable[[Any, Any, Any], ClaimScore]


