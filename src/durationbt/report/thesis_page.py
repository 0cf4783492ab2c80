"""``thesis.html``: the scorecard of a thesis, rendered from its thesis.json alone: one row
per claim (text, estimate and interval, p-values, verdict, N), a forest plot per claim kind
on a shared axis, the estimates before and after the thesis was written, the checks behind
each estimate, today's regime and the claims that bear on it, and the event windows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..formatting import fmt_pct
from .html import Markup, figure_html, html, section, table_html, write_page
from .thesis_charts import VERDICT_COLOURS, forest_figure, format_estimate

__all__ = ["write_thesis_page"]

_ORDER = ("regime_spread", "sensitivity", "outcome", "lead", "timing")


def _p(value: Any) -> str:
    if value is None:
        return "n/a"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _interval(kind: str, entry: dict[str, Any]) -> str:
    low, high = entry["ci95"]
    if low is None or high is None:
        return "n/a"
    return f"{format_estimate(kind, low)} to {format_estimate(kind, high)}"


def _verdict(verdict: str) -> Markup:
    return html('<b style="color:{}">{}</b>', VERDICT_COLOURS[verdict], verdict)


# prose wraps, and a word too long for its column (a file name, an environment variable)
# breaks rather than widen the table past its card
_TEXT = "text-align:left;white-space:normal;overflow-wrap:anywhere;min-width:7em"
_FIRST = "text-align:left;white-space:normal;overflow-wrap:anywhere;min-width:13em"


def _rows_table(head: list[str], rows: list[list[Any]], text: tuple[int, ...] = ()) -> Markup:
    """A table whose cells are text (escaped) or Markup: the first column and those in
    ``text`` are left-aligned prose that wraps, the others numbers that do not."""
    def style(i: int) -> str:
        return _FIRST if i == 0 else (_TEXT if i in text else "")

    cells = Markup("").join(html('<th style="{}">{}</th>', style(i), h) for i, h in enumerate(head))
    body = Markup("").join(html("<tr>{}</tr>", Markup("").join(
        html('<td style="{}">{}</td>', style(i), c) for i, c in enumerate(row))) for row in rows)
    return html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", cells, body)


def _claim_cell(claim: dict[str, Any]) -> Markup:
    return html("<b>{}</b><br>{}", claim["id"], claim["text"])


def _scorecard(data: dict[str, Any]) -> Markup:
    rows = []
    for c in data["claims"]:
        why = html('<br><span class="note">{}</span>', c["insufficient"]) if c["insufficient"] \
            else Markup("")
        rows.append([_claim_cell(c), c["kind"].replace("_", " "),
                     format_estimate(c["kind"], c["estimate"]), _interval(c["kind"], c),
                     _p(c["p_value"]), _p(c["p_adjusted"]), _verdict(c["verdict"]) + why,
                     f"{c['n']:,}"])
    return _rows_table(["claim", "kind", "estimate", "95% interval", "p", "adjusted p",
                        "verdict", "N"], rows, text=(1, 6))


def _summary(data: dict[str, Any]) -> str:
    counts = {v: sum(c["verdict"] == v for c in data["claims"]) for v in VERDICT_COLOURS}
    adj = data["adjustment"]
    return (", ".join(f"{n} {v}" for v, n in counts.items()) + f". p-values adjusted by "
            f"{adj['name']} over the {adj['tests']} claims with enough data to test; "
            f"supported means adjusted p < {adj['level']} in the expected direction, "
            "contradicted the same against it.")


def _forests(data: dict[str, Any]) -> list[Markup]:
    parts = []
    for kind in _ORDER + tuple(sorted({c["kind"] for c in data["claims"]} - set(_ORDER))):
        claims = [c for c in data["claims"] if c["kind"] == kind]
        if not claims:
            continue
        shown = [c for c in claims if c["estimate"] is not None]
        parts.append(html("<h3>{}</h3>", kind.replace("_", " ")))
        if shown:
            parts.append(figure_html(forest_figure(kind, claims[0]["unit"], shown)))
        missing = [c["id"] for c in claims if c["estimate"] is None]
        if missing:
            parts.append(html('<p class="note">No estimate: {}.</p>', "; ".join(
                f"{c['id']} ({c['insufficient']})" for c in claims if c["id"] in missing)))
    return parts


def _periods(data: dict[str, Any]) -> Markup:
    rows = []
    for c in data["claims"]:
        row: list[Any] = [c["id"], f"{format_estimate(c['kind'], c['estimate'])} "
                                   f"(N {c['n']:,})"]
        for name in ("before", "after"):
            p = c["periods"].get(name)
            if p is None:
                continue
            text = ("no estimate" if p["estimate"] is None else
                    f"{format_estimate(c['kind'], p['estimate'])} "
                    f"[{_interval(c['kind'], p)}], p {_p(p['p_value'])}") + f", N {p['n']:,}"
            row.append(html("{}<br><span class=\"note\">{}</span>", text, p["status"] if
                            not p["insufficient"] else f"insufficient data: {p['insufficient']}"))
        rows.append(row)
    return _rows_table(["claim", "whole history", "before", "after (out of sample)"], rows,
                       text=(1, 2, 3))


def _details(data: dict[str, Any]) -> list[Markup]:
    """The checks behind each estimate, by kind."""
    out = []
    spreads = [c for c in data["claims"] if c["kind"] == "regime_spread"]
    if spreads:
        rows = []
        for c in spreads:
            s = c["sample"]
            key = next((k for k in c["detail"] if k.endswith("_own_components")), None)
            other = c["detail"][key] if key else None
            label = "same (no component reads the legs' prices)" if other is None else (
                f"{format_estimate('regime_spread', other['estimate'])} "
                f"[{_interval('regime_spread', other)}], p {_p(other['p_value'])} "
                f"({key.split('_')[0]} {', '.join(other['components'])})")
            rows.append([c["id"], fmt_pct(s.get("mean_scarce"), 1), fmt_pct(s.get("mean_abundant"), 1),
                         f"{s.get('days_scarce', 0):,} / {s.get('spells_scarce', 0)}",
                         f"{s.get('days_abundant', 0):,} / {s.get('spells_abundant', 0)}", label])
        out.append(html("<h3>{}</h3>", "regime spread: the legs' own components in and out"))
        out.append(_rows_table(["claim", "scarce, a year", "abundant, a year",
                                "scarce days / spells", "abundant days / spells",
                                "other regime definition"], rows, text=(5,)))
    for c in (c for c in data["claims"] if c["kind"] == "sensitivity" and c["detail"]):
        d = c["detail"]
        full = d.get("betas_full_composite") or {}
        frame = pd.DataFrame({
            "sensitivity (% per z)": {k: f"{v:+.2f}" for k, v in d["sensitivity"].items()},
            "beta ± s.e.": {k: f"{v['beta']:+.2f} ± {v['se']:.2f}" for k, v in d["betas"].items()},
            "beta, full composite": {k: f"{v['beta']:+.2f} ± {v['se']:.2f}"
                                     for k, v in full.items()}}).fillna("")
        out.append(html("<h3>{}</h3>", f"sensitivity: {c['id']}"))
        out.append(html('<p class="note">Composite {}; bootstrap probability the buckets rank '
                        "as claimed: {}.</p>", d["composite"],
                        fmt_pct(d["p_rank_as_claimed"], 1)))
        out.append(table_html(frame, index_label="bucket"))
    outcomes = [c for c in data["claims"] if c["kind"] == "outcome" and c["detail"]]
    if outcomes:
        rows = []
        for c in outcomes:
            d = c["detail"]
            cells = [c["id"]]
            for key in ("overlapping_daily", "within_scarce", "within_abundant"):
                e = d.get(key) or {}
                cells.append("n/a" if e.get("estimate") is None else
                             f"{e['estimate']:+.3g}, p {_p(e['p_value'])}, N {e['n']}")
            cells.append(f"{d['mean_level_scarce']:.2f} / {d['mean_level_abundant']:.2f}"
                         if d.get("mean_level_scarce") is not None
                         and d.get("mean_level_abundant") is not None else "n/a")
            cells.append(f"{d['driver_values']}" + (
                f"; the driver reads this series ({', '.join(d['driver_reads_series'])})"
                if d.get("driver_reads_series") else ""))
            rows.append(cells)
        out.append(html("<h3>{}</h3>", "outcome: overlapping windows and state dependence"))
        out.append(_rows_table(["claim", "overlapping daily", "within scarce", "within abundant",
                                "mean level scarce / abundant", "distinct driver values"], rows,
                               text=(1, 2, 3, 5)))
    leads = [c for c in data["claims"] if c["kind"] == "lead" and c["detail"]]
    for c in leads:
        rows = []
        for h, row in c["detail"]["horizons"].items():
            cells = [f"{h} days"]
            for key in ("non_overlapping", "overlapping_daily", "full_composite"):
                e = row.get(key) or {}
                cells.append("n/a" if e.get("estimate") is None else
                             f"{e['estimate']:+.3f}, p {_p(e['p_value'])}, N {e['n']}")
            rows.append(cells)
        out.append(html("<h3>{}</h3>", f"lead: {c['id']} (driver: {c['detail']['driver']})"))
        out.append(_rows_table(["horizon", "non-overlapping", "overlapping daily",
                                "full composite"], rows))
    return out


def _today(data: dict[str, Any]) -> list[Markup]:
    t = data["regime_today"]
    head = html("<p>On <b>{}</b> the regime is <b>{}</b> (since {}), composite {}.</p>",
                t["date"], t["regime"], t["since"],
                "n/a" if t["composite"] is None else f"{t['composite']:+.2f}")
    rows = [[c["id"], _verdict(c["verdict"]), c["says"]] for c in t["claims"]]
    return [head, _rows_table(["claim", "verdict", "what it says about today"], rows, text=(2,))
            if rows else html('<p class="note">{}</p>', "No claim bears on this regime.")]


def _day(text: str) -> str:
    """A date that never breaks across lines (non-breaking hyphens)."""
    return text.replace("-", "\u2011")


def _events(data: dict[str, Any]) -> Markup:
    events = data["events"]
    found = list(dict.fromkeys(k for e in events for k in e["returns"]))
    order = [*data.get("buckets", []), data.get("benchmark")]      # thesis.json sorts keys
    keys = [k for k in order if k in found] + [k for k in found if k not in order]
    frame = pd.DataFrame({e["name"]: {
        "dates": f"{_day(e['start'])} to {_day(e['end'])}",
        **{f"return: {k.replace('_', ' ')}" + (" (benchmark)" if k == data["benchmark"] else ""):
           fmt_pct(e["returns"].get(k), 1) for k in keys},
        "10-year yield (pp)": "n/a" if e["ten_year_change_pp"] is None
        else f"{e['ten_year_change_pp']:+.2f}",
        "high-yield spread (pp)": "n/a" if e["high_yield_change_pp"] is None
        else f"{e['high_yield_change_pp']:+.2f}",
        "regime days": ", ".join(f"{r} {fmt_pct(s, 0)}" for r, s in e["regime_share"].items()
                                 if s),
        "regime path": " → ".join(f"{p['regime']} from {_day(p['from'])}"
                                  for p in e["regime_path"])}
        for e in events})
    return table_html(frame, index_label="", wrap=True)


def write_thesis_page(path: Path, data: dict[str, Any]) -> Path:
    """Write thesis.html from a thesis.json's content."""
    window = data["data_window"]
    split = data["split"]
    subtitle = (f"{len(data['claims'])} claims · {window['start']} to {window['end']} · "
                f"{data['adjustment']['name']}"
                + (f" · written {split['date']} ({split['source']})" if split else ""))
    body = [section("Scorecard", _scorecard(data), note=_summary(data)),
            section("Estimates and 95% intervals, by kind", *_forests(data),
                    note="One axis per kind. The large point is the whole history, coloured by "
                         "its verdict; the small ones before and after the thesis was written. "
                         "An open marker has too little data for a verdict.")]
    if split:
        body.append(section(f"Before and after {split['date']}", _periods(data),
                            note="The months after the thesis was written are out of sample: "
                                 "few regime spells and few non-overlapping windows, so most "
                                 "of these are insufficient data or wide. p-values here are "
                                 "not adjusted."))
    body.append(section("What stands behind each estimate", *_details(data),
                        note="Regime spreads with the regime rebuilt without the components "
                             "made from the legs' own prices; sensitivity betas against the "
                             "composite with and without them; outcome slopes on overlapping "
                             "windows and within each regime; lead ICs at every horizon."))
    body.append(section("Today's regime and the claims that bear on it", *_today(data)))
    if data["events"]:
        body.append(section("Event windows", _events(data),
                            note="Total return from the close before each window to its last "
                                 "close (buckets equal weight); yield and spread changes in "
                                 "percentage points; the regime path from the signal."))
    series = "; ".join(f"{k}: {v}" for k, v in data["series"].items())
    rules = "; ".join(f"{k}: {data['rules'][k]}" for k in VERDICT_COLOURS if k in data["rules"])
    footer = (f"Verdicts: {rules}." + (f" User series: {series}." if series else "")
              + "".join(f" Note: {n}." for n in data.get("notes", [])))
    return write_page(path, f"durationbt thesis: {data['universe']}", subtitle, body, footer)
