"""The quantstats HTML tearsheet, strategy vs benchmark, made to work offline."""

from __future__ import annotations

import contextlib
import html
import logging
import re
import warnings
from pathlib import Path

import pandas as pd

from ..metrics import PERIODS_PER_YEAR

__all__ = ["write_tearsheet", "write_run_tearsheet", "warm_up", "worst_drawdowns",
           "drawdown_details", "DRAWDOWN_DETAILS_OF"]

# quantstats links a favicon on a remote host; offline it is a failed request, so drop it
_REMOTE_FAVICON = re.compile(r'\s*<link[^>]+rel="shortcut icon"[^>]*>', re.IGNORECASE)
# its template calls save() on load, a function it only defines in browser-download mode:
# written to a file, the page throws "save is not defined" (found by the browser test)
_UNDEFINED_ONLOAD = re.compile(r'<body\s+onload="save\(\)"\s*>', re.IGNORECASE)
# quantstats labels "CAGR﹪" with U+FE6A, a glyph most fonts lack (drawn as a box)
_SMALL_PERCENT = "\ufe6a"
# where the explanation of its numbers goes: just after the page's first heading
_FIRST_HEADING_END = re.compile(r"</h1>", re.IGNORECASE)

_CONVENTIONS_NOTE = (
    '<p style="background:#fff7e0;border:1px solid #e0c56e;padding:8px 12px;font-size:13px">'
    "Total return, CAGR, volatility and drawdowns here equal durationbt's "
    "<code>metrics.json</code> (every day of the run, the initial purchase's costs included). "
    "Sharpe, Sortino and the other ratios on this page are quantstats' own: with a zero "
    "risk-free rate and, for the information ratio, not annualised. durationbt's scores "
    "(report.html, <code>metrics.json</code>, compare) are on returns in excess of {rf}, so "
    "they differ.</p>")


# quantstats' "Worst 10 Drawdowns" table dates a drawdown still open on the last day as
# recovered that day; it is replaced by durationbt's own (``worst_drawdowns``)
_DRAWDOWNS = re.compile(r'<div id="ddinfo">.*?</table>\s*</div>', re.DOTALL)
# its stylesheet pulls the monthly heatmap 1.5rem up into a box that hides overflow, which
# cut the top of the chart's title (durationbt's chart has no blank margin to lose)
_OUR_STYLE = "<style>#left #monthly_heatmap svg{margin:0}</style>"


def worst_drawdowns(equity: pd.Series, n: int = 10) -> pd.DataFrame:
    """The ``n`` deepest drawdowns of a value series, deepest first: ``started`` (the first
    day below the previous peak), ``trough``, ``recovered`` (the first day back at that
    peak; None while the drawdown is still open on the last day), ``drawdown`` (trough over
    peak minus 1) and ``days`` (calendar days from the first to the last day below the
    peak, both counted, as quantstats counts them)."""
    peak = equity.cummax()
    below = equity < peak
    spell = (~below).cumsum()[below]
    rows = []
    for _, days in equity[below].groupby(spell):
        start, last, trough = days.index[0], days.index[-1], days.idxmin()
        later = equity.index[equity.index > last]
        recovered = later[0] if len(later) else None
        rows.append({"started": start, "trough": trough, "recovered": recovered,
                     "drawdown": float(days.min() / peak[trough] - 1.0),
                     "days": (last - start).days + 1})
    frame = pd.DataFrame(rows, columns=["started", "trough", "recovered", "drawdown", "days"])
    return frame.sort_values("drawdown", kind="stable").head(n).reset_index(drop=True)


