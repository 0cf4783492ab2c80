"""The scarcity signal as a plotly figure: composite with regime shading on top,
standardised components below. Used by ``durationbt signal --html`` and the run report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..signals import Signal
from ..signals.composite import regime_runs
from .html import figure_html, html, section, write_page

__all__ = ["write_signal_chart", "signal_figure", "regime_shapes", "REGIME_COLOURS"]

REGIME_COLOURS = {"scarce": "rgba(214, 39, 40, 0.15)", "abundant": "rgba(44, 160, 44, 0.15)"}


def regime_shapes(regime: pd.Series, yref: str = "y domain", xref: str = "x") -> list[dict]:
    """Background rectangles for scarce and abundant stretches, for one layout update
    (add_vrect per stretch is slow on decades of history)."""
    return [{"type": "rect", "xref": xref, "yref": yref, "x0": first, "x1": last, "y0": 0,
             "y1": 1, "fillcolor": REGIME_COLOURS[label], "line": {"width": 0}, "layer": "below"}
            for first, last, label in regime_runs(regime.dropna()) if label in REGIME_COLOURS]


def signal_figure(frame: pd.DataFrame, components: list[str], thresholds: tuple[float, float],
                  title: str | None = None, height: int | None = None):
    """``frame``: composite, regime and one z-score column per component. The composite on
    top, then each component in its own small panel (two a row, same axes), so eight
    components never sit on top of one another."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    cols = 2
    rows = 1 + -(-len(components) // cols)
    specs = [[{"colspan": cols}, None]] + [[{}, {}] for _ in range(rows - 1)]
    titles = ["Scarcity score (z); red = scarce, green = abundant", *components]
    panel = 150
    fig = make_subplots(rows=rows, cols=cols, specs=specs, shared_xaxes=True,
                        vertical_spacing=min(0.25 / rows, 0.08), horizontal_spacing=0.06,
                        row_heights=[2.2] + [1.0] * (rows - 1), subplot_titles=titles)
    fig.add_trace(go.Scatter(x=frame.index, y=frame["composite"], name="composite",
                             line={"color": "black", "width": 1.4}), row=1, col=1)
    for level in thresholds:
        fig.add_hline(y=level, line={"dash": "dash", "width": 1, "color": "grey"}, row=1, col=1,
                      exclude_empty_subplots=False)
    for k, name in enumerate(components):
        row, col = 2 + k // cols, 1 + k % cols
        fig.add_trace(go.Scatter(x=frame.index, y=frame[name], name=name, showlegend=False,
                                 line={"width": 1, "color": "#44546a"}), row=row, col=col)
        fig.add_hline(y=0, line={"width": 1, "color": "#c9d1db"}, row=row, col=col,
                      exclude_empty_subplots=False)
        fig.update_yaxes(range=[-3.2, 3.2], row=row, col=col)
    # the regime stretches go in once, first, at the end: each add_hline re-validates every
    # shape already there, and 30 years hold a hundred stretches
    fig.layout.shapes = [*regime_shapes(frame["regime"]), *fig.layout.shapes]
    fig.update_annotations(font_size=12)
    fig.update_layout(title=title, height=height or 330 + panel * (rows - 1),
                      template="plotly_white", margin={"t": 60 if title else 30},
                      showlegend=False)
    return fig


def write_signal_chart(path: Path, signal: Signal, title: str,
                       start: pd.Timestamp | None = None) -> Path:
    """Write the chart to ``path`` (via a temporary file, so a failure leaves nothing)."""
    cfg = signal.config
    frame = signal.frame().loc[start:]
    fig = signal_figure(frame, list(signal.components.columns),
                        (cfg.enter_scarce, cfg.enter_abundant))
    dropped = "; ".join(f"{k}: {v}" for k, v in signal.dropped.items())
    note = ("Composite of standardised components (trailing z-scores, past data only); dashed "
            "lines are the thresholds that enter a regime."
            + (f" Not in the composite: {dropped}." if dropped else ""))
    subtitle = html("{} to {} &middot; {} since {}", str(frame.index[0].date()),
                    str(frame.index[-1].date()), frame["regime"].iloc[-1],
                    str(signal.regime_since().date()))
    return write_page(path, title, subtitle, [section("Scarcity score and components",
                                                      figure_html(fig), note=note)])
