"""Standardise components with past data only, blend them into the scarcity score, and
turn the score into regimes with hysteresis."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..universe import SignalSettings
from .inputs import Inputs, MissingInput, SignalData
from .registry import ComponentRegistry, select_components

__all__ = ["Signal", "regime_runs", "standardise", "regimes_with_hysteresis", "build_signal",
           "blend", "REGIMES", "NO_SIGNAL"]

REGIMES = ("scarce", "neutral", "abundant")
#: a day without a composite value: strategies see it as "neutral" (half in, half out);
#: scores, tables and files call it what it is
NO_SIGNAL = "no signal"


@dataclass(frozen=True)
class Signal:
    """Daily composite score, standardised components, their weights, and regimes."""

    composite: pd.Series          # weighted mean of available standardised components
    components: pd.DataFrame      # date x component, z-scores clipped to +/- clip
    weights: dict[str, float]     # component -> weight (before renormalising over NaNs)
    regime: pd.Series             # "scarce" / "neutral" / "abundant"
    dropped: dict[str, str]       # component -> why it is not in the composite
    config: SignalSettings
    inputs: dict[str, Inputs] = field(default_factory=dict)   # component -> what it reads

    def contributions(self) -> pd.DataFrame:
        """Each component's share of the composite: weight x z / sum of live weights."""
        live = self.components.notna()
        w = pd.DataFrame({c: self.weights[c] for c in self.components.columns},
                         index=self.components.index).where(live)
        return self.components.mul(w).div(w.sum(axis=1), axis=0)

    def labelled_regime(self) -> pd.Series:
        """The regime as scores and files report it: ``no signal`` on days without a
        composite value (``regime`` says ``neutral`` there, what strategies act on)."""
        return self.regime.where(self.composite.notna(), NO_SIGNAL).rename("regime")

    def composite_without(self, names: Iterable[str]) -> pd.Series:
        """The composite blended from every component but ``names`` (same weights, same
        renormalising over the components live each day): the score a bucket's own
        prices did not feed."""
        drop = set(names)
        keep = [c for c in self.components.columns if c not in drop]
        return blend(self.components[keep], {c: self.weights[c] for c in keep})

    def components_reading(self, tickers: Iterable[str]) -> list[str]:
        """The components whose declared inputs include any of ``tickers`` (the prices a
        component is computed from, from its declaration, not a hard-coded map)."""
        wanted = set(tickers)
        return [c for c in self.components.columns
                if c in self.inputs and wanted & set(self.inputs[c].tickers)]

    def regime_runs(self, start: pd.Timestamp | None = None,
                    end: pd.Timestamp | None = None) -> list[tuple[pd.Timestamp, pd.Timestamp, str]]:
        """Consecutive stretches of one regime within [start, end] as (first, last, regime)."""
        return regime_runs(self.regime.loc[start:end])

    def regime_since(self, date: pd.Timestamp | None = None) -> pd.Timestamp:
        """The first day of the regime in force on ``date`` (default: the last day)."""
        return pd.Timestamp(self.regime_runs(end=date)[-1][0])

    def as_of(self, date: pd.Timestamp) -> Signal:
        """The signal as known on ``date``: its rows up to ``date`` (every value at t is
        computed from data up to t, so this equals the signal built on data cut there)."""
        return replace(self, composite=self.composite.loc[:date],
                       components=self.components.loc[:date], regime=self.regime.loc[:date])

    def last_dates(self, end: pd.Timestamp | None = None) -> dict[str, str | None]:
        """Each selected component's last day with a value up to ``end`` (None: never, or
        dropped for lack of inputs), as YYYY-MM-DD."""
        out: dict[str, str | None] = {}
        for name in self.components.columns:
            last = self.components[name].loc[:end].last_valid_index()
            out[name] = None if last is None else str(last.date())
        return out | dict.fromkeys(self.dropped)

    def ended_inputs(self, name: str, day: pd.Timestamp, data: SignalData) -> list[str]:
        """The inputs of component ``name`` whose series in ``data`` end on or before
        ``day`` (what stopped it), as 'FRED WTREGEN ends 2025-11-19'. Read from the data,
        not kept on the signal, which strategies see: when a series ends is future news."""
        spec = self.inputs.get(name, Inputs())
        series = {**{t: data.market[t] for t in spec.tickers if t in data.market.columns},
                  **{f"FRED {f}": data.fred[f] for f in spec.fred_ids if f in data.fred},
                  **{u: data.user[u] for u in spec.user if u in data.user}}
        ends = {label: s.last_valid_index() for label, s in series.items()}
        return [f"{label} ends {last.date()}" for label, last in ends.items()
                if last is not None and last <= day]

    def notes(self, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None,
              data: SignalData | None = None) -> list[str]:
        """Why a selected component adds nothing, or stops adding, between ``start`` and
        ``end``: dropped for lack of inputs; without a single value there (too little
        history, inputs that end early, a lag or staleness limit that leaves nothing); or
        without a value after some day before ``end`` (naming the inputs that ended, from
        ``data``, the signal's inputs)."""
        out = [f"signal component {k} dropped: {v}" for k, v in self.dropped.items()]
        for name in self.components.columns:
            window = self.components[name].loc[start:end]
            if window.notna().any():
                last, final = window.last_valid_index(), window.index[-1]
                if last < final:
                    ended = [] if data is None else self.ended_inputs(name, last, data)
                    out.append(f"signal component {name} has no value after {last.date()}"
                               + (f" ({', '.join(ended)})" if ended else "")
                               + f": from then to {final.date()} the composite blends the "
                               "other components")
                continue
            known = self.components[name].last_valid_index()
            out.append(f"signal component {name} has no value in the range (" + (
                "too little history or no input there" if known is None or start is None
                or known < start else f"its last value is from {known.date()}") + ")")
        return out

    def frame(self) -> pd.DataFrame:
        """One table for CSV output: composite, regime, then each component's z-score."""
        out = pd.DataFrame({"composite": self.composite, "regime": self.labelled_regime()})
        return out.join(self.components)