def _drawdowns_html(equity: pd.Series) -> str:
    """The drawdowns table in quantstats' place and layout (its stylesheet adds the %)."""
    table = worst_drawdowns(equity)
    rows = "".join(
        f"<tr><td>{r.started:%Y-%m-%d}</td><td>"
        + ("open" if pd.isna(r.recovered) else f"{r.recovered:%Y-%m-%d}")
        + f"</td><td>{100 * r.drawdown:.2f}</td><td>{r.days}</td></tr>"
        for r in table.itertuples())
    last = equity.index[-1]
    open_note = ("<p style=\"font-size:12px;color:#555\">open: still below its peak on the "
                 f"last day ({last:%Y-%m-%d}). Recovered: the first day back at the peak.</p>"
                 if table["recovered"].isna().any() else "")
    return ('<div id="ddinfo"><h3>Worst 10 Drawdowns</h3><table><thead><tr><th>Started</th>'
            "<th>Recovered</th><th>Drawdown</th><th>Days</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>{open_note}</div>")


def warm_up() -> None:
    """Import matplotlib (Agg) and quantstats ahead of time: what the tearsheet worker
    process does while the run it serves is still computing."""
    import matplotlib

    matplotlib.use("Agg", force=True)   # the worker's own process: no user backend to keep
    import quantstats  # noqa: F401


def write_tearsheet(path: Path, equity: pd.Series, benchmark: pd.Series, *, title: str,
                    benchmark_name: str, risk_free: str = "a zero rate") -> Path:
    """Render quantstats' full HTML report to ``path`` (SVG charts inline, no CDN), every
    day of the run included (quantstats would otherwise start both series at the later of
    their first non-zero returns, dropping the day the strategy paid its initial costs),
    with a note saying which of its numbers are durationbt's and which are its own."""
    import matplotlib

    returns = equity.pct_change().iloc[1:].rename("Strategy")
    bench = benchmark.pct_change().iloc[1:].rename(html.escape(benchmark_name))
    if not returns.std() > 0:
        return _flat_page(path, title)
    # quantstats draws with pyplot: borrow the Agg backend (no screen on servers and CI)
    # and quiet its font lookups, then give a notebook user's backend and logger back
    backend = matplotlib.get_backend()
    fonts = logging.getLogger("matplotlib.font_manager")
    level = fonts.level
    matplotlib.use("Agg", force=True)
    fonts.setLevel(logging.ERROR)
    try:
        import quantstats as qs

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"(quantstats|matplotlib|seaborn)(\..*)?")
            warnings.filterwarnings("ignore", category=RuntimeWarning)
            # quantstats inserts the title into the page unescaped: escape it here, so a
            # universe or strategy name carrying markup stays text
            with _our_charts(qs, returns, bench):
                qs.reports.html(returns, benchmark=bench, output=str(path),
                                title=html.escape(title), periods_per_year=PERIODS_PER_YEAR, figfmt="svg",
                                download_filename=path.name, match_dates=False)
        page = path.read_text(encoding="utf-8")
        page = _UNDEFINED_ONLOAD.sub("<body>", _REMOTE_FAVICON.sub("", page))
        page = page.replace(_SMALL_PERCENT, "%")
    finally:
        fonts.setLevel(level)
        if backend.lower() != "agg":
            with contextlib.suppress(Exception):   # an interactive backend without a screen
                matplotlib.use(backend, force=True)
    note = _CONVENTIONS_NOTE.format(rf=html.escape(risk_free))
    page = _FIRST_HEADING_END.sub(lambda m: m.group(0) + note, page, count=1)
    page = _DRAWDOWNS.sub(lambda _: _drawdowns_html(equity), page, count=1)
    page = page.replace("</head>", _OUR_STYLE + "</head>", 1)
    path.write_text(page, encoding="utf-8")
    return path


