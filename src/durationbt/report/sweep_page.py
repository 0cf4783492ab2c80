"""``sweep.html``: ranked combinations, a heatmap over two parameters, the honesty
statistics of the best combination, in the same page shell as the run report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..formatting import fmt_param, fmt_pct
from ..metrics import METRICS, formats, label, metric_of
from .html import figure_html, grid, html, section, table_html, write_page

__all__ = ["write_sweep_page", "heatmap_frame", "verdict_sentence", "DIVERGING"]

TOP_ROWS = 50


def heatmap_frame(table: pd.DataFrame, x: str, y: str, metric: str) -> pd.DataFrame:
    """``metric`` over two parameters, the best value (in the metric's declared direction)
    across any other swept parameters."""
    pivot = table.pivot_table(index=y, columns=x, values=metric,
                              aggfunc="min" if METRICS[metric].lower_is_better else "max")
    return pivot.sort_index().sort_index(axis=1)


def verdict_sentence(stats: dict, n_trials: int) -> str:
    """The sweep's verdict in one plain sentence, from the deflated Sharpe ratio (is the
    best combination's edge more than the luck of trying ``n_trials``?) and the probability
    of backtest overfitting (does picking the in-sample winner carry out of sample?)."""
    dsr, pbo, psr = stats.get("dsr"), stats.get("pbo"), stats.get("psr")
    if dsr is None or dsr != dsr:  # a single distinct trial: nothing was selected
        if psr is None or psr != psr:
            return "Too few days to judge this strategy."
        return (f"One distinct set of weights, so nothing was selected: the chance its Sharpe "
                f"ratio beats zero is {fmt_pct(psr, 0)}.")
    if dsr >= 0.95:
        edge = "The best combination's Sharpe ratio is very likely more than luck"
    elif dsr >= 0.5:
        edge = "The best combination's Sharpe ratio may be luck"
    else:
        edge = "The best combination's Sharpe ratio is probably luck"
    edge += f" (deflated Sharpe {fmt_pct(dsr, 0)} after {n_trials} distinct trials)"
    if pbo is None or pbo != pbo:
        return edge + "."
    if pbo <= 0.25:
        choice = "and choosing the in-sample winner usually holds up out of sample"
    elif pbo < 0.6:
        choice = "but choosing the in-sample winner is a coin toss out of sample"
    else:
        choice = "but the in-sample winner usually lands in the bottom half out of sample"
    if dsr >= 0.95 and pbo <= 0.25:
        advice = "the chosen parameters matter"
    elif dsr >= 0.95:
        advice = "trust the strategy more than the chosen parameters"
    else:
        advice = "do not trust these parameters"
    return f"{edge}, {choice} (PBO {fmt_pct(pbo, 0)}): {advice}."


# ColorBrewer RdBu, colour-blind safe: worse red, middle white, better blue
DIVERGING = [[0.0, "#b2182b"], [0.25, "#ef8a62"], [0.5, "#f7f7f7"], [0.75, "#67a9cf"],
             [1.0, "#2166ac"]]
_MARKS = {"chosen": {"symbol": "circle-open", "size": 34, "line": {"width": 3},
                     "color": "#111111"},
          "defaults": {"symbol": "square-open", "size": 48, "line": {"width": 3},
                       "color": "#111111"}}


def _points(result, defaults: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The chosen (best) combination and the strategy's defaults, by parameter."""
    return {"chosen": dict(result.best), "defaults": dict(defaults)}


def _heatmap(table: pd.DataFrame, swept: list[str], metric: str, points: dict[str, dict]):
    """The metric over the first two swept parameters (a bar per value over one), colours
    from a colour-blind-safe diverging scale, the chosen combination and the defaults
    marked where they lie on the grid."""
    import plotly.graph_objects as go

    lower_is_better = METRICS[metric].lower_is_better
    if len(swept) >= 2:
        x, y = swept[0], swept[1]
        grid = heatmap_frame(table, x, y, metric)
        xs, ys = [fmt_param(v) for v in grid.columns], [fmt_param(v) for v in grid.index]
        fig = go.Figure(go.Heatmap(z=grid.to_numpy(), x=xs, y=ys, colorscale=DIVERGING,
                                   reversescale=lower_is_better, colorbar={"title": label(metric)},
                                   text=[[f"{v:.3g}" for v in row] for row in grid.to_numpy()],
                                   texttemplate="%{text}", name=label(metric)))
        for name, where in points.items():
            px, py = fmt_param(where.get(x)), fmt_param(where.get(y))
            if px in xs and py in ys:
                fig.add_trace(go.Scatter(x=[px], y=[py], mode="markers",
                                         name="chosen (best)" if name == "chosen" else name,
                                         marker=_MARKS[name], hoverinfo="name"))
        fig.update_layout(xaxis_title=x, yaxis_title=y, xaxis_type="category",
                          yaxis_type="category")
    else:
        x = swept[0]
        best = table.groupby(x)[metric].agg("min" if lower_is_better else "max")
        xs = [fmt_param(v) for v in best.index]
        tags = [" + ".join(n for n, where in points.items() if fmt_param(where.get(x)) == v)
                for v in xs]
        fig = go.Figure(go.Bar(x=xs, y=best.to_numpy(), text=tags, textposition="outside",
                               marker={"color": ["#2166ac" if t else "#92c5de" for t in tags]}))
        fig.update_layout(xaxis_title=x, yaxis_title=label(metric), xaxis_type="category")
    fig.update_layout(template="plotly_white", height=470, margin={"t": 50},
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0})
    return fig


