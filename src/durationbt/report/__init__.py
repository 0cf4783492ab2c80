"""Reports of a run: the quantstats tearsheet and durationbt's own report page."""

from .run_page import write_run_report
from .tearsheet import write_run_tearsheet, write_tearsheet

__all__ = ["write_tearsheet", "write_run_tearsheet", "write_run_report"]
