"""The regime on the last day of the data and what the scored claims say about it: a
regime spread measured in that regime, an outcome's slope within it, where the signal
stands for a lead claim, the measured sensitivity ranking."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .data import ThesisData, as_list

__all__ = ["bearing_on_today"]


def _leg(names) -> str:
    return " + ".join(as_list(names))


def _says(c, regime: str, driver_today: dict[str, float]) -> str | None:
    claim, score = c.claim, c.score
    other = {"scarce": "abundant", "abundant": "scarce"}.get(regime)
    if claim.kind == "regime_spread":
        if other is None:
            return None
        now, then = score.sample.get(f"mean_{regime}"), score.sample.get(f"mean_{other}")
        if now is None or then is None:
            return None
        return (f"{_leg(claim.long)} minus {_leg(claim.short)} averaged {now:+.1%} a year on "
                f"{regime} days, {then:+.1%} on {other} days")
    if claim.kind == "outcome":
        within = score.detail.get(f"within_{regime}", {}) if other else {}
        value = driver_today.get(claim.driver)
        parts = []
        if value is not None and score.detail.get("driver_sd"):
            parts.append(f"{claim.driver} stands at {value:+.2f} "
                         f"({value / score.detail['driver_sd']:+.1f} s.d.)")
        if within.get("estimate") is not None:
            parts.append(f"within {regime} days the slope is {within['estimate']:+.3f} per s.d. "
                         f"(p {within['p_value']:.2f}, {within['n']} windows)")
        return "; ".join(parts) or None
    if claim.kind == "lead":
        value = driver_today.get(claim.driver)
        if value is None or score.estimate.estimate != score.estimate.estimate:
            return None
        return (f"{claim.driver} stands at {value:+.2f}; its rank IC with {_leg(claim.long)} "
                f"minus {_leg(claim.short)} over the next {claim.horizons[0]} days is "
                f"{score.estimate.estimate:+.3f}")
    if claim.kind == "sensitivity":
        sens = score.detail.get("sensitivity") or {}
        if not sens:
            return None
        ranked = sorted(sens, key=lambda k: -sens[k])
        return ("as scarcity rises, measured most sensitive first: "
                + ", ".join(f"{k} {sens[k]:+.1f}%" for k in ranked[:3]))
    return None


def bearing_on_today(scored: list, data: ThesisData) -> dict[str, Any]:
    """Today's regime (the last day of the data), since when, the composite, and one line
    per claim that bears on it, with its verdict."""
    end = data.market.end
    signal = data.signal
    regime = str(signal.regime.loc[:end].iloc[-1])
    drivers: dict[str, float] = {}
    for c in scored:
        name = getattr(c.claim, "driver", None)
        if name is None or name in drivers:
            continue
        series = data.driver(name)
        if not isinstance(series, str) and end in series.index and pd.notna(series.loc[end]):
            drivers[name] = float(series.loc[end])      # a stale user series has no value
    lines = []
    for c in scored:
        says = _says(c, regime, drivers)
        if says:
            lines.append({"id": c.claim.id, "verdict": c.verdict, "says": says})
    composite = signal.composite.loc[:end].dropna()
    return {"date": str(pd.Timestamp(end).date()), "regime": regime,
            "since": str(signal.regime_since(end).date()),
            "composite": float(composite.iloc[-1]) if len(composite) else None,
            "claims": lines}
