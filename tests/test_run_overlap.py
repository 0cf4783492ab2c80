"""The run's speed paths change nothing but time: the market cache returns what a fresh
load returns and is invalidated by any edit of a file's bytes; a run without a tearsheet never
imports quantstats or matplotlib; the tearsheet drawn by the worker process lands in the
folder, linked from the report."""

import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from durationbt.api import RunSettings, load_data, run_backtest
from durationbt.data.cache import MarketCache
from durationbt.data.csv import CsvProvider
from durationbt.universe import load_universe


@pytest.fixture
def cache_home(tmp_path):
    return tmp_path / "cache" / "market"


def test_market_cache_hit_equals_a_fresh_load_and_an_edit_invalidates_it(
        synth_data, synth_universe, cache_home, tmp_path):
    universe = load_universe(synth_universe)
    settings = RunSettings(data=synth_data, cache_dir=cache_home.parent)
    first = load_data(universe, settings)
    assert len(list(cache_home.glob("*.pkl"))) == 1
    again = load_data(universe, settings)
    assert again.fingerprint() == first.fingerprint()
    pd.testing.assert_series_equal(again.signal.composite, first.signal.composite)
    fresh = load_data(universe, RunSettings(data=synth_data, cache=False))
    assert fresh.fingerprint() == again.fingerprint()

    cache = MarketCache(cache_home)
    request = {"start": None, "end": None, "strict": False}
    key = cache.key(CsvProvider(synth_data), universe, request)
    path = synth_data / "CHIPA.csv"
    stat, body = path.stat(), path.read_bytes()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))   # touch: same data
    try:
        assert cache.key(CsvProvider(synth_data), universe, request) == key
        # one digit changed, size and modification time put back: still a new key
        digit = body.rindex(b"1")
        path.write_bytes(body[:digit] + b"2" + body[digit + 1:])
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert path.stat().st_size == stat.st_size
        assert cache.key(CsvProvider(synth_data), universe, request) != key
    finally:
        path.write_bytes(body)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert cache.key(CsvProvider(synth_data), universe, {**request, "strict": True}) != key


def test_damaged_cache_entry_is_ignored(synth_data, synth_universe, cache_home):
    universe = load_universe(synth_universe)
    settings = RunSettings(data=synth_data, cache_dir=cache_home.parent)
    load_data(universe, settings)
    entry = next(cache_home.glob("*.pkl"))
    entry.write_bytes(b"not a pickle")
    assert load_data(universe, settings).end is not None


def test_run_without_tearsheet_imports_neither_quantstats_nor_matplotlib(
        synth_data, synth_universe, strategies_dir, tmp_path):
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from durationbt.api import RunSettings, run_backtest\n"
        "from durationbt.plugins import discover_strategies\n"
        f"s = RunSettings(universe={str(synth_universe)!r}, data={str(synth_data)!r}, "
        f"out=Path({str(tmp_path / 'r')!r}), tearsheet=False, cache_dir=Path({str(tmp_path / 'c')!r}))\n"
        "r = run_backtest('liquidity_rotation', s, registry=discover_strategies(\n"
        f"    Path({str(strategies_dir)!r})))\n"
        "print(sorted(m for m in ('quantstats', 'matplotlib', 'seaborn') if m in sys.modules))\n"
        "print(sorted(p.name for p in r.run_dir.iterdir()))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    modules, files = done.stdout.strip().splitlines()[-2:]
    assert modules == "[]"
    assert "tearsheet.html" not in files and "report.html" in files


def test_tearsheet_from_the_worker_lands_in_the_folder_and_is_linked(
        synth_data, synth_universe, registry, tmp_path):
    done = run_backtest("liquidity_rotation", RunSettings(universe=synth_universe,
                                                          data=synth_data, out=tmp_path / "r",
                                                          cache_dir=tmp_path / "c"),
                        registry=registry)
    sheet = done.run_dir / "tearsheet.html"
    assert sheet.is_file() and "liquidity_rotation" in sheet.read_text()
    assert 'href="tearsheet.html"' in (done.run_dir / "report.html").read_text()
    assert [p.name for p in (tmp_path / "r").iterdir()] == [done.run_dir.name]   # no drafts
    assert set(done.timings) >= {"liquidity_rotation: simulating with vectorbt",
                                 "Waiting for the quantstats tearsheet"}


def test_the_tearsheet_worker_stops_at_once_when_closed(tmp_path):
    """Told to stop, the worker exits by itself without tearing its imports down (which
    took over the 0.5 s close() waits, so the run waited and then killed it)."""
    from durationbt.report.worker import TearsheetWorker

    days = pd.bdate_range("2024-01-01", periods=60)
    equity = pd.Series(np.linspace(100.0, 110.0, len(days)), index=days, name="equity")
    bench = pd.Series(np.linspace(100.0, 105.0, len(days)), index=days, name="B")
    worker = TearsheetWorker()
    worker.submit(tmp_path, equity, bench, {
        "strategy": {"name": "s"}, "universe": {"name": "u", "definition": {
            "benchmark": "B", "cash": "B"}}, "settings": {"risk_free": "zero"}},
        tmp_path / "sheet.html")
    assert worker.result().is_file()        # imports done, a page drawn
    begun = time.perf_counter()
    worker.close()
    assert worker._process.returncode == 0      # it exited, it was not killed
    assert time.perf_counter() - begun < 0.4
