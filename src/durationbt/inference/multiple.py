"""Multiple-testing adjustment of the p-values of one family of tests (the claims of one
thesis run, the strategies of one comparison): Holm controls the family-wise error rate,
Benjamini-Hochberg the false discovery rate. statsmodels' ``multipletests`` does the work."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["ADJUSTMENTS", "adjust_pvalues"]

#: the user's word -> (statsmodels' method name, what the output calls it)
ADJUSTMENTS = {"holm": ("holm", "Holm (family-wise error rate)"),
               "bh": ("fdr_bh", "Benjamini-Hochberg (false discovery rate)")}


def adjust_pvalues(p_values: Sequence[float | None], method: str = "holm") -> list[float | None]:
    """Adjusted p-values in the input's order; entries without a p-value (None or NaN: a
    claim with insufficient data) stay None and do not count as tests."""
    if method not in ADJUSTMENTS:
        raise ValueError(f"unknown adjustment {method!r}; choose one of {', '.join(ADJUSTMENTS)}")
    from statsmodels.stats.multitest import multipletests

    present = [i for i, p in enumerate(p_values) if p is not None and math.isfinite(p)]
    out: list[float | None] = [None] * len(p_values)
    if present:
        raw = np.array([p_values[i] for i in present], dtype=float)
        adjusted = multipletests(raw, method=ADJUSTMENTS[method][0])[1]
        for i, value in zip(present, adjusted, strict=True):
            out[i] = float(value)
    return out
