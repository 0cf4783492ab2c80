"""Several strategies side by side: one leaderboard, their equity curves and their scores by
regime. Strategies run in one process on data loaded once; finished run folders can join."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import ParameterError
from .metrics import best_first, information_ratio, sharpe
from .session import Progress
from .statistics import bootstrap_ci, bootstrap_summary

__all__ = ["Comparison", "LEADERBOARD_COLUMNS", "SETTING_COLUMNS", "compare",
           "check_sort_metric", "check_alike"]


LEADERBOARD_COLUMNS = ("cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar",
                       "turnover", "avg_duration", "information_ratio", "total_return",
                       "sharpe_ci_low", "sharpe_ci_high", "sharpe_vs_benchmark_ci_low",
                       "sharpe_vs_benchmark_ci_high")


def check_sort_metric(metric: str, baseline: bool = False) -> str:
    """``metric`` if it is a leaderboard column (with a ``baseline``, BASELINE_COLUMNS too),
    else a ParameterError listing them."""
    from .baseline import BASELINE_COLUMNS

    columns = (*LEADERBOARD_COLUMNS, *(BASELINE_COLUMNS if baseline else ()))
    if metric not in columns:
        extra = ("" if baseline or metric not in BASELINE_COLUMNS
                 else f" ({metric} needs --baseline)")
        raise ParameterError(f'--sort "{metric}" is not a leaderboard column{extra}; choose '
                             f"one of {', '.join(columns)}.")
    return metric


@dataclass(frozen=True)
class Entry:
    """One leaderboard line's inputs, from a fresh backtest or a run folder."""

    label: str
    metrics: dict
    equity: pd.Series
    benchmark: pd.Series
    benchmark_name: str
    regime_scores: pd.DataFrame | None
    source: str
    risk_free: pd.Series            # daily risk-free return on the equity's days
    settings: dict                  # start, end, rebalance, fees_bps, slippage_bps, risk_free
    notes: tuple[str, ...] = ()     # the run's notes (data, conventions, signal components)
    universe: dict | None = None    # name and definition, as a run manifest records them


@dataclass(frozen=True)
class Comparison:
    """The leaderboard (one row per strategy plus the benchmark), curves and regime scores."""

    leaderboard: pd.DataFrame
    equity: pd.DataFrame
    regime_scores: pd.DataFrame
    entries: tuple[Entry, ...]
    market: Any = None              # the data the fresh backtests ran on (None: folders only)
    baseline: Any = None            # baseline.BaselineSummary with --baseline

    @property
    def notes(self) -> list[str]:
        """Every entry's notes, each once (runs on one session share theirs)."""
        return list(dict.fromkeys(n for e in self.entries for n in e.notes))

    def sorted_by(self, metric: str) -> pd.DataFrame:
        """Best first, in the metric's declared direction (``metrics.METRICS``), NaN last."""
        return best_first(self.leaderboard,
                          check_sort_metric(metric, self.baseline is not None))


# what must agree for a ranking to be fair, as leaderboard columns: name -> what it is
SETTING_COLUMNS = {"start": "start", "end": "end", "rebalance": "schedule",
                   "costs": "costs (fees + slippage, bps)", "risk_free": "risk-free"}


def _settings_of(settings: dict) -> dict[str, str]:
    """The SETTING_COLUMNS of a run's manifest settings, as text (runs written before the
    risk-free convention scored with rf = 0)."""
    return {"start": str(settings["start"]), "end": str(settings["end"]),
            "rebalance": str(settings["rebalance"]),
            "costs": f"{settings['fees_bps']:g} + {settings['slippage_bps']:g}",
            "risk_free": str(settings.get("risk_free", "0"))}


def check_alike(runs: Sequence[tuple[str, dict[str, str]]]) -> None:
    """Refuse to rank runs (label, ``_settings_of`` its settings) over different periods,
    schedules, costs or risk-free rates: a ParameterError naming the first setting that
    differs and the runs on each side."""
    for key, label in SETTING_COLUMNS.items():
        values: dict[str, list[str]] = {}
        for name, settings in runs:
            values.setdefault(settings[key], []).append(name)
        if len(values) > 1:
            sides = "; ".join(f"{v} for {', '.join(names)}" for v, names in values.items())
            raise ParameterError(f"These runs differ in {label} ({sides}), so their scores are "
                                 "not comparable. Rerun them on the same settings, or pass "
                                 "--allow-mixed to rank them anyway (the leaderboard shows "
                                 "each run's settings).")


