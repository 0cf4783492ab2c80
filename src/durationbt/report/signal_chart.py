"""The scarcity signal as a self-contained plotly page: composite with regime shading on
top, standardised components below. plotly.js is embedded, so it works offline."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..signals import Signal
from .html import write_plotly_html

__all__ = ["write_signal_chart", "REGIME_COLOURS"]

REGIME_COLOURS = {"scarce": "rgba(214, 39, 40, 0.15)", "abundant": "rgba(44, 160, 44, 0.15)"}


def write_signal_chart(path: Path, signal: Signal, title: str,
                       start: pd.Timestamp | None = None) -> Path:
    """Write the chart to ``path`` (via a temporary file, so a failure leaves nothing)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    frame = signal.frame().loc[start:]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        row_heights=[0.45, 0.55],
                        subplot_titles=("Scarcity score (z) and regime", "Components (z)"))
    fig.add_trace(go.Scatter(x=frame.index, y=frame["composite"], name="composite",
                             line={"color": "black", "width": 1.6}), row=1, col=1)
    # one layout update for all shading (add_vrect per run is slow on decades of history)
    fig.update_layout(shapes=[
        {"type": "rect", "xref": "x", "yref": "y domain", "x0": first, "x1": last, "y0": 0,
         "y1": 1, "fillcolor": REGIME_COLOURS[regime], "line": {"width": 0}, "layer": "below"}
        for first, last, regime in signal.regime_runs(start) if regime in REGIME_COLOURS])
    cfg = signal.config
    for level, dash in ((cfg.enter_scarce, "dash"), (cfg.enter_abundant, "dash")):
        fig.add_hline(y=level, line={"dash": dash, "width": 1, "color": "grey"}, row=1, col=1)
    for name in signal.components.columns:
        fig.add_trace(go.Scatter(x=frame.index, y=frame[name], name=name,
                                 line={"width": 1}), row=2, col=1)
    fig.update_layout(title=title, height=800, template="plotly_white",
                      legend={"orientation": "h", "y": -0.08})
    return write_plotly_html(fig, path)
