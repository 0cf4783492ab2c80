"""``report.html``: the page that explains one run, rendered from its folder alone (no
backtest is recomputed), so ``durationbt report RUN_DIR`` can redraw any past run.

Panels whose file is missing (an older run, a universe without ^TNX) are left out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..data.calendar import gap_notes
from ..formatting import fmt_num, fmt_pct
from ..metrics import HEADLINE, METRICS
from ..regimes import MIN_SPELLS, too_few_spells
from ..runs import RunFolder, read_run_folder
from .html import (
    Markup,
    bucket_colours,
    doc_html,
    figure_html,
    grid,
    html,
    scale_switch,
    section,
    table_html,
    write_page,
)
from .regime_table import score_table
from .signal_chart import regime_shapes, signal_figure
from .timing_section import timing_section

__all__ = ["write_run_report"]

MEMBERS_SHOWN = 12    # tickers named per bucket in the legend

def _headline(run: RunFolder) -> str:
    s, b = run.metrics["strategy"], run.metrics["benchmark"]
    rows = [METRICS[k] for k in HEADLINE]
    bench_name = run.manifest["universe"]["definition"]["benchmark"]
    frame = pd.DataFrame({"strategy": [m.format(s[m.name]) for m in rows],
                          f"benchmark ({bench_name})": [m.format(b[m.name]) for m in rows]},
                         index=[m.label for m in rows])
    if "portfolio_duration" in run.metrics:
        d = run.metrics["portfolio_duration"]
        for key in ("average", "min", "max"):      # one number per cell: it fits at 1,024 px
            frame.loc[f"Portfolio duration, {key} (% per 100 bp)"] = [fmt_num(d[key]), ""]
    return table_html(frame, index_label="metric")


def _settings(run: RunFolder) -> Markup:
    m = run.manifest
    st, strat = m["settings"], m["strategy"]
    params = ", ".join(f"{k}={v}" for k, v in strat["params"].items()) or "(none)"
    pairs = [("Universe", f"{m['universe']['name']} ({m['universe']['path']})"),
             ("Strategy", f"{strat['name']} ({strat['weights_by']}, "
                          f"{strat['within_bucket']} within buckets)"),
             ("Parameters", params),
             ("Costs", f"fees {st['fees_bps']:g} bps + slippage {st['slippage_bps']:g} bps"),
             ("Schedule", "bought on the first day and held, no rebalancing"
              if strat.get("holds") else f"{st['rebalance']}; {st['timing']}"),
             ("Data", f"{st['start']} to {st['end']}; {m['data']['source']}"),
             ("Initial capital", fmt_num(st["init_cash"], 0)),
             ("Orders / costs paid", f"{fmt_num(m['engine']['orders'], 0)} / "
                                     f"{fmt_num(m['engine']['costs_paid'], 0)}"),
             ("Run", f"{m['run_id']}, created {m['created_utc']}")]
    rows = Markup("").join(html("<tr><td><b>{}</b></td><td>{}</td></tr>", k, str(v))
                           for k, v in pairs)
    doc = strat.get("description") or ""
    notes = m["data"]["warnings"] + gap_notes(m["data"]["gaps"])
    return (html('<table class="kv">{}</table>', rows)
            + (html('<div class="doc">{}</div>', doc_html(doc)) if doc else Markup(""))
            + (html('<p class="note">Data notes: {}</p>', "; ".join(notes)) if notes
               else Markup("")))


def _equity_figure(run: RunFolder):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    eq = run.equity
    bench_name = run.manifest["universe"]["definition"]["benchmark"]
    names = {"equity": run.manifest["strategy"]["name"], "benchmark": bench_name}
    colours = {"equity": "#1f4e9e", "benchmark": "#8a8f98"}
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        row_heights=[0.68, 0.32])
    for col in ("equity", "benchmark"):
        fig.add_trace(go.Scatter(x=eq.index, y=eq[col], name=names[col],
                                 line={"color": colours[col], "width": 1.5}), row=1, col=1)
        drawdown = eq[col] / eq[col].cummax() - 1.0
        fig.add_trace(go.Scatter(x=eq.index, y=drawdown, name=f"{names[col]} drawdown",
                                 line={"color": colours[col], "width": 1}, fill="tozeroy",
                                 showlegend=False), row=2, col=1)
    if run.signal is not None:
        fig.update_layout(shapes=regime_shapes(run.signal["regime"].loc[eq.index[0]:eq.index[-1]]))
    fig.update_yaxes(title_text="value", row=1, col=1)
    fig.update_yaxes(title_text="drawdown", tickformat=".0%", row=2, col=1)
    fig.update_layout(
        template="plotly_white", height=560, margin={"t": 40},
        legend={"orientation": "h", "y": 1.06},
        updatemenus=[scale_switch("linear", 1.1)])
    return fig


def _ticker_buckets(run: RunFolder) -> dict[str, str]:
    return {t: b["name"] for b in run.buckets for t in b["tickers"]}


def _weights_figure(run: RunFolder):
    import plotly.graph_objects as go

    owner = _ticker_buckets(run)
    w = run.weights
    by_bucket = w.T.groupby(lambda t: owner.get(t, "other")).sum().T
    held_other = "other" in by_bucket and by_bucket["other"].abs().max() > 0
    order = [b["name"] for b in run.buckets] + (["other"] if held_other else [])
    colours = bucket_colours(len(run.buckets)) + ["#555555"]
    # a book with shorts cannot be stacked: each bucket is its own signed line
    stacked = not (w < 0).to_numpy().any()
    fig = go.Figure()
    for i, name in enumerate(order):
        rank = next((b["rank"] for b in run.buckets if b["name"] == name), None)
        label = f"{rank} {name}" if rank is not None else name
        fig.add_trace(go.Scatter(x=w.index, y=by_bucket.get(name, 0.0), name=label, mode="lines",
                                 stackgroup="w" if stacked else None,
                                 fillcolor=colours[i] if stacked else None,
                                 line={"width": 0.5 if stacked else 1.2, "color": colours[i]}))
    if stacked:
        cash = (1.0 - w.sum(axis=1)).clip(lower=0.0)
        fig.add_trace(go.Scatter(x=w.index, y=cash, name="cash", mode="lines", stackgroup="w",
                                 line={"width": 0.5, "color": "#d9dde3"}))
    else:
        fig.add_hline(y=0, line={"color": "grey", "width": 1})
    fig.update_layout(template="plotly_white", height=420, margin={"t": 30},
                      yaxis={"tickformat": ".0%", "title": "weight",
                             **({"range": [0, 1.0]} if stacked else {})},
                      legend={"orientation": "h", "y": -0.12})
    return fig


def _exposure_figure(exposures: pd.DataFrame):
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, colour in (("long", "#1f4e9e"), ("short", "#b2182b"), ("gross", "#555555"),
                         ("net", "#7a3e9d")):
        fig.add_trace(go.Scatter(x=exposures.index, y=exposures[name], name=name, mode="lines",
                                 line={"color": colour, "width": 1.2}))
    fig.update_layout(template="plotly_white", height=320, margin={"t": 30},
                      yaxis={"tickformat": ".0%", "title": "of equity"},
                      legend={"orientation": "h", "y": -0.15})
    return fig


def _bucket_legend(run: RunFolder) -> Markup:
    """The universe's buckets as declared: duration rank, members, what they stand for,
    with the chart's colour swatch."""
    colours = bucket_colours(len(run.buckets))
    last = run.weights.iloc[-1]
    rows = []
    for colour, b in zip(colours, run.buckets, strict=True):
        held = sum(float(last.get(t, 0.0)) for t in b["tickers"])
        rows.append(html('<tr><td><span style="display:inline-block;width:10px;height:10px;'
                         'background:{};margin-right:6px"></span>{}</td><td>{}</td><td>{}</td>'
                         '<td>{}</td><td style="text-align:left;white-space:normal">{}</td></tr>',
                         colour, b["name"], b["rank"], _members(b["tickers"]),
                         fmt_pct(held, 1), b.get("description", "")))
    head = Markup("<tr><th>bucket</th><th>duration rank</th><th>members</th><th>weight on the "
                  'last day</th><th style="text-align:left">what it stands for</th></tr>')
    return html("<table><thead>{}</thead><tbody>{}</tbody></table>", head, Markup("").join(rows))


