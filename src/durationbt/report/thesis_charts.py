"""Forest plots of a thesis scorecard: one chart per claim kind, its claims on one shared
axis (estimates of one kind are in the same units), each with its 95% interval over the
whole history and, when the thesis has a date, before and after it."""

from __future__ import annotations

from typing import Any

__all__ = ["forest_figure", "VERDICT_COLOURS", "format_estimate"]

VERDICT_COLOURS = {"supported": "#1e7b34", "contradicted": "#b3261e",
                   "inconclusive": "#5b6877", "insufficient data": "#a0a7b0"}
_PERIODS = {"whole": ("whole history", "circle", 0.0),
            "before": ("before the thesis", "triangle-left", 0.22),
            "after": ("after (out of sample)", "diamond", -0.22)}
_PERIOD_COLOURS = {"before": "#2c5fa8", "after": "#f07a18"}


def format_estimate(kind: str, value: Any) -> str:
    """An estimate as a reader sees it: returns in percent a year, the rest as numbers."""
    if value is None:
        return "n/a"
    if kind == "regime_spread":
        return f"{100 * value:+,.1f}%"
    return f"{value:+.3g}" if abs(value) < 1000 else f"{value:+,.0f}"


def _point(entry: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
    low, high = entry["ci95"]
    return entry["estimate"], low, high


def forest_figure(kind: str, unit: str, claims: list[dict[str, Any]]):
    """One row per claim (its id; the text is in the table), estimates with intervals,
    the whole-history point coloured by its verdict, a dashed line at zero."""
    import plotly.graph_objects as go

    scale = 100.0 if kind == "regime_spread" else 1.0
    ids = [c["id"] for c in claims][::-1]
    y_of = {cid: i for i, cid in enumerate(ids)}
    fig = go.Figure()
    for period, (label, symbol, offset) in _PERIODS.items():
        xs, ys, lo, hi, colours, text, symbols = [], [], [], [], [], [], []
        for claim in claims:
            entry = claim if period == "whole" else claim["periods"].get(period)
            if entry is None:
                continue
            est, low, high = _point(entry)
            if est is None:
                continue
            xs.append(est * scale)
            ys.append(y_of[claim["id"]] + offset)
            lo.append((est - low) * scale if low is not None else 0.0)
            hi.append((high - est) * scale if high is not None else 0.0)
            status = claim["verdict"] if period == "whole" else entry["status"]
            hollow = status == "insufficient data"      # no verdict: drawn open
            symbols.append(symbol + ("-open" if hollow else ""))
            colours.append(VERDICT_COLOURS[claim["verdict"]] if period == "whole"
                           else _PERIOD_COLOURS[period])
            text.append(f"{claim['id']} ({label}): {format_estimate(kind, est)} "
                        f"[{format_estimate(kind, low)}, {format_estimate(kind, high)}], "
                        f"n = {entry['n']}, {status}")
        if not xs:
            continue
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="markers", name=label, text=text, hoverinfo="text",
            marker={"symbol": symbols, "size": 11 if period == "whole" else 8, "color": colours,
                    "line": {"width": 1, "color": "#1d2733"}},
            error_x={"type": "data", "symmetric": False, "array": hi, "arrayminus": lo,
                     "thickness": 2 if period == "whole" else 1.2, "width": 4,
                     "color": "#1d2733" if period == "whole" else _PERIOD_COLOURS[period]}))
    fig.add_vline(x=0, line_dash="dash", line_color="#6b7785")
    axis = unit.replace("(per year)", "(% a year)")
    fig.update_layout(
        template="plotly_white", height=140 + 56 * len(ids), margin={"t": 30, "l": 10, "r": 20},
        xaxis_title=axis, legend={"orientation": "h", "y": 1.02, "yanchor": "bottom",
                                  "x": 0, "xanchor": "left"},
        yaxis={"tickvals": list(range(len(ids))), "ticktext": ids, "automargin": True,
               "range": [-0.6, len(ids) - 0.4]})
    return fig
