"""The run page's "Is the edge timing?" section, from the run folder's ``metrics.json``
(``timing``) and ``timing.csv``: the run's equity against its static mix and the band of
its re-timed placebos, the numbers behind the verdict, and the verdict itself."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..formatting import fmt_num, fmt_pct
from ..runs import RunFolder
from .html import Markup, figure_html, html, section

__all__ = ["timing_section"]

_NOTE = ("The static mix is the run's own average weights (each decision's weights standing "
         "until the next, averaged over the days) held constant on the same schedule, spread "
         "and charged as the run is. The placebos trade the run's own decisions in a random "
         "order (shifted, shuffled in blocks of the regimes' mean spell). Timing is credited "
         "only when the interval of the Sharpe difference lies above 0 and fewer than 5% of "
         "the placebos did as well.")


def _figure(curves: pd.DataFrame, strategy: str) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure()
    if {"placebo_p05", "placebo_p95"} <= set(curves.columns):
        fig.add_trace(go.Scatter(x=curves.index, y=curves["placebo_p95"], mode="lines",
                                 line={"width": 0, "color": "#b9c3cf"}, showlegend=False,
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=curves.index, y=curves["placebo_p05"], mode="lines",
                                 name="re-timed placebos, 5-95%", fill="tonexty",
                                 fillcolor="rgba(150,163,178,0.35)",
                                 line={"width": 0, "color": "#b9c3cf"}))
        fig.add_trace(go.Scatter(x=curves.index, y=curves["placebo_p50"], mode="lines",
                                 name="placebo median",
                                 line={"width": 1, "color": "#6b7785", "dash": "dot"}))
    fig.add_trace(go.Scatter(x=curves.index, y=curves["static_mix"], mode="lines",
                             name="static mix", line={"width": 1.5, "color": "#d9822b"}))
    fig.add_trace(go.Scatter(x=curves.index, y=curves["strategy"], mode="lines", name=strategy,
                             line={"width": 1.6, "color": "#1f4e9e"}))
    fig.update_layout(template="plotly_white", height=420, margin={"t": 30},
                      yaxis={"title": "value", "type": "log"},
                      legend={"orientation": "h", "y": 1.08})
    return fig


def _signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def _numbers(timing: dict[str, Any], strategy: str, buckets: list[dict[str, Any]]) -> Markup:
    diff, mix, placebo = timing["sharpe_minus_static"], timing["static_mix"], timing["placebo"]
    lo, hi = diff["ci95"]
    rows = [(f"Sharpe of {strategy}", fmt_num(timing.get("sharpe"))),
            ("Sharpe of its static mix", fmt_num(mix["sharpe"])),
            ("CAGR of its static mix", fmt_pct(mix["cagr"])),
            ("Sharpe minus static mix", f"{_signed(diff['estimate'])} "
                                        f"[{_signed(lo)}, {_signed(hi)}]"),
            ("interval", diff["method"])]
    if placebo is None:
        rows.append(("placebo test", "not run (--placebos 0)"))
    else:
        rows += [("placebo p-value", f"{fmt_num(placebo['p_value'], 3)} "
                                     f"({placebo['n']:,} placebos, seed {placebo['seed']})"),
                 ("placebos", placebo["method"])]
        q = placebo.get("sharpe_quantiles")
        if q:
            rows.append(("placebo Sharpe 5% / median / 95%",
                         " / ".join(fmt_num(q[k]) for k in ("p05", "p50", "p95"))))
    order = {b["name"]: i for i, b in enumerate(buckets)}   # short to long duration
    held = sorted(((k, v) for k, v in mix["weights"].items() if v),
                  key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    weights = ", ".join(f"{k} {fmt_pct(v, 1)}" for k, v in held)
    rows.append(("static mix weights", weights))
    body = Markup("").join(html('<tr><td><b>{}</b></td><td style="text-align:left;'
                                'white-space:normal">{}</td></tr>', k, v) for k, v in rows)
    return html('<table class="kv">{}</table>', body)


def timing_section(run: RunFolder) -> Markup | None:
    """The section, or None for a run written before timing attribution existed."""
    metrics = run.metrics
    if "timing" not in metrics and "timing_note" not in metrics:
        return None
    timing = metrics.get("timing")
    title = "Is the edge timing?"
    if timing is None:
        return section(title, html("<p>{}</p>", metrics.get("timing_note") or
                                   "No timing attribution for this run."))
    strategy = run.manifest["strategy"]["name"]
    text = timing["verdict"]
    verdict = html('<p class="verdict"><b>{}</b></p>', text[:1].upper() + text[1:])
    parts = [verdict]
    if run.timing is not None:
        parts.append(figure_html(_figure(run.timing, strategy)))
    parts.append(_numbers(timing, strategy, run.buckets))
    return section(title, *parts, note=_NOTE)
