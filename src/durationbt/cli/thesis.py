"""``durationbt thesis``: the universe's own claims scored, with verdicts."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from .console import (
    data_option,
    end_option,
    err,
    out,
    out_option,
    parse_date,
    run_settings,
    start_option,
    strategies_dir_option,
    universe_option,
    user_errors,
)

__all__ = ["thesis"]

_STYLE = {"supported": "green", "contradicted": "red", "inconclusive": "white",
          "insufficient data": "dim"}


@user_errors
def thesis(
    universe: str = universe_option(),
    start: str = start_option(),
    end: str = end_option(),
    adjust: str = typer.Option(None, "--adjust", help="Multiple-testing adjustment across the "
                               "claims: holm (family-wise) or bh (Benjamini-Hochberg, false "
                               "discovery rate). Default: the universe's [thesis] adjust, else "
                               "holm."),
    split: str = typer.Option(None, "--split", help="Also score each claim before and after "
                              "this date, YYYY-MM-DD (default: the universe's [thesis] written)."),
    fundamentals: Path = typer.Option(None, "--fundamentals", help="Folder of user series the "
                                      "thesis names by file, e.g. ../shared/fundamentals "
                                      "(default: $DURATIONBT_FUNDAMENTALS; without it their "
                                      "claims are insufficient data)."),
    data: Path = data_option(),
    out_dir: Path = out_option("the thesis folder"),
    strategies_dir: Path = strategies_dir_option(),
) -> None:
    """Score the claims of the universe's [thesis] table (regime spreads, sensitivities,
    outcomes, leads, timing): each with its estimate, 95% interval, p-value, adjusted
    p-value, sample size and verdict (supported, contradicted, inconclusive, insufficient
    data), before and after the date the thesis was written, plus event windows and today's
    regime. Writes thesis.json, claims.csv, thesis.html and manifest.json."""
    from ..errors import ParameterError
    from ..inference import ADJUSTMENTS
    from ..publish import write_thesis
    from ..session import Session
    from ..thesis.scorecard import score_thesis
    from .environment import read_environment

    if adjust is not None and adjust not in ADJUSTMENTS:
        raise ParameterError(f"--adjust {adjust!r} is not an adjustment; choose "
                             + " or ".join(ADJUSTMENTS) + ".")
    cut = parse_date(split, "--split")
    env = read_environment()
    folder = fundamentals or env.fundamentals
    if folder is not None and not Path(folder).expanduser().is_dir():
        where = "--fundamentals" if fundamentals else "DURATIONBT_FUNDAMENTALS"
        raise ParameterError(f"{where} {folder} is not a folder; pass the folder holding the "
                             "series files (e.g. ../shared/fundamentals).")
    folder = Path(folder).expanduser() if folder is not None else None
    settings = run_settings(universe=universe, start=start, end=end, rebalance="monthly",
                            fees_bps=10.0, slippage_bps=5.0, data=data, out_dir=out_dir,
                            strategies_dir=strategies_dir)
    with err.status("Loading the data", spinner="dots") as status:
        session = Session(settings, progress=lambda msg: status.update(msg))
        provider = env.provider(data)
        status.update("Scoring the claims")
        card = score_thesis(session, provider, fundamentals=folder, adjust=adjust, split=cut)
        status.update("Writing the thesis folder")
        result = write_thesis(card, session, out_dir, folder)
    _print(card)
    out.print(str(result), soft_wrap=True)


def _print(card) -> None:
    from ..report.thesis_charts import format_estimate

    content = card.to_json()
    window = content["data_window"]
    table = Table(title=f"Thesis {content['universe']}, {window['start']}..{window['end']}: "
                        f"{content['adjustment']['name']}, {content['adjustment']['tests']} "
                        "tests")
    for column in ("claim", "kind", "estimate", "95% interval", "p", "adj. p", "verdict", "N"):
        table.add_column(column, justify="left" if column in ("claim", "kind", "verdict")
                         else "right")
    split = content["split"]
    for c in content["claims"]:
        low, high = c["ci95"]
        interval = "n/a" if low is None or high is None else (
            f"{format_estimate(c['kind'], low)}..{format_estimate(c['kind'], high)}")
        table.add_row(escape(c["id"]), c["kind"], format_estimate(c["kind"], c["estimate"]),
                      interval, _p(c["p_value"]), _p(c["p_adjusted"]),
                      f"[{_STYLE[c['verdict']]}]{c['verdict']}[/]", f"{c['n']:,}")
    out.print(table)
    for c in content["claims"]:
        if c["insufficient"]:
            out.print(f"{escape(c['id'])}: insufficient data: {escape(c['insufficient'])}",
                      soft_wrap=True)
    if split:
        periods = Table(title=f"Before and after {split['date']} ({split['source']}); the "
                              "months after are out of sample (p not adjusted)")
        for column in ("claim", "whole history", "before", "after"):
            periods.add_column(column, justify="left" if column == "claim" else "right")
        for c in content["claims"]:
            periods.add_row(escape(c["id"]), _short(c["kind"], c),
                            *(_short(c["kind"], c["periods"][name]) for name in ("before", "after")))
        out.print(periods)
    for note in content["notes"]:
        err.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    today = content["regime_today"]
    out.print(f"Regime on {today['date']}: [bold]{today['regime']}[/] since {today['since']}; "
              f"{len(today['claims'])} claims bear on it (thesis.html lists them).")


def _p(value) -> str:
    if value is None:
        return "n/a"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _short(kind: str, entry) -> str:
    """Estimate, p and N of one window, or why it has no verdict."""
    from ..report.thesis_charts import format_estimate

    if entry["estimate"] is None:
        return f"n/a (N {entry['n']:,}" + (", insufficient)" if entry["insufficient"] else ")")
    text = f"{format_estimate(kind, entry['estimate'])}, p {_p(entry['p_value'])}, N {entry['n']:,}"
    return text + (" [dim](insufficient)[/]" if entry["insufficient"] else "")
