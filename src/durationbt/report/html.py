"""One look for every durationbt page: a self-contained HTML shell (plotly.js embedded once,
inline CSS, no CDN or web fonts), tables that sort on a header click, and atomic writes so
a failure never leaves a half-written page.

One escaping layer for every page: the shell and the cards are jinja2 templates with
autoescape on, and the page builders hand them either plain text, which is escaped, or
``Markup`` made here (figures, tables, docstrings, ``html()``), whose own values are escaped
as they are put in. Text from users (universe and strategy names, docstrings, parameters,
file names) is therefore escaped unless code says otherwise."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment
from markupsafe import Markup, escape

from ..metrics import label, metric_of

__all__ = ["write_page", "render_page", "figure_html", "table_html", "scale_switch",
           "section", "esc", "bucket_colours", "BUCKET_PALETTE", "doc_html", "html", "grid",
           "breakable", "Markup"]

esc = escape
_TEMPLATES = Environment(autoescape=True)
_PAGE = _TEMPLATES.from_string(
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>{{ title }}</title><style>{{ css }}</style>"
    '<script type="text/javascript">{{ plotlyjs }}</script></head><body>'
    "<header><h1>{{ title }}</h1><p>{{ subtitle }}</p></header><main>"
    "{% for part in body %}{{ part }}{% endfor %}<footer>{{ footer }}</footer></main>"
    "<script>{{ sort_js }}</script></body></html>")
_SECTION = _TEMPLATES.from_string(
    '<section><h2>{{ title }}</h2>{% if note %}<p class="note">{{ note }}</p>{% endif %}'
    "{% for part in parts %}{{ part }}{% endfor %}</section>")
_TABLE = _TEMPLATES.from_string(
    '<table{% if classes %} class="{{ classes }}"{% endif %}><thead><tr>'
    '{% for h, better in head %}<th{% if better %} data-better="{{ better }}"{% endif %}>'
    "{{ h }}</th>{% endfor %}</tr></thead><tbody>"
    "{% for row in rows %}<tr>{% for v, text, neg in row %}"
    '<td data-v="{{ v }}"{% if neg %} class="neg"{% endif %}>{{ text }}</td>'
    "{% endfor %}</tr>{% endfor %}</tbody></table>")


def html(template: str, *values: Any, **named: Any) -> Markup:
    """A fragment of markup: ``template`` is trusted HTML written in the code; every value
    put into its ``{}`` fields is escaped (``Markup.format``)."""
    return Markup(template).format(*values, **named)


def grid(*cards: Markup, wide: bool = False) -> Markup:
    """Cards side by side (``wide``: two to a row)."""
    return (html('<div class="grid{}">', " wide" if wide else "") + Markup("").join(cards)
            + Markup("</div>"))

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;
 color:#1d2733;background:#f5f6f8;font-size:14px;line-height:1.45}
header{background:#1d2733;color:#fff;padding:16px 28px}
header h1{margin:0;font-size:22px;font-weight:600}
header p{margin:4px 0 0;color:#c9d1db}
header a{color:#9fd0ff}
main{max-width:1280px;margin:0 auto;padding:12px 28px 40px}
section{background:#fff;border:1px solid #e1e5ea;border-radius:6px;margin:14px 0;padding:12px 18px;
 overflow-x:auto}
section h2{font-size:17px;margin:4px 0 8px}
section p.note{color:#5b6877;margin:4px 0 8px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:14px}
.grid.wide{grid-template-columns:repeat(auto-fit,minmax(500px,1fr))}
.grid>div{min-width:0}
h3{font-size:14px;margin:8px 0 2px}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;margin:6px 0}
th,td{padding:4px 6px;border-bottom:1px solid #eceff3;text-align:right;white-space:nowrap}
th{white-space:normal;vertical-align:bottom}
th:first-child,td:first-child{text-align:left;white-space:normal;overflow-wrap:break-word}
th{background:#f0f2f5;font-weight:600}
table.sortable th{cursor:pointer}
table.sortable th:after{content:" \\2195";color:#9aa5b1;font-size:11px}
td.neg{color:#b3261e}
.doc{background:#f7f8fa;border-left:3px solid #c9d1db;padding:2px 12px;margin:6px 0}
.doc p{margin:6px 0}
.kv td{text-align:left;white-space:normal;overflow-wrap:anywhere}
.kv td:first-child{overflow-wrap:normal;white-space:nowrap}
table.wrap td{white-space:normal}
code{background:#eef1f4;border-radius:3px;padding:0 3px;font-size:0.95em}
footer{color:#6b7785;font-size:12px;margin:20px 0}
"""

_SORT_JS = """
document.querySelectorAll('table.sortable').forEach(function(t){
 t.querySelectorAll('th').forEach(function(th,i){th.addEventListener('click',function(){
  var body=t.tBodies[0],rows=Array.from(body.rows),
   asc=th.dataset.dir?th.dataset.dir!=='asc':th.dataset.better!=='higher';
  t.querySelectorAll('th').forEach(function(h){delete h.dataset.dir});th.dataset.dir=asc?'asc':'desc';
  rows.sort(function(a,b){var x=a.cells[i].dataset.v,y=b.cells[i].dataset.v;
   var nx=parseFloat(x),ny=parseFloat(y);
   if(!isNaN(nx)&&!isNaN(ny)){return asc?nx-ny:ny-nx}
   if(isNaN(nx)!==isNaN(ny)){return isNaN(nx)?1:-1}
   return asc?String(x).localeCompare(y):String(y).localeCompare(x)});
  rows.forEach(function(r){body.appendChild(r)});});});});
"""