def _members(tickers: list[str], shown: int = MEMBERS_SHOWN) -> str:
    """A bucket's members for its legend row: all of them, or the first ``shown`` and how
    many more (a bucket of 500 stocks would fill the page; weights.csv has every one)."""
    if len(tickers) <= shown:
        return ", ".join(tickers)
    return f"{len(tickers):,} tickers: {', '.join(tickers[:shown])} and {len(tickers) - shown:,} more"


def _duration_figure(run: RunFolder):
    import plotly.graph_objects as go

    d = run.duration["duration"]
    fig = go.Figure(go.Scatter(x=d.index, y=d, name="portfolio duration",
                               line={"color": "#7a3e9d", "width": 1.4}))
    fig.add_hline(y=0, line={"color": "grey", "width": 1})
    fig.update_layout(template="plotly_white", height=320, margin={"t": 30},
                      yaxis_title="% per 100 bp of the 10y yield")
    return fig


def _trading(run: RunFolder) -> Markup:
    """Turnover of each rebalance (traded notional over the portfolio's value that day,
    both sides) as bars, and the largest fills by notional."""
    import plotly.graph_objects as go

    orders = run.orders
    per_day = orders.groupby(level=0)["notional"].sum()
    turnover = per_day / run.equity["equity"].reindex(per_day.index)
    fig = go.Figure(go.Bar(x=turnover.index, y=turnover, name="turnover",
                           marker={"color": "#1f4e9e"}))
    fig.update_layout(template="plotly_white", height=280, margin={"t": 20},
                      yaxis={"tickformat": ".0%", "title": "traded / value"}, bargap=0)
    largest = orders.nlargest(10, "notional").copy()
    largest["costs"] = largest["fees"] + largest["slippage"]
    largest.index = [d.date() for d in largest.index]
    table = largest[["ticker", "side", "quantity", "price", "notional", "costs"]].rename(
        columns={"costs": "fees + slippage"})
    money = {"quantity": lambda v: fmt_num(v, 2), "price": lambda v: fmt_num(v, 2),
             "notional": lambda v: fmt_num(v, 0), "fees + slippage": lambda v: fmt_num(v, 0)}
    return section(
        "Trading", figure_html(fig),
        html('<p class="note">{} fills on {} days, {} traded, {} paid in fees and slippage '
             "(every fill is in orders.csv). The ten largest:</p>", f"{len(orders):,}",
             f"{len(per_day):,}", fmt_num(orders["notional"].sum(), 0),
             fmt_num((orders["fees"] + orders["slippage"]).sum(), 0)),
        table_html(table, money, index_label="date"),
        note="Turnover of each rebalance: traded notional (buys plus sells) over the "
             "portfolio's value that day.")


