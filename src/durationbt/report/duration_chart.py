"""Rolling bucket durations as a self-contained plotly page (plotly.js embedded)."""

from __future__ import annotations

import os
from pathlib import Path

from ..duration import DurationReport

__all__ = ["write_duration_chart"]


def write_duration_chart(path: Path, report: DurationReport, title: str) -> Path:
    """One line per bucket, ordered by declared rank; written via a temporary file."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for row in sorted(report.buckets, key=lambda r: r.rank):
        series = report.rolling_buckets[row.name]
        fig.add_trace(go.Scatter(x=series.index, y=series, name=f"{row.rank} {row.name}",
                                 mode="lines"))
    fig.add_hline(y=0, line={"color": "grey", "width": 1})
    fig.update_layout(title=title, template="plotly_white", height=550,
                      yaxis_title=f"duration, % per 100 bp ({report.window}-week rolling)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fig.write_html(tmp, include_plotlyjs=True, full_html=True)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
