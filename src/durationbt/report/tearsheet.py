"""The quantstats HTML tearsheet, strategy vs benchmark, made to work offline."""

from __future__ import annotations

import contextlib
import html
import logging
import re
import warnings
from pathlib import Path

import pandas as pd

__all__ = ["write_tearsheet", "write_run_tearsheet", "warm_up"]

# quantstats links a favicon on a remote host; offline it is a failed request, so drop it
_REMOTE_FAVICON = re.compile(r'\s*<link[^>]+rel="shortcut icon"[^>]*>', re.IGNORECASE)
# its template calls save() on load, a function it only defines in browser-download mode:
# written to a file, the page throws "save is not defined" (found by the browser test)
_UNDEFINED_ONLOAD = re.compile(r'<body\s+onload="save\(\)"\s*>', re.IGNORECASE)


def warm_up() -> None:
    """Import matplotlib (Agg) and quantstats ahead of time: what the tearsheet worker
    process does while the run it serves is still computing."""
    import matplotlib

    matplotlib.use("Agg", force=True)   # the worker's own process: no user backend to keep
    import quantstats  # noqa: F401


def write_tearsheet(path: Path, equity: pd.Series, benchmark: pd.Series, *, title: str,
                    benchmark_name: str) -> Path:
    """Render quantstats' full HTML report to ``path`` (SVG charts inline, no CDN)."""
    import matplotlib

    returns = equity.pct_change().iloc[1:].rename("Strategy")
    bench = benchmark.pct_change().iloc[1:].rename(html.escape(benchmark_name))
    # quantstats draws with pyplot: borrow the Agg backend (no screen on servers and CI)
    # and quiet its font lookups, then give a notebook user's backend and logger back
    backend = matplotlib.get_backend()
    fonts = logging.getLogger("matplotlib.font_manager")
    level = fonts.level
    matplotlib.use("Agg", force=True)
    fonts.setLevel(logging.ERROR)
    try:
        import quantstats as qs

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"(quantstats|matplotlib|seaborn)(\..*)?")
            warnings.filterwarnings("ignore", category=RuntimeWarning)
            # quantstats inserts the title into the page unescaped: escape it here, so a
            # universe or strategy name carrying markup stays text
            qs.reports.html(returns, benchmark=bench, output=str(path), title=html.escape(title),
                            periods_per_year=252, figfmt="svg", download_filename=path.name)
    finally:
        fonts.setLevel(level)
        if backend.lower() != "agg":
            with contextlib.suppress(Exception):   # an interactive backend without a screen
                matplotlib.use(backend, force=True)
    page = path.read_text(encoding="utf-8")
    page = _UNDEFINED_ONLOAD.sub("<body>", _REMOTE_FAVICON.sub("", page))
    path.write_text(page, encoding="utf-8")
    return path


def write_run_tearsheet(folder: Path, equity: pd.Series, benchmark: pd.Series,
                        manifest: dict, path: Path | None = None) -> Path:
    """A run folder's ``tearsheet.html`` (or ``path``), titled and labelled from its
    manifest (the same page whether written by the run or redrawn by ``durationbt report``)."""
    return write_tearsheet(path or folder / "tearsheet.html", equity, benchmark,
                           title=f"durationbt: {manifest['strategy']['name']} on "
                                 f"{manifest['universe']['name']}",
                           benchmark_name=manifest["universe"]["definition"]["benchmark"])