def _series_name(run: RunFolder, key: object) -> str:
    names = {"strategy": run.manifest["strategy"]["name"],
             "benchmark": run.manifest["universe"]["definition"]["benchmark"]}
    return names.get(str(key), str(key).removeprefix("bucket:"))


def _spread_table(run: RunFolder, spread: pd.DataFrame) -> Markup:
    fmt = METRICS["cagr"].format
    rows = {}
    for key, row in spread.iterrows():
        few = too_few_spells(min(row["spells_scarce"], row["spells_abundant"]))
        rows[_series_name(run, key)] = {
            "scarce − abundant, a year": "too few spells" if few else fmt(row["estimate"]),
            "95% interval": "" if few else f"{fmt(row['ci_low'])} to {fmt(row['ci_high'])}",
            "Newey-West t": "" if few else f"{row['t']:+.2f}",
            "p": "" if few else fmt_num(row["p_value"], 3),
            "days (scarce / abundant)": f"{fmt_num(row['days_scarce'], 0)} / "
                                        f"{fmt_num(row['days_abundant'], 0)}",
            "spells (scarce / abundant)": f"{fmt_num(row['spells_scarce'], 0)} / "
                                          f"{fmt_num(row['spells_abundant'], 0)}"}
    return table_html(pd.DataFrame.from_dict(rows, orient="index"), index_label="series")


