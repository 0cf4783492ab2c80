"""Each command's results folder with its pages: the typed manifest, the data files and
the HTML, written atomically through ``runs``. The one module that joins results
(``runs``) and pages (``report``), so the analytics below never import either."""

from __future__ import annotations

import hashlib
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .book import Book
from .engine import EngineResult
from .manifest import (
    CompareManifest,
    RunManifest,
    RunMetrics,
    SweepSummary,
    ThesisManifest,
    WalkForwardManifest,
)
from .pipeline import Backtest, short_sample_warnings
from .runs import provenance, run_id, staging_folder, write_frame, write_json, write_manifest
from .session import Progress, RunSettings

__all__ = ["BacktestResult", "run_manifest", "write_run", "write_comparison", "write_sweep",
           "write_walkforward", "write_thesis"]


@dataclass(frozen=True)
class BacktestResult:
    """A finished run: its folder, scores, manifest and the simulated path."""

    run_dir: Path
    metrics: dict[str, Any]
    manifest: dict[str, Any]
    result: EngineResult
    benchmark: pd.Series
    regimes: dict[str, pd.DataFrame]
    timings: dict[str, float] = field(default_factory=dict)   # phase -> seconds (wall)


def _file_sha256(path: Path | None) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path and path.is_file() else None


def _now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC")


def run_manifest(done: Backtest, settings: RunSettings, source: str,
                 created: pd.Timestamp) -> RunManifest:
    """The typed manifest of a finished backtest; its ``run_id`` hashes what the result
    depends on (universe, strategy and parameters, settings, the data's fingerprint)."""
    strategy, universe, market, ctx = done.strategy, done.universe, done.market, done.ctx
    identity = {
        "universe": universe.model_dump(mode="json", exclude={"path"}),
        "strategy": strategy.name, "params": strategy.values(),
        "rebalance": settings.rebalance, "fees_bps": settings.costs.fees_bps,
        "slippage_bps": settings.costs.slippage_bps, "init_cash": settings.init_cash,
        "risk_free": settings.risk_free, "cash": settings.cash,
        "placebos": settings.placebos, "seed": settings.seed,
        **({"book": done.book.record()} if done.book.record() != Book().record() else {}),
        "start": str(market.start.date()), "end": str(market.end.date()),
        "data": market.fingerprint(),
    }
    return RunManifest(
        run_id=run_id(created, strategy.name, identity),
        created_utc=created.isoformat(timespec="seconds"),
        universe={"name": universe.name, "path": str(universe.path),
                  "sha256": _file_sha256(universe.path), "definition": identity["universe"]},
        strategy={"name": strategy.name, "source": source, "params": strategy.values(),
                  "weights_by": strategy.weights_by,
                  "description": inspect.getdoc(type(strategy)) or "",
                  "within_bucket": strategy.within_bucket, "holds": strategy.holds},
        settings={"start": identity["start"], "end": identity["end"],
                  "rebalance": settings.rebalance, "fees_bps": settings.costs.fees_bps,
                  "slippage_bps": settings.costs.slippage_bps, "init_cash": settings.init_cash,
                  "risk_free": settings.risk_free, "cash": settings.cash,
                  "placebos": settings.placebos, "seed": settings.seed,
                  "book": done.book.record()},
        data={"source": market.source, "fingerprint": identity["data"],
              "gaps": [str(g) for g in market.gaps], "absent": list(market.absent),
              "delisted": {t: str(d.date()) for t, d in market.ended.items()},
              "warnings": short_sample_warnings(done.metrics["strategy"]["days"])
              + list(done.notes),
              "suspicious": [s.record() for s in market.suspicious]},
        signal={"components": ctx.signal.weights, "config": universe.signal.model_dump(
            mode="json", include={"window", "min_history", "clip", "enter_scarce", "exit_scarce",
                                  "enter_abundant", "exit_abundant"}),
                "last_dates": ctx.signal.last_dates(market.end)},
        lookahead=done.lookahead.manifest(),
        engine={"orders": done.result.orders, "decisions": len(ctx.rebalance_dates),
                "executed_rebalances": len(done.result.targets),
                "costs_paid": float(done.result.costs_paid.sum()),
                "borrow_paid": float(done.result.carry_paid()["borrow"].sum()),
                "financing_paid": float(done.result.carry_paid()["financing"].sum())},
        **provenance(market))