def _row(entry: Entry) -> dict[str, float]:
    s = entry.metrics["strategy"]
    row = {k: s.get(k) for k in LEADERBOARD_COLUMNS if k in s}
    row["avg_duration"] = (entry.metrics.get("portfolio_duration") or {}).get("average")
    returns = entry.equity.pct_change().iloc[1:]
    row["information_ratio"] = information_ratio(returns, entry.benchmark.pct_change())
    boot = bootstrap_summary(returns.to_numpy(),
                             entry.benchmark.pct_change().reindex(returns.index).to_numpy(),
                             entry.risk_free.reindex(returns.index).fillna(0.0).to_numpy())
    row["sharpe_ci_low"], row["sharpe_ci_high"] = boot["sharpe"][1:]
    row["sharpe_vs_benchmark_ci_low"], row["sharpe_vs_benchmark_ci_high"] = (
        boot["sharpe_minus_benchmark"][1:])
    return {k: (np.nan if row.get(k) is None else float(row[k])) for k in LEADERBOARD_COLUMNS}


def _assemble(entries: Sequence[Entry], allow_mixed: bool = False) -> Comparison:
    labels = [e.label for e in entries]
    if len(set(labels)) != len(labels):
        dupes = sorted({x for x in labels if labels.count(x) > 1})
        raise ParameterError(f"Compared twice: {', '.join(dupes)}. Name each strategy or run "
                             "folder once.")
    if not allow_mixed:
        check_alike([(e.label, e.settings) for e in entries])
    board = pd.DataFrame({e.label: _row(e) for e in entries}).T
    first = entries[0]
    bench_metrics = first.metrics["benchmark"]
    bench_row = {k: bench_metrics.get(k) for k in LEADERBOARD_COLUMNS}
    bench_row.update(avg_duration=None, information_ratio=None, sharpe_vs_benchmark_ci_low=None,
                     sharpe_vs_benchmark_ci_high=None)
    bench_returns = first.benchmark.pct_change().iloc[1:]
    paired = np.column_stack([bench_returns.to_numpy(),
                              first.risk_free.reindex(bench_returns.index).fillna(0.0).to_numpy()])
    _, bench_row["sharpe_ci_low"], bench_row["sharpe_ci_high"] = bootstrap_ci(
        paired, lambda x: sharpe(x[:, 0], x[:, 1]))
    board.loc[f"benchmark ({first.benchmark_name})"] = [
        np.nan if bench_row[k] is None else float(bench_row[k]) for k in LEADERBOARD_COLUMNS]
    board = board.astype(float)
    for key in SETTING_COLUMNS:
        board[key] = [e.settings[key] for e in entries] + [first.settings[key]]
    board.index.name = "strategy"
    equity = pd.DataFrame({e.label: e.equity for e in entries})
    equity[f"benchmark ({first.benchmark_name})"] = first.benchmark
    scores = [e.regime_scores.loc["strategy"].assign(strategy=e.label)
              for e in entries if e.regime_scores is not None]
    regime_scores = (pd.concat(scores).reset_index().set_index(["strategy", "regime"])
                     if scores else pd.DataFrame())
    return Comparison(leaderboard=board, equity=equity, regime_scores=regime_scores,
                      entries=tuple(entries))


def _from_folder(path: Path) -> Entry:
    from .runs import read_run_folder, refuse_unfinished

    refuse_unfinished(path)
    run = read_run_folder(path)
    m = run.manifest
    # runs written before the risk-free convention have no risk_free column: rf = 0
    rf = run.equity.get("risk_free", pd.Series(0.0, index=run.equity.index))
    return Entry(label=f"{m['strategy']['name']}@{path.name[:15]}", metrics=run.metrics,
                 equity=run.equity["equity"], benchmark=run.equity["benchmark"],
                 benchmark_name=m["universe"]["definition"]["benchmark"],
                 regime_scores=run.regimes["scores"] if run.regimes else None, source=str(path),
                 risk_free=rf, settings=_settings_of(m["settings"]),
                 notes=tuple(m["data"].get("warnings", ())),
                 universe={"name": m["universe"]["name"],
                           "definition": m["universe"]["definition"]})


