"""report.html and tearsheet.html of a real run, opened over file:// in Debian's headless
chromium (driven by playwright): no console errors, no request leaves the machine, every
plotly chart draws its SVG. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not CHROMIUM.is_file():
        pytest.skip(f"SKIPPED: no chromium at {CHROMIUM}; install Debian's package "
                    "(apt-get install chromium), as .ci/run does")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="SKIPPED: playwright is not installed (pip install -e '.[dev]')")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=FLAGS,
            viewport={"width": 1440, "height": 900})
        yield context
        context.close()


def _open(context, path: Path):
    """Load ``path``; collect console errors, page errors and any non-file request."""
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
            if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))

    def guard(route):
        if route.request.url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            problems.append(f"external request: {route.request.url}")
            route.abort()

    page.route("**/*", guard)
    page.goto(path.resolve().as_uri(), wait_until="load")
    return page, problems


def _shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / name
    page.screenshot(path=str(target), full_page=True)
    return target


WIDTHS = (1024, 1600)
# what does not fit the window: the page scrolling sideways, a box whose content is wider
# than the box (clipped, or scrolled inside a card), an element crossing the right edge
_OVERFLOWING = """() => {
  const out = [], root = document.documentElement, width = root.clientWidth;
  const describe = el => {
    const card = el.closest('section'), title = card && card.querySelector('h2');
    return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + (title ? ' in "' + title.innerText + '"' : '');
  };
  if (root.scrollWidth > width + 1)
    out.push(`the page scrolls sideways (${root.scrollWidth} px in ${width})`);
  for (const el of document.querySelectorAll('body *')) {
    const style = getComputedStyle(el), rect = el.getBoundingClientRect();
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    if (rect.width === 0 || rect.height === 0) continue;
    if (['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX)
        && el.scrollWidth > el.clientWidth + 1)
      out.push(`${describe(el)} is ${el.scrollWidth} px wide in ${el.clientWidth}`);
    if (rect.left < width && rect.right > width + 1)
      out.push(`${describe(el)} ends at ${Math.round(rect.right)} px, past the window's ${width}`);
  }
  return out;
}"""
# a row name (first column) wrapped inside a word rather than after a space, _ @ / . or -
_BROKEN_WORDS = r"""() => {
  const out = [], range = document.createRange();
  for (const cell of document.querySelectorAll('td:first-child, th:first-child')) {
    if (cell.getBoundingClientRect().width === 0) continue;
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    let text = '', lastTop = null, node;
    while ((node = walker.nextNode())) {
      for (let i = 0; i < node.length; i++) {
        range.setStart(node, i); range.setEnd(node, i + 1);
        const rect = range.getClientRects()[0], ch = node.data[i];
        if (rect && rect.width > 0 && !/\s/.test(ch)) {
          if (lastTop !== null && rect.top > lastTop + 2 && !/[\s_@\/.\-]$/.test(text))
            out.push(`"${cell.innerText.replace(/\s+/g, ' ')}" breaks after "${text.slice(-12)}"`);
          lastTop = rect.top;
        }
        text += ch;
      }
    }
  }
  return out;
}"""


def _assert_fits(page, name: str) -> None:
    """At 1,024 and 1,600 px: nothing is wider than its box or the window, no row name
    breaks inside a word; a full-page screenshot at each width."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(300)
        _shot(page, name.replace(".html", f"-{width}.png"))
        assert page.evaluate(_OVERFLOWING) == [], f"{name} at {width} px"
        assert page.evaluate(_BROKEN_WORDS) == [], f"{name} at {width} px"


def test_report_page_renders_every_chart(browser, runs):
    run_dir = runs["liquidity_rotation"].run_dir
    page, problems = _open(browser, run_dir / "report.html")
    charts = page.locator(".js-plotly-plot")
    page.wait_for_function("""() => {
        const divs = document.querySelectorAll('.js-plotly-plot');
        return divs.length > 0 && Array.from(divs).every(d => d.querySelector('svg.main-svg'));
    }""", timeout=30_000)
    # equity+drawdown, signal, timing (run vs static mix vs placebos), bucket weights,
    # turnover per rebalance, portfolio duration
    assert charts.count() == 6
    traces = page.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot'))"
                           ".map(d => d.querySelectorAll('g.trace').length)")
    assert all(n > 0 for n in traces), traces
    # the log-scale switch really relayouts the equity axis
    page.get_by_text("log", exact=True).first.click()
    page.wait_for_function("document.querySelector('.js-plotly-plot').layout.yaxis.type === 'log'")
    headings = page.locator("section h2").all_inner_texts()
    for expected in ("Headline: strategy vs benchmark", "Run settings", "Equity and drawdown",
                     "Liquidity-scarcity signal", "Is the edge timing?", "Bucket weights",
                     "Portfolio duration",
                     "Trading", "Scores by regime", "Bucket contribution by regime"):
        assert expected in headings
    assert page.locator("a[href='tearsheet.html']").count() == 1
    assert _shot(page, "report.png").stat().st_size > 50_000
    _assert_fits(page, "report.html")
    assert problems == []