@contextlib.contextmanager
def _our_charts(qs, returns: pd.Series, benchmark: pd.Series):
    """While quantstats renders, its yearly-returns chart and monthly heatmap are drawn by
    durationbt's versions (below) into the same slots: quantstats' own would be drawn only
    to be thrown away; and its drawdown table is made by ``drawdown_details`` (the same
    table, faster). Its functions are put back afterwards."""
    import matplotlib.pyplot as plt

    def drawn_by(make):
        def draw(*args, savefig=None, **kwargs):
            fig = make()
            fig.savefig(savefig["fname"], format=savefig.get("format", "svg"),
                        bbox_inches="tight")
            plt.close(fig)
        return draw

    plots, stats = qs.plots, qs.stats
    saved = plots.yearly_returns, plots.monthly_heatmap, stats.drawdown_details
    plots.yearly_returns = drawn_by(lambda: _yearly_figure(returns, benchmark))
    plots.monthly_heatmap = drawn_by(lambda: _monthly_figure(returns))
    if qs.__version__ in DRAWDOWN_DETAILS_OF:
        stats.drawdown_details = lambda drawdown: drawdown_details(drawdown, saved[2])
    try:
        yield
    finally:
        plots.yearly_returns, plots.monthly_heatmap, stats.drawdown_details = saved


#: quantstats versions whose ``stats.drawdown_details`` ``drawdown_details`` reproduces
DRAWDOWN_DETAILS_OF = ("0.0.86",)
_DETAILS = ("start", "valley", "end", "days", "max drawdown", "99% max drawdown")


def drawdown_details(drawdown, theirs):
    """quantstats' ``stats.drawdown_details`` (``theirs``), the same table: each drawdown's
    numbers from a numpy slice instead of pandas ones. Its per-drawdown slicing was half the
    tearsheet's time at 30 years (a quiet strategy has thousands of drawdowns). A series
    with a gap (NaN), unsorted dates or unpaired ends goes to ``theirs``."""
    import numpy as np

    if isinstance(drawdown, pd.DataFrame):
        from quantstats._compat import safe_concat

        return safe_concat({c: drawdown_details(drawdown[c], theirs) for c in drawdown.columns},
                           axis=1)
    no_dd = drawdown == 0                        # where drawdowns start and end, as theirs
    starts = ~no_dd & no_dd.shift(1)
    starts = list(starts[starts.values].index)
    ends = (no_dd & (~no_dd).shift(1)).shift(-1, fill_value=False)
    ends = list(ends[ends.values].index)
    if not starts:
        return pd.DataFrame(index=[], columns=_DETAILS)
    if ends and starts[0] > ends[0]:
        starts.insert(0, drawdown.index[0])
    if not ends or starts[-1] > ends[-1]:
        ends.append(drawdown.index[-1])
    index, values = drawdown.index, drawdown.to_numpy(dtype=float)
    if len(ends) < len(starts) or not (index.is_monotonic_increasing and index.is_unique) \
            or np.isnan(values).any():
        return theirs(drawdown)
    first = index.searchsorted(starts)
    last = index.searchsorted(ends[:len(starts)], side="right")
    if (last <= first).any():
        return theirs(drawdown)
    rows = []
    for start, end, a, b in zip(starts, ends, first, last, strict=False):
        dd = values[a:b]
        # -remove_outliers(-dd, 0.99): pandas' quantile is numpy's percentile at q x 100
        kept = dd[-dd < np.percentile(-dd, np.asarray([0.99]) * 100.0, method="linear")[0]]
        rows.append((start, index[a + int(np.argmin(dd))], end, (end - start).days + 1,
                     dd.min() * 100, kept.min() * 100 if len(kept) else np.nan))
    table = pd.DataFrame(data=rows, columns=_DETAILS)
    table["days"] = table["days"].astype(int)
    for column in ("max drawdown", "99% max drawdown"):
        table[column] = table[column].astype(float)
    for column in ("start", "end", "valley"):
        table[column] = table[column].dt.strftime("%Y-%m-%d")
    return table