def regime_runs(regime: pd.Series) -> list[tuple[pd.Timestamp, pd.Timestamp, str]]:
    """Consecutive stretches of one regime as (first day, last day, regime)."""
    ids = regime.ne(regime.shift()).cumsum()
    return [(g.index[0], g.index[-1], g.iloc[0]) for _, g in regime.groupby(ids)]


def standardise(raw: pd.Series, window: int, min_history: int, clip: float) -> pd.Series:
    """Trailing z-score: (x_t - mean) / std over the last ``window`` values up to and
    including t, NaN until ``min_history`` values exist, clipped to +/- ``clip``. Uses data
    <= t only, so later data never change earlier values."""
    rolling = raw.rolling(window, min_periods=min_history)
    z = (raw - rolling.mean()) / rolling.std()
    return z.replace([np.inf, -np.inf], np.nan).clip(-clip, clip)


def regimes_with_hysteresis(score: pd.Series, cfg: SignalSettings) -> pd.Series:
    """``scarce`` from when the score reaches ``enter_scarce`` until it falls below
    ``exit_scarce``; ``abundant`` from ``enter_abundant`` until it rises above
    ``exit_abundant``; ``neutral`` otherwise (and while the score is unknown)."""
    values = score.to_numpy(dtype=float)
    out = np.empty(len(values), dtype=object)
    state = "neutral"
    for i, x in enumerate(values):
        if np.isnan(x):
            state = "neutral"
        elif state == "scarce":
            if x < cfg.exit_scarce:
                state = "abundant" if x <= cfg.enter_abundant else "neutral"
        elif state == "abundant":
            if x > cfg.exit_abundant:
                state = "scarce" if x >= cfg.enter_scarce else "neutral"
        elif x >= cfg.enter_scarce:
            state = "scarce"
        elif x <= cfg.enter_abundant:
            state = "abundant"
        out[i] = state
    return pd.Series(out, index=score.index, name="regime")


def blend(components: pd.DataFrame, weights: dict[str, float]) -> pd.Series:
    """The composite: each day, the ``weights``-weighted mean of the components that have a
    value that day (NaN when none has, or their weights sum to 0)."""
    if components.empty or sum(weights.values()) == 0:
        return pd.Series(np.nan, index=components.index, name="composite")
    w = pd.DataFrame(weights, index=components.index).where(components.notna())
    composite = components.mul(w).sum(axis=1, min_count=1) / w.sum(axis=1).replace(0, np.nan)
    return composite.rename("composite")


def build_signal(data: SignalData, cfg: SignalSettings, source: str = "universe",
                 registry: ComponentRegistry | None = None) -> Signal:
    """Compute every selected component (``signals.registry.select_components``; the
    registry defaults to the built-ins plus installed ones), standardise, blend and
    classify. ``source`` names the universe file in errors."""
    zs: dict[str, pd.Series] = {}
    dropped: dict[str, str] = {}
    inputs: dict[str, Inputs] = {}
    for component in select_components(cfg, registry, source):
        inputs[component.name] = component.inputs
        try:
            raw = component(data)
        except MissingInput as exc:
            dropped[component.name] = str(exc)
            continue
        # kept even while it has too little history: it joins the composite when it can,
        # so the set of columns never depends on where the data end
        zs[component.name] = standardise(raw.astype(float), cfg.window, cfg.min_history, cfg.clip)
    components = pd.DataFrame(zs, index=data.calendar)
    weights = {name: float(cfg.weights.get(name, 1.0)) for name in components.columns}
    composite = blend(components, weights)
    return Signal(composite, components, weights, regimes_with_hysteresis(composite, cfg),
                  dropped, cfg, inputs)
