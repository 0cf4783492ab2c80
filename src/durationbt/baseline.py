"""``compare --baseline``: every strategy held against one baseline on the same days, so a
leaderboard says how sure a lead is, not only who leads.

* each row's Sharpe difference to the baseline with a paired stationary-bootstrap 95%
  interval and p-value (the same resampled days for both: their common market moves cancel);
* the deflated Sharpe ratio against the baseline's Sharpe rather than 0: P(true Sharpe >
  the baseline's + what the best of the N compared strategies would show by luck), N and
  the spread of Sharpe ratios taken from the compared set (Bailey & López de Prado 2014);
* with three or more strategies, Hansen's SPA test of "does any strategy beat the baseline?"
  asked once for the whole set.

A baseline from another universe, period, cost or risk-free setting cannot be paired with
the others: that is refused (exit 2) naming the difference."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .errors import ParameterError, did_you_mean
from .inference import SPAResult, sharpe_difference, spa_test
from .metrics import sharpe
from .statistics import expected_max_sharpe, probabilistic_sharpe_ratio

__all__ = ["BASELINE_COLUMNS", "BLOCK_DAYS", "REPLICATES", "BaselineSummary", "Footing",
           "resolve_baseline", "check_footing", "against_baseline"]

BASELINE_COLUMNS = ("sharpe_vs_baseline", "sharpe_vs_baseline_ci_low",
                    "sharpe_vs_baseline_ci_high", "sharpe_vs_baseline_p", "dsr_vs_baseline")
BLOCK_DAYS = 21.0        # mean block of the paired bootstrap and the SPA test (about a month)
REPLICATES = 2000
SEED = 0


@dataclass(frozen=True)
class Footing:
    """What a paired comparison needs two runs to share: the universe (its name and
    definition), the period, costs and risk-free rate (as ``compare._settings_of`` words
    them)."""

    label: str
    universe: str
    definition: dict[str, Any]
    settings: dict[str, str]


_SHARED = {"start": "start", "end": "end", "costs": "costs (fees + slippage, bps)",
           "risk_free": "risk-free rate"}


def resolve_baseline(baseline: str, items: Sequence[str], labels: dict[str, str],
                     strategies: Sequence[str]) -> tuple[list[str], str]:
    """The compared items (with the baseline added when it is not among them) and the item
    that is the baseline. ``labels``: item -> its leaderboard label for items already read
    (run folders, whose labels are ``name@time``); ``strategies``: the names the registry
    knows. A baseline that is none of these is a ParameterError with a did-you-mean."""
    from pathlib import Path

    items = list(items)
    if Path(baseline).is_dir():
        wanted = Path(baseline).resolve()
        same = [i for i in items if Path(i).is_dir() and Path(i).resolve() == wanted]
        return (items, same[0]) if same else ([*items, baseline], baseline)
    if baseline in items:
        return items, baseline
    by_label = [i for i, label in labels.items() if label == baseline]
    if by_label:
        return items, by_label[0]
    if baseline in strategies:
        return [*items, baseline], baseline
    known = [*strategies, *labels.values()]
    raise ParameterError(f'--baseline "{baseline}" is neither a strategy, a run folder nor a '
                         "compared run's label." + did_you_mean(baseline, known)
                         + " Name a strategy (it is run with the others), a run folder, or a "
                           "label from the leaderboard.")


def check_footing(base: Footing, others: Sequence[Footing]) -> None:
    """Refuse (ParameterError) a baseline on another universe, period, cost or risk-free
    setting than any compared run: their daily returns cannot be paired. Keys one
    universe definition lacks (written by an older durationbt) are not compared."""
    for other in others:
        if other.label == base.label:
            continue
        shared = set(base.definition) & set(other.definition)
        if other.universe != base.universe or any(
                base.definition[k] != other.definition[k] for k in shared):
            what = (f"universe {base.universe} vs {other.universe}"
                    if other.universe != base.universe else
                    f"the definition of universe {base.universe} (edited between the runs: "
                    + ", ".join(sorted(k for k in shared
                                       if base.definition[k] != other.definition[k])) + ")")
            _refuse(base, other, what)
        for key, words in _SHARED.items():
            if base.settings[key] != other.settings[key]:
                _refuse(base, other, f"{words}: {base.settings[key]} vs {other.settings[key]}")


def _refuse(base: Footing, other: Footing, what: str) -> None:
    raise ParameterError(f"--baseline {base.label} and {other.label} differ in {what}, so "
                         "their daily returns cannot be paired and a Sharpe difference between "
                         "them means nothing (--allow-mixed does not change this). Choose a "
                         "baseline run on the same universe, period, costs and risk-free rate, "
                         "or rerun it on those settings.")


@dataclass(frozen=True)
class BaselineSummary:
    """The verdict on the whole set: which row is the baseline, how the differences and the
    deflated Sharpe were measured, and the SPA test (None below three strategies, with the
    reason)."""

    name: str
    source: str
    sharpe: float
    n_trials: int
    sr_variance: float
    spa: SPAResult | None
    spa_note: str
    method: str
    dsr_method: str

    def to_json(self) -> dict[str, Any]:
        """JSON-ready (the compare manifest's ``baseline``)."""
        return {"name": self.name, "source": self.source,
                "sharpe": _finite(self.sharpe), "n_trials": self.n_trials,
                "sr_variance_per_period": _finite(self.sr_variance),
                "spa": None if self.spa is None else self.spa.to_json(),
                "spa_note": self.spa_note, "method": self.method, "dsr_method": self.dsr_method}

    def spa_sentence(self) -> str:
        """The SPA verdict in one sentence, for the terminal and the page."""
        if self.spa is None:
            return self.spa_note
        spa = self.spa
        p = "< 0.001" if spa.p_value < 0.001 else f"{spa.p_value:.3f}"
        verdict = ("at least one strategy has a higher mean excess return than the "
                   "baseline" if spa.p_value < 0.05 else
                   "no strategy is shown to have a higher mean excess return than the baseline")
        return (f"Hansen's SPA test, {spa.models} strategies vs {self.name}: p = {p} "
                f"({verdict} at 5%); the best, {spa.best}, earns "
                f"{spa.best_margin:+.2%} a year more than the baseline.")


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _excess(equity: pd.Series, risk_free: pd.Series, days: pd.Index) -> np.ndarray:
    returns = equity.pct_change().reindex(days)
    return (returns - risk_free.reindex(days).fillna(0.0)).to_numpy(dtype=float)


def against_baseline(curves: dict[str, pd.Series], base: str, risk_free: pd.Series,
                     source: str, candidates: Sequence[str]) -> tuple[pd.DataFrame,
                                                                      BaselineSummary]:
    """BASELINE_COLUMNS for every curve (``curves``: label -> daily equity; the benchmark may
    be one of them) against ``curves[base]``, on the days both have, and the summary.
    ``candidates``: the compared strategies (not the baseline, not the benchmark): the
    deflated Sharpe's N and the SPA's models."""
    rows: dict[str, dict[str, float]] = {}
    base_curve = curves[base]
    for label, curve in curves.items():
        days = curve.index.intersection(base_curve.index)[1:]
        if label == base:
            rows[label] = {"sharpe_vs_baseline": 0.0}
            continue
        rf = risk_free.reindex(days).fillna(0.0).to_numpy()
        a = curve.pct_change().reindex(days).to_numpy(dtype=float)
        b = base_curve.pct_change().reindex(days).to_numpy(dtype=float)
        keep = np.isfinite(a) & np.isfinite(b)
        est = sharpe_difference(a[keep], b[keep], rf[keep], mean_block=BLOCK_DAYS,
                                n_boot=REPLICATES, seed=SEED)
        rows[label] = {"sharpe_vs_baseline": est.estimate,
                       "sharpe_vs_baseline_ci_low": est.ci95[0],
                       "sharpe_vs_baseline_ci_high": est.ci95[1],
                       "sharpe_vs_baseline_p": np.nan if est.p_value is None else est.p_value}
    days = base_curve.index[1:]
    base_excess = _excess(base_curve, risk_free, days)
    base_sr = float(sharpe(base_excess[np.isfinite(base_excess)], periods=1))
    per_period = {c: _excess(curves[c], risk_free, days) for c in candidates}
    srs = np.array([sharpe(x[np.isfinite(x)], periods=1) for x in per_period.values()])
    n = len(candidates)
    variance = float(np.nanvar(srs, ddof=1)) if n > 1 else 0.0
    threshold = base_sr + expected_max_sharpe(max(n, 1), variance)
    for c, x in per_period.items():
        rows[c]["dsr_vs_baseline"] = probabilistic_sharpe_ratio(x[np.isfinite(x)], threshold)
    spa, note = None, ""
    if n >= 2:
        spa = spa_test(base_excess, per_period, block_days=BLOCK_DAYS, replicates=1000,
                       seed=SEED)
    else:
        note = ("Hansen's SPA test needs three or more strategies (the baseline and two "
                "others); with one other, its paired interval above is the test.")
    frame = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=list(BASELINE_COLUMNS))
    summary = BaselineSummary(
        name=base, source=source, sharpe=base_sr * np.sqrt(252), n_trials=n,
        sr_variance=variance, spa=spa, spa_note=note,
        method=(f"Sharpe(row) - Sharpe(baseline), annualised, on excess returns; paired "
                f"stationary bootstrap (the same resampled days for both), mean block "
                f"{BLOCK_DAYS:g} days, {REPLICATES} replicates, seed {SEED}; p two-sided"),
        dsr_method=(f"P(true Sharpe > the baseline's + the expected best of N = {n} unskilled "
                    "strategies whose Sharpe ratios vary as the compared ones do), raw "
                    "kurtosis (Bailey & López de Prado 2014)"))
    return frame, summary
