"""``compare.html``: the leaderboard, every equity curve on one chart, and Sharpe by regime,
in the same page shell as the run report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..compare import SETTING_COLUMNS
from ..formatting import fmt_pct
from ..metrics import METRICS, best_first, formats
from ..regimes import MIN_SPELLS
from ..signals.composite import REGIMES
from .html import Markup, figure_html, html, scale_switch, section, table_html, write_page
from .regime_table import score_table

__all__ = ["write_compare_page"]


def _curves_figure(equity: pd.DataFrame, benchmarks: Sequence[str]):
    import plotly.graph_objects as go
    from plotly.colors import qualitative
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        row_heights=[0.7, 0.3])
    palette = qualitative.D3
    dashes = ("dot", "dash", "dashdot", "longdash")
    for k, name in enumerate(equity.columns):
        series = equity[name].dropna()
        growth = series / series.iloc[0]
        line = {"width": 1.3, "color": palette[k % len(palette)]}
        if name in benchmarks:   # grey, one dash per benchmark row
            line.update(color="#8a8f98", dash=dashes[list(benchmarks).index(name) % len(dashes)])
        fig.add_trace(go.Scatter(x=growth.index, y=growth, name=name, legendgroup=name, line=line),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=growth.index, y=growth / growth.cummax() - 1, name=name,
                                 legendgroup=name, showlegend=False, line=line), row=2, col=1)
    fig.update_yaxes(title_text="growth of 1", type="log", row=1, col=1)
    fig.update_yaxes(title_text="drawdown", tickformat=".0%", row=2, col=1)
    fig.update_layout(
        template="plotly_white", height=620, margin={"t": 40}, legend={"orientation": "h", "y": -0.1},
        updatemenus=[scale_switch("log", 1.08)])
    return fig


def _regime_figure(scores: pd.DataFrame):
    import plotly.graph_objects as go

    from .signal_chart import REGIME_COLOURS

    colours = {**{k: v.replace("0.15", "0.8") for k, v in REGIME_COLOURS.items()},
               "neutral": "rgba(120, 120, 120, 0.8)"}
    fig = go.Figure()
    for regime in REGIMES:
        sub = scores.xs(regime, level="regime")
        error = None
        if "sharpe_ci_low" in sub:   # runs written before intervals have none
            error = {"type": "data", "symmetric": False, "color": "#444", "thickness": 1,
                     "array": (sub["sharpe_ci_high"] - sub["sharpe"]).tolist(),
                     "arrayminus": (sub["sharpe"] - sub["sharpe_ci_low"]).tolist()}
        fig.add_trace(go.Bar(x=list(sub.index), y=sub["sharpe"], name=regime,
                             marker_color=colours[regime], error_y=error))
    fig.update_layout(template="plotly_white", barmode="group", height=380, margin={"t": 30},
                      yaxis_title="Sharpe within regime (95% interval)",
                      legend={"orientation": "h", "y": 1.1})
    return fig


# the leaderboard's columns in two tables that each fit a card at 1,024 px
_SCORES = ("total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar",
           "information_ratio")


def _intervals(board: pd.DataFrame) -> pd.DataFrame:
    """Each bootstrap interval as one "low to high" cell, turnover and duration."""
    def span(low: str, high: str) -> pd.Series:
        fmt = METRICS[low].format
        return pd.Series([f"{fmt(a)} to {fmt(b)}" if a == a and b == b else "n/a"
                          for a, b in zip(board[low], board[high], strict=True)], index=board.index)

    out = pd.DataFrame({"sharpe_ci": span("sharpe_ci_low", "sharpe_ci_high"),
                        "sharpe_vs_benchmark_ci": span("sharpe_vs_benchmark_ci_low",
                                                       "sharpe_vs_benchmark_ci_high")})
    for key in ("turnover", "avg_duration"):
        out[key] = board[key].map(METRICS[key].format)
    return out


def _regime_table(scores: pd.DataFrame) -> Markup:
    """Strategies by regime: Sharpe, then CAGR, each over its interval."""
    ordered = scores.sort_index(level=0, sort_remaining=False)
    return (html("<h3>Sharpe</h3>") + score_table(ordered, "sharpe", METRICS["sharpe"].format,
                                                  index_label="strategy")
            + html("<h3>Annualised return (CAGR)</h3>")
            + score_table(ordered, "cagr", METRICS["cagr"].format, lambda v: fmt_pct(v, 1),
                          index_label="strategy"))


def _baseline_section(board: pd.DataFrame, summary) -> Markup:
    """Each row against the baseline, and the SPA verdict on the whole set."""
    fmt = METRICS["sharpe"].format
    rows = {}
    for name, row in board.iterrows():
        low, high = row["sharpe_vs_baseline_ci_low"], row["sharpe_vs_baseline_ci_high"]
        rows[name] = {
            "sharpe": fmt(row["sharpe"]),
            "sharpe_vs_baseline": "baseline" if name == summary.name else fmt(
                row["sharpe_vs_baseline"]),
            "95% interval": "" if low != low else f"{fmt(low)} to {fmt(high)}",
            "sharpe_vs_baseline_p": METRICS["sharpe_vs_baseline_p"].format(
                row["sharpe_vs_baseline_p"]),
            "dsr_vs_baseline": METRICS["dsr_vs_baseline"].format(row["dsr_vs_baseline"])}
    return section(f"Against the baseline: {summary.name}",
                   table_html(pd.DataFrame.from_dict(rows, orient="index"),
                              index_label="strategy"),
                   html('<p class="note"><b>{}</b></p>', summary.spa_sentence()),
                   note=f"Sharpe difference: {summary.method}. Deflated Sharpe vs baseline: "
                        f"{summary.dsr_method}.")


def write_compare_page(path: Path, comparison, subtitle: Markup | str) -> Path:
    """Write the page for a ``durationbt.compare.Comparison``."""
    board = best_first(comparison.leaderboard, "sharpe")
    body = [section("Leaderboard", table_html(board[list(_SCORES)], formats(_SCORES),
                                              sortable=True, index_label="strategy",
                                              signed=["cagr", "sharpe", "information_ratio"]),
                    note="Click a column to sort. Daily returns, 252 days a year; Sharpe and "
                         "Sortino on returns in excess of the risk-free rate (below); "
                         "information ratio vs the benchmark, annualised."),
            section("Confidence and trading", table_html(
                _intervals(board), sortable=True, index_label="strategy"),
                    note="95% stationary-bootstrap intervals (21-day blocks) of the Sharpe ratio "
                         "and of its difference to the benchmark's; turnover one-way per year; "
                         "average duration in % per 100 bp of the 10-year yield."),
            section("What each row was made on", table_html(
                board[list(SETTING_COLUMNS)], sortable=True, index_label="strategy"),
                    note="Universe, benchmark, cash asset, period, schedule, costs, risk-free "
                         "rate and uninvested-weight convention of each row (a benchmark row is "
                         "bought and held: no schedule, costs or idle cash). Rows that differ "
                         "are ranked only with --allow-mixed."),
            section("Equity curves and drawdowns", figure_html(
                _curves_figure(comparison.equity, comparison.benchmarks)),
                    note="Growth of 1 from each curve's first day.")]
    if comparison.baseline is not None:
        body.insert(2, _baseline_section(board, comparison.baseline))
    scores = comparison.regime_scores
    if len(scores):
        body.append(section("Scores by regime", figure_html(_regime_figure(scores)),
                            _regime_table(scores),
                            note="Each strategy's Sharpe (on returns in excess of the risk-free "
                                 "return) and annualised return on the days that followed a "
                                 "close in each liquidity regime, with 95% stationary-bootstrap "
                                 "intervals (mean block: the regime's mean spell) and the "
                                 f"regime's spells; a cell on fewer than {MIN_SPELLS} spells "
                                 "reads 'too few spells' (runs written before intervals show "
                                 "the bare value)."))
    sources = "; ".join(f"{e.label}: {e.source}" for e in comparison.entries)
    return write_page(path, "durationbt compare", subtitle, body, f"Sources: {sources}")