def _liquidity_table(liquidity: pd.DataFrame) -> Markup:
    rows = {}
    for name, row in liquidity.iterrows():
        own = row["own_components"] or ""
        rows[str(name)] = {
            "liquidity beta (s.e.)": f"{row['beta']:+.2f} ({row['se']:.2f})",
            "its own components": own or "none",
            "without them (s.e.)": (f"{row['beta_without_own']:+.2f} ({row['se_without_own']:.2f})"
                                    if own else "same"),
            "check": "collapses without its own components" if row["collapsed"] else ""}
    return table_html(pd.DataFrame.from_dict(rows, orient="index"), index_label="bucket")


def _regime_tables(run: RunFolder) -> list[Markup]:
    tables = run.regimes
    scores = tables["scores"]
    rf = run.metrics.get("conventions", {}).get("risk_free_ticker")
    methods = tables.get("methods")
    parts = []
    for field, title in (("sharpe", f"Sharpe (excess of {rf or 'a zero rate'})"),
                         ("mean_excess", "Mean excess return, annualised"),
                         ("cagr", "Annualised return (CAGR)"), ("volatility", "Volatility")):
        if field in scores:
            fmt = METRICS["sharpe" if field == "sharpe" else "cagr"].format
            short = fmt if field == "sharpe" else (lambda v: fmt_pct(v, 1))
            parts.append(html("<h3>{}</h3>{}", title, score_table(
                scores, field, fmt, short, rename=lambda x: _series_name(run, x))))
    time = tables["time"].rename(columns={"avg_spell_days": "avg spell (days)"})
    time_html = table_html(time, {"share": fmt_pct, "days": lambda v: fmt_num(v, 0),
                                  "spells": lambda v: fmt_num(v, 0),
                                  "avg spell (days)": lambda v: fmt_num(v, 0)},
                           index_label="regime")
    trans_html = table_html(tables["transitions"], default=lambda v: fmt_pct(v, 2),
                            index_label="today \u2192 tomorrow")
    contribution = tables["contribution"]
    contrib_html = table_html(contribution, default=fmt_pct, index_label="bucket",
                              signed=list(contribution.columns))
    method = (f" Intervals: {methods.loc['scores', 'method']}." if methods is not None
              else " (This run was written before regime intervals existed.)")
    out = [section("Scores by regime", *parts,
                   note="On the days that followed a close in each regime (no signal: the "
                        "composite had no value); buckets are equal-weight baskets of their "
                        "members. A regime comes in spells lasting months, so spells, not "
                        f"days, are the observations: a cell resting on fewer than "
                        f"{MIN_SPELLS} spells reads 'too few spells'." + method)]
    if "spread" in tables:
        spread = tables["spread"]
        lags = fmt_num(spread["lags"].max(), 0) if "lags" in spread else "automatic"
        out.append(section("Scarce minus abundant", _spread_table(run, spread),
                           note="Mean daily excess return on the days after a scarce close "
                                "minus that after an abundant close, times 252, with a "
                                f"Newey-West (HAC) t-statistic (Bartlett kernel, {lags} lags) and "
                                "a normal 95% interval; either side below "
                                f"{MIN_SPELLS} spells reads 'too few spells'."))
    if "liquidity" in tables:
        out.append(section("Liquidity beta of each bucket, with and without its own "
                           "components", _liquidity_table(tables["liquidity"]),
                           note="% weekly return per one-z rise of the composite, controlling "
                                "for the benchmark (Newey-West s.e.). A signal built partly "
                                "from a bucket's own prices 'predicts' that bucket by "
                                "construction, so beside each beta is the same beta against "
                                "the composite without the components whose declared inputs "
                                "are the bucket's tickers. It collapses when it is significant "
                                "(|t| >= 2) with them and under half its size, or of the other "
                                "sign, without."))
    out += [
        section("Bucket contribution by regime", contrib_html,
                note="Annualised arithmetic contribution (weight at the previous close x asset "
                     "return, before costs) of each bucket to the strategy's return."),
        grid(section("Time in each regime", time_html),
             section("Regime transition probabilities (daily)", trans_html)),
    ]
    return out