def _grid_note(swept: list[str], points: dict[str, dict]) -> str:
    """What the heatmap shows and where the two marked points are."""
    shown = swept[:2]
    where = {name: ", ".join(f"{k}={fmt_param(p.get(k))}" for k in shown)
             for name, p in points.items()}
    marks = ("Circle: the chosen combination (the best, " + where["chosen"] + "); square: the "
             "strategy's defaults (" + where["defaults"] + "), shown where they lie on the grid")
    if len(swept) < 2:
        marks = (f"Labelled: the chosen value ({where['chosen']}) and the default "
                 f"({where['defaults']}), where on the grid")
    return (f"Best value across any other swept parameters"
            f"{' (' + ', '.join(swept[2:]) + ')' if len(swept) > 2 else ''}; a colour-blind-safe "
            f"scale from worse (red) to better (blue). {marks}.")


def _best_figure(best: pd.Series, benchmark: pd.Series | None, label: str):
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=best.index, y=best / best.iloc[0], name=label,
                               line={"color": "#1f4e9e", "width": 1.5}))
    if benchmark is not None:
        fig.add_trace(go.Scatter(x=benchmark.index, y=benchmark / benchmark.iloc[0],
                                 name=benchmark.name, line={"color": "#8a8f98", "dash": "dot"}))
    fig.update_layout(template="plotly_white", height=380, margin={"t": 30}, yaxis_type="log",
                      yaxis_title="growth of 1", legend={"orientation": "h", "y": 1.1})
    return fig


def write_sweep_page(path: Path, result, summary: dict, benchmark: pd.Series | None,
                     defaults: dict[str, Any] | None = None) -> Path:
    """Write the page for a ``durationbt.sweep.SweepResult`` and its ``summary.json``;
    ``defaults``: the strategy's declared parameter values, marked on the grid."""
    swept = [k for k, v in result.grid.items() if len(v) > 1]
    fixed = {k: v[0] for k, v in result.grid.items() if len(v) == 1}
    points = _points(result, defaults or {})
    stats = result.stats
    best_label = ", ".join(f"{k}={fmt_param(v)}" for k, v in result.best.items())
    facts = pd.DataFrame({"value": [
        f"{result.n_combos} ({result.n_trials} distinct target sets)",
        best_label, METRICS["sharpe"].format(stats["best_sharpe"]), fmt_pct(stats["psr"]),
        fmt_pct(stats["dsr"]), fmt_pct(stats["pbo"]),
    ]}, index=["combinations (trials)", "best by " + label(result.metric), "best Sharpe",
               "probabilistic Sharpe (vs 0)", "deflated Sharpe (vs best of trials)",
               "probability of backtest overfitting"])
    boot = summary.get("bootstrap", {})
    for key, row, fmt in (("sharpe", "Sharpe 95% CI", METRICS["sharpe"].format),
                          ("cagr", "CAGR 95% CI", METRICS["cagr"].format),
                          ("sharpe_minus_benchmark", "Sharpe - benchmark 95% CI",
                           METRICS["sharpe"].format)):
        if key in boot:
            est, low, high = boot[key]
            facts.loc[row] = f"{fmt(est)} [{fmt(low)}, {fmt(high)}]"
    # the swept parameters and the scores; the trial number and fixed values are in sweep.csv
    shown = [*swept, *(c for c in result.table.columns if metric_of(c) is not None)]
    top = result.table[shown].head(TOP_ROWS)
    top = top.set_index(pd.RangeIndex(1, len(top) + 1, name="rank"))
    grid_chart = (section(f"{label(result.metric)} over the grid", figure_html(
        _heatmap(result.table, swept, result.metric, points)),
        note=_grid_note(swept, points)) if swept else None)
    verdict = section("Verdict", html("<p><b>{}</b></p>", verdict_sentence(stats, result.n_trials)),
                  table_html(facts, index_label="", wrap=True),
                  note="Deflated Sharpe: the probability that the best combination's Sharpe beats "
                       "what the best of this many unskilled trials would show. PBO: how often the "
                       "in-sample winner ranks below the median out of sample (CSCV, "
                       f"{int(stats['pbo_splits'])} blocks). Bootstrap: stationary, 21-day blocks.")
    fixed_note = ("; fixed: " + ", ".join(f"{k}={fmt_param(v)}" for k, v in fixed.items())
                  if fixed else "")
    body = [
        grid(*[card for card in (verdict, grid_chart) if card is not None], wide=True),
        section("Best combination vs benchmark", figure_html(
            _best_figure(result.best_equity, benchmark, best_label))),
        section(f"Top {len(top)} of {len(result.table)} combinations", table_html(
            top, {**formats(top.columns), **{k: fmt_param for k in swept}},
            sortable=True, signed=["cagr", "sharpe"]),
            note=f"Every combination, with its trial number, is in sweep.csv{fixed_note}."),
    ]
    subtitle = html("{} &middot; {} to {} &middot; ranked by {}", result.strategy,
                    summary["settings"]["start"], summary["settings"]["end"], result.metric)
    return write_page(path, f"Sweep of {result.strategy}", subtitle, body)
