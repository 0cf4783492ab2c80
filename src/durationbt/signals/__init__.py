"""The liquidity-scarcity signal: components -> point-in-time z-scores -> composite -> regimes.
Components are plugins: built-ins, installed packages (entry-point group
``durationbt.components``) and a universe's own ``[[signal.custom]]`` CSV columns."""

from .components import BUILTINS, Component, component, default_components
from .composite import Signal, build_signal, regimes_with_hysteresis, standardise
from .evaluate import (
    HORIZONS,
    Evaluation,
    ICResult,
    Legs,
    choose_legs,
    evaluate_signal,
    information_coefficients,
)
from .inputs import ComponentData, FredInput, Inputs, MissingInput, SignalData
from .load import load_market_data, load_signal_data, signal_data_from_market
from .registry import (
    COMPONENT_GROUP,
    ComponentRegistry,
    discover_components,
    select_components,
    signal_series,
)

__all__ = ["BUILTINS", "Component", "component", "default_components", "Signal", "build_signal",
           "regimes_with_hysteresis", "standardise", "SignalData", "ComponentData", "FredInput",
           "Inputs", "MissingInput", "load_market_data", "load_signal_data",
           "signal_data_from_market", "HORIZONS", "ICResult", "information_coefficients",
           "Legs", "choose_legs", "Evaluation", "evaluate_signal",
           "COMPONENT_GROUP", "ComponentRegistry",
           "discover_components", "select_components", "signal_series"]
