"""Several strategies side by side: one leaderboard, their equity curves and their scores by
regime. Strategies run in one process on data loaded once; finished run folders can join.
Rows made on unlike terms (another universe, benchmark, cash asset, period, schedule, costs
or risk-free rate) are refused unless the user allows it, and then each row says its own."""

from __future__ import annotations

import hashlib
import json
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
           "check_sort_metric", "check_alike", "row_settings"]


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
    """One leaderboard line's inputs, from a fresh backtest or a run folder. ``made``: what
    the row was made on (the compare manifest's ``rows`` entry: universe, benchmark, cash
    asset, period, schedule, costs, risk-free and cash conventions, data provenance)."""

    label: str
    metrics: dict
    equity: pd.Series
    benchmark: pd.Series
    regime_scores: pd.DataFrame | None
    source: str
    risk_free: pd.Series            # daily risk-free return on the equity's days
    made: dict[str, Any]
    notes: tuple[str, ...] = ()     # the run's notes (data, conventions, signal components)
    universe: dict | None = None    # name and definition, as a run manifest records them

    @property
    def benchmark_name(self) -> str:
        """The benchmark's ticker."""
        return self.made["benchmark"]

    @property
    def settings(self) -> dict[str, str]:
        """This row's SETTING_COLUMNS as text (``row_settings`` of the row alone)."""
        return row_settings([self.made])[0]


@dataclass(frozen=True)
class Comparison:
    """The leaderboard (one row per strategy plus one per distinct benchmark), curves and
    regime scores."""

    leaderboard: pd.DataFrame
    equity: pd.DataFrame
    regime_scores: pd.DataFrame
    entries: tuple[Entry, ...]
    benchmarks: tuple[str, ...] = ()    # the leaderboard's benchmark rows
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
SETTING_COLUMNS = {"universe": "universe", "benchmark": "benchmark", "cash_asset": "cash asset",
                   "start": "start", "end": "end", "rebalance": "schedule",
                   "costs": "costs (fees + slippage, bps)", "risk_free": "risk-free",
                   "cash": "uninvested weight"}
# the settings a benchmark row has (bought and held, no costs, no idle cash)
_BENCHMARK_SETTINGS = ("universe", "benchmark", "cash_asset", "start", "end", "risk_free")


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def _universe_record(name: str, path: Any, sha256: str | None, definition: dict) -> dict:
    """A universe as a compare row records it; ``assets`` digests what decides its assets
    (buckets, ranks, tickers, listing dates, benchmark, cash), so one name standing for two
    different files is told apart."""
    assets = {"buckets": [[b["name"], b["rank"], sorted(b["tickers"])]
                          for b in definition["buckets"]],
              "ticker_start": definition.get("ticker_start") or {},
              "benchmark": definition["benchmark"], "cash": definition.get("cash")}
    return {"name": name, "path": str(path), "sha256": sha256, "assets": _digest(assets)[:12]}


def row_settings(made: Sequence[dict]) -> list[dict[str, str]]:
    """Each row's SETTING_COLUMNS as text (runs written before the risk-free convention
    scored with rf = 0, before the cash convention held idle weight as zero cash). A
    universe name that stands for two different definitions carries its digest."""
    meanings: dict[str, set[str]] = {}
    for m in made:
        meanings.setdefault(m["universe"]["name"], set()).add(m["universe"]["assets"])
    out = []
    for m in made:
        universe = m["universe"]
        out.append({
            "universe": universe["name"] if len(meanings[universe["name"]]) == 1
            else f"{universe['name']} (assets {universe['assets'][:8]})",
            "benchmark": m["benchmark"], "cash_asset": m["cash_asset"] or "none",
            "start": m["start"], "end": m["end"], "rebalance": m["rebalance"],
            "costs": f"{m['fees_bps']:g} + {m['slippage_bps']:g}",
            "risk_free": m["risk_free"], "cash": m["cash"]})
    return out


def check_alike(runs: Sequence[tuple[str, dict[str, str]]],
                folders: dict[str, str] | None = None) -> None:
    """Refuse to rank runs (label, ``row_settings`` of its row) made on unlike terms: a
    ParameterError naming the first setting that differs and the runs on each side, each
    run read from a folder with its folder (``folders``: label -> path)."""
    folders = folders or {}
    for key, what in SETTING_COLUMNS.items():
        values: dict[str, list[str]] = {}
        for name, settings in runs:
            values.setdefault(settings[key], []).append(
                f"{name} ({folders[name]})" if name in folders else name)
        if len(values) > 1:
            sides = "; ".join(f"{v} for {', '.join(names)}" for v, names in values.items())
            raise ParameterError(f"These runs differ in {what} ({sides}), so their scores are "
                                 "not comparable. Rerun them on the same settings, or pass "
                                 "--allow-mixed to rank them anyway (each row then shows its "
                                 "own universe, period, benchmark and settings).")


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


