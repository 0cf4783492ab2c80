"""One registry of performance metrics: every metric durationbt reports is declared here once
(its key, the header a reader sees, whether higher or lower is better, how a value shows)
and, where it is a function of daily returns, computed here once.

The functions follow empyrical's shape: they take the daily returns of one series (a
``Series`` or a 1-D array) or of many at once (a ``DataFrame`` or a 2-D array, one column per
series: strategies, a sweep's combinations), the periods per year (252 trading days) and,
for Sharpe and Sortino, the risk-free return (``None``: 0; a ``Series`` is aligned by date,
missing days count as 0; an array per day, or per day and column). One series gives a float;
many give a ``Series`` by column (an array for an array). A column's NaN days (before it
starts, after it ends) are left out of that column only, so the many-series form equals the
one-series form column by column, to the last bit. Too few days give NaN.

CAGR, volatility, maximum drawdown and Calmar use quantstats' definitions with the same
operations in the same order, so they equal quantstats' to the last bit (the tests hold them
to it) without importing it. Sharpe and Sortino are on returns in excess of the risk-free
return. The ``*_from_*`` helpers finish the same formulas from sufficient statistics, for
the sweep kernel's streamed sums and CSCV's block moments."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from .formatting import LABELS, fmt_num, fmt_pct

__all__ = ["PERIODS_PER_YEAR", "Metric", "METRICS", "HEADLINE", "label", "metric_of", "formats",
           "best_first",
           "total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar",
           "information_ratio", "turnover", "ratio", "std_from_sums", "sharpe_from_sums",
           "cagr_from_total", "max_drawdown_from_wealth", "calmar_from"]

PERIODS_PER_YEAR = 252

Returns = pd.Series | pd.DataFrame | np.ndarray
Style = Literal["percent", "ratio", "number", "money"]

_STYLES: dict[str, Callable[[Any], str]] = {
    "percent": fmt_pct, "ratio": fmt_num, "number": fmt_num, "money": lambda v: fmt_num(v, 0)}


# ---- the shared machinery: one or many series, NaN days left out per column -------------

def _rows(values: Any) -> np.ndarray:
    """Days, or days x series, as a C-contiguous series x days array (a view when it can)."""
    a = np.asarray(values, dtype=float)
    return np.ascontiguousarray(a.reshape(1, -1) if a.ndim == 1 else a.T)


def _aligned(returns: Returns, other: Any, fill: float | None) -> np.ndarray | None:
    """``other`` (risk-free or benchmark returns) as rows on ``returns``' days: a Series is
    aligned by date (missing days ``fill``ed), an array taken as it is (1-D: one per day)."""
    if other is None:
        return None
    if isinstance(other, pd.Series) and isinstance(returns, (pd.Series, pd.DataFrame)):
        other = other.reindex(returns.index)
        if fill is not None:
            other = other.fillna(fill)
    return _rows(other)


def _shaped(returns: Returns, values: np.ndarray) -> Any:
    """One value per series, shaped like ``returns``: a float, a Series by column, an array."""
    if isinstance(returns, pd.DataFrame):
        return pd.Series(values, index=returns.columns, dtype=float)
    if isinstance(returns, pd.Series) or np.ndim(returns) == 1:
        return float(values[0])
    return values


def _each(kernel: Callable[..., np.ndarray], returns: Returns, *others: np.ndarray | None) -> Any:
    """``kernel(rows, *others)`` over every series at once; a series with NaN days (in it or
    in its ``others``) is computed alone on its other days."""
    rows = _rows(returns)
    missing = np.isnan(rows).any(axis=1)
    for o in others:
        if o is not None:
            missing |= np.isnan(o).any(axis=1)
    if not missing.any():
        return _shaped(returns, kernel(rows, *others))
    out = np.full(len(rows), np.nan)
    whole = ~missing
    if whole.any():
        out[whole] = kernel(rows[whole], *(o if o is None or len(o) == 1 else o[whole]
                                          for o in others))
    for k in np.flatnonzero(missing):
        picked = [None if o is None else o[k if len(o) > 1 else 0] for o in others]
        keep = ~np.isnan(rows[k])
        for o in picked:
            if o is not None:
                keep &= ~np.isnan(o)
        out[k] = kernel(rows[k, keep][None], *(None if o is None else o[keep][None]
                                               for o in picked))[0]
    return _shaped(returns, out)


def _excess(rows: np.ndarray, risk_free: np.ndarray | None) -> np.ndarray:
    return rows if risk_free is None else rows - risk_free


# ---- formulas from sufficient statistics (shared with the sweep kernel and CSCV) ---------

def ratio(mean: Any, deviation: Any, periods: int = PERIODS_PER_YEAR) -> Any:
    """mean / deviation x sqrt(periods), NaN where the deviation is not positive: Sharpe
    (deviation = std, ddof 1) and Sortino (deviation = downside deviation)."""
    mean, deviation = np.asarray(mean, dtype=float), np.asarray(deviation, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(deviation > 0, mean / deviation, np.nan) * math.sqrt(periods)


def std_from_sums(count: Any, total: Any, squares: Any) -> Any:
    """Sample standard deviation (ddof 1) from n, sum(x) and sum(x^2); exact to ~1e-12."""
    mean = total / count
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(np.maximum(squares - count * mean**2, 0.0) / (count - 1))


def sharpe_from_sums(count: Any, total: Any, squares: Any, periods: int = PERIODS_PER_YEAR) -> Any:
    """``sharpe`` from n, sum(x) and sum(x^2) of excess returns (``periods=1``: per period)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return ratio(total / count, std_from_sums(count, total, squares), periods)


