"""A universe's own components: ``[[signal.custom]]`` entries turn one column of the user's
CSV (quarterly hyperscaler capex, say) into a component. The value observed on day d is
used from d + ``lag_days`` on, exactly as a FRED series is (``inputs.point_in_time``),
carried forward until the next one is public or it is ``stale_after`` days old."""

from __future__ import annotations

import pandas as pd

from ..universe import CustomComponent
from .components import Component
from .inputs import ComponentData, Inputs, point_in_time

__all__ = ["csv_component", "transformed"]


def transformed(raw: pd.Series, transform: str, periods: int) -> pd.Series:
    """``raw`` on its observation dates as ``level``, ``change`` (minus the value
    ``periods`` observations earlier) or ``pct_change`` (ratio to it, minus 1): each value
    uses observations up to its own date only."""
    raw = raw.dropna().astype(float)
    if transform == "change":
        return raw - raw.shift(periods)
    if transform == "pct_change":
        return raw / raw.shift(periods) - 1.0
    return raw


def csv_component(spec: CustomComponent) -> Component:
    """The component a ``[[signal.custom]]`` entry declares; it reads the series the loader
    put in ``SignalData.user`` under its name."""
    def compute(data: ComponentData) -> pd.Series:
        values = transformed(data.user(spec.name), spec.transform, spec.periods)
        known = point_in_time(values, data.calendar, spec.lag_days, spec.stale_after)
        return (known * spec.sign).rename(spec.name)

    summary = spec.summary or ("higher means scarcer capital" if spec.sign == 1
                               else "higher means more abundant capital, so its sign is flipped")
    return Component(spec.name, summary, spec.reads(), Inputs(user=(spec.name,)), compute)