def write_run(done: Backtest, settings: RunSettings, source: str,
              progress: Progress | None = None,
              tearsheet: Callable[[], Path] | None = None) -> BacktestResult:
    """The run folder of a finished backtest: manifest, metrics, series, regime tables,
    report page and quantstats tearsheet, written atomically. ``tearsheet``: waits for a
    tearsheet drawn elsewhere and returns its file (else it is drawn here, unless
    ``settings.tearsheet`` is off)."""
    from .regimes import tables_to_json
    from .report.run_page import write_run_report

    say = progress or (lambda _msg: None)
    result, bench, ctx, market = done.result, done.benchmark, done.ctx, done.market
    manifest = run_manifest(done, settings, source, _now())
    RunMetrics.model_validate(done.metrics)     # the schema compare and the pages read back
    with staging_folder(Path(settings.out), manifest.run_id) as (folder, final):
        manifest.run_id = final[0].name          # "-2" when a run took the name first
        write_manifest(folder / "manifest.json", manifest)
        write_json(folder / "metrics.json", done.metrics)
        # a book that shorts or levers adds the day's borrow and financing paid
        carry = {} if result.carry is None else {k: result.carry[k] for k in result.carry}
        tables = {name: write_frame(folder / name, frame, parsed=True) for name, frame in (
            ("equity.csv", pd.DataFrame({"equity": result.equity, "benchmark": bench,
                                         "risk_free": done.risk_free, **carry})),
            ("exposures.csv", done.exposures), ("weights.csv", result.weights),
            ("orders.csv", result.order_log.set_index("date")),
            ("signal.csv", ctx.signal.frame().loc[market.start:market.end]),
            ("duration.csv", done.duration),
            ("timing.csv", None if done.timing is None else done.timing.curves()))
            if frame is not None}
        write_frame(folder / "targets.csv", done.targets)
        write_json(folder / "regimes.json", tables_to_json(done.regimes))
        say("Writing the report page")
        # drawn from the tables as just written and parsed, not read back from the files
        write_run_report(folder, link_tearsheet=settings.tearsheet, tables=tables)
        del tables
        if tearsheet is not None:
            say("Waiting for the quantstats tearsheet")
            os.replace(tearsheet(), folder / "tearsheet.html")
        elif settings.tearsheet:
            say("Writing the quantstats tearsheet")
            from .report.tearsheet import write_run_tearsheet

            write_run_tearsheet(folder, result.equity, bench, manifest.to_json())
    return BacktestResult(run_dir=final[0], metrics=done.metrics, manifest=manifest.to_json(),
                          result=result, benchmark=bench, regimes=done.regimes)


def _shared(rows: list[dict[str, Any]], key: str) -> Any:
    """The value of ``key`` every row has, else None (rows made on mixed terms)."""
    values = [row[key] for row in rows]
    return values[0] if all(v == values[0] for v in values) else None


def write_comparison(comparison, out: Path, options: dict[str, Any]) -> Path:
    """``results/<time>-compare-<hash>/``: leaderboard.csv, equity.csv, regime_scores.csv,
    manifest.json and compare.html, written atomically. ``comparison``: a
    ``compare.Comparison``; ``options``: the command's options (``items`` and
    ``allow_mixed`` recorded, all of them hashed into the folder's name). What each row was
    made on comes from the rows themselves."""
    from .report.compare_page import write_compare_page

    created = _now()
    name = run_id(created, "compare", options)
    first = comparison.equity.index[0].date()
    last = comparison.equity.index[-1].date()
    rows = [{"source": e.source, **e.made} for e in comparison.entries]
    universe = _shared(rows, "universe")
    manifest = CompareManifest(
        created_utc=created.isoformat(timespec="seconds"), items=options["items"],
        allow_mixed=options["allow_mixed"], start=str(first), end=str(last),
        universe=universe["name"] if universe else None,
        **{k: _shared(rows, k) for k in ("rebalance", "fees_bps", "slippage_bps", "risk_free",
                                         "cash")},
        sources={e.label: e.source for e in comparison.entries},
        rows={e.label: row for e, row in zip(comparison.entries, rows, strict=True)},
        baseline=comparison.baseline.to_json() if comparison.baseline is not None else None,
        **{**provenance(), "data_provenance": _shared(rows, "data_provenance")})
    with staging_folder(Path(out), name) as (folder, final):
        write_manifest(folder / "manifest.json", manifest)
        write_frame(folder / "leaderboard.csv", comparison.sorted_by("sharpe"))
        write_frame(folder / "equity.csv", comparison.equity)
        if len(comparison.regime_scores):
            write_frame(folder / "regime_scores.csv", comparison.regime_scores)
        universes = ", ".join(dict.fromkeys(row["universe"]["name"] for row in rows))
        write_compare_page(folder / "compare.html", comparison,
                           f"{len(comparison.entries)} strategies \u00b7 {universes} \u00b7 "
                           f"{first} to {last}")
    return final[0]


