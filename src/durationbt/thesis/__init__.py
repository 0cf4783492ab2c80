"""``durationbt thesis``: the thesis's own claims, written as data in a universe file's
``[thesis]`` table, scored with intervals, p-values adjusted for testing many claims at
once, and verdicts (supported, contradicted, inconclusive, insufficient data).

Kept light on purpose: ``universe`` imports the table's shape from here, so the scoring
lives in submodules (``thesis.scorecard``, one module per claim kind) imported by the
command that scores."""

from .table import ClaimSpec, EventSpec, SeriesSpec, ThesisTable

__all__ = ["ClaimSpec", "EventSpec", "SeriesSpec", "ThesisTable"]
