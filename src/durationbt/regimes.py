"""Scores conditional on the liquidity regime: how strategies and buckets fared while capital
was scarce, neutral or abundant, how long each regime lasted, and how regimes follow one
another, each score with its uncertainty.

A day's return is attributed to the regime known at the previous close, the one a strategy
could have acted on; the first day of a series has no prior regime and is left out. Days
without a composite value are ``no signal``, never ``neutral``.

Days inside a regime are not independent observations: a regime comes in spells that last
for months. So every regime score is given with its number of spells, its 95% interval is a
stationary bootstrap of the regime's days whose mean block is the regime's mean spell (a
resample draws about as many blocks as there were spells), and a cell with fewer than
``MIN_SPELLS`` spells gets no interval and reads "too few spells". The scarce - abundant
difference of mean excess return is a Newey-West (HAC) difference of means."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from .duration import bucket_daily_returns, day_blocks, own_component_betas
from .inference import (
    count_spells,
    hac_mean_difference,
    newey_west_lags,
    stationary_bootstrap_sums,
)
from .metrics import PERIODS_PER_YEAR, cagr, sharpe, volatility
from .scoring import clean_number
from .signals.composite import NO_SIGNAL, REGIMES
from .universe import Universe

__all__ = ["REGIMES", "NO_SIGNAL", "MIN_SPELLS", "acting_regime", "regime_scores",
           "regime_spread", "time_in_regime", "transition_matrix", "bucket_contribution",
           "scores_wide", "regime_cell", "spread_cell", "too_few_spells", "uncertainty_methods",
           "regime_tables", "tables_to_json", "tables_from_json"]

#: below this many spells a regime score is a description of a few episodes, not evidence
MIN_SPELLS = 3
REPLICATES = 1000
SEED = 0
#: the scores with a bootstrap interval (columns <key>_ci_low, <key>_ci_high)
INTERVALS = ("mean_excess", "sharpe", "cagr")


def acting_regime(regime: pd.Series, index: pd.Index) -> pd.Series:
    """The regime in force at the close before each day of ``index`` (NaN for the first)."""
    return regime.reindex(regime.index.union(index)).ffill().shift(1).reindex(index)


def _labels(acting: pd.Series) -> tuple[str, ...]:
    """The regimes, ``no signal`` when some day had none, then ``all``."""
    return (*REGIMES, *((NO_SIGNAL,) if acting.eq(NO_SIGNAL).any() else ()), "all")


def _scores(returns: pd.DataFrame, risk_free: pd.Series) -> pd.DataFrame:
    """Days, annualised geometric return, volatility, Sharpe and annualised mean excess
    return of every column at once (``durationbt.metrics``; a column's NaN days left out),
    NaN below 2 days."""
    days = returns.count()
    excess = returns.sub(risk_free, axis=0)
    out = pd.DataFrame({"days": days, "cagr": cagr(returns),
                        "volatility": volatility(returns), "sharpe": sharpe(returns, risk_free),
                        "mean_excess": excess.mean() * PERIODS_PER_YEAR})
    out.loc[days < 2, ["cagr", "volatility", "sharpe", "mean_excess"]] = np.nan
    return out


def _finish_scores(width: int) -> Callable[[np.ndarray], np.ndarray]:
    """From sums over days of (live day, excess x, x^2, log(1 + r)) per column, each
    column's annualised mean excess return, Sharpe and CAGR (as the point estimates:
    a column's NaN days left out; NaN below 2 days): replicates x 3·width."""
    def finish(sums: np.ndarray) -> np.ndarray:
        count, total, squares, growth = (sums[:, k * width:(k + 1) * width] for k in range(4))
        mean = total / count
        var = np.maximum(squares - count * mean ** 2, 0.0) / (count - 1)
        ratio = np.where(var > 0, mean / np.sqrt(var), np.nan) * np.sqrt(PERIODS_PER_YEAR)
        cagr_ = np.expm1(growth * PERIODS_PER_YEAR / count)
        stats = [np.where(count < 2, np.nan, v)
                 for v in (mean * PERIODS_PER_YEAR, ratio, cagr_)]
        return np.concatenate(stats, axis=1)
    return finish


def _intervals(returns: pd.DataFrame, risk_free: pd.Series, block: float) -> pd.DataFrame:
    """95% stationary-bootstrap intervals of INTERVALS for every column, one resampling."""
    r = returns.to_numpy(dtype=float)
    live = np.isfinite(r)
    x = np.where(live, r - risk_free.to_numpy(dtype=float)[:, None], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        growth = np.where(live, np.log1p(np.where(live, r, 0.0)), 0.0)
    data = np.concatenate([live.astype(float), x, x * x, growth], axis=1)
    found = stationary_bootstrap_sums(data, _finish_scores(r.shape[1]), mean_block=block,
                                      n_boot=REPLICATES, seed=SEED)
    out = {}
    for k, key in enumerate(INTERVALS):
        part = found[k * returns.shape[1]:(k + 1) * returns.shape[1]]
        out[f"{key}_ci_low"] = [e.ci95[0] for e in part]
        out[f"{key}_ci_high"] = [e.ci95[1] for e in part]
    return pd.DataFrame(out, index=returns.columns)


def regime_scores(returns: pd.DataFrame, regime: pd.Series,
                  risk_free: pd.Series | None = None, intervals: bool = True) -> pd.DataFrame:
    """Days, spells, CAGR (the annualised geometric return of the regime's days),
    volatility, Sharpe and mean excess return (both on returns in excess of the same days'
    ``risk_free`` return; None: rf = 0) of each column of daily ``returns`` within each
    regime, ``no signal`` where days had none, and ``all``; with ``intervals``, 95%
    stationary-bootstrap intervals of the mean excess return, Sharpe and CAGR
    (``<key>_ci_low``/``_ci_high``; NaN below MIN_SPELLS spells) and the mean block used
    (``block_days``: the label's mean spell). Index: (series, regime)."""
    acting = acting_regime(regime, returns.index)
    rf = (pd.Series(0.0, index=returns.index) if risk_free is None
          else risk_free.reindex(returns.index).fillna(0.0))
    labels = _labels(acting)
    runs = acting.ne(acting.shift()).cumsum().where(acting.notna())
    parts = {}
    for label in labels:
        mask = (acting.notna() if label == "all" else acting.eq(label)).to_numpy()
        frame = _scores(returns.loc[mask], rf.loc[mask])
        live = returns.loc[mask].notna()
        frame["spells"] = ([float(runs[mask][live[c].to_numpy()].nunique()) for c in returns]
                           if label == "all" else
                           [float(count_spells(mask & returns[c].notna().to_numpy()))
                            for c in returns])
        if intervals:
            spells = int(runs.nunique()) if label == "all" else count_spells(mask)
            block = max(1.0, mask.sum() / max(spells, MIN_SPELLS))
            frame["block_days"] = block
            found = (_intervals(returns.loc[mask], rf.loc[mask], block)
                     if mask.sum() >= 3 and (label == "all" or spells >= MIN_SPELLS) else None)
            columns = [f"{k}_ci_{e}" for k in INTERVALS for e in ("low", "high")]
            frame[columns] = np.nan if found is None else found[columns]
            if label != "all":
                frame.loc[frame["spells"] < MIN_SPELLS, columns] = np.nan
        parts[label] = frame
    out = pd.concat(parts, names=["regime", "series"]).swaplevel("regime", "series")
    order = pd.MultiIndex.from_product([returns.columns, labels], names=["series", "regime"])
    return out.reindex(order)


def regime_spread(returns: pd.DataFrame, regime: pd.Series,
                  risk_free: pd.Series | None = None) -> pd.DataFrame:
    """Per column: the mean daily excess return on scarce days minus that on abundant days,
    annualised (x 252), with its Newey-West t, p-value and 95% interval
    (``inference.hac_mean_difference``, automatic lags), the days and spells on each side."""
    acting = acting_regime(regime, returns.index)
    rf = (pd.Series(0.0, index=returns.index) if risk_free is None
          else risk_free.reindex(returns.index).fillna(0.0))
    scarce, abundant = acting.eq("scarce").to_numpy(), acting.eq("abundant").to_numpy()
    rows = {}
    for column in returns.columns:
        x = (returns[column] - rf).to_numpy(dtype=float)
        live = np.isfinite(x)
        lags = newey_west_lags(int(((scarce | abundant) & live).sum()))
        est = hac_mean_difference(x, scarce, abundant, lags).scaled(PERIODS_PER_YEAR)
        rows[column] = {"estimate": est.estimate, "ci_low": est.ci95[0], "ci_high": est.ci95[1],
                        "t": est.t, "p_value": est.p_value, "stderr": est.stderr,
                        "days_scarce": float((scarce & live).sum()),
                        "days_abundant": float((abundant & live).sum()),
                        "spells_scarce": float(count_spells(scarce & live)),
                        "spells_abundant": float(count_spells(abundant & live)),
                        "lags": float(lags)}
    frame = pd.DataFrame.from_dict(rows, orient="index").astype(float)
    frame.index.name = "series"
    return frame


def uncertainty_methods() -> dict[str, str]:
    """How the regime tables' uncertainty is measured, in words (the ``methods`` table)."""
    return {"scores": f"95% stationary-bootstrap interval over the regime's days, mean block "
                      f"= the regime's mean spell length, {REPLICATES} replicates, seed {SEED}; "
                      f"no interval below {MIN_SPELLS} spells",
            "spread": "scarce minus abundant mean daily excess return x 252, Newey-West HAC "
                      "(Bartlett kernel, lags floor(4 (n/100)^(2/9))), normal 95% interval",
            "liquidity": "weekly returns on the weekly change of the composite and the "
                         "benchmark's return, Newey-West errors; 'without own' drops the "
                         "components whose declared inputs are the bucket's own tickers; "
                         "collapsed: significant (|t| >= 2) with them, under half the size "
                         "(or the other sign) without"}


def too_few_spells(spells: object) -> bool:
    """True when a cell rests on fewer than MIN_SPELLS spells (unknown: False, older runs)."""
    return isinstance(spells, (int, float)) and spells == spells and spells < MIN_SPELLS


def regime_cell(row: pd.Series, key: str, fmt: Callable[[object], str],
                regime: str = "") -> str:
    """One regime score as a reader sees it: "0.35 (-0.21 to 0.90)", or "too few spells"
    (regime rows below MIN_SPELLS; ``all`` is the whole run), or the bare value for runs
    written before intervals."""
    if regime != "all" and too_few_spells(row.get("spells")):
        return "too few spells"
    low, high = row.get(f"{key}_ci_low"), row.get(f"{key}_ci_high")
    if low is None or high is None or low != low or high != high:
        return fmt(row[key])
    return f"{fmt(row[key])} ({fmt(low)} to {fmt(high)})"


def spread_cell(row: pd.Series, fmt: Callable[[object], str]) -> str:
    """The scarce - abundant difference as "+4.1% (-2.0% to +10.2%), t 1.32", or "too few
    spells" when either side has fewer than MIN_SPELLS."""
    if too_few_spells(min(row["spells_scarce"], row["spells_abundant"])):
        return "too few spells"
    return f"{fmt(row['estimate'])} ({fmt(row['ci_low'])} to {fmt(row['ci_high'])}), t {row['t']:+.2f}"


def time_in_regime(regime: pd.Series) -> pd.DataFrame:
    """Days, share of days, number of spells and average spell length per regime."""
    spells = regime.ne(regime.shift()).cumsum()
    rows = {}
    for label in (*REGIMES, *((NO_SIGNAL,) if regime.eq(NO_SIGNAL).any() else ())):
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
    pairs = pd.Series(1, index=pd.MultiIndex.from_arrays([today, tomorrow], names=["from", "to"]))
    counts = (pairs.groupby(level=[0, 1]).sum().unstack(fill_value=0)
              .reindex(index=pd.Index(REGIMES, name="from"),
                       columns=pd.Index(REGIMES, name="to"), fill_value=0).astype(int)
              if len(pairs) else pd.DataFrame(0, index=pd.Index(REGIMES, name="from"),
                                              columns=pd.Index(REGIMES, name="to")))
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
    held = set(tickers)
    listed = {t for members in buckets.values() for t in members}
    groups = {name: [t for t in members if t in held] for name, members in buckets.items()}
    extra = [t for t in tickers if t not in listed]
    if extra:  # a ticker strategy may hold the benchmark, which is in no bucket
        groups["other"] = extra
    sums = _held_sums(weights, prices, tickers, groups)
    per_bucket = pd.DataFrame({name: sums[name] for name in buckets}).iloc[1:]
    if extra:
        per_bucket["other"] = sums["other"].iloc[1:]
    per_bucket["total"] = per_bucket.sum(axis=1)
    acting = acting_regime(regime, per_bucket.index)
    out = {label: per_bucket[acting.eq(label).to_numpy()].mean() * PERIODS_PER_YEAR
           for label in _labels(acting)[:-1]}
    out["all"] = per_bucket[acting.notna().to_numpy()].mean() * PERIODS_PER_YEAR
    return pd.DataFrame(out)


#: days per block of ``_held_sums``: bounds its memory at a few arrays of _DAYS x tickers
_DAYS = 64


def _held_sums(weights: pd.DataFrame, prices: pd.DataFrame, tickers: list[str],
               groups: dict[str, list[str]]) -> dict[str, pd.Series]:
    """Per group, each day's sum over its tickers of weight at the previous close x the
    day's return (a missing return counts 0): pandas' ``(weights[tickers].shift(1) *
    prices[tickers].pct_change().reindex(weights.index).fillna(0))[group].sum(axis=1)`` bit
    for bit, a block of days at a time instead of several days x tickers frames. Pandas sums
    a one-block float frame of 6 days or more as ``np.add.reduce`` of its tickers x days
    copy over tickers (the first day, NaN everywhere, forces the copy), which is what is
    done here; any other layout goes through pandas."""
    blocks = [weights._mgr.blocks, prices._mgr.blocks]
    if not (all(len(b) == 1 and b[0].dtype == np.float64 for b in blocks) and len(weights) >= 6
            and prices.index.is_unique and weights.columns.is_unique
            and prices.columns.is_unique):
        returns = prices[tickers].pct_change(fill_method=None).reindex(weights.index)
        daily = weights[tickers].shift(1) * returns.fillna(0.0)
        return {name: daily[group].sum(axis=1) for name, group in groups.items()}
    w, p = weights.to_numpy(), prices.to_numpy()        # views
    wat, pat = (_run(f.columns.get_indexer(tickers)) for f in (weights, prices))
    at = pd.Index(tickers)
    where = {name: at.get_indexer(group) for name, group in groups.items()}
    rows = prices.index.get_indexer(weights.index)     # -1: no price that day
    sums = {name: np.zeros(len(weights)) for name in groups}   # day 0: nothing held before
    for days in day_blocks(1, len(weights), _DAYS):
        k = rows[days]
        with np.errstate(divide="ignore", invalid="ignore"):
            r = p[_run(np.maximum(k, 0))][:, pat] / p[_run(np.maximum(k - 1, 0))][:, pat] - 1.0
            r[np.isnan(r) | (k <= 0)[:, None]] = 0.0     # no return without two prices
            held = w[days.start - 1:days.stop - 1][:, wat] * r
        held[np.isnan(held)] = 0.0
        held = np.ascontiguousarray(held.T)             # tickers x days, as pandas sums it
        for name, at_group in where.items():
            sums[name][days] = np.add.reduce(held[at_group], axis=0)
    return {name: pd.Series(total, index=weights.index) for name, total in sums.items()}


def _run(at: np.ndarray) -> np.ndarray | slice:
    """``at`` as a slice when it is a run of consecutive positions (a view, not a copy)."""
    if len(at) and at[0] >= 0 and (at == np.arange(at[0], at[0] + len(at))).all():
        return slice(int(at[0]), int(at[0]) + len(at))
    return at


def regime_tables(equity: pd.DataFrame, weights: pd.DataFrame, prices: pd.DataFrame,
                  universe: Universe, regime: pd.Series, risk_free: pd.Series | None = None,
                  signal=None) -> dict[str, pd.DataFrame]:
    """Every regime table of one run: ``equity`` holds the strategy and benchmark curves,
    ``prices`` the bucket members over the same days; buckets are scored equal-weight;
    Sharpe ratios are in excess of ``risk_free`` (daily returns by date). ``regime``: the
    labelled regime (``Signal.labelled_regime``). With the run's ``signal``, each bucket's
    liquidity beta with and without the components built from its own prices."""
    returns = equity.pct_change().iloc[1:]
    buckets = bucket_daily_returns(prices, universe).loc[returns.index]
    returns = returns.join(buckets.add_prefix("bucket:"))
    window = regime.loc[equity.index[0]:equity.index[-1]]
    members = {b.name: b.tickers for b in universe.buckets}
    tables = {"scores": regime_scores(returns, regime, risk_free),
              "spread": regime_spread(returns, regime, risk_free),
              "time": time_in_regime(window),
              "transitions": transition_matrix(window),
              "contribution": bucket_contribution(weights, prices, members, regime),
              "methods": pd.DataFrame({"method": uncertainty_methods()}).rename_axis("name")}
    if signal is not None and signal.composite.loc[equity.index[0]:].notna().any():
        levels = (1.0 + buckets.fillna(0.0)).cumprod().where(buckets.notna().cummax())
        levels[universe.benchmark] = equity["benchmark"].loc[returns.index]
        found = own_component_betas(levels, members, signal, universe.benchmark)
        tables["liquidity"] = pd.DataFrame.from_records(
            [b.record() for b in found], index="name")
    return tables


def scores_wide(scores: pd.DataFrame, fields: dict[str, str]) -> pd.DataFrame:
    """``regime_scores`` output as one row per series and one column per regime and field,
    e.g. ``{"cagr": "return", "sharpe": "Sharpe"}`` -> "scarce return", "scarce Sharpe",
    ..., regimes in REGIMES order, then "no signal" where present and "all", series in
    their original order."""
    series = list(dict.fromkeys(scores.index.get_level_values(0)))
    wide = scores[list(fields)].unstack(level=-1).reindex(series)
    wide.columns = [f"{regime} {fields[field]}" for field, regime in wide.columns]
    order = [f"{r} {label}" for r in (*REGIMES, NO_SIGNAL, "all") for label in fields.values()]
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
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.number)):
        return clean_number(float(value))
    return value


