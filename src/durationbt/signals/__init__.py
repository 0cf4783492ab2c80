"""The liquidity-scarcity signal: components -> point-in-time z-scores -> composite -> regimes."""

from .components import COMPONENTS, Component, default_components
from .composite import Signal, build_signal, regimes_with_hysteresis, standardise
from .evaluate import HORIZONS, ICResult, information_coefficients
from .inputs import SignalData, load_signal_data, signal_data_from_market

__all__ = ["COMPONENTS", "Component", "default_components", "Signal", "build_signal",
           "regimes_with_hysteresis", "standardise", "SignalData", "load_signal_data",
           "signal_data_from_market", "HORIZONS", "ICResult", "information_coefficients"]
