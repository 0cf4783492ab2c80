"""The quantstats HTML tearsheet, strategy vs benchmark, made to work offline."""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path

import pandas as pd

__all__ = ["write_tearsheet", "write_run_tearsheet"]

# quantstats links a favicon on a remote host; offline it is a failed request, so drop it
_REMOTE_FAVICON = re.compile(r'\s*<link[^>]+rel="shortcut icon"[^>]*>', re.IGNORECASE)
# its template calls save() on load, a function it only defines in browser-download mode:
# written to a file, the page throws "save is not defined" (found by the browser test)
_UNDEFINED_ONLOAD = re.compile(r'<body\s+onload="save\(\)"\s*>', re.IGNORECASE)


def write_tearsheet(path: Path, equity: pd.Series, benchmark: pd.Series, *, title: str,
                    benchmark_name: str) -> Path:
    """Render quantstats' full HTML report to ``path`` (SVG charts inline, no CDN)."""
    import matplotlib

    matplotlib.use("Agg", force=True)  # no screen on servers and CI
    # quantstats asks for Arial; matplotlib falls back to DejaVu Sans and logs every lookup
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    import quantstats as qs

    returns = equity.pct_change().iloc[1:].rename("Strategy")
    bench = benchmark.pct_change().iloc[1:].rename(benchmark_name)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"(quantstats|matplotlib|seaborn)(\..*)?")
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        qs.reports.html(returns, benchmark=bench, output=str(path), title=title,
                        periods_per_year=252, figfmt="svg", download_filename=path.name)
    html = path.read_text(encoding="utf-8")
    html = _UNDEFINED_ONLOAD.sub("<body>", _REMOTE_FAVICON.sub("", html))
    path.write_text(html, encoding="utf-8")
    return path


def write_run_tearsheet(folder: Path, equity: pd.Series, benchmark: pd.Series,
                        manifest: dict) -> Path:
    """A run folder's ``tearsheet.html``, titled and labelled from its manifest (the same
    page whether written by the run or redrawn by ``durationbt report``)."""
    return write_tearsheet(folder / "tearsheet.html", equity, benchmark,
                           title=f"durationbt: {manifest['strategy']['name']} on "
                                 f"{manifest['universe']['name']}",
                           benchmark_name=manifest["universe"]["definition"]["benchmark"])
