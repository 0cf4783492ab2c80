"""What the CLI and notebooks call: ``run_backtest`` wires one run together (a session,
the in-memory backtest, the results folder, the pages) and overlaps what can overlap.
The steps themselves live in ``session``, ``backtest``, ``runs`` and ``report``; the
names below are re-exported so a notebook needs one import."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from .engine import import_vectorbt
from .inference.placebo import check_placebos, check_seed
from .inference.timing import attach_timing
from .isolation import StrategyProcess
from .pipeline import Backtest, backtest, benchmark_equity
from .plugins import StrategyRegistry
from .publish import BacktestResult, write_run
from .runs import draft_file
from .session import Progress, RunSettings, Session, build_context, load_data, lookahead_probe
from .universe import Universe
from .weights import compute_weights

__all__ = ["RunSettings", "BacktestResult", "run_backtest", "Session", "build_context",
           "compute_weights", "benchmark_equity", "load_data", "Backtest", "backtest",
           "write_run", "lookahead_probe"]


def run_backtest(strategy_name: str, settings: RunSettings | None = None, *,
                 registry: StrategyRegistry | None = None,
                 progress: Progress | None = None) -> BacktestResult:
    """Run one backtest end to end and write its run folder atomically.

    What does not depend on each other overlaps: the plugin's own process (``isolation``)
    imports it while the data load, vectorbt is imported in a thread while the data, signal
    and weights are computed (``simulate`` waits for it), and the quantstats tearsheet is
    drawn by a second process (started now, so its imports are done by then) while the
    lookahead replay (in the plugin's process), scores, durations, regime tables and report
    page are made."""
    settings = settings or RunSettings()
    phases: list[tuple[str, float]] = [("start", time.perf_counter())]

    def say(message: str) -> None:
        phases.append((message, time.perf_counter()))
        if progress:
            progress(message)

    with contextlib.ExitStack() as stack:
        worker = None
        if settings.tearsheet:
            from .report.worker import TearsheetWorker

            worker = stack.enter_context(TearsheetWorker())
        check_placebos(settings.placebos)
        check_seed(settings.seed)
        say("Loading universe and strategy")
        session = Session(settings, registry, say)
        strategy = session.strategy(strategy_name, settings.params)
        # the plugin's process is forked before any thread starts (a child forked while a
        # thread imports vectorbt could wait for that import forever); it imports the
        # plugin while the data load
        plugin = stack.enter_context(StrategyProcess(strategy, settings.timeout))
        threading.Thread(target=import_vectorbt, daemon=True).start()
        _ = session.risk_free, session.ctx, session.risk_free_returns   # refused before drafting
        draft = stack.enter_context(draft_file(Path(settings.out), "tearsheet.html"))
        if worker is not None:   # stopped before the draft is removed: it may be writing it
            stack.callback(worker.close)

        def start_tearsheet(equity: pd.Series, bench: pd.Series) -> None:
            if worker is not None:
                say("Drawing the quantstats tearsheet in a second process")
                worker.submit(draft.parent, equity, bench,
                              _page_titles(strategy.name, session.universe, settings), draft)

        done = attach_timing(backtest(strategy, session, on_equity=start_tearsheet,
                                      plugin=plugin), session)
        tearsheet = worker.result if worker is not None else None   # returns ``draft``
        written = write_run(done, settings, session.source(strategy.name), say, tearsheet)
    say("done")
    timings = {name: round(end - begin, 3)
               for (name, begin), (_, end) in zip(phases, phases[1:], strict=False)}
    return replace(written, timings=timings)


def _page_titles(strategy: str, universe: Universe, settings: RunSettings) -> dict:
    """The part of a manifest the tearsheet's title, labels and risk-free note are made from."""
    return {"strategy": {"name": strategy},
            "universe": {"name": universe.name, "definition": {"benchmark": universe.benchmark,
                                                               "cash": universe.cash}},
            "settings": {"risk_free": settings.risk_free}}
