"""``metrics.json``: a run's metrics, strategy and benchmark side by side, in a stable schema.

Every metric is computed by ``durationbt.metrics`` (the one registry, shared with compare,
sweeps and regimes): daily returns, 252 periods a year; Sharpe and Sortino on returns in
excess of the risk-free return (see ``durationbt.riskfree``: by default the universe's cash
asset's daily total return); CAGR, volatility, drawdown and Calmar equal to quantstats' to
the last bit, so a run without a tearsheet never loads quantstats or matplotlib.
Floats are rounded to 12 significant digits so the same inputs give the same
``metrics.json`` byte for byte."""

from __future__ import annotations

import math

import pandas as pd

from .metrics import METRICS, PERIODS_PER_YEAR, turnover

__all__ = ["METRICS_SCHEMA", "METRIC_KEYS", "clean_number", "performance_metrics", "score_run",
           "summarise_duration", "book_metrics"]

METRICS_SCHEMA = 1
# the fields of a series in metrics.json, in order
METRIC_KEYS = ("start", "end", "days", "final_equity", "total_return", "cagr", "volatility",
               "sharpe", "sortino", "max_drawdown", "calmar", "turnover")
_OF_RETURNS = ("cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar")


def clean_number(value: float) -> float | None:
    """Round to 12 significant digits; NaN and infinities become null in JSON."""
    value = float(value)
    if not math.isfinite(value):
        return None
    return float(f"{value:.12g}")


def performance_metrics(equity: pd.Series, traded: pd.Series,
                        risk_free: pd.Series | None = None) -> dict[str, object]:
    """The METRIC_KEYS of one equity curve (daily closes, first value = initial capital);
    Sharpe and Sortino in excess of ``risk_free`` (daily returns by date; None: rf = 0)."""
    returns = equity.pct_change().iloc[1:]
    numbers = {"final_equity": float(equity.iloc[-1]),
               "total_return": float(equity.iloc[-1] / equity.iloc[0] - 1.0),  # the curve's own
               **{name: METRICS[name].compute(returns, risk_free, PERIODS_PER_YEAR)
                  for name in _OF_RETURNS},
               "turnover": turnover(traded.sum(), equity.mean(), len(returns))}
    out: dict[str, object] = {"start": str(equity.index[0].date()),
                              "end": str(equity.index[-1].date()), "days": int(len(returns))}
    out.update({k: clean_number(v) for k, v in numbers.items()})
    return {k: out[k] for k in METRIC_KEYS}


def score_run(equity: pd.Series, traded: pd.Series, benchmark: pd.Series,
              benchmark_traded: pd.Series, risk_free: pd.Series | None = None,
              conventions: dict[str, object] | None = None) -> dict[str, object]:
    """``metrics.json``: schema version, the scoring conventions (``conventions`` adds the
    risk-free and cash choices, see ``RiskFree.conventions``), then strategy and benchmark
    metrics, both in excess of the same ``risk_free`` daily returns."""
    return {
        "schema": METRICS_SCHEMA,
        "conventions": {"periods_per_year": PERIODS_PER_YEAR,
                        **(conventions or {"risk_free": "0", "risk_free_ticker": None}),
                        "returns": "daily close-to-close of portfolio value",
                        "excess_returns": "Sharpe, Sortino and regime Sharpe are on daily "
                                          "returns minus the risk-free ticker's daily total "
                                          "return"},
        "strategy": performance_metrics(equity, traded, risk_free),
        "benchmark": performance_metrics(benchmark, benchmark_traded, risk_free),
    }


def summarise_duration(duration: pd.Series) -> dict[str, float | None]:
    """``metrics.json``'s ``portfolio_duration``: average, min and max of the daily
    portfolio duration (% per 100 bp of the 10-year yield)."""
    return {"average": clean_number(duration.mean()), "min": clean_number(duration.min()),
            "max": clean_number(duration.max())}


def book_metrics(carry: pd.DataFrame, exposure: pd.DataFrame,
                 settings: dict[str, object]) -> dict[str, object]:
    """``metrics.json``'s ``book``: the limits and carry rates the run used (``settings``,
    ``Book.record``), borrow and financing paid in total (currency), and the average and
    largest daily exposures (``book.exposures``)."""
    return {**settings,
            "borrow_paid": clean_number(carry["borrow"].sum()),
            "financing_paid": clean_number(carry["financing"].sum()),
            **{f"average_{k}": clean_number(exposure[k].mean()) for k in exposure.columns},
            **{f"peak_{k}": clean_number(exposure[k].abs().max()) for k in ("gross", "short")}}
