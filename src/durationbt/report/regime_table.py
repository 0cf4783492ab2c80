"""One table shape for regime scores on every page: a score by series (rows) and regime
(columns), each cell the value over its 95% interval (smaller, below) or "too few spells",
the header giving each regime's days and spells."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from ..formatting import fmt_num
from ..regimes import regime_cell
from .html import Markup, html, table_html

__all__ = ["score_table"]


def _cell(row: pd.Series, key: str, fmt: Callable, short: Callable, regime: str) -> Markup | str:
    text = regime_cell(row, key, fmt, regime)
    low, high = row.get(f"{key}_ci_low"), row.get(f"{key}_ci_high")
    if text == "too few spells" or low is None or low != low or high != high:
        return text
    return html('{}<br><small style="color:#5b6877">{} to {}</small>', fmt(row[key]),
                short(low), short(high))


def score_table(scores: pd.DataFrame, key: str, fmt: Callable, short: Callable | None = None,
                rename: Callable[[object], str] = str, index_label: str = "series") -> Markup:
    """``scores`` (``regimes.regime_scores``' shape: index series x regime) as a table of
    column ``key``; ``fmt`` formats a value, ``short`` its interval's ends, ``rename`` a
    series' name. Days and spells in the header are those of the first series."""
    short = short or fmt
    series = list(dict.fromkeys(scores.index.get_level_values(0)))
    regimes = list(dict.fromkeys(scores.index.get_level_values(1)))
    head = {}
    for regime in regimes:
        row = scores.loc[(series[0], regime)]
        spells = row.get("spells")
        head[regime] = (f"{regime} ({fmt_num(row['days'], 0)} days"
                        + (f", {fmt_num(spells, 0)} spells)" if spells is not None
                           and spells == spells else ")"))
    frame = pd.DataFrame({head[r]: [_cell(scores.loc[(s, r)], key, fmt, short, r)
                                    if (s, r) in scores.index else "" for s in series]
                          for r in regimes}, index=[rename(s) for s in series],
                         dtype=object)    # keeps the cells' Markup (pandas would make it str)
    return table_html(frame, {c: (lambda v: v) for c in frame.columns}, index_label=index_label)
