"""``durationbt report RUN_DIR``: redraw a run's pages from its folder, no backtest rerun."""

from __future__ import annotations

import webbrowser
from pathlib import Path

import typer

from .console import err, out, user_errors

__all__ = ["report"]


@user_errors
def report(
    run_dir: Path = typer.Argument(..., help="A run folder under results/."),
    tearsheet: bool = typer.Option(True, "--tearsheet/--no-tearsheet",
                                   help="Also redraw the quantstats tearsheet.html."),
    open_page: bool = typer.Option(False, "--open", help="Open report.html in the browser."),
) -> None:
    """Re-render report.html (and tearsheet.html) of RUN_DIR from the files it holds:
    equity, weights, signal, duration, regime tables, manifest. Nothing is recomputed."""
    from ..report import write_run_report, write_run_tearsheet
    from ..runs import files_together, read_run_folder, refuse_unfinished

    refuse_unfinished(run_dir)
    run = read_run_folder(run_dir)
    page, sheet = run.path / "report.html", run.path / "tearsheet.html"
    with files_together([page, sheet] if tearsheet else [page]) as temps:   # both or neither
        if tearsheet:
            write_run_tearsheet(run.path, run.equity["equity"], run.equity["benchmark"],
                                run.manifest, path=temps[1])
        write_run_report(run, page=temps[0])
    out.print(str(page), soft_wrap=True)
    if tearsheet:
        out.print(str(sheet), soft_wrap=True)
    if open_page and not webbrowser.open(page.resolve().as_uri()):
        err.print(f"No browser available here; open {page} yourself.", soft_wrap=True)
