"""The scorecard: every claim scored over the whole history (and before and after the date
the thesis was written), p-values adjusted across the claims of the run (Holm or
Benjamini-Hochberg), a verdict per claim, the event windows, and today's regime with the
claims that bear on it. ``to_json`` is what ``thesis.json`` holds: no clock, floats to 12
significant digits, so the same inputs give the same bytes."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..inference import ADJUSTMENTS, adjust_pvalues
from .claim import Claim, ClaimKind, ClaimScore
from .data import MIN_OBSERVATIONS, MIN_SPELLS, Window
from .events import EventResult, event_results
from .kinds import KindRegistry
from .load import prepare, windows
from .today import bearing_on_today

__all__ = ["ScoredClaim", "Scorecard", "score_thesis", "verdict", "VERDICTS", "LEVEL"]

LEVEL = 0.05
VERDICTS = ("supported", "contradicted", "inconclusive", "insufficient data")


def verdict(score: ClaimScore, p_adjusted: float | None, direction: int) -> str:
    """``supported``: adjusted p < 0.05 with the estimate on the claimed side;
    ``contradicted``: the same on the other side; ``inconclusive`` otherwise; ``insufficient
    data`` when the sample is too small to test (no p-value)."""
    if score.insufficient is not None or p_adjusted is None:
        return "insufficient data"
    if p_adjusted < LEVEL and math.isfinite(score.estimate.estimate):
        return "supported" if score.estimate.estimate * direction > 0 else "contradicted"
    return "inconclusive"


def _p(score: ClaimScore) -> float | None:
    """The p-value that counts as a test: none for a claim without enough data."""
    return None if score.insufficient is not None else score.estimate.p_value


@dataclass(frozen=True)
class ScoredClaim:
    """One claim: its whole-history score, adjusted p-value and verdict, and its score in
    each sub-window (``before``/``after`` the split), unadjusted."""

    claim: Claim
    kind: ClaimKind
    score: ClaimScore
    p_adjusted: float | None
    verdict: str
    periods: dict[str, ClaimScore] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        fields = self.claim.model_dump(exclude={"id", "kind", "text", "expect"}, mode="json")
        out = {"id": self.claim.id, "kind": self.claim.kind, "text": self.claim.text,
               "expect": self.claim.expect, "fields": fields, "unit": self.kind.unit,
               **_estimate(self.score), "p_adjusted": self.p_adjusted, "verdict": self.verdict,
               "periods": {name: {**_estimate(s), "status": "insufficient data"
                                  if s.insufficient else "tested"}
                           for name, s in self.periods.items()}}
        return out


def _estimate(score: ClaimScore) -> dict[str, Any]:
    est = score.estimate.to_json()
    core = {k: est.pop(k) for k in ("estimate", "ci95", "n", "method")}
    core["p_value"] = _p(score)
    est.pop("p_value", None)
    return {**core, "stats": est, "insufficient": score.insufficient, "sample": score.sample,
            "detail": score.detail}


@dataclass(frozen=True)
class Scorecard:
    """Everything ``durationbt thesis`` reports."""

    universe: str
    window: Window
    split: dt.date | None
    split_source: str | None
    adjustment: str
    claims: list[ScoredClaim]
    events: list[EventResult]
    today: dict[str, Any]
    series: dict[str, str]
    benchmark: str = ""
    notes: list[str] = field(default_factory=list)
    buckets: list[str] = field(default_factory=list)   # in the universe's order

    def to_json(self) -> dict[str, Any]:
        """thesis.json: stable bytes for stable inputs."""
        tested = sum(c.p_adjusted is not None for c in self.claims)
        return _clean({
            "schema": 1, "universe": self.universe, "benchmark": self.benchmark,
            "buckets": self.buckets,
            "data_window": {"start": str(self.window.start.date()),
                            "end": str(self.window.end.date())},
            "split": None if self.split is None else {"date": str(self.split),
                                                      "source": self.split_source},
            "adjustment": {"method": self.adjustment, "name": ADJUSTMENTS[self.adjustment][1],
                           "tests": tested, "level": LEVEL},
            "rules": {"supported": f"adjusted p < {LEVEL} in the expected direction",
                      "contradicted": f"adjusted p < {LEVEL} against it",
                      "insufficient data": f"fewer than {MIN_SPELLS} spells of a regime or "
                                           f"fewer than {MIN_OBSERVATIONS} non-overlapping "
                                           "observations: no p-value"},
            "claims": [c.to_json() for c in self.claims],
            "events": [e.to_json() for e in self.events],
            "regime_today": self.today, "series": self.series, "notes": self.notes})

    def frame(self) -> pd.DataFrame:
        """claims.csv: one row per claim, whole history then each sub-window."""
        rows = []
        for c in self.claims:
            est = c.score.estimate
            row = {"id": c.claim.id, "kind": c.claim.kind, "text": c.claim.text,
                   "expect": c.claim.expect, "estimate": est.estimate, "ci_low": est.ci95[0],
                   "ci_high": est.ci95[1], "p_value": _p(c.score), "p_adjusted": c.p_adjusted,
                   "verdict": c.verdict, "n": est.n, "unit": c.kind.unit, "method": est.method,
                   "insufficient": c.score.insufficient}
            for name, s in c.periods.items():
                row.update({f"{name}_estimate": s.estimate.estimate,
                            f"{name}_ci_low": s.estimate.ci95[0],
                            f"{name}_ci_high": s.estimate.ci95[1],
                            f"{name}_p_value": _p(s), f"{name}_n": s.estimate.n,
                            f"{name}_status": "insufficient data" if s.insufficient else "tested"})
            rows.append(row)
        return pd.DataFrame(rows).set_index("id")


def _clean(obj: Any) -> Any:
    """Floats to 12 significant digits, NaN and infinities to None, tuples to lists."""
    if isinstance(obj, float):
        return float(f"{obj:.12g}") if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        return _clean(obj.item())
    return obj


def score_thesis(session: Any, provider: Any, *, fundamentals: Path | None = None,
                 adjust: str | None = None, split: dt.date | None = None,
                 registry: KindRegistry | None = None) -> Scorecard:
    """Score the universe's claims on the session's data. ``adjust`` and ``split`` override
    the table's ``adjust`` and ``written``; ``fundamentals``: the folder of user series
    named by ``fundamentals = "file.csv"`` (without it their claims are insufficient data)."""
    ready = prepare(session, provider, fundamentals, registry)
    data, table = ready.data, ready.table
    method = adjust or table.adjust
    if method not in ADJUSTMENTS:
        from ..errors import ParameterError

        raise ParameterError(f"--adjust {method!r} is not an adjustment; choose "
                             + " or ".join(ADJUSTMENTS) + ".")
    cut = split or table.written
    where = str(session.universe.path or session.universe.name)
    narrowed = session.settings.start is not None or session.settings.end is not None
    spans, notes = windows(data, cut, "--split" if split else f"{where}: field 'thesis.written'",
                           optional=split is None and narrowed)
    cut = cut if len(spans) > 1 else None
    source = None if cut is None else ("--split" if split else "thesis.written")
    scores = [[kind.score(claim, data, w) for w in spans] for claim, kind in ready.claims]
    adjusted = adjust_pvalues([_p(s[0]) for s in scores], method)
    scored = [ScoredClaim(claim, kind, s[0], p, verdict(s[0], p, claim.direction),
                          {w.name: x for w, x in zip(spans[1:], s[1:], strict=True)})
              for (claim, kind), s, p in zip(ready.claims, scores, adjusted, strict=True)]
    series = {name: s if isinstance(s, str) else s.describe() for name, s in data.series.items()}
    return Scorecard(session.universe.name, spans[0], cut, source, method, scored,
                     event_results(ready.events, data), bearing_on_today(scored, data),
                     series, session.universe.benchmark, [*ready.notes, *notes],
                     list(session.universe.bucket_names))
