"""Rolling bucket durations as a self-contained plotly page (plotly.js embedded)."""

from __future__ import annotations

from pathlib import Path

from ..duration import DurationReport
from .html import bucket_colours, figure_html, section, write_page

__all__ = ["write_duration_chart"]


def write_duration_chart(path: Path, report: DurationReport, title: str) -> Path:
    """One line per bucket, ordered by declared rank; written via a temporary file."""
    import plotly.graph_objects as go

    fig = go.Figure()
    ranked = sorted(report.buckets, key=lambda r: r.rank)
    for row, colour in zip(ranked, bucket_colours(len(ranked)), strict=True):
        series = report.rolling_buckets[row.name]
        fig.add_trace(go.Scatter(x=series.index, y=series, name=f"{row.rank} {row.name}",
                                 mode="lines", line={"color": colour, "width": 1.5}))
    fig.add_hline(y=0, line={"color": "grey", "width": 1})
    fig.update_layout(template="plotly_white", height=550, margin={"t": 30},
                      yaxis_title=f"duration, % per 100 bp ({report.window}-week rolling)")
    note = ("Equal-weight bucket portfolios regressed weekly on changes in the 10-year yield and "
            "the benchmark; legend: declared duration rank and bucket, coloured short (blue) to "
            "long (red) as on every page.")
    return write_page(path, title, "rolling empirical duration by bucket",
                      [section(f"{report.window}-week rolling duration", figure_html(fig), note=note)])