def test_tearsheet_renders_offline_with_the_runs_total_return(browser, runs):
    import json

    run_dir = runs["liquidity_rotation"].run_dir
    page, problems = _open(browser, run_dir / "tearsheet.html")
    assert page.locator("svg").count() >= 10  # quantstats' inline matplotlib charts
    assert _shot(page, "tearsheet.png").stat().st_size > 50_000
    # quantstats' metrics table: Metric | benchmark | Strategy
    row = page.locator("tr", has=page.locator("td", has_text="Cumulative Return")).first
    shown = row.locator("td").nth(2).inner_text()
    total = json.loads((run_dir / "metrics.json").read_text())["strategy"]["total_return"]
    assert shown == f"{100 * total:,.2f}%"
    assert "\ufe6a" not in page.content() and "CAGR%" in page.content()
    assert "excess of" in page.locator("p", has_text="durationbt's scores").inner_text()
    _assert_fits(page, "tearsheet.html")
    # the monthly heatmap's title is not pulled up under the chart above and cut
    box, chart = page.evaluate("""() => [document.getElementById('monthly_heatmap'),
        document.querySelector('#monthly_heatmap svg')].map(e => e.getBoundingClientRect().top)""")
    assert chart >= box
    assert problems == []


def test_the_tearsheet_does_not_date_an_open_drawdown_as_recovered(browser, runs):
    """The run ends below its peak: the drawdown that began after the last peak is open on
    the last day, not 'recovered' that day as quantstats' own table has it."""
    import pandas as pd

    run_dir = runs["liquidity_rotation"].run_dir
    equity = pd.read_csv(run_dir / "equity.csv", index_col=0, parse_dates=True)["equity"]
    peak = equity.idxmax()
    assert equity.iloc[-1] < equity.max()          # the premise: an open drawdown at the end
    started = equity.index[equity.index.get_loc(peak) + 1]
    depth = equity.loc[peak:].min() / equity.max() - 1
    page, problems = _open(browser, run_dir / "tearsheet.html")
    rows = page.locator("#ddinfo tbody tr").all()
    assert len(rows) == 10
    cells = {r.locator("td").nth(0).inner_text(): [c.inner_text() for c in r.locator("td").all()]
             for r in rows}
    if depth <= min(float(c[2]) for c in cells.values()) / 100:     # among the worst ten
        assert cells[f"{started:%Y-%m-%d}"][1] == "open"
    assert [c[1] for c in cells.values()].count("open") <= 1
    assert f"{equity.index[-1]:%Y-%m-%d}" not in [c[1] for c in cells.values()]
    assert problems == []