def write_sweep(result, summary: dict[str, Any], setup, out) -> Path:
    """``results/<time>-sweep-<strategy>-<hash>/``: sweep.csv (ranked), summary.json,
    best_equity.csv and sweep.html, written atomically. ``result``, ``summary``, ``setup``:
    ``sweep.run_sweep``'s, ``sweep.sweep_summary``'s and ``sweep.load_setup``'s."""
    from .report.sweep_page import write_sweep_page

    created = _now()
    name = run_id(created, f"sweep-{result.strategy}", {k: summary[k] for k in
                                                       ("grid", "metric", "settings")})
    bench = setup.window[setup.universe.benchmark].rename(setup.universe.benchmark)
    typed = SweepSummary(**summary, created_utc=created.isoformat(timespec="seconds"),
                         **provenance(setup.market))
    with staging_folder(Path(out), name) as (folder, final):
        write_manifest(folder / "summary.json", typed)
        write_frame(folder / "sweep.csv", result.table.rename_axis("rank"))
        write_frame(folder / "best_equity.csv", result.best_equity)
        write_sweep_page(folder / "sweep.html", result, summary, bench,
                         {k: p.default for k, p in setup.strategy.params().items()})
    return final[0]


def write_walkforward(result, identity: dict[str, Any], out, market=None) -> Path:
    """``results/<time>-walkforward-<strategy>-<hash>/``: windows.csv, equity.csv,
    summary.csv, manifest.json and walkforward.html, written atomically."""
    from .report.walkforward_page import write_walkforward_page

    created = _now()
    name = run_id(created, f"walkforward-{identity['strategy']}", identity)
    manifest = WalkForwardManifest(created_utc=created.isoformat(timespec="seconds"),
                                   **identity, **provenance(market))
    with staging_folder(Path(out), name) as (folder, final):
        write_manifest(folder / "manifest.json", manifest)
        write_frame(folder / "windows.csv", result.windows)
        write_frame(folder / "equity.csv", result.equity)
        write_frame(folder / "summary.csv", result.summary)
        write_walkforward_page(folder / "walkforward.html", result, identity)
    return final[0]


def write_thesis(card, session, out, fundamentals: Path | None = None) -> Path:
    """``results/<time>-thesis-<hash>/``: thesis.json (byte-stable), claims.csv, thesis.html
    and manifest.json, written atomically. ``card``: a ``thesis.scorecard.Scorecard``;
    the folder's hash is that of thesis.json, so the same inputs name the same hash."""
    from .report.thesis_page import write_thesis_page

    created = _now()
    content = card.to_json()
    universe = session.universe
    name = run_id(created, "thesis", content)
    manifest = ThesisManifest(
        created_utc=created.isoformat(timespec="seconds"),
        universe={"name": universe.name, "path": str(universe.path),
                  "sha256": _file_sha256(universe.path),
                  "thesis": universe.thesis.model_dump(mode="json") if universe.thesis else None},
        start=content["data_window"]["start"], end=content["data_window"]["end"],
        split=content["split"]["date"] if content["split"] else None,
        adjustment=card.adjustment, claims=len(card.claims),
        fundamentals=str(fundamentals) if fundamentals else None, series=card.series,
        **provenance(session.market))
    with staging_folder(Path(out), name) as (folder, final):
        write_manifest(folder / "manifest.json", manifest)
        write_json(folder / "thesis.json", content)
        write_frame(folder / "claims.csv", card.frame())
        write_thesis_page(folder / "thesis.html", content)
    return final[0]