def cagr_from_total(total: Any, days: int, periods: int = PERIODS_PER_YEAR) -> np.ndarray:
    """(1 + total return)^(1 / years) - 1 with years = days / periods (quantstats' ``cagr``);
    NaN when wealth went below zero. The power is taken by the C library one value at a time,
    as quantstats does (numpy's vectorised power may differ in the last bit)."""
    wealth = np.asarray(total, dtype=float).reshape(-1) + 1.0
    years = days / periods
    if years <= 0:
        return np.full(len(wealth), np.nan)
    exponent = 1.0 / years
    return np.array([abs(w) ** exponent - 1 if w >= 0 else math.nan for w in wealth.tolist()])


def max_drawdown_from_wealth(wealth: np.ndarray) -> np.ndarray:
    """Largest fall from a running peak of each row of a wealth path (series x days, the
    starting value first): min(wealth / running max) - 1. On an equity curve this is the
    curve's own drawdown, free of compounding's rounding."""
    return (wealth / np.maximum.accumulate(wealth, axis=1)).min(axis=1) - 1


def calmar_from(cagr: Any, max_drawdown: Any) -> Any:
    """CAGR over the absolute maximum drawdown; NaN without a drawdown."""
    worst = np.abs(np.asarray(max_drawdown, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(worst > 0, cagr / worst, np.nan)


# ---- the metrics of returns ---------------------------------------------------------------

def _total(rows: np.ndarray) -> np.ndarray:
    return np.prod(rows + 1, axis=1) - 1


def _cagr(rows: np.ndarray, periods: int) -> np.ndarray:
    return cagr_from_total(_total(rows), rows.shape[1], periods)


def _max_drawdown(rows: np.ndarray) -> np.ndarray:
    wealth = 1.0 + (np.cumprod(rows + 1, axis=1) - 1)
    return max_drawdown_from_wealth(np.concatenate([np.ones((len(rows), 1)), wealth], axis=1))


def _sharpe(rows: np.ndarray, risk_free: np.ndarray | None, periods: int) -> np.ndarray:
    x = _excess(rows, risk_free)
    if x.shape[1] < 2:
        return np.full(len(x), np.nan)
    return ratio(x.mean(axis=1), x.std(axis=1, ddof=1), periods)


def total_return(returns: Returns) -> Any:
    """Compounded return prod(1 + r) - 1. Given the curve itself, final / initial - 1 (what
    runs and sweeps report) is the same number without compounding's rounding."""
    return _each(_total, returns)


def cagr(returns: Returns, periods: int = PERIODS_PER_YEAR) -> Any:
    """Compound annual growth (prod(1 + r))^(periods / n) - 1 over n daily returns
    (quantstats' ``cagr``); NaN when wealth went below zero."""
    return _each(lambda rows: _cagr(rows, periods), returns)


def volatility(returns: Returns, periods: int = PERIODS_PER_YEAR) -> Any:
    """Annualised standard deviation (ddof 1) of daily returns (quantstats' ``volatility``)."""
    def kernel(rows: np.ndarray) -> np.ndarray:
        if rows.shape[1] < 2:
            return np.full(len(rows), np.nan)
        return rows.std(axis=1, ddof=1) * np.sqrt(periods)
    return _each(kernel, returns)


def sharpe(returns: Returns, risk_free: Any = None, periods: int = PERIODS_PER_YEAR) -> Any:
    """Sharpe ratio mean / std (ddof 1) of daily returns in excess of the same days'
    ``risk_free`` returns, times sqrt(periods) (``periods=1``: per period, as PSR and DSR
    take it). NaN for fewer than 2 days or no variance."""
    return _each(lambda rows, rf: _sharpe(rows, rf, periods), returns,
                 _aligned(returns, risk_free, 0.0))


def sortino(returns: Returns, risk_free: Any = None, periods: int = PERIODS_PER_YEAR) -> Any:
    """Sortino ratio of excess returns x: mean(x) / sqrt(sum(min(x, 0)^2) / n) x
    sqrt(periods) (quantstats' downside deviation). NaN without a losing day."""
    def kernel(rows: np.ndarray, rf: np.ndarray | None) -> np.ndarray:
        x = _excess(rows, rf)
        if x.shape[1] == 0:
            return np.full(len(x), np.nan)
        downside = np.sqrt((np.minimum(x, 0.0) ** 2).sum(axis=1) / x.shape[1])
        return ratio(x.mean(axis=1), downside, periods)
    return _each(kernel, returns, _aligned(returns, risk_free, 0.0))


def max_drawdown(returns: Returns) -> Any:
    """Largest fall from a peak of the compounded wealth prod(1 + r), the start (wealth 1)
    counting as a peak (quantstats' ``max_drawdown`` of returns); 0 or negative."""
    return _each(_max_drawdown, returns)


def calmar(returns: Returns, periods: int = PERIODS_PER_YEAR) -> Any:
    """CAGR over the absolute maximum drawdown (quantstats' ``calmar``)."""
    return _each(lambda rows: calmar_from(_cagr(rows, periods), _max_drawdown(rows)), returns)


def information_ratio(returns: Returns, benchmark: Any, periods: int = PERIODS_PER_YEAR) -> Any:
    """Annualised mean over annualised tracking error of the active returns (returns minus
    the same days' ``benchmark`` returns): the Sharpe formula, where the risk-free return
    cancels out. Days either side lacks are left out."""
    return _each(lambda rows, bench: _sharpe(rows - bench, None, periods), returns,
                 _aligned(returns, benchmark, None))


def turnover(traded: Any, average_equity: Any, days: int, periods: int = PERIODS_PER_YEAR) -> Any:
    """One-way turnover per year: half the traded notional over the average equity, per
    year of ``days`` daily returns. Buying the initial portfolio counts (half of it)."""
    years = days / periods
    if years <= 0:
        return np.full(np.shape(traded), np.nan) if np.ndim(traded) else math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(np.asarray(average_equity) > 0, traded / 2.0 / average_equity / years,
                       np.nan)
    return out if np.ndim(out) else float(out)


# ---- the registry -------------------------------------------------------------------------

@dataclass(frozen=True)
class Metric:
    """A metric's declaration: ``name`` (its key in metrics.json, leaderboard.csv and
    sweep.csv), ``label`` (a page's header; ``short`` for narrow terminal tables), which way
    is ``better`` (ranking, best-of choices, heatmap colours), its display ``style`` and,
    for metrics of returns, ``compute(returns, risk_free, periods)``."""

    name: str
    label: str
    better: Literal["higher", "lower"]
    style: Style
    doc: str
    short: str = ""
    compute: Callable[[Returns, Any, int], Any] | None = None

    @property
    def lower_is_better(self) -> bool:
        """True when smaller values rank first (volatility, turnover)."""
        return self.better == "lower"

    def format(self, value: Any) -> str:
        """``value`` as a reader sees it (``n/a`` when missing)."""
        return _STYLES[self.style](value)

    def best(self, values: Any) -> int:
        """Position of the best finite value (the first of ties)."""
        pick = np.nanargmin if self.lower_is_better else np.nanargmax
        return int(pick(np.asarray(values, dtype=float)))


def _build(*metrics: Metric) -> MappingProxyType[str, Metric]:
    table: dict[str, Metric] = {}
    for m in metrics:
        if m.name in table:
            raise ValueError(f"metric {m.name!r} is declared twice")
        table[m.name] = m if m.short else replace(m, short=m.label)
    return MappingProxyType(table)


METRICS = _build(
    Metric("total_return", "Total return", "higher", "percent", "compounded return over the period",
           compute=lambda r, rf, p: total_return(r)),
    Metric("cagr", "CAGR", "higher", "percent", "compound annual growth rate",
           compute=lambda r, rf, p: cagr(r, p)),
    Metric("volatility", "Volatility", "lower", "percent", "annualised std of daily returns",
           short="vol", compute=lambda r, rf, p: volatility(r, p)),
    Metric("sharpe", "Sharpe", "higher", "ratio", "annualised, on returns in excess of the "
           "risk-free return", compute=lambda r, rf, p: sharpe(r, rf, p)),
    Metric("sortino", "Sortino", "higher", "ratio", "annualised, on excess returns, "
           "downside deviation", compute=lambda r, rf, p: sortino(r, rf, p)),
    Metric("max_drawdown", "Max drawdown", "higher", "percent", "largest fall from a peak "
           "(negative: closer to 0 is better)", short="max DD",
           compute=lambda r, rf, p: max_drawdown(r)),
    Metric("calmar", "Calmar", "higher", "ratio", "CAGR over the absolute max drawdown",
           compute=lambda r, rf, p: calmar(r, p)),
    Metric("turnover", "Turnover (1-way, /yr)", "lower", "number", "one-way traded notional over "
           "average equity, per year", short="turn/yr"),
    Metric("final_equity", "Final equity", "higher", "money", "portfolio value on the last day"),
    Metric("information_ratio", "Information ratio", "higher", "ratio", "annualised active "
           "return over tracking error vs the benchmark", short="IR"),
    Metric("avg_duration", "Avg duration", "higher", "number", "average portfolio duration, % "
           "per 100 bp of the 10-year yield (a trait, not a score: ranked largest first)",
           short="dur"),
    Metric("sharpe_ci_low", "Sharpe CI low", "higher", "ratio", "95% bootstrap interval of "
           "the Sharpe ratio, low end"),
    Metric("sharpe_ci_high", "Sharpe CI high", "higher", "ratio", "95% bootstrap interval of "
           "the Sharpe ratio, high end"),
    Metric("sharpe_vs_benchmark_ci_low", "Sharpe − benchmark CI low", "higher", "ratio",
           "95% bootstrap interval of the Sharpe difference to the benchmark, low end"),
    Metric("sharpe_vs_benchmark_ci_high", "Sharpe − benchmark CI high", "higher", "ratio",
           "95% bootstrap interval of the Sharpe difference to the benchmark, high end"),
    Metric("sharpe_vs_baseline", "Sharpe − baseline", "higher", "ratio", "Sharpe ratio minus "
           "the baseline's on the same days (compare --baseline)", short="ΔSharpe"),
    Metric("sharpe_vs_baseline_ci_low", "Sharpe − baseline CI low", "higher", "ratio",
           "95% paired-bootstrap interval of the Sharpe difference to the baseline, low end"),
    Metric("sharpe_vs_baseline_ci_high", "Sharpe − baseline CI high", "higher", "ratio",
           "95% paired-bootstrap interval of the Sharpe difference to the baseline, high end"),
    Metric("sharpe_vs_baseline_p", "p (Sharpe − baseline)", "lower", "number", "two-sided "
           "paired-bootstrap p-value of 'no Sharpe difference to the baseline'", short="p"),
    Metric("dsr_vs_baseline", "Deflated Sharpe vs baseline", "higher", "number",
           "P(true Sharpe > the baseline's + the best of the compared set by luck)",
           short="DSR vs base"),
)

# the strategy-vs-benchmark table of `run` and of report.html, in order
HEADLINE = ("total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar",
            "turnover", "final_equity")


def label(key: str) -> str:
    """The header a reader sees for a column key: a metric's label, else
    ``formatting.LABELS``, else the key with underscores as spaces; ``in_sample_`` and
    ``out_of_sample_`` prefixes are spelled out."""
    if key in METRICS:
        return METRICS[key].label
    if key in LABELS:
        return LABELS[key]
    for prefix in ("in_sample_", "out_of_sample_"):
        if key.startswith(prefix):
            words = prefix[:-1].replace("_", " ")
            return f"{words[0].upper()}{words[1:]}: {label(key[len(prefix):])}"
    return key.replace("_", " ")


def metric_of(column: str) -> Metric | None:
    """The metric a column holds: its own key, or ``in_sample_<metric>`` /
    ``out_of_sample_<metric>``; None for other columns."""
    return METRICS.get(str(column).removeprefix("in_sample_").removeprefix("out_of_sample_"))


def formats(columns: Sequence[str]) -> dict[str, Callable[[Any], str]]:
    """Each metric column's formatter (``Metric.format``, see ``metric_of``), for tables of
    those columns; other columns are left out."""
    return {c: m.format for c in columns if (m := metric_of(c)) is not None}


def best_first(frame: pd.DataFrame, name: str, then: Sequence[str] = ()) -> pd.DataFrame:
    """``frame`` sorted by metric column ``name``, best first (its declared direction), NaN
    last; ties broken by the ``then`` columns, ascending."""
    ascending = METRICS[name].lower_is_better
    if not then:
        return frame.sort_values(name, ascending=ascending, na_position="last")
    return frame.sort_values([name, *then], ascending=[ascending, *(True for _ in then)],
                             na_position="last")