def compare(items: Sequence[str], settings, *, registry=None,
            progress: Progress | None = None, allow_mixed: bool = False,
            baseline: str | None = None) -> Comparison:
    """Compare strategy names (run on ``settings``: universe, range, costs) and run folders
    (existing directories). Empty ``items`` means every strategy the registry knows. Runs
    with different settings (SETTING_COLUMNS) are refused unless ``allow_mixed``. With a
    ``baseline`` (a strategy name, a run folder or a compared run's label; added to the
    items when missing), every row is held against it (``durationbt.baseline``)."""
    from .pipeline import backtest
    from .session import Session

    say = progress or (lambda _msg: None)
    session = Session(settings, registry, say)
    items = list(items) or session.registry.names()
    entries: dict[str, Entry] = {i: _from_folder(Path(i)) for i in items if Path(i).is_dir()}
    base_item = None
    if baseline is not None:
        from .baseline import resolve_baseline

        items, base_item = resolve_baseline(baseline, items,
                                            {i: e.label for i, e in entries.items()},
                                            session.registry.names())
        if base_item not in entries and Path(base_item).is_dir():
            entries[base_item] = _from_folder(Path(base_item))
    names = [i for i in items if i not in entries]
    fresh = None
    if names:
        strategies = {n: session.strategy(n) for n in names}  # unknown names fail before loading
        _ = session.risk_free                                   # so does a bad --risk-free
        market, universe = session.market, session.universe
        fresh = _settings_of({"start": str(market.start.date()), "end": str(market.end.date()),
                              "rebalance": settings.rebalance,
                              "fees_bps": settings.costs.fees_bps,
                              "slippage_bps": settings.costs.slippage_bps,
                              "risk_free": settings.risk_free})
        if not allow_mixed:  # before any backtest runs
            check_alike([(e.label, e.settings) for e in entries.values()]
                        + [(n, fresh) for n in names])
    if base_item is not None:   # before any backtest runs too
        _check_baseline_footing(base_item, items, entries, fresh, session)
    for i, name in enumerate(names, 1):
        say(f"[{i}/{len(names)}] {name}")
        done = backtest(strategies[name], session)
        entries[name] = Entry(label=name, metrics=done.metrics, equity=done.result.equity,
                              benchmark=done.benchmark, benchmark_name=universe.benchmark,
                              regime_scores=done.regimes["scores"],
                              source=session.source(name), risk_free=done.risk_free,
                              settings=fresh, notes=done.notes, universe=_universe_of(universe))
    comparison = _assemble([entries[i] for i in items], allow_mixed)
    if base_item is not None:
        comparison = _with_baseline(comparison, entries[base_item])
    return replace(comparison, market=session.market if names else None)


def _universe_of(universe) -> dict:
    """A universe's name and definition as a run manifest records them."""
    return {"name": universe.name,
            "definition": universe.model_dump(mode="json", exclude={"path"})}


def _check_baseline_footing(base_item: str, items: Sequence[str], entries: dict[str, Entry],
                            fresh: dict | None, session) -> None:
    """The baseline and every compared run on one universe, period, costs and risk-free
    rate (``baseline.check_footing``), checked before any backtest runs."""
    from .baseline import Footing, check_footing

    def footing(item: str) -> Footing:
        if item in entries:
            e = entries[item]
            u = e.universe or {"name": "?", "definition": {}}
            return Footing(e.label, u["name"], u["definition"], e.settings)
        u = _universe_of(session.universe)
        return Footing(item, u["name"], u["definition"], fresh)

    check_footing(footing(base_item), [footing(i) for i in items])


def _with_baseline(comparison: Comparison, base: Entry) -> Comparison:
    """The leaderboard with BASELINE_COLUMNS and the comparison's BaselineSummary."""
    from .baseline import against_baseline

    board = comparison.leaderboard
    bench = next(label for label in board.index if label.startswith("benchmark ("))
    curves = {e.label: e.equity for e in comparison.entries}
    curves[bench] = comparison.entries[0].benchmark
    candidates = [e.label for e in comparison.entries if e.label != base.label]
    columns, summary = against_baseline(curves, base.label, base.risk_free, base.source,
                                        candidates)
    board = board.join(columns)
    return replace(comparison, leaderboard=board, baseline=summary)