def _benchmark_row(entry: Entry) -> list[float]:
    """The benchmark's scores as ``entry``'s run measured them (its period, its risk-free)."""
    bench = entry.metrics["benchmark"]
    row = {k: bench.get(k) for k in LEADERBOARD_COLUMNS}
    row.update(avg_duration=None, information_ratio=None, sharpe_vs_benchmark_ci_low=None,
               sharpe_vs_benchmark_ci_high=None)
    returns = entry.benchmark.pct_change().iloc[1:]
    paired = np.column_stack([returns.to_numpy(),
                              entry.risk_free.reindex(returns.index).fillna(0.0).to_numpy()])
    _, row["sharpe_ci_low"], row["sharpe_ci_high"] = bootstrap_ci(
        paired, lambda x: sharpe(x[:, 0], x[:, 1]))
    return [np.nan if row[k] is None else float(row[k]) for k in LEADERBOARD_COLUMNS]


def _benchmarks(entries: Sequence[Entry], settings: list[dict[str, str]]
                ) -> dict[str, tuple[Entry, dict[str, str]]]:
    """One benchmark row per distinct benchmark, period and risk-free return among the
    entries: ``benchmark (SPY)``, plus the start, end or risk-free that tell apart two rows
    of one ticker."""
    groups: dict[tuple[str, ...], tuple[Entry, dict[str, str]]] = {}
    for entry, s in zip(entries, settings, strict=True):
        rf = s["risk_free"] if s["risk_free"] != "bills" else f"bills ({s['cash_asset']})"
        groups.setdefault((s["benchmark"], f"from {s['start']}", f"to {s['end']}",
                           f"risk-free {rf}"), (entry, s))
    labels = {}
    for key, value in groups.items():
        twins = [k for k in groups if k[0] == key[0]]
        parts = [key[0], *(key[i] for i in (1, 2, 3) if len({k[i] for k in twins}) > 1)]
        labels[f"benchmark ({', '.join(parts)})"] = value
    return labels


def _assemble(entries: Sequence[Entry]) -> Comparison:
    settings = row_settings([e.made for e in entries])
    board = pd.DataFrame({e.label: _row(e) for e in entries}).T
    benchmarks = _benchmarks(entries, settings)
    for name, (entry, _) in benchmarks.items():
        board.loc[name] = _benchmark_row(entry)
    board = board.astype(float)
    for key in SETTING_COLUMNS:
        board[key] = [s[key] for s in settings] + [
            s[key] if key in _BENCHMARK_SETTINGS else "" for _, s in benchmarks.values()]
    board.index.name = "strategy"
    equity = pd.DataFrame({e.label: e.equity for e in entries})
    for name, (entry, _) in benchmarks.items():
        equity[name] = entry.benchmark
    scores = [e.regime_scores.loc["strategy"].assign(strategy=e.label)
              for e in entries if e.regime_scores is not None]
    regime_scores = (pd.concat(scores).reset_index().set_index(["strategy", "regime"])
                     if scores else pd.DataFrame())
    return Comparison(leaderboard=board, equity=equity, regime_scores=regime_scores,
                      entries=tuple(entries), benchmarks=tuple(benchmarks))


def _from_folder(path: Path) -> Entry:
    from .runs import read_run_folder, refuse_unfinished

    refuse_unfinished(path)
    run = read_run_folder(path)
    m, st = run.manifest, run.manifest["settings"]
    definition = m["universe"]["definition"]
    fingerprint = m["data"].get("fingerprint")     # runs before provenance: from data
    provenance = m.get("data_provenance") or ({"source": m["data"]["source"],
                                               "fingerprint": fingerprint} if fingerprint else None)
    made = {"universe": _universe_record(m["universe"]["name"], m["universe"]["path"],
                                         m["universe"].get("sha256"), definition),
            "benchmark": definition["benchmark"], "cash_asset": definition.get("cash"),
            **{k: st[k] for k in ("start", "end", "rebalance", "fees_bps", "slippage_bps",
                                  "risk_free", "cash")},
            "data_provenance": provenance}
    # runs written before the risk-free convention have no risk_free column: rf = 0
    rf = run.equity.get("risk_free", pd.Series(0.0, index=run.equity.index))
    return Entry(label=f"{m['strategy']['name']}@{path.name[:15]}", metrics=run.metrics,
                 equity=run.equity["equity"], benchmark=run.equity["benchmark"],
                 regime_scores=run.regimes["scores"] if run.regimes else None, source=str(path),
                 risk_free=rf, made=made, notes=tuple(m["data"].get("warnings", ())),
                 universe={"name": m["universe"]["name"], "definition": definition})


