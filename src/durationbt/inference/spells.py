"""Spells: runs of consecutive days in one state. Days inside a regime are not independent
observations; its spells are closer to that, so sample sizes are reported in both."""

from __future__ import annotations

import numpy as np

__all__ = ["count_spells", "spell_lengths"]


def spell_lengths(mask: np.ndarray) -> np.ndarray:
    """Lengths of the runs of True in a boolean sequence, in order."""
    m = np.asarray(mask, dtype=bool)
    if not m.size:
        return np.zeros(0, dtype=np.int64)
    edges = np.diff(np.concatenate([[0], m.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return ends - starts


def count_spells(mask: np.ndarray) -> int:
    """The number of runs of True (``[T, T, F, T]`` has 2)."""
    return int(len(spell_lengths(mask)))