def write_run_report(path: Path | str | RunFolder, page: Path | None = None,
                     link_tearsheet: bool | None = None,
                     tables: dict[str, Any] | None = None) -> Path:
    """Render ``report.html`` (or ``page``) for the run folder ``path`` from its files (or
    the folder as already read); returns the page. ``link_tearsheet``: whether to link
    tearsheet.html (default: if the folder has one; a run drawing it in parallel says so
    up front). ``tables``: the CSV files' cells as the run just wrote them
    (``runs.read_run_folder``)."""
    run = path if isinstance(path, RunFolder) else read_run_folder(Path(path), tables)
    m = run.manifest
    strategy = m["strategy"]["name"]
    has_tearsheet = (run.path / "tearsheet.html").is_file() if link_tearsheet is None \
        else link_tearsheet
    link = Markup(' &middot; <a href="tearsheet.html">quantstats tearsheet</a>') \
        if has_tearsheet else Markup("")
    subtitle = html("{} &middot; {} to {} &middot; {} rebalancing{}", m["universe"]["name"],
                    m["settings"]["start"], m["settings"]["end"], m["settings"]["rebalance"],
                    link)
    body = [grid(section("Headline: strategy vs benchmark", _headline(run)),
                 section("Run settings", _settings(run))),
            section("Equity and drawdown", figure_html(_equity_figure(run)),
                    note="Shaded: scarce (red) and abundant (green) regimes. Switch the value "
                         "axis between linear and log at the top right.")]
    if run.signal is not None:
        comps = [c for c in run.signal.columns if c not in ("composite", "regime")]
        cfg = m.get("signal", {}).get("config", {})
        thresholds = (cfg.get("enter_scarce", 0.5), cfg.get("enter_abundant", -0.5))
        body.append(section("Liquidity-scarcity signal", figure_html(
            signal_figure(run.signal, comps, thresholds)),
            note="Composite of standardised components (trailing z-scores, past data only); "
                 "dashed lines are the thresholds that enter a regime. Below, each component "
                 "on its own panel (z-score, clipped at ±3)."))
    timing = timing_section(run)
    if timing is not None:
        body.append(timing)
    body.append(section("Bucket weights", figure_html(_weights_figure(run)), _bucket_legend(run),
                        note="End-of-day weights by bucket (the sum of its members' weights; "
                             "weights.csv has each asset), stacked short duration (blue, "
                             "bottom) to long duration (red, top); the rest is cash."))
    exposures = run.exposures
    if exposures is not None and (exposures["short"].max() > 0 or exposures["net"].max() > 1):
        body.append(section("Exposures", figure_html(_exposure_figure(exposures)),
                            note="Daily long, short, gross (long + short) and net (long - short) "
                                 "exposure as a fraction of equity, the cash asset left out "
                                 "(where idle capital and any leverage loan sit)."))
    if run.orders is not None and len(run.orders):
        body.append(_trading(run))
    if run.duration is not None:
        body.append(section("Portfolio duration", figure_html(_duration_figure(run)),
                            note="Weighted sum of each holding's 104-week rolling empirical "
                                 "duration (sensitivity to the 10-year yield), signed: a short "
                                 "counts against the longs, so a duration-neutral spread sits "
                                 "near 0."))
    if run.regimes is not None:
        body.extend(_regime_tables(run))
    footer = html("durationbt {} &middot; run {} &middot; data fingerprint {}",
                  m["packages"].get("durationbt", ""), m["run_id"],
                  (m["data"]["fingerprint"] or "not recorded")[:12])
    return write_page(page or run.path / "report.html", f"{strategy} on {m['universe']['name']}",
                      subtitle, body, footer)
