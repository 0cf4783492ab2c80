from pathlib import Path

import pytest

from durationbt.errors import UniverseError
from durationbt.signals import signal_series
from durationbt.universe import list_universes, load_universe

GOOD = """
benchmark = "SPY"
start = 2015-01-02
[buckets.bills]
rank = 0
description = "bills"
tickers = ["BIL"]
[buckets.saas]
rank = 4
description = "software"
tickers = ["CRM", "NOW"]
"""


def write(tmp_path: Path, text: str, name: str = "u.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_default_universe_reproduces_the_thesis(default_universe):
    u = load_universe(default_universe)
    ranks = {b.name: b.rank for b in u.buckets}
    assert ranks == {"bills": 0, "memory": 1, "intermediate_treasuries": 2,
                     "long_treasuries": 3, "saas": 4, "crypto": 5}
    assert u.bucket("memory").tickers == ("MU", "WDC", "STX", "SNDK")
    assert u.bucket("saas").tickers == ("CRM", "NOW", "ADBE", "WDAY", "INTU", "ADSK")
    assert u.bucket("crypto").tickers == ("BTC-USD", "ETH-USD")
    assert u.benchmark == "SPY" and u.cash == "BIL"
    assert str(u.ticker_start["SNDK"]) == "2025-02-24"
    assert "^TNX" in signal_series(u).tickers      # declared by the rates component


def test_universe_found_by_name():
    assert "ai_capex" in list_universes()
    assert load_universe("ai_capex").name == "ai_capex"


def test_unknown_universe_name_suggests():
    with pytest.raises(UniverseError, match='Did you mean "ai_capex"'):
        load_universe("ai_capx")


def test_valid_file_loads_in_order(tmp_path):
    u = load_universe(write(tmp_path, GOOD))
    assert u.bucket_names == ("bills", "saas")
    assert u.tickers == ("BIL", "CRM", "NOW")
    assert u.name == "u"


@pytest.mark.parametrize("text, message", [
    ("benchmark = [", "not valid TOML"),
    ("benchmrk = 'X'\n" + GOOD, "field 'benchmrk': unknown key Did you mean \"benchmark\""),
    (GOOD.replace('tickers = ["BIL"]', 'tickers = ["CRM"]'), "ticker CRM appears in buckets"),
    (GOOD.replace('description = "bills"\n', ""), "field 'buckets.bills.description': missing"),
    (GOOD.replace("start = 2015-01-02", 'start = "not a date"'), "field 'start'"),
    (GOOD.replace("rank = 0", "rank = -1"), "field 'buckets.bills.rank'"),
    (GOOD.replace("rank = 0", 'rank = "short"'), "field 'buckets.bills.rank'"),
    ("end = 2014-01-01\n" + GOOD, "must be after start"),
    (GOOD.replace('tickers = ["BIL"]', "tickers = []"), "field 'buckets.bills.tickers'"),
    (GOOD.replace("[buckets.saas]\n", "[buckets.saas]\ncolour = 1\n"),
     "field 'buckets.saas.colour': unknown key"),
    ('cash = "XXX"\n' + GOOD, "cash asset XXX is not in any bucket"),
])
def test_bad_universe_names_file_and_field(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(UniverseError) as info:
        load_universe(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_missing_universe_file():
    with pytest.raises(UniverseError, match="does not exist"):
        load_universe("/nonexistent/u.toml")


def test_unknown_bucket_suggests(tmp_path):
    u = load_universe(write(tmp_path, GOOD))
    with pytest.raises(UniverseError, match='Did you mean "saas"'):
        u.bucket("sass")


def test_rank_and_its_older_spelling_together_are_refused(tmp_path):
    path = tmp_path / "both.toml"
    path.write_text(GOOD.replace("rank = 0", "rank = 0\nduration = 0"))
    with pytest.raises(UniverseError, match="give rank or duration"):
        load_universe(path)