def _distinct_labels(entries: dict[str, Entry]) -> dict[str, Entry]:
    """Run folders whose short labels (``name@<second>``) clash, as two runs started in one
    second do, labelled with their whole folder names instead."""
    counts: dict[str, int] = {}
    for entry in entries.values():
        counts[entry.label] = counts.get(entry.label, 0) + 1
    return {item: replace(e, label=f"{e.label.partition('@')[0]}@{Path(item).name}")
            if counts[e.label] > 1 else e for item, e in entries.items()}


def _fresh(session) -> dict[str, Any]:
    """What strategies run by this compare are made on (its universe, data and settings)."""
    universe, market, settings = session.universe, session.market, session.settings
    path = Path(universe.path) if universe.path else None
    sha = hashlib.sha256(path.read_bytes()).hexdigest() if path and path.is_file() else None
    return {"universe": _universe_record(universe.name, path, sha, universe.model_dump(
                mode="json", exclude={"path"})),
            "benchmark": universe.benchmark, "cash_asset": universe.cash,
            "start": str(market.start.date()), "end": str(market.end.date()),
            "rebalance": settings.rebalance, "fees_bps": settings.costs.fees_bps,
            "slippage_bps": settings.costs.slippage_bps, "risk_free": settings.risk_free,
            "cash": settings.cash,
            "data_provenance": {"source": market.source, "fingerprint": market.fingerprint()}}


def compare(items: Sequence[str], settings, *, registry=None,
            progress: Progress | None = None, allow_mixed: bool = False,
            baseline: str | None = None) -> Comparison:
    """Compare strategy names (run on ``settings``: universe, range, costs) and run folders
    (existing directories). Empty ``items`` means every strategy the registry knows. Rows
    made on different terms (SETTING_COLUMNS) are refused unless ``allow_mixed``. With a
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
    entries = _distinct_labels(entries)
    labels = [entries[i].label if i in entries else i for i in items]
    strategies = {n: session.strategy(n) for n in names}  # unknown names fail before loading
    if names:
        _ = session.risk_free                              # so does a bad --risk-free
    made = _fresh(session) if names else {}
    if base_item is not None:   # before any backtest runs; --allow-mixed does not lift it
        _check_baseline_footing(base_item, items, entries, made, session)
    if len(set(labels)) != len(labels):
        dupes = sorted({x for x in labels if labels.count(x) > 1})
        raise ParameterError(f"Compared twice: {', '.join(dupes)}. Name each strategy or run "
                             "folder once.")
    if not allow_mixed:  # before any backtest runs too
        check_alike(list(zip(labels, row_settings([entries[i].made if i in entries else made
                                                   for i in items]), strict=True)),
                    {e.label: e.source for e in entries.values()})
    for i, name in enumerate(names, 1):
        say(f"[{i}/{len(names)}] {name}")
        done = backtest(strategies[name], session)
        entries[name] = Entry(label=name, metrics=done.metrics, equity=done.result.equity,
                              benchmark=done.benchmark, regime_scores=done.regimes["scores"],
                              source=session.source(name), risk_free=done.risk_free, made=made,
                              notes=done.notes, universe=_universe_of(session.universe))
    comparison = _assemble([entries[i] for i in items])
    if base_item is not None:
        comparison = _with_baseline(comparison, entries[base_item])
    return replace(comparison, market=session.market if names else None)


def _universe_of(universe) -> dict:
    """A universe's name and definition as a run manifest records them."""
    return {"name": universe.name,
            "definition": universe.model_dump(mode="json", exclude={"path"})}


def _check_baseline_footing(base_item: str, items: Sequence[str], entries: dict[str, Entry],
                            fresh: dict, session) -> None:
    """The baseline and every compared run on one universe, period, costs and risk-free
    rate (``baseline.check_footing``), checked before any backtest runs."""
    from .baseline import Footing, check_footing

    def footing(item: str) -> Footing:
        if item in entries:
            e = entries[item]
            u = e.universe or {"name": "?", "definition": {}}
            return Footing(e.label, u["name"], u["definition"], e.settings)
        u = _universe_of(session.universe)
        return Footing(item, u["name"], u["definition"], row_settings([fresh])[0])

    check_footing(footing(base_item), [footing(i) for i in items])


def _with_baseline(comparison: Comparison, base: Entry) -> Comparison:
    """The leaderboard with BASELINE_COLUMNS and the comparison's BaselineSummary."""
    from .baseline import against_baseline

    board = comparison.leaderboard
    bench = comparison.benchmarks[0]   # the baseline's footing leaves one benchmark row
    curves = {e.label: e.equity for e in comparison.entries}
    curves[bench] = comparison.entries[0].benchmark
    candidates = [e.label for e in comparison.entries if e.label != base.label]
    columns, summary = against_baseline(curves, base.label, base.risk_free, base.source,
                                        candidates)
    board = board.join(columns)
    return replace(comparison, leaderboard=board, baseline=summary)