# short duration cool to long duration warm, each clearly apart from its neighbours (blue,
# teal, green, amber, orange, red): the colours of buckets on every page
BUCKET_PALETTE = ("#2c5fa8", "#1fa3a3", "#5aa02c", "#e0b000", "#f07a18", "#c8282d")


def bucket_colours(n: int) -> list[str]:
    """``n`` bucket colours in duration order, short (blue) to long (red): picks spread over
    BUCKET_PALETTE, so two buckets are never two shades of one blue."""
    if n <= len(BUCKET_PALETTE):
        last = len(BUCKET_PALETTE) - 1
        return [BUCKET_PALETTE[round(i * last / max(n - 1, 1))] for i in range(n)]
    from plotly.colors import sample_colorscale

    scale = [[k / (len(BUCKET_PALETTE) - 1), c] for k, c in enumerate(BUCKET_PALETTE)]
    return sample_colorscale(scale, [i / (n - 1) for i in range(n)])


_CODE = re.compile(r"``(.+?)``|`([^`]+)`")


def doc_html(text: str) -> Markup:
    """A docstring as HTML a reader sees as prose: lines wrapped at ~90 columns rejoined,
    blank lines kept as paragraph breaks, ``literal`` and `literal` spans as <code>, the
    rest escaped."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]

    def render(paragraph: str) -> Markup:
        out, last = [], 0
        for match in _CODE.finditer(paragraph):
            out.append(esc(paragraph[last:match.start()]))
            out.append(html("<code>{}</code>", match.group(1) or match.group(2)))
            last = match.end()
        out.append(esc(paragraph[last:]))
        return Markup("").join(out)

    return Markup("").join(html("<p>{}</p>", render(p)) for p in paragraphs)


def _atomic_write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def scale_switch(first: str, y: float) -> dict:
    """Buttons that switch the first value axis between linear and log (``first`` on the
    left), for a figure's ``updatemenus``."""
    labels = [first, "log" if first == "linear" else "linear"]
    return {"type": "buttons", "direction": "right", "x": 1.0, "y": y, "xanchor": "right",
            "buttons": [{"label": label, "method": "relayout", "args": [{"yaxis.type": label}]}
                        for label in labels]}


def figure_html(fig: Any) -> Markup:
    """A figure's div and script, without plotly.js (the page embeds it once). plotly
    serialises every label into JSON inside the script, escaping ``<`` and ``>``."""
    return Markup(fig.to_html(full_html=False, include_plotlyjs=False,
                              config={"displaylogo": False, "responsive": True}))


def section(title: str, *parts: Markup | str, note: str | None = None) -> Markup:
    """A titled card. Everything is escaped but ``Markup`` parts (figures, tables, ``html``)."""
    return Markup(_SECTION.render(title=title, parts=parts, note=note))


_BREAK_AFTER = re.compile(r"([_@/.])(?=.)")


def breakable(text: str) -> Markup:
    """``text`` escaped, with a line-break opportunity after each ``_ @ / .``: a row name
    such as ``liquidity_rotation@20260101-120000`` wraps between its words in a narrow
    column, never in the middle of one."""
    return Markup(_BREAK_AFTER.sub(r"\1<wbr>", str(esc(text))))


Formatter = Callable[[Any], str]


def table_html(frame: pd.DataFrame, formats: dict[str, Formatter] | None = None, *,
               default: Formatter | None = None, sortable: bool = False,
               index_label: str | None = None, signed: Sequence[str] = (),
               wrap: bool = False) -> Markup:
    """An escaped HTML table of ``frame`` (index as the first column) under human headers
    (``metrics.label``). Cells carry their raw value for sorting, and a metric's header its
    direction (``data-better``), so a first click sorts it best first; columns in ``signed``
    show negatives in red; ``wrap`` lets long cells wrap so the table fits its card."""
    formats = formats or {}
    fallback = default or (lambda v: "" if v is None or (isinstance(v, float) and v != v) else str(v))
    name = index_label if index_label is not None else (frame.index.name or "")
    head = [(label(str(name)), None)] + [
        (label(str(c)), m.better if (m := metric_of(c)) is not None else None) for c in frame.columns]
    rows = []
    kept = [j for j, dtype in enumerate(frame.dtypes) if pd.api.types.is_object_dtype(dtype)]
    for i, (idx, row) in enumerate(frame.iterrows()):
        cells = [(str(idx), breakable(str(idx)), False)]
        values = list(row.items())
        for j in kept:   # object cells as they are (a row Series would turn Markup into str)
            values[j] = (values[j][0], frame.iat[i, j])
        for col, value in values:
            text = formats.get(col, fallback)(value)
            number = isinstance(value, (int, float)) and value == value
            raw = repr(float(value)) if number else str(value)
            cells.append((raw, text, col in signed and number and value < 0))
        rows.append(cells)
    classes = " ".join(c for c, on in (("sortable", sortable), ("wrap", wrap)) if on)
    return Markup(_TABLE.render(head=head, rows=rows, classes=classes))


def render_page(title: str, subtitle: Markup | str, body: Sequence[Markup | str],
                footer: Markup | str = "") -> str:
    """The full page: header, the cards, plotly.js once in the head, and the table-sorting
    script. Text is escaped; ``Markup`` (from this module's builders) is kept."""
    from plotly.offline import get_plotlyjs

    return _PAGE.render(title=title, subtitle=subtitle, body=body, footer=footer,
                        css=Markup(_CSS), plotlyjs=Markup(get_plotlyjs()),
                        sort_js=Markup(_SORT_JS))


def write_page(path: Path, title: str, subtitle: Markup | str, body: Sequence[Markup | str],
               footer: Markup | str = "") -> Path:
    """Render and write a page atomically."""
    return _atomic_write(path, render_page(title, subtitle, body, footer))
