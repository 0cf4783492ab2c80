"""Reports of a run: the quantstats tearsheet (and, later, durationbt's own page)."""

from .tearsheet import write_tearsheet

__all__ = ["write_tearsheet"]
