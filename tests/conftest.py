"""Shared fixtures: seeded synthetic CSV folders and universes, and the real snapshot."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SNAPSHOT = Path(os.environ.get("DURATIONBT_TEST_DATA", REPO.parent / "shared" / "market-data"))

SYNTH_UNIVERSE = """
description = "synthetic test universe"
benchmark = "BENCH"
cash = "CASH"
start = 2019-01-02

[ticker_start]
LATE = 2020-06-01

[buckets.bills]
rank = 0
description = "cash-like"
tickers = ["CASH"]

[buckets.chips]
rank = 1
description = "short duration"
tickers = ["CHIPA", "LATE"]

[buckets.software]
rank = 4
description = "long duration"
tickers = ["SOFTA", "SOFTB"]

[buckets.coins]
rank = 5
description = "7-day asset"
tickers = ["COIN-USD"]

[signal]
tickers = ["^TNX"]
"""


def same_grid_run(a, b) -> None:
    """Two grid runs (``sweep.run_grid``) equal bit for bit: trials, metrics and moments."""
    np.testing.assert_array_equal(a.trial_of_combo, b.trial_of_combo)
    np.testing.assert_array_equal(a.first_combo, b.first_combo)
    for key in a.metrics:
        np.testing.assert_array_equal(a.metrics[key], b.metrics[key], err_msg=key)
    np.testing.assert_array_equal(a.moments, b.moments)


def business_days(start: str, end: str) -> pd.DatetimeIndex:
    """Weekdays minus a couple of fixed holidays, standing in for an exchange calendar."""
    days = pd.bdate_range(start, end)
    holidays = pd.DatetimeIndex(["2019-07-04", "2019-12-25", "2020-01-01", "2020-07-03",
                                 "2020-12-25", "2021-01-01"])
    return days.difference(holidays)


def random_walk(index: pd.DatetimeIndex, seed: int, vol: float = 0.015, drift: float = 3e-4,
                start: float = 100.0) -> pd.Series:
    rng = np.random.default_rng(seed)
    steps = rng.normal(drift, vol, len(index))
    return pd.Series(start * np.exp(np.cumsum(steps)), index=index)


def write_yahoo_csv(path: Path, prices: pd.Series, *, with_ohlc: bool = False) -> None:
    frame = pd.DataFrame({"Date": prices.index.strftime("%Y-%m-%d")})
    for col in ("Open", "High", "Low"):
        frame[col] = prices.to_numpy() if with_ohlc else ""
    frame["Close"] = prices.to_numpy()
    frame["Adj Close"] = prices.to_numpy()
    frame["Volume"] = 1000 if with_ohlc else ""
    frame.to_csv(path, index=False)


def build_synthetic_folder(folder: Path) -> Path:
    """Five stocks/ETFs on a business-day calendar, one 7-day coin, a yield level ^TNX."""
    folder.mkdir(parents=True, exist_ok=True)
    days = business_days("2018-01-02", "2021-06-30")
    for seed, ticker in enumerate(["CASH", "CHIPA", "SOFTA", "SOFTB", "BENCH"], start=1):
        vol = 0.0005 if ticker == "CASH" else 0.015
        write_yahoo_csv(folder / f"{ticker}.csv", random_walk(days, seed, vol=vol),
                        with_ohlc=ticker == "BENCH")
    late_days = days[days >= "2020-05-01"]  # trimmed further by ticker_start
    write_yahoo_csv(folder / "LATE.csv", random_walk(late_days, 11))
    coin_days = pd.date_range("2018-01-01", "2021-06-30", freq="D")
    coin = random_walk(coin_days, 12, vol=0.04, start=5000.0)
    write_yahoo_csv(folder / "COIN-USD.csv", coin.drop(pd.Timestamp("2020-03-11")))
    tnx = pd.Series(2.0 + np.cumsum(np.random.default_rng(13).normal(0, 0.03, len(days))),
                    index=days)
    write_yahoo_csv(folder / "^TNX.csv", tnx)
    return folder


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Every cache (yahoo, FRED, market data) in a folder of this test session, never the
    user's ~/.cache: the CLI's DURATIONBT_CACHE (subprocesses and CliRunner read it) and
    the library's default root (in-process calls that name none)."""
    import durationbt.data.fetch as fetch
    import durationbt.data.fred as fred
    import durationbt.data.yahoo as yahoo

    root = tmp_path_factory.mktemp("cache")
    before = os.environ.get("DURATIONBT_CACHE")
    os.environ["DURATIONBT_CACHE"] = str(root)
    def default_cache_dir():
        """This test session's cache root."""
        return root

    patched = [(m, m.default_cache_dir) for m in (fetch, fred, yahoo)]
    for module, _ in patched:
        module.default_cache_dir = default_cache_dir
    yield
    for module, original in patched:
        module.default_cache_dir = original
    if before is None:
        os.environ.pop("DURATIONBT_CACHE", None)
    else:
        os.environ["DURATIONBT_CACHE"] = before


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Tests never touch the network: the online providers' default getters behave as if
    offline (a test that needs a response injects a recorded one)."""
    import durationbt.data.fred as fred
    import durationbt.data.yahoo as yahoo

    def blocked(*args, **kwargs):
        """Stands in for a download while tests run: always offline."""
        raise ConnectionError("network blocked in tests")

    monkeypatch.setattr(fred, "_urllib_get", blocked)
    monkeypatch.setattr(yahoo, "yf_download", blocked)


@pytest.fixture(scope="session")
def synth_data(tmp_path_factory) -> Path:
    return build_synthetic_folder(tmp_path_factory.mktemp("synth") / "data")


@pytest.fixture(scope="session")
def synth_universe(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("universes") / "synth.toml"
    path.write_text(SYNTH_UNIVERSE)
    return path


@pytest.fixture(scope="session")
def snapshot() -> Path:
    if not (SNAPSHOT / "SPY.csv").is_file():
        pytest.skip(f"real market-data snapshot not found at {SNAPSHOT}")
    return SNAPSHOT


@pytest.fixture(scope="session")
def strategies_dir() -> Path:
    return REPO / "strategies"


@pytest.fixture(scope="session")
def default_universe() -> Path:
    return REPO / "universes" / "ai_capex.toml"


@pytest.fixture(scope="session")
def registry(strategies_dir):
    from durationbt.plugins import discover_strategies

    return discover_strategies(strategies_dir, entry_points_enabled=False)


@pytest.fixture(scope="session")
def runs(snapshot, registry, tmp_path_factory):
    """Real runs on the snapshot, shared by the integration and browser tests."""
    from durationbt.api import RunSettings, run_backtest

    out = tmp_path_factory.mktemp("results")
    settings = RunSettings(data=snapshot, out=out)
    return {name: run_backtest(name, settings, registry=registry)
            for name in ("equal_weight", "liquidity_rotation")}


@pytest.fixture(scope="session")
def thesis_run(snapshot, tmp_path_factory) -> Path:
    """``durationbt thesis`` on the snapshot with the real fundamentals (when present next to
    it), shared by the thesis integration and browser tests: its results folder."""
    from typer.testing import CliRunner

    from durationbt.cli.app import app

    out = tmp_path_factory.mktemp("thesis")
    fundamentals = SNAPSHOT.parent / "fundamentals"
    extra = ["--fundamentals", str(fundamentals)] if fundamentals.is_dir() else []
    result = CliRunner().invoke(app, ["thesis", "--data", str(snapshot), "--out", str(out),
                                      *extra])
    assert result.exit_code == 0, result.output
    return out / result.output.strip().splitlines()[-1].rsplit("/", 1)[-1]


@pytest.fixture
def installed_example(tmp_path, monkeypatch):
    """The tests/plugin_pkg package made importable with its dist-info, as pip would."""
    pkg = Path(__file__).parent / "plugin_pkg"
    site = tmp_path / "site"
    info = site / "durationbt_example_plugin-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: durationbt-example-plugin\n"
                                   "Version: 0.1.0\n")
    import tomllib

    eps = tomllib.loads((pkg / "pyproject.toml").read_text())["project"]["entry-points"]
    lines = [line for group, names in eps.items()
             for line in [f"[{group}]", *(f"{k} = {v}" for k, v in names.items())]]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(pkg / "src"))
    yield
    for module in ("durationbt_example.strategies", "durationbt_example.components",
                   "durationbt_example"):
        sys.modules.pop(module, None)
