"""``walkforward.html``: out-of-sample equity against the alternatives, the in-sample vs
out-of-sample table, and each window's choice, in the shared page shell."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..formatting import fmt_param
from ..metrics import formats, label
from .html import figure_html, html, section, table_html, write_page

__all__ = ["write_walkforward_page"]


def _figure(result):
    import plotly.graph_objects as go

    fig = go.Figure()
    styles = {0: {"color": "#1f4e9e", "width": 2}}
    for k, (name, curve) in enumerate(result.equity.items()):
        line = styles.get(k, {"width": 1.2, "dash": "dot" if name.startswith("benchmark") else None})
        fig.add_trace(go.Scatter(x=curve.index, y=curve, name=name, line=line))
    first = str(result.windows["train_end"].iloc[0])
    last = str(result.equity.index[-1].date())
    fig.add_vrect(x0=first, x1=last, fillcolor="rgba(31, 78, 158, 0.06)", line_width=0,
                  layer="below", annotation_text=f"out of sample: {first} to {last}",
                  annotation_position="top left")
    for row in result.windows.itertuples():
        fig.add_vline(x=str(row.train_end), line={"color": "#c9d1db", "width": 1})
    fig.update_layout(template="plotly_white", height=460, margin={"t": 30}, yaxis_type="log",
                      yaxis_title="value", legend={"orientation": "h", "y": 1.1})
    return fig


def write_walkforward_page(path: Path, result, identity: dict[str, Any]) -> Path:
    metric = result.metric
    summary_html = table_html(result.summary, formats(result.summary.columns), index_label="",
                              signed=list(result.summary.columns))
    windows = result.windows
    shown = {c: f for c, f in formats(windows.columns).items() if c.endswith(metric)}
    shown.update({c: fmt_param for c in identity.get("grid", {})})
    body = [
        section("In sample vs out of sample", summary_html,
                note=f"Parameters chosen by {label(metric)} on each training window "
                     f"({identity['train']}) and traded over the next {identity['test']}. "
                     "'Best in hindsight' is the single combination that did best over the whole "
                     "out-of-sample period: unattainable, shown to size the gap."),
        section("Out-of-sample equity", figure_html(_figure(result)),
                note=f"Shaded: the out-of-sample period, {result.windows['train_end'].iloc[0]} to "
                     f"{result.equity.index[-1].date()}, every curve rebased to its start. "
                     "Vertical lines: the end of each training window, where parameters may "
                     "change."),
        section("Windows", table_html(windows, shown, signed=list(shown))),
    ]
    subtitle = html("{} &middot; train {}, test {} &middot; data {} to {}, out of sample from {}",
                    identity["strategy"], identity["train"], identity["test"], identity["start"],
                    identity["end"], str(result.windows["train_end"].iloc[0]))
    return write_page(path, f"Walk-forward of {identity['strategy']}", subtitle, body)
