"""``durationbt compare [STRATEGY|RUN_DIR]...``: a leaderboard of strategies and run folders."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from .console import (
    band_option,
    borrow_option,
    cash_option,
    data_option,
    end_option,
    err,
    fees_option,
    financing_option,
    max_gross_option,
    max_net_option,
    out,
    out_option,
    rebalance_option,
    risk_free_option,
    run_settings,
    slippage_option,
    start_option,
    strategies_dir_option,
    strict_prices_option,
    timeout_option,
    universe_option,
    user_errors,
)

__all__ = ["compare"]

# the leaderboard's columns in the terminal (all are in leaderboard.csv)
_SHOWN = ("cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar", "turnover",
          "avg_duration", "information_ratio")
_SHOWN_WITH_BASELINE = ("cagr", "volatility", "sharpe", "max_drawdown", "turnover",
                        "sharpe_vs_baseline", "dsr_vs_baseline")


def _regime_cells(cell) -> tuple[str, str, str, str]:
    """Sharpe and CAGR each over its interval ("too few spells" below 3; runs written before
    intervals: the bare values), the days and the spells."""
    from ..metrics import METRICS
    from ..regimes import regime_cell

    spells = cell.get("spells")
    return (regime_cell(cell, "sharpe", METRICS["sharpe"].format),
            regime_cell(cell, "cagr", METRICS["cagr"].format), f"{cell['days']:,.0f}",
            f"{spells:.0f}" if spells is not None and spells == spells else "")


def _difference(row) -> str:
    """The Sharpe difference's interval and p-value, or "baseline" on its own row."""
    low, high, p = (row["sharpe_vs_baseline_ci_low"], row["sharpe_vs_baseline_ci_high"],
                    row["sharpe_vs_baseline_p"])
    if low != low:
        return "baseline" if row["sharpe_vs_baseline"] == 0 else "n/a"
    return f"{low:+.2f} to {high:+.2f}, p {p:.3f}"


@user_errors
def compare(
    items: list[str] = typer.Argument(None, help="Strategy names and/or run folders "
                                                 "(default: every strategy)."),
    universe: str = universe_option(),
    start: str = start_option(),
    end: str = end_option(),
    rebalance: str = rebalance_option(),
    fees_bps: float = fees_option(),
    slippage_bps: float = slippage_option(),
    sort: str = typer.Option("sharpe", "--sort", help="Leaderboard column to rank by."),
    allow_mixed: bool = typer.Option(False, "--allow-mixed", help="Rank runs even when their "
                                     "universe, benchmark, cash asset, period, schedule, costs, "
                                     "risk-free rate or cash convention differ; each row then "
                                     "shows its own."),
    baseline: str = typer.Option(None, "--baseline", help="A strategy name, run folder or "
                                 "compared run's label to hold every row against: Sharpe "
                                 "difference with a paired-bootstrap 95% interval and p-value, "
                                 "deflated Sharpe vs the baseline's, and (3+ strategies) "
                                 "Hansen's SPA test. Added to the compared set when missing."),
    data: Path = data_option(),
    out_dir: Path = out_option("the compare folder"),
    strategies_dir: Path = strategies_dir_option(),
    strict_prices: bool = strict_prices_option(),
    timeout: float = timeout_option(),
    risk_free: str = risk_free_option(),
    cash: str = cash_option(),
    max_gross: float = max_gross_option(),
    max_net: float = max_net_option(),
    borrow_bps: float = borrow_option(),
    financing_bps: float = financing_option(),
    band: float = band_option(),
) -> None:
    """Run several strategies on the same data in one process (and/or read finished run
    folders) and rank them: CAGR, volatility, Sharpe, Sortino, max drawdown, Calmar,
    turnover, average portfolio duration, information ratio, and scores by regime. Writes
    leaderboard.csv, equity.csv, regime_scores.csv and compare.html."""
    from ..compare import SETTING_COLUMNS, check_sort_metric
    from ..compare import compare as run_compare
    from ..metrics import METRICS, label
    from ..publish import write_comparison

    check_sort_metric(sort, baseline is not None)
    settings = run_settings(universe=universe, start=start, end=end, rebalance=rebalance,
                            fees_bps=fees_bps, slippage_bps=slippage_bps, data=data,
                            out_dir=out_dir, strategies_dir=strategies_dir,
                            strict_prices=strict_prices, timeout=timeout,
                            risk_free=risk_free, cash=cash, max_gross=max_gross,
                            max_net=max_net, borrow_bps=borrow_bps,
                            financing_bps=financing_bps, band=band)
    with err.status("Starting", spinner="dots") as status:
        result = run_compare(items or [], settings, progress=lambda msg: status.update(msg),
                             allow_mixed=allow_mixed, baseline=baseline)
        board = result.sorted_by(sort)
        status.update("Writing the compare folder")
        folder = write_comparison(result, out_dir, {
            "items": items or [], "universe": str(universe), "rebalance": rebalance,
            "fees_bps": fees_bps, "slippage_bps": slippage_bps,
            "risk_free": risk_free, "cash": cash, "allow_mixed": allow_mixed})
    # settings every strategy row shares go in the title; those that differ (--allow-mixed)
    # get a table of their own, so each row shows its universe, period and benchmark
    rows = board.drop(index=list(result.benchmarks))
    shared = {k: rows[k].iloc[0] for k in SETTING_COLUMNS if rows[k].nunique() == 1}
    mixed = [k for k in SETTING_COLUMNS if k not in shared]
    context = ", ".join(f"{label(k).lower()} {v}" for k, v in shared.items())
    table = Table(title=f"Leaderboard, ranked by {sort} (all columns in leaderboard.csv)"
                        + (f"\n{context}" if context else ""))
    table.add_column("strategy", no_wrap=True)
    shown = _SHOWN if result.baseline is None else _SHOWN_WITH_BASELINE
    for name in (METRICS[c].short for c in shown):
        table.add_column(name, justify="right")
    if result.baseline is not None:
        table.add_column("ΔSharpe 95% CI, p", justify="right")
    for name, row in board.iterrows():
        table.add_row(str(name), *(METRICS[c].format(row[c]) for c in shown),
                      *(() if result.baseline is None else (_difference(row),)))
    out.print(table)
    if mixed:
        made = Table(title="Where the rows differ (--allow-mixed)")
        made.add_column("strategy", no_wrap=True)
        for key in mixed:
            made.add_column(label(key))
        for name, row in board.iterrows():
            made.add_row(str(name), *(str(row[k]) for k in mixed))
        out.print(made)
    if result.baseline is not None:
        b = result.baseline
        out.print(f"Against the baseline {b.name}: {b.method}. Deflated Sharpe vs baseline: "
                  f"{b.dsr_method}.", soft_wrap=True)
        out.print(b.spa_sentence(), soft_wrap=True)
    scores = result.regime_scores
    if len(scores):
        regimes = Table(title="By regime: Sharpe and CAGR (annualised return), 95% intervals")
        for column in ("strategy", "regime", "Sharpe (95% CI)", "CAGR (95% CI)", "days",
                       "spells"):
            regimes.add_column(column, justify="left" if column in ("strategy", "regime")
                               else "right")
        labels = [r for r in dict.fromkeys(scores.index.get_level_values(1)) if r != "all"]
        for name in board.index:
            present = [r for r in labels if (name, r) in scores.index]
            for k, regime in enumerate(present):
                regimes.add_row(str(name) if k == 0 else "", regime,
                                *_regime_cells(scores.loc[(name, regime)]),
                                end_section=k == len(present) - 1)
        out.print(regimes)
    for note in result.notes:
        err.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    out.print(str(folder), soft_wrap=True)
