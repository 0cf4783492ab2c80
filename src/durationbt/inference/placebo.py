"""The pieces of a timing attribution (``inference.timing``): the static mix, the re-timed
placebo test and its schedules, the verdict sentence, and the result object with its JSON
(``metrics.json``'s ``timing``) and curves (``timing.csv``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError
from .estimate import Estimate

__all__ = ["StaticMix", "PlaceboTest", "TimingAttribution", "mean_spell_days",
           "retimed_orders", "verdict", "check_placebos", "check_seed", "ADDS_VALUE", "DEFAULT_PLACEBOS",
           "MIN_PLACEBOS"]

ADDS_VALUE = "timing adds value"
DEFAULT_PLACEBOS = 1000
MIN_PLACEBOS = 200
_LEVEL = 0.05


def _num(value: float | None) -> float | None:
    """12 significant digits (metrics.json's rounding); NaN and infinities as None."""
    if value is None or not math.isfinite(float(value)):
        return None
    return float(f"{float(value):.12g}")


@dataclass(frozen=True)
class StaticMix:
    """The run's average weights (bucket or ticker -> weight, time-weighted over the days
    each decision stood), held constant on the run's schedule, and how it did."""

    weights: dict[str, float]
    sharpe: float
    cagr: float
    equity: pd.Series

    def to_json(self) -> dict[str, Any]:
        return {"sharpe": _num(self.sharpe), "cagr": _num(self.cagr),
                "weights": {k: _num(v) for k, v in self.weights.items()}}


@dataclass(frozen=True)
class PlaceboTest:
    """``n`` re-timed copies of the run's decisions: the share whose Sharpe reached the
    run's is ``p_value``; ``band`` holds the 5th, 50th and 95th percentile of their equity
    on each day; ``sharpes`` every placebo's Sharpe."""

    n: int
    p_value: float
    method: str
    block_days: float
    block_rows: int
    seed: int
    sharpes: np.ndarray
    band: pd.DataFrame

    def to_json(self) -> dict[str, Any]:
        q05, q50, q95 = np.quantile(self.sharpes, [0.05, 0.5, 0.95])
        return {"n": int(self.n), "p_value": _num(self.p_value), "method": self.method,
                "block_days": _num(self.block_days), "block_rows": int(self.block_rows),
                "seed": int(self.seed),
                "sharpe_quantiles": {"p05": _num(q05), "p50": _num(q50), "p95": _num(q95)}}


@dataclass(frozen=True)
class TimingAttribution:
    """A run's Sharpe against its static mix and its re-timed placebos (``placebo`` None
    when switched off), the verdict sentence and whether timing is credited."""

    sharpe: float
    static_mix: StaticMix
    sharpe_minus_static: Estimate
    placebo: PlaceboTest | None
    verdict: str
    adds_value: bool
    equity: pd.Series
    weights_by: str = "bucket"

    def to_json(self) -> dict[str, Any]:
        """``metrics.json``'s ``timing``."""
        diff = self.sharpe_minus_static
        return {"sharpe": _num(self.sharpe), "weights_by": self.weights_by,
                "static_mix": self.static_mix.to_json(),
                "sharpe_minus_static": {
                    "estimate": _num(diff.estimate),
                    "ci95": [_num(diff.ci95[0]), _num(diff.ci95[1])],
                    "p_value": _num(diff.p_value), "n": int(diff.n), "method": diff.method,
                    "block_days": _num(diff.extra.get("block_days")),
                    "replicates": diff.extra.get("replicates"), "seed": diff.extra.get("seed")},
                "placebo": None if self.placebo is None else self.placebo.to_json(),
                "verdict": self.verdict, "adds_value": self.adds_value}

    def curves(self) -> pd.DataFrame:
        """``timing.csv``: the run's equity, its static mix's and the placebo band by day."""
        parts = [self.equity.rename("strategy"), self.static_mix.equity.rename("static_mix")]
        if self.placebo is not None:
            parts.append(self.placebo.band)
        return pd.concat(parts, axis=1).rename_axis("date")


def check_placebos(placebos: int) -> int:
    """``placebos`` if it is 0 (no placebo test) or between MIN_PLACEBOS and 100,000, else
    a ParameterError naming the option: fewer re-timed schedules cannot resolve p < 0.05."""
    if isinstance(placebos, bool) or not isinstance(placebos, int | np.integer) or (
            placebos != 0 and not MIN_PLACEBOS <= placebos <= 100_000):
        raise ParameterError(f"--placebos must be 0 (no placebo test) or a whole number from "
                             f"{MIN_PLACEBOS} to 100000, got {placebos!r}: fewer re-timed "
                             "schedules cannot resolve p < 0.05 reliably.")
    return int(placebos)


def check_seed(seed: int) -> int:
    """``seed`` if it is a whole number >= 0 (what numpy's generators take)."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError(f"--seed must be a whole number >= 0, got {seed!r}.")
    return int(seed)


def mean_spell_days(regime: pd.Series) -> float:
    """Mean length in days of the runs of one regime label (days without a signal value
    are a label of their own)."""
    labels = regime.astype(object).where(regime.notna(), "no signal").to_numpy()
    if not len(labels):
        return 1.0
    runs = 1 + int((labels[1:] != labels[:-1]).sum())
    return len(labels) / runs


def retimed_orders(rows: int, block: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` re-timings of ``rows`` decision rows (n x rows indices): each circularly shifted
    by a random offset, cut into blocks of ``block`` rows (the last may be shorter), and the
    blocks put in random order, so runs of decisions shorter than a block keep their shape
    and their timing is broken."""
    offsets = rng.integers(rows, size=n)
    n_blocks = -(-rows // block)
    shifted = (np.arange(rows)[None] + offsets[:, None]) % rows
    rank = np.argsort(rng.random((n, n_blocks)), axis=1).argsort(axis=1)   # block -> slot
    position = np.arange(rows)
    key = rank[:, position // block] * block + position % block
    return np.take_along_axis(shifted, np.argsort(key, axis=1, kind="stable"), axis=1)


def _fmt(x: float) -> str:
    return f"{x:+.2f}".replace("-", "\u2212")


def verdict(name: str, run_sharpe: float, static: StaticMix, diff: Estimate,
            placebo: PlaceboTest | None) -> tuple[str, bool]:
    """The sentence a reader gets, and whether timing is credited: only when the paired
    interval lies above 0 and the placebo p-value is below 0.05."""
    lo, hi = diff.ci95
    interval = f"{_fmt(diff.estimate)}, 95% interval [{_fmt(lo)}, {_fmt(hi)}]"
    if placebo is None:
        test = "no placebo test was run (--placebos 0)"
    else:
        test = (f"{placebo.p_value:.1%} of {placebo.n:,} re-timed schedules did as well "
                f"(p = {placebo.p_value:.3f})")
    sharpes = f"Sharpe {run_sharpe:.2f} vs {static.sharpe:.2f} for its static mix"
    adds = bool(lo > 0 and placebo is not None and placebo.p_value < _LEVEL)
    if adds:
        return f"{ADDS_VALUE}: {sharpes} (difference {interval}); {test}.", True
    if hi < 0:
        return (f"timing costs value: {sharpes} (difference {interval}); {test}; the edge, if "
                f"any, is the static mix.", False)
    return (f"the edge is the static mix, not the timing: {sharpes} (its own average weights "
            f"held constant); timing adds {interval}; {test}.", False)