def _yearly_figure(returns: pd.Series, benchmark: pd.Series):
    """Calendar-year returns of the strategy and the benchmark as grouped bars, one label a
    year; a first or last year the run covers only in part is labelled with its dates
    (quantstats' own chart piles the labels at the left and draws slivers)."""
    import matplotlib.pyplot as plt
    import numpy as np

    frame = pd.DataFrame({"strategy": returns, "benchmark": benchmark}).fillna(0.0)
    yearly = (1.0 + frame).groupby(frame.index.year).prod() - 1.0
    labels = []
    for year in yearly.index:
        days = frame.index[frame.index.year == year]
        partial = days[0].month > 1 or days[0].day > 7 or days[-1].month < 12 or days[-1].day < 24
        labels.append(f"{year}\n({days[0]:%d %b}–{days[-1]:%d %b})" if partial else str(year))
    x = np.arange(len(yearly))
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar(x - 0.2, yearly["benchmark"] * 100, 0.4, label=benchmark.name, color="#f5c342")
    ax.bar(x + 0.2, yearly["strategy"] * 100, 0.4, label="Strategy", color="#348dc1")
    ax.axhline(0, color="#555555", linewidth=0.8)
    ax.set_xticks(x, labels, fontsize=8)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0f}%")
    ax.set_title("EOY Returns vs Benchmark", fontweight="bold")
    ax.legend(frameon=False)
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def _monthly_figure(returns: pd.Series):
    """Monthly returns (%) as a year x month heatmap; months outside the run stay blank
    (quantstats shows them as 0.00, as if the strategy had been flat)."""
    import matplotlib.pyplot as plt
    import numpy as np

    monthly = (1.0 + returns).groupby([returns.index.year, returns.index.month]).prod() - 1.0
    grid = monthly.unstack().reindex(columns=range(1, 13)) * 100
    limit = float(np.nanmax(np.abs(grid.to_numpy()))) or 1.0
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(grid) + 1.0))
    # ColorBrewer RdBu (colour-blind safe): losses red, gains blue
    ax.imshow(grid.to_numpy(), cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto")
    for (row, col), value in np.ndenumerate(grid.to_numpy()):
        if value == value:
            ax.text(col, row, f"{value:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if abs(value) > 0.6 * limit else "black")
    ax.set_xticks(range(12), ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP",
                              "OCT", "NOV", "DEC"], fontsize=8)
    ax.set_yticks(range(len(grid)), [str(y) for y in grid.index], fontsize=8)
    ax.set_title("Strategy - Monthly Returns (%)", fontweight="bold")
    ax.tick_params(length=0)
    ax.grid(False)  # quantstats' style draws a grid over every axis
    for spine in ax.spines.values():
        spine.set_visible(False)
    return fig


def _flat_page(path: Path, title: str) -> Path:
    """A strategy whose value never moved (it never invested, and idle cash earns nothing)
    has no distribution for quantstats to draw; say so instead of failing the run."""
    from .html import html, write_page

    return write_page(path, title, "quantstats tearsheet", [html(
        '<p class="note">{}</p>', "The strategy's value did not change on any day (nothing was "
        "invested and uninvested cash earns nothing under --cash zero), so there is no "
        "tearsheet to draw. See report.html.")])


def write_run_tearsheet(folder: Path, equity: pd.Series, benchmark: pd.Series,
                        manifest: dict, path: Path | None = None) -> Path:
    """A run folder's ``tearsheet.html`` (or ``path``), titled and labelled from its
    manifest (the same page whether written by the run or redrawn by ``durationbt report``)."""
    rf = manifest.get("settings", {}).get("risk_free", "0")   # runs before the convention: 0
    rf_text = "a zero rate" if rf == "0" else (
        f"the daily total return of {manifest['universe']['definition'].get('cash')} (bills)"
        if rf == "bills" else f"the daily total return of {rf}")
    return write_tearsheet(path or folder / "tearsheet.html", equity, benchmark,
                           title=f"durationbt: {manifest['strategy']['name']} on "
                                 f"{manifest['universe']['name']}",
                           benchmark_name=manifest["universe"]["definition"]["benchmark"],
                           risk_free=rf_text)
