"""One number with its uncertainty: the shape every estimate a user reads as evidence takes
(statsmodels' results objects carry estimate, error, interval, N and method together; so
does this)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Estimate"]


def _clean(value: float | None) -> float | None:
    """A finite float, or None (JSON has no NaN)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Estimate:
    """``estimate`` with its 95% interval ``ci95``, two-sided ``p_value`` (of "the truth is
    0"; None where no test applies), the sample size ``n`` in the units the method treats as
    observations (days, weeks, non-overlapping windows) and a ``method`` a reader can look up.
    ``stderr`` and ``t`` where the method has them; ``extra`` holds method-specific counts
    (spells per regime, bootstrap replicates, block length)."""

    estimate: float
    ci95: tuple[float, float]
    p_value: float | None
    n: int
    method: str
    stderr: float | None = None
    t: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def excludes_zero(self) -> bool:
        """True when the whole interval lies on one side of 0."""
        lo, hi = self.ci95
        return bool(math.isfinite(lo) and math.isfinite(hi) and (lo > 0 or hi < 0))

    def scaled(self, factor: float) -> Estimate:
        """The same estimate in other units (daily -> annual: ``factor`` 252); p and t keep."""
        lo, hi = (self.ci95[0] * factor, self.ci95[1] * factor)
        return Estimate(self.estimate * factor, (min(lo, hi), max(lo, hi)), self.p_value, self.n,
                        self.method, None if self.stderr is None else abs(self.stderr * factor),
                        self.t, dict(self.extra))

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: NaN and infinities as None, the interval as a two-item list."""
        out: dict[str, Any] = {"estimate": _clean(self.estimate),
                               "ci95": [_clean(self.ci95[0]), _clean(self.ci95[1])],
                               "p_value": _clean(self.p_value), "n": int(self.n),
                               "method": self.method}
        if self.stderr is not None:
            out["stderr"] = _clean(self.stderr)
        if self.t is not None:
            out["t"] = _clean(self.t)
        out.update({k: (_clean(v) if isinstance(v, float) else v) for k, v in self.extra.items()})
        return out
