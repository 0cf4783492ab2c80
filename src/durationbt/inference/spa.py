"""Hansen's test for superior predictive ability (SPA, 2005): "does any of these strategies
beat the baseline?" asked once for the whole set, so picking the best of many does not pass
for skill. arch's ``SPA`` does the work (stationary bootstrap of the loss differences,
studentised); this wrapper fixes the loss (minus the daily excess return, so "better" means
a higher mean excess return), the seed and what a reader gets back."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["SPAResult", "spa_test"]


@dataclass(frozen=True)
class SPAResult:
    """The SPA verdict on a set of strategies against one baseline: ``p_value`` is Hansen's
    consistent p (``p_lower`` and ``p_upper`` bracket it: the liberal and the conservative
    re-centring); ``best`` is the strategy with the highest mean daily excess return over
    the baseline's, ``best_margin`` that margin annualised (x ``periods``)."""

    p_value: float
    p_lower: float
    p_upper: float
    models: int
    days: int
    best: str
    best_margin: float
    method: str
    block_days: float
    replicates: int
    seed: int

    def to_json(self) -> dict[str, Any]:
        """JSON-ready (NaN as None)."""
        def clean(v: Any) -> Any:
            return None if isinstance(v, float) and not math.isfinite(v) else v
        return {k: clean(v) for k, v in self.__dict__.items()}


def spa_test(baseline: np.ndarray, models: dict[str, np.ndarray], *, block_days: float = 21.0,
             replicates: int = 1000, seed: int = 0, periods: int = 252) -> SPAResult:
    """SPA of ``models`` (name -> daily excess returns) against ``baseline`` (daily excess
    returns on the same days); NaN days (any series) are dropped. The null: no model has a
    higher expected excess return than the baseline."""
    from arch.bootstrap import SPA

    names = list(models)
    matrix = np.column_stack([np.asarray(models[n], dtype=float) for n in names])
    base = np.asarray(baseline, dtype=float)
    keep = np.isfinite(base) & np.isfinite(matrix).all(axis=1)
    base, matrix = base[keep], matrix[keep]
    margins = (matrix - base[:, None]).mean(axis=0)
    best = int(np.argmax(margins))
    test = SPA(-base, -matrix, block_size=max(1, round(block_days)), reps=replicates,
               bootstrap="stationary", studentize=True, seed=seed)
    test.compute()
    p = test.pvalues
    return SPAResult(p_value=float(p["consistent"]), p_lower=float(p["lower"]),
                     p_upper=float(p["upper"]), models=len(names), days=int(len(base)),
                     best=names[best], best_margin=float(margins[best] * periods),
                     method=(f"Hansen SPA (arch), loss = minus the daily excess return, "
                             f"stationary bootstrap, mean block {max(1, round(block_days))} "
                             f"days, {replicates} replicates, studentised"),
                     block_days=float(max(1, round(block_days))), replicates=int(replicates),
                     seed=int(seed))
