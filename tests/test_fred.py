"""The FRED provider replays recorded fredgraph.csv responses: parsing, cache, retries with
backoff, offline fallbacks, and its place behind the yahoo provider. No network."""

import logging
import urllib.error
import warnings
from pathlib import Path

import pandas as pd
import pytest

from durationbt.data.fetch import quiet_libraries, with_retries
from durationbt.data.fred import FredProvider, fredgraph_url, parse_fredgraph_csv
from durationbt.data.yahoo import YahooProvider
from durationbt.errors import DataError

FIXTURES = Path(__file__).parent / "fixtures"


def recorded(url: str) -> bytes:
    """Serve fixtures/fredgraph_<ID>.csv for ...fredgraph.csv?id=<ID>; other ids are a 404."""
    sid = url.rsplit("id=", 1)[1]
    path = FIXTURES / f"fredgraph_{sid}.csv"
    if not path.is_file():
        raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)
    return path.read_bytes()


def offline(url: str) -> bytes:
    raise urllib.error.URLError("[Errno -2] Name or service not known")


class Calls:
    """A getter that fails ``failures`` times with ``error`` and then replays the recording."""

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.urls: list[str] = []
        self.failures = failures
        self.error = error or urllib.error.URLError("timed out")

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        if len(self.urls) <= self.failures:
            raise self.error
        return recorded(url)


def test_parse_drops_holidays_and_reads_both_headers():
    dgs10 = parse_fredgraph_csv((FIXTURES / "fredgraph_DGS10.csv").read_bytes(), "DGS10")
    assert len(dgs10) == 25                                  # 26 rows, 2026-07-03 empty
    assert pd.Timestamp("2026-07-03") not in dgs10.index
    assert dgs10.loc["2026-07-28"] == 4.61 and dgs10.index[-1] == pd.Timestamp("2026-07-31")
    old = parse_fredgraph_csv("DATE,WALCL\n2019-12-25,.\n2020-01-01,4173626\n", "WALCL")
    assert old.to_dict() == {pd.Timestamp("2020-01-01"): 4173626.0}


@pytest.mark.parametrize("body", ["<!DOCTYPE html><html>maintenance</html>",
                                  "observation_date,DGS10\n2026-07-01,abc\n", ""])
def test_parse_refuses_what_is_not_a_fredgraph_csv(body):
    with pytest.raises(DataError, match="FRED series DGS10"):
        parse_fredgraph_csv(body, "DGS10")


def test_downloads_caches_and_serves_the_cache_offline(tmp_path):
    calls = Calls()
    online = FredProvider(tmp_path, get=calls)
    got = online.load(["DGS10", "WALCL"])
    assert calls.urls == [fredgraph_url("DGS10"), fredgraph_url("WALCL")]
    assert calls.urls[0] == "https://fred.stlouisfed.org/graph/fredgraph.csv?id=DGS10"
    assert (tmp_path / "fred" / "WALCL.parquet").is_file()
    assert got["WALCL"].loc["2026-07-29"] == 6751902.0

    FredProvider(tmp_path, get=offline).load(["DGS10"])      # fresh cache: no call, no error
    stale = FredProvider(tmp_path, max_age_hours=0, get=offline, sleep=lambda s: None)
    pd.testing.assert_series_equal(stale.load(["DGS10"])["DGS10"], got["DGS10"])
    assert stale.failures == {}


def test_retries_with_exponential_backoff_then_succeeds(tmp_path):
    waits: list[float] = []
    calls = Calls(failures=2)
    got = FredProvider(tmp_path, get=calls, sleep=waits.append).load(["DGS10"])
    assert len(calls.urls) == 3 and waits == [1.0, 2.0]
    assert len(got["DGS10"]) == 25


def test_gives_up_after_three_tries_and_stops_asking_once_offline(tmp_path):
    waits: list[float] = []
    calls = Calls(failures=99)
    provider = FredProvider(tmp_path, get=calls, sleep=waits.append)
    assert provider.load(["DGS10", "WALCL", "DFII10"]) == {}
    assert len(calls.urls) == 3 and waits == [1.0, 2.0]      # WALCL and DFII10 not attempted
    assert "after 3 tries" in provider.failures["DGS10"]
    assert "FRED unreachable" in provider.failures["WALCL"]
    assert "No cached copy" in provider.failures["DFII10"]


def test_an_unknown_series_is_not_retried(tmp_path):
    calls = Calls()
    provider = FredProvider(tmp_path, get=calls, sleep=lambda s: pytest.fail("no retry"))
    assert provider.load(["NOPE", "DGS10"]).keys() == {"DGS10"}
    assert calls.urls.count(fredgraph_url("NOPE")) == 1
    assert "HTTP 404" in provider.failures["NOPE"]


def test_a_server_error_is_retried(tmp_path):
    busy = urllib.error.HTTPError("u", 503, "Service Unavailable", {}, None)
    calls = Calls(failures=1, error=busy)
    assert "DGS10" in FredProvider(tmp_path, get=calls, sleep=lambda s: None).load(["DGS10"])
    assert len(calls.urls) == 2


def test_yahoo_provider_reads_fred_from_fred(tmp_path):
    yahoo = YahooProvider(tmp_path, fred=FredProvider(tmp_path, get=recorded))
    assert yahoo.load_fred(["DGS10"])["DGS10"].loc["2026-07-31"] == 4.52
    assert "FRED" in yahoo.describe()


def test_with_retries_returns_first_success_and_reraises_the_last_error():
    waits: list[float] = []
    outcomes = iter([OSError("a"), OSError("b"), OSError("c")])

    def flaky():
        raise next(outcomes)

    with pytest.raises(OSError, match="c"):
        with_retries(flaky, attempts=3, backoff=0.5, sleep=waits.append)
    assert waits == [0.5, 1.0]
    assert with_retries(lambda: 7, sleep=waits.append) == 7


def test_quiet_libraries_captures_noise_and_restores_everything(capsys):
    logger = logging.getLogger("yfinance")
    before = (logger.handlers[:], logger.propagate, warnings.filters[:])
    with quiet_libraries() as noise:
        logger.error("\n1 Failed download:")
        logger.error("['SPY']: Could not resolve host: query2.finance.yahoo.com. See https://x")
        warnings.warn("inplace is deprecated", DeprecationWarning, stacklevel=1)
    assert capsys.readouterr().err == ""
    assert noise.first_reason() == "['SPY']: Could not resolve host: query2.finance.yahoo.com"
    assert (logger.handlers, logger.propagate, warnings.filters) == before
