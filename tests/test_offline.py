"""Offline without data: `run`, `data status` and `now` refuse in one short paragraph that
says what to do, with none of yfinance's or pandas' chatter, and exit 2. The downloader
replays what yfinance 1.x does offline: log errors per ticker, warn, return an empty frame."""

import logging
import warnings

import pandas as pd
import pytest
from typer.testing import CliRunner

from durationbt.cli.app import app

runner = CliRunner()


def yfinance_offline(tickers, **kwargs):
    log = logging.getLogger("yfinance")
    log.error("\n%d Failed download:", len(tickers))
    for ticker in tickers:
        log.warning("Cookie/crumb fetch failed (DNSError), continuing without crumb")
        log.error("Failed to get ticker '%s' reason: Failed to perform, curl: (6) Could not "
                  "resolve host: query2.finance.yahoo.com. See https://curl.se/libcurl/c/"
                  "libcurl-errors.html first for more details.", ticker)
        log.error("$%s: possibly delisted; no timezone found", ticker)
    warnings.warn("The inplace keyword in DataFrame.rename is deprecated", DeprecationWarning,
                  stacklevel=1)
    return pd.DataFrame()


@pytest.fixture
def offline(monkeypatch, tmp_path):
    import durationbt.data.yahoo as yahoo

    monkeypatch.setattr(yahoo, "yf_download", yfinance_offline)
    monkeypatch.setenv("DURATIONBT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("DURATIONBT_DATA", raising=False)
    return tmp_path


@pytest.mark.parametrize("argv", [["run", "buy_and_hold"], ["data", "status"], ["now"],
                                  ["now", "liquidity_rotation", "--json", "{tmp}/now.json"]])
def test_offline_refusal_is_short_clean_and_says_what_to_do(offline, strategies_dir, argv):
    argv = [a.replace("{tmp}", str(offline)) for a in argv]
    if argv[0] != "data":
        argv += ["--strategies-dir", str(strategies_dir), *(["--out", str(offline / "r")]
                                                            if argv[0] == "run" else [])]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) <= 3, result.output
    text = " ".join(result.output.split())
    assert text.startswith("Error: ")
    assert "Could not resolve host: query2.finance.yahoo.com" in text
    assert "pass --data DIR" in text and "DURATIONBT_DATA" in text
    for noise in ("Failed to get ticker", "possibly delisted", "crumb", "deprecated",
                  "Traceback"):
        assert noise not in result.output
    assert not (offline / "r").exists() and not (offline / "now.json").exists()


def test_status_exits_2_naming_what_is_missing(synth_data, synth_universe, tmp_path):
    ghost = synth_universe.read_text().replace('tickers = ["SOFTA", "SOFTB"]',
                                               'tickers = ["SOFTA", "GHOST"]')
    (tmp_path / "ghost.toml").write_text(ghost)
    result = runner.invoke(app, ["data", "status", "--universe", str(tmp_path / "ghost.toml"),
                                 "--data", str(synth_data)])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "CHIPA" in text                                     # the table is still shown
    assert "1 of the 8 series of universe ghost have no data" in text and ": GHOST (see" in text
