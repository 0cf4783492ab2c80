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


def test_report_page_renders_every_chart(browser, runs):
    run_dir = runs["liquidity_rotation"].run_dir
    page, problems = _open(browser, run_dir / "report.html")
    charts = page.locator(".js-plotly-plot")
    page.wait_for_function("""() => {
        const divs = document.querySelectorAll('.js-plotly-plot');
        return divs.length > 0 && Array.from(divs).every(d => d.querySelector('svg.main-svg'));
    }""", timeout=30_000)
    # equity+drawdown, signal, bucket weights, portfolio duration
    assert charts.count() == 4
    traces = page.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot'))"
                           ".map(d => d.querySelectorAll('g.trace').length)")
    assert all(n > 0 for n in traces), traces
    # the log-scale switch really relayouts the equity axis
    page.get_by_text("log", exact=True).first.click()
    page.wait_for_function("document.querySelector('.js-plotly-plot').layout.yaxis.type === 'log'")
    headings = page.locator("section h2").all_inner_texts()
    for expected in ("Headline: strategy vs benchmark", "Run settings", "Equity and drawdown",
                     "Liquidity-scarcity signal", "Bucket weights", "Portfolio duration",
                     "Scores by regime", "Bucket contribution by regime"):
        assert expected in headings
    assert page.locator("a[href='tearsheet.html']").count() == 1
    assert _shot(page, "report.png").stat().st_size > 50_000
    assert problems == []


def test_tearsheet_renders_offline(browser, runs):
    page, problems = _open(browser, runs["liquidity_rotation"].run_dir / "tearsheet.html")
    assert page.locator("svg").count() >= 10  # quantstats' inline matplotlib charts
    assert _shot(page, "tearsheet.png").stat().st_size > 50_000
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
    assert "<script>alert('x')</script>" in page.locator("pre.doc").inner_text()
    assert problems == []