def test_user_text_cannot_inject_script(browser, runs, tmp_path):
    """A strategy docstring with markup is shown as text, never run."""
    import json

    from durationbt.report import write_run_report

    folder = tmp_path / "run"
    shutil.copytree(runs["liquidity_rotation"].run_dir, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["strategy"]["description"] = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    manifest["strategy"]["params"] = {"<b>p</b>": "<i>v</i>"}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    write_run_report(folder)
    page, problems = _open(browser, folder / "report.html")
    assert "<script>alert('x')</script>" in page.locator("div.doc").inner_text()
    assert problems == []


def test_long_paths_wrap_inside_the_settings_card(browser, runs, tmp_path):
    """A deep clone path (as in CI) or a long data folder never widens the settings table."""
    import json

    from durationbt.report import write_run_report

    folder = tmp_path / "run"
    shutil.copytree(runs["liquidity_rotation"].run_dir, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    deep = "/tmp/" + "/".join(["a_rather_long_folder_name_of_a_ci_runner"] * 4)
    manifest["universe"]["path"] = f"{deep}/universes/default.toml"
    manifest["data"]["source"] = f"csv folder {deep}/market-data"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    write_run_report(folder)
    page, problems = _open(browser, folder / "report.html")
    _assert_fits(page, "report-long-paths.html")
    assert problems == []


def _assert_charts_drawn(page, expected: int) -> None:
    page.wait_for_function("""() => {
        const divs = document.querySelectorAll('.js-plotly-plot');
        return divs.length > 0 && Array.from(divs).every(d => d.querySelector('svg.main-svg'));
    }""", timeout=30_000)
    assert page.locator(".js-plotly-plot").count() == expected


@pytest.fixture(scope="module")
def analysis_pages(runs, snapshot, tmp_path_factory):
    """compare.html from the two real run folders, a small real sweep and walk-forward, and
    the signal and duration pages."""
    from typer.testing import CliRunner

    from durationbt.cli.app import app

    out = tmp_path_factory.mktemp("analysis")
    cli = CliRunner()
    folders = [str(r.run_dir) for r in runs.values()]
    pages = {}
    for name, args in (
            ("compare.html", ["compare", *folders]),
            ("sweep.html", ["sweep", "liquidity_rotation", "--grid", "short_max_rank=0,1,2",
                            "--grid", "long_min_rank=3,4", "--grid", "neutral_short=0,0.5,1"]),
            ("walkforward.html", ["walkforward", "liquidity_rotation", "--grid",
                                  "neutral_short=0,0.5,1"])):
        result = cli.invoke(app, [*args, "--data", str(snapshot), "--out", str(out)])
        assert result.exit_code == 0, result.output
        pages[name] = Path(result.output.strip().splitlines()[-1]) / name
    for command in ("signal", "duration"):
        pages[f"{command}.html"] = out / f"{command}.html"
        result = cli.invoke(app, [command, "--data", str(snapshot), "--html", str(pages[f"{command}.html"])])
        assert result.exit_code == 0, result.output
    return pages


@pytest.mark.parametrize("name, charts", [("compare.html", 2), ("sweep.html", 2),
                                          ("walkforward.html", 1), ("signal.html", 1),
                                          ("duration.html", 1)])
def test_analysis_pages_render(browser, analysis_pages, name, charts):
    page, problems = _open(browser, analysis_pages[name])
    _assert_charts_drawn(page, charts)
    assert page.locator("header h1").count() == 1  # the shared page shell
    if name == "compare.html":  # the leaderboard sorts on a header click
        header = page.locator("table.sortable th", has_text="CAGR").first
        first = page.locator("table.sortable tbody tr").first.locator("td").first
        header.click()  # higher is better: best first, liquidity_rotation's 30%
        assert first.inner_text().startswith("liquidity_rotation@")
        header.click()  # then ascending: SPY's 13% CAGR first
        assert first.inner_text().startswith("benchmark (SPY)")
    assert _shot(page, name.replace(".html", ".png")).stat().st_size > 20_000
    _assert_fits(page, name)
    if name == "sweep.html":  # a colour-blind-safe scale; the chosen point and defaults marked
        import json

        heatmap, *marks = page.evaluate("""() => document.querySelectorAll('.js-plotly-plot')[0]
            .data.map(t => [t.type, t.name, JSON.stringify(t.colorscale || ''), t.x, t.y])""")
        assert heatmap[0] == "heatmap" and "#2166ac" in heatmap[2] and "RdYlGn" not in heatmap[2]
        best = json.loads((analysis_pages[name].parent / "summary.json").read_text())["best"]
        assert {m[1]: (m[3], m[4]) for m in marks} == {
            "chosen (best)": ([str(best["short_max_rank"])], [str(best["long_min_rank"])]),
            "defaults": (["1"], ["3"])}      # liquidity_rotation: short_max_rank=1, long_min_rank=3
    assert problems == []


HOSTILE_PLUGIN = '''
import pandas as pd
from durationbt import Param, Strategy


class Hostile(Strategy):
    """<script>alert('doc')</script> holds bills <img src=x onerror=alert('doc2')>."""

    name = "hostile"
    label = Param("<img src=x onerror=alert('param')>", "a text parameter")

    def target_weights(self, ctx):
        return pd.DataFrame(1.0, index=ctx.rebalance_dates, columns=["bills"])
'''


def test_markup_in_every_user_text_stays_text_on_every_page(browser, synth_data, synth_universe,
                                                            tmp_path):
    """A universe file whose name and description carry markup, a plugin whose docstring and
    parameter value do: the run's report, its tearsheet and a compare page show them as
    text and no script runs (a dialog would be caught). Plugin names cannot carry markup:
    they must be folder-name safe (tests/test_strategy_contract.py)."""
    from typer.testing import CliRunner

    from durationbt.api import RunSettings, run_backtest
    from durationbt.cli.app import app
    from durationbt.plugins import discover_strategies

    universe = tmp_path / "<img src=x onerror=alert('file')>.toml"
    universe.write_text(synth_universe.read_text().replace(
        'description = "synthetic test universe"',
        'description = "<script>alert(\'universe\')</script>"'))
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "hostile.py").write_text(HOSTILE_PLUGIN)
    registry = discover_strategies(plugins, entry_points_enabled=False, builtins=False)
    done = run_backtest("hostile", RunSettings(universe=universe, data=synth_data,
                                               out=tmp_path / "results"), registry=registry)
    compare = CliRunner().invoke(app, ["compare", str(done.run_dir), "--out",
                                       str(tmp_path / "results")])
    assert compare.exit_code == 0, compare.output
    compare_page = Path(compare.output.strip().splitlines()[-1]) / "compare.html"
    for path in (done.run_dir / "report.html", done.run_dir / "tearsheet.html", compare_page):
        page, problems = _open(browser, path)
        page.wait_for_timeout(300)
        assert problems == [], (path.name, problems)
        if path.name != "compare.html":   # the pages that name the universe show it as text
            assert "onerror=alert('file')" in page.locator("body").inner_text(), path.name
    report, _ = _open(browser, done.run_dir / "report.html")
    body = report.locator("body").inner_text()
    assert "<script>alert('doc')</script>" in body and "onerror=alert('param')" in body


def test_thesis_page_fits_and_draws_a_forest_per_kind(browser, thesis_run):
    """thesis.html of the real thesis: a forest plot per claim kind, no horizontal
    overflow of the page or of any table at 1,024 and 1,600 px, screenshots at both."""
    import json

    content = json.loads((thesis_run / "thesis.json").read_text())
    kinds = {c["kind"] for c in content["claims"] if c["estimate"] is not None}
    page, problems = _open(browser, thesis_run / "thesis.html")
    _assert_charts_drawn(page, len(kinds))
    headings = page.locator("section h2").all_inner_texts()
    for expected in ("Scorecard", "Estimates and 95% intervals, by kind",
                     "Before and after 2026-01-30", "What stands behind each estimate",
                     "Today's regime and the claims that bear on it", "Event windows"):
        assert expected in headings
    for width in (1024, 1600):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(300)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.evaluate(_OVERFLOWING) == [], f"thesis.html at {width} px"
        assert _shot(page, f"thesis-{width}.png").stat().st_size > 50_000
    assert problems == []


def test_markup_in_a_claim_stays_text(browser, tmp_path):
    """A claim's text and an event's name with markup are shown as text on thesis.html; a
    claim without data, whose reason holds long unbreakable words, still fits at 1,024 px."""
    from typer.testing import CliRunner

    from durationbt.cli.app import app
    from thesis_fixtures import planted_folder

    data, universe = planted_folder(tmp_path)
    universe.write_text(universe.read_text().replace(
        'text = "The placebo falls behind when scarce (noise)"',
        'text = "<script>alert(\'claim\')</script><img src=x onerror=alert(1)>"').replace(
        'name = "first year"', 'name = "<b onmouseover=alert(2)>first</b>"').replace(
        'csv = "orders.csv"',
        'fundamentals = "quarterly_orders_of_the_hyperscalers_from_their_filings.csv"'))
    result = CliRunner().invoke(app, ["thesis", "--universe", str(universe), "--data",
                                      str(data), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    folder = next((tmp_path / "out").iterdir())
    page, problems = _open(browser, folder / "thesis.html")
    page.wait_for_timeout(500)
    body = page.locator("body").inner_text()
    assert "<script>alert('claim')</script>" in body and "<b onmouseover=alert(2)>" in body
    assert "quarterly_orders_of_the_hyperscalers_from_their_filings.csv" in body
    page.set_viewport_size({"width": 1024, "height": 900})
    page.wait_for_timeout(300)
    assert page.evaluate(_OVERFLOWING) == [], "thesis.html at 1024 px"
    assert problems == []