def _numbers(column: pd.Series) -> pd.Series:
    """A column of numbers and None as floats; text and flags as they are."""
    numeric = column.map(lambda v: v is None or (isinstance(v, (int, float))
                                                   and not isinstance(v, bool))).all()
    return column.astype(float) if numeric else column


def tables_from_json(data: dict[str, list[dict[str, object]]]) -> dict[str, pd.DataFrame]:
    """The inverse of ``tables_to_json``: DataFrames indexed as ``regime_tables`` makes them.
    Older runs read too: scores written before the metrics registry call CAGR
    ``ann_return``, and runs before intervals have no spells, spread, methods or liquidity
    tables (the pages show what there is)."""
    index = {"scores": ["series", "regime"], "time": ["name"], "transitions": ["from"],
             "contribution": ["name"], "spread": ["series"], "methods": ["name"],
             "liquidity": ["name"]}
    out = {}
    for key, rows in data.items():
        if key not in index or not rows:
            continue
        frame = pd.DataFrame(rows).set_index(index[key])
        frame = frame.apply(_numbers)
        if key == "scores":
            frame = frame.rename(columns={"ann_return": "cagr"})
        if key == "transitions":
            frame = frame[list(REGIMES)]
        if key == "contribution":
            frame = frame[[c for c in (*REGIMES, NO_SIGNAL, "all") if c in frame.columns]]
        out[key] = frame
    return out
