"""Scores conditional on the liquidity regime: how strategies and buckets fared while capital
was scarce, neutral or abundant, how long each regime lasted, and how regimes follow one
another.

A day's return is attributed to the regime known at the previous close, the one a strategy
could have acted on; the first day of a series has no prior regime and is left out."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .duration import bucket_daily_returns
from .metrics import PERIODS_PER_YEAR, cagr, sharpe, volatility
from .scoring import clean_number
from .signals.composite import REGIMES
from .universe import Universe

__all__ = ["REGIMES", "acting_regime", "regime_scores", "time_in_regime", "transition_matrix",
           "bucket_contribution", "scores_wide"]

def acting_regime(regime: pd.Series, index: pd.Index) -> pd.Series:
    """The regime in force at the close before each day of ``index`` (NaN for the first)."""
    return regime.reindex(regime.index.union(index)).ffill().shift(1).reindex(index)


def _scores(returns: pd.DataFrame, risk_free: pd.Series) -> pd.DataFrame:
    """Days, annualised geometric return, volatility and Sharpe of every column at once
    (``durationbt.metrics``; a column's NaN days left out), NaN below 2 days."""
    days = returns.count()
    out = pd.DataFrame({"days": days, "cagr": cagr(returns),
                        "volatility": volatility(returns), "sharpe": sharpe(returns, risk_free)})
    out.loc[days < 2, ["cagr", "volatility", "sharpe"]] = np.nan
    return out


def regime_scores(returns: pd.DataFrame, regime: pd.Series,
                  risk_free: pd.Series | None = None) -> pd.DataFrame:
    """Days, CAGR (the annualised geometric return of the regime's days), volatility and
    Sharpe (on returns in excess of the same days' ``risk_free`` return; None: rf = 0) of
    each column of daily ``returns`` within each regime, plus ``all``, by
    ``durationbt.metrics``. Index: (series, regime)."""
    acting = acting_regime(regime, returns.index)
    rf = (pd.Series(0.0, index=returns.index) if risk_free is None
          else risk_free.reindex(returns.index).fillna(0.0))
    labels = (*REGIMES, "all")
    parts = {}
    for label in labels:
        mask = (acting.notna() if label == "all" else acting.eq(label)).to_numpy()
        parts[label] = _scores(returns.loc[mask], rf.loc[mask])
    out = pd.concat(parts, names=["regime", "series"]).swaplevel("regime", "series")
    order = pd.MultiIndex.from_product([returns.columns, labels], names=["series", "regime"])
    return out.reindex(order)


def time_in_regime(regime: pd.Series) -> pd.DataFrame:
    """Days, share of days, number of spells and average spell length per regime."""
    spells = regime.ne(regime.shift()).cumsum()
    rows = {}
    for label in REGIMES:
        mask = regime.eq(label)
        count = int(spells[mask].nunique())
        rows[label] = {"days": int(mask.sum()), "share": float(mask.mean()) if len(regime) else np.nan,
                       "spells": count,
                       "avg_spell_days": float(mask.sum() / count) if count else np.nan}
    return pd.DataFrame.from_dict(rows, orient="index")


def transition_matrix(regime: pd.Series, normalise: bool = True) -> pd.DataFrame:
    """Day-to-day transitions: row = regime today, column = regime tomorrow. Counts, or (with
    ``normalise``) each row divided by its total, the empirical transition probabilities."""
    today, tomorrow = regime.iloc[:-1].to_numpy(), regime.iloc[1:].to_numpy()
    counts = pd.DataFrame(0, index=pd.Index(REGIMES, name="from"),
                          columns=pd.Index(REGIMES, name="to"))
    for a, b in zip(today, tomorrow, strict=True):
        if a in REGIMES and b in REGIMES:
            counts.loc[a, b] += 1
    if not normalise:
        return counts
    totals = counts.sum(axis=1).replace(0, np.nan)
    return counts.div(totals, axis=0)


def bucket_contribution(weights: pd.DataFrame, prices: pd.DataFrame,
                        buckets: dict[str, tuple[str, ...]], regime: pd.Series) -> pd.DataFrame:
    """Each bucket's contribution to the strategy's return by regime: the mean over the
    regime's days of sum(weight at the previous close x asset return) over the bucket's
    tickers, times 252 (annualised, arithmetic, before costs). Buckets add up to ``total``."""
    tickers = [t for t in weights.columns if t in prices.columns]
    asset_returns = prices[tickers].pct_change(fill_method=None).reindex(weights.index)
    daily = weights[tickers].shift(1) * asset_returns.fillna(0.0)
    per_bucket = pd.DataFrame({name: daily[[t for t in members if t in daily.columns]].sum(axis=1)
                               for name, members in buckets.items()}).iloc[1:]
    extra = [t for t in tickers if not any(t in m for m in buckets.values())]
    if extra:  # a ticker strategy may hold the benchmark, which is in no bucket
        per_bucket["other"] = daily[extra].sum(axis=1).iloc[1:]
    per_bucket["total"] = per_bucket.sum(axis=1)
    acting = acting_regime(regime, per_bucket.index)
    out = {label: per_bucket[acting.eq(label).to_numpy()].mean() * PERIODS_PER_YEAR
           for label in REGIMES}
    out["all"] = per_bucket[acting.notna().to_numpy()].mean() * PERIODS_PER_YEAR
    return pd.DataFrame(out)


def regime_tables(equity: pd.DataFrame, weights: pd.DataFrame, prices: pd.DataFrame,
                  universe: Universe, regime: pd.Series,
                  risk_free: pd.Series | None = None) -> dict[str, pd.DataFrame]:
    """Every regime table of one run: ``equity`` holds the strategy and benchmark curves,
    ``prices`` the bucket members over the same days; buckets are scored equal-weight;
    Sharpe ratios are in excess of ``risk_free`` (daily returns by date)."""
    returns = equity.pct_change().iloc[1:]
    buckets = bucket_daily_returns(prices, universe).loc[returns.index]
    returns = returns.join(buckets.add_prefix("bucket:"))
    window = regime.loc[equity.index[0]:equity.index[-1]]
    members = {b.name: b.tickers for b in universe.buckets}
    return {"scores": regime_scores(returns, regime, risk_free),
            "time": time_in_regime(window),
            "transitions": transition_matrix(window),
            "contribution": bucket_contribution(weights, prices, members, regime)}


def scores_wide(scores: pd.DataFrame, fields: dict[str, str]) -> pd.DataFrame:
    """``regime_scores`` output as one row per series and one column per regime and field,
    e.g. ``{"cagr": "return", "sharpe": "Sharpe"}`` -> "scarce return", "scarce Sharpe",
    ..., regimes in REGIMES order then "all", series in their original order."""
    series = list(dict.fromkeys(scores.index.get_level_values(0)))
    wide = scores[list(fields)].unstack(level=-1).reindex(series)
    wide.columns = [f"{regime} {fields[field]}" for field, regime in wide.columns]
    order = [f"{r} {label}" for r in (*REGIMES, "all") for label in fields.values()]
    return wide[[c for c in order if c in wide.columns]]


def tables_to_json(tables: dict[str, pd.DataFrame]) -> dict[str, list[dict[str, object]]]:
    """JSON-ready records (NaN -> None) of ``regime_tables``' output, index kept as columns."""
    out = {}
    for key, frame in tables.items():
        flat = frame.reset_index() if frame.index.name or frame.index.nlevels > 1 else (
            frame.rename_axis("name").reset_index())
        out[key] = [{k: _json_value(v) for k, v in row.items()}
                    for row in flat.to_dict(orient="records")]
    return out


def _json_value(value: object) -> object:
    if isinstance(value, (int, float, np.number)):
        return clean_number(float(value))
    return value


def tables_from_json(data: dict[str, list[dict[str, object]]]) -> dict[str, pd.DataFrame]:
    """The inverse of ``tables_to_json``: DataFrames indexed as ``regime_tables`` makes them
    (scores of runs written before the metrics registry call CAGR ``ann_return``)."""
    index = {"scores": ["series", "regime"], "time": ["name"], "transitions": ["from"],
             "contribution": ["name"]}
    order = {"transitions": list(REGIMES), "contribution": [*REGIMES, "all"]}
    out = {}
    for key, rows in data.items():
        frame = pd.DataFrame(rows).set_index(index[key]).astype(float)
        if key == "scores":
            frame = frame.rename(columns={"ann_return": "cagr"})
        out[key] = frame[order[key]] if key in order else frame
    return out
