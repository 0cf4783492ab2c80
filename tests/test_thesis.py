"""durationbt thesis on a synthetic folder with a planted regime effect and a placebo
(tests/thesis_fixtures.py): the planted claim is supported near its truth, its reverse
contradicted, the placebo inconclusive; every number is recomputed here by hand (pandas,
numpy, scipy) from the CSV files; bad input exits 2 naming the claim and field."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from durationbt.cli.app import app
from thesis_fixtures import TRUTH, planted_folder

runner = CliRunner()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in ("DURATIONBT_FUNDAMENTALS", "DURATIONBT_DATA"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("planted")
    data, universe = planted_folder(root)
    out = root / "results"
    result = runner.invoke(app, ["thesis", "--universe", str(universe), "--data", str(data),
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    folder = out / result.output.strip().splitlines()[-1].rsplit("/", 1)[-1]
    content = json.loads((folder / "thesis.json").read_text())
    return {"root": root, "data": data, "universe": universe, "folder": folder,
            "json": content, "claims": {c["id"]: c for c in content["claims"]},
            "output": result.output}


def _returns(data, ticker: str) -> pd.Series:
    prices = pd.read_csv(data / f"{ticker}.csv", index_col=0, parse_dates=True)["Adj Close"]
    return prices.pct_change()


def _regime(planted) -> pd.Series:
    """The regime the tool used: signal.csv is not written by thesis, so rebuild it the way
    the fixture planted it (the rates component on ^TNX)."""
    from durationbt.signals import build_signal
    from durationbt.signals.inputs import SignalData
    from durationbt.universe import SignalSettings

    tnx = pd.read_csv(planted["data"] / "^TNX.csv", index_col=0, parse_dates=True)["Adj Close"]
    return build_signal(SignalData(pd.DataFrame({"^TNX": tnx}), {}),
                        SignalSettings(components=("rates",))).regime


def test_the_folder_holds_the_scorecard(planted):
    names = sorted(p.name for p in planted["folder"].iterdir())
    assert names == ["claims.csv", "manifest.json", "thesis.html", "thesis.json"]
    manifest = json.loads((planted["folder"] / "manifest.json").read_text())
    assert manifest["command"] == "thesis" and manifest["adjustment"] == "holm"
    assert manifest["split"] == "2020-06-01" and manifest["claims"] == 6
    assert manifest["data_provenance"]["fingerprint"]
    csv = pd.read_csv(planted["folder"] / "claims.csv", index_col="id")
    assert list(csv.index) == list(planted["claims"])
    for column in ("estimate", "ci_low", "ci_high", "p_value", "p_adjusted", "verdict", "n",
                   "before_estimate", "after_estimate", "after_status"):
        assert column in csv.columns
    for claim in planted["json"]["claims"]:
        assert {"estimate", "ci95", "p_value", "p_adjusted", "verdict", "n", "method"} <= set(claim)
    assert "planted" in planted["output"] and "supported" in planted["output"]


def test_planted_supported_near_the_truth_reverse_contradicted_placebo_inconclusive(planted):
    claims = planted["claims"]
    assert claims["planted"]["verdict"] == "supported"
    assert abs(claims["planted"]["estimate"] - TRUTH) < 0.25 * abs(TRUTH)
    assert claims["planted_reversed"]["verdict"] == "contradicted"
    assert claims["placebo"]["verdict"] == "inconclusive"
    assert claims["planted"]["sample"]["spells_scarce"] >= 3


def test_regime_spread_by_hand(planted):
    """(mean of PLANT - CASH on days after a scarce close - the same after an abundant
    close) x 252, from the CSV files."""
    spread = (_returns(planted["data"], "PLANT") - _returns(planted["data"], "CASH"))
    spread = spread.loc["2013-06-03":]
    acting = _regime(planted).shift(1).reindex(spread.index)
    by_hand = (spread[acting == "scarce"].mean() - spread[acting == "abundant"].mean()) * 252
    claim = planted["claims"]["planted"]
    assert claim["estimate"] == pytest.approx(by_hand, rel=1e-9)
    assert claim["sample"]["days_scarce"] == int((acting == "scarce").sum())
    before = spread.loc[:"2020-05-29"]
    b_act = acting.loc[:"2020-05-29"]
    by_hand_before = (before[b_act == "scarce"].mean() - before[b_act == "abundant"].mean()) * 252
    assert claim["periods"]["before"]["estimate"] == pytest.approx(by_hand_before, rel=1e-9)
    assert claim["periods"]["before"]["n"] + claim["periods"]["after"]["n"] == claim["n"]


def test_holm_adjustment_by_hand(planted):
    """Holm: sort the m p-values, multiply the k-th smallest by m - k + 1, keep the running
    maximum, cap at 1; a claim without a p-value is not a test."""
    claims = planted["json"]["claims"]
    tested = [(c["p_value"], c["id"]) for c in claims if c["p_value"] is not None]
    m = len(tested)
    running, expected = 0.0, {}
    for k, (p, cid) in enumerate(sorted(tested)):
        running = max(running, min(1.0, (m - k) * p))
        expected[cid] = running
    for c in claims:
        assert c["p_adjusted"] == pytest.approx(expected[c["id"]], abs=1e-12)
    assert planted["json"]["adjustment"]["tests"] == m


def test_benjamini_hochberg_by_hand(planted, tmp_path):
    result = runner.invoke(app, ["thesis", "--universe", str(planted["universe"]), "--data",
                                 str(planted["data"]), "--out", str(tmp_path), "--adjust", "bh"])
    assert result.exit_code == 0, result.output
    folder = next(tmp_path.iterdir())
    content = json.loads((folder / "thesis.json").read_text())
    assert content["adjustment"]["name"].startswith("Benjamini-Hochberg")
    tested = sorted((c["p_value"], c["id"]) for c in content["claims"])
    m = len(tested)
    expected, running = {}, 1.0
    for k in range(m - 1, -1, -1):              # p_(k) * m / k, minimum from the top
        running = min(running, tested[k][0] * m / (k + 1))
        expected[tested[k][1]] = running
    for c in content["claims"]:
        assert c["p_adjusted"] == pytest.approx(expected[c["id"]], abs=1e-12)


def _samples(index: pd.DatetimeIndex, start: str, horizon: int) -> pd.DatetimeIndex:
    days = index[index >= start]
    return days[np.arange(len(days) - 1 - horizon, -1, -horizon)[::-1]]


def test_outcome_slope_by_hand(planted):
    """The 21-day change of ^TNX regressed on the composite at non-overlapping dates (the
    latest window ending on the last day), times the composite's s.d. there."""
    from durationbt import RunSettings, Session

    session = Session(RunSettings(data=planted["data"], universe=planted["universe"]))
    composite = session.market.signal.composite
    tnx = session.market.inputs["^TNX"]
    at = _samples(tnx.index, "2013-06-03", 21)
    change = (tnx.shift(-21) - tnx).reindex(at)
    x = composite.reindex(at)
    ok = change.notna() & x.notna()
    slope = np.polyfit(x[ok], change[ok], 1)[0]
    claim = planted["claims"]["yields_momentum"]
    assert claim["n"] == int(ok.sum())
    assert claim["estimate"] == pytest.approx(slope * x[ok].std(), rel=1e-9)
    assert claim["verdict"] == "supported"


def test_lead_rank_ic_by_hand(planted):
    from scipy.stats import spearmanr

    from durationbt import RunSettings, Session

    session = Session(RunSettings(data=planted["data"], universe=planted["universe"]))
    composite = session.market.signal.composite
    plant, cash = _returns(planted["data"], "PLANT"), _returns(planted["data"], "CASH")
    ahead = (np.expm1(np.log1p(plant).rolling(21).sum().shift(-21))
             - np.expm1(np.log1p(cash).rolling(21).sum().shift(-21)))
    at = _samples(plant.index, "2013-06-03", 21)
    both = pd.DataFrame({"x": composite.reindex(at), "y": ahead.reindex(at)}).dropna()
    claim = planted["claims"]["signal_leads_plant"]
    assert claim["n"] == len(both)
    assert claim["estimate"] == pytest.approx(spearmanr(both["x"], both["y"])[0], rel=1e-9)
    assert claim["verdict"] == "supported"


def test_user_series_is_used_from_its_publication_date():
    from durationbt.thesis.series import published

    values = pd.Series([10.0, 12.0], index=pd.to_datetime(["2020-03-31", "2020-06-30"]))
    available = pd.Series(pd.to_datetime(["2020-05-10", "2020-08-09"]), index=values.index)
    days = pd.to_datetime(["2020-05-08", "2020-05-11", "2020-05-29", "2020-06-02",
                           "2020-08-07", "2020-08-10"])
    known = published(values, available, pd.DatetimeIndex(days), stale_after=60)
    # 05-08: not public yet; 05-11: the Q1 value; 06-02: 63 days after 03-31, stale;
    # 08-07: the Q2 value is not public until 08-09; 08-10: it is
    assert math.isnan(known.iloc[0]) and known.iloc[1] == 10.0 and known.iloc[2] == 10.0
    assert math.isnan(known.iloc[3]) and math.isnan(known.iloc[4]) and known.iloc[5] == 12.0


def test_orders_series_feeds_its_claim_point_in_time(planted):
    from durationbt import RunSettings, Session
    from durationbt.thesis.series import load_user_series

    spec = Session(RunSettings(data=planted["data"], universe=planted["universe"])
                   ).universe.thesis.series[0]
    loaded = load_user_series(spec, planted["universe"], None)
    days = pd.bdate_range("2014-05-01", "2014-05-30")
    on = loaded.on_calendar(days)
    # Q1 2014 (dated 03-31) is published 45 days later, on 2014-05-15
    assert on.loc[:"2014-05-14"].tolist() == [loaded.values.loc["2013-12-31"]] * 10
    assert (on.loc["2014-05-15":] == loaded.values.loc["2014-03-31"]).all()
    claim = planted["claims"]["orders_lead"]
    assert claim["verdict"] in ("inconclusive", "supported", "contradicted")
    assert "published" in planted["json"]["series"]["orders"]


def test_same_inputs_same_thesis_json_bytes(planted, tmp_path):
    result = runner.invoke(app, ["thesis", "--universe", str(planted["universe"]), "--data",
                                 str(planted["data"]), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    again = next(tmp_path.iterdir())
    assert (again / "thesis.json").read_bytes() == (planted["folder"] / "thesis.json").read_bytes()
    assert again.name.rsplit("-", 1)[1] == planted["folder"].name.rsplit("-", 1)[1]


def test_events_and_todays_regime(planted):
    event = planted["json"]["events"][0]
    assert event["name"] == "first year" and event["start"] == "2014-01-02"
    prices = pd.read_csv(planted["data"] / "PLANT.csv", index_col=0, parse_dates=True)["Adj Close"]
    before = prices.loc[:"2014-01-01"].index[-1]    # the close before the window (weekdays)
    by_hand = prices.loc["2014-12-31"] / prices.loc[before] - 1
    assert event["returns"]["planted"] == pytest.approx(by_hand, rel=1e-9)
    assert sum(event["regime_share"].values()) == pytest.approx(1.0)
    today = planted["json"]["regime_today"]
    assert today["date"] == "2021-12-31" and today["regime"] in ("scarce", "neutral", "abundant")


def _edit(planted, tmp_path, old: str, new: str):
    text = planted["universe"].read_text()
    assert old in text
    path = tmp_path / "edited.toml"
    path.write_text(text.replace(old, new, 1))
    (tmp_path / "orders.csv").write_text((planted["root"] / "orders.csv").read_text())
    return path


@pytest.mark.parametrize("old, new, expected", [
    ('kind = "regime_spread"', 'kind = "regime_sprad"',
     ['claim "planted", field \'kind\'', 'Did you mean "regime_spread"']),
    ('long = "planted"', 'long = "plantd"',
     ['claim "planted", field \'long\'', 'Did you mean "planted"']),
    ('expect = "scarce < abundant"', 'expect = "scarce << abundant"',
     ['claim "planted", field \'expect\'', 'scarce < abundant']),
    ("horizon = 21", "horizn = 21",
     ['claim "yields_momentum"', "field 'horizn'", 'Did you mean "horizon"']),
    ('series = "^TNX"', 'series = "^TNY"', ['claim "yields_momentum", field \'series\'',
                                             'Did you mean "^TNX"']),
    ('driver = "orders"', 'driver = "orderz"', ['claim "orders_lead", field \'driver\'',
                                                'Did you mean "orders"']),
    ('available_from = "published"', 'available_from = "publishd"',
     ["field 'thesis.series.orders.available_from'", 'Did you mean "published"']),
    ('available_from = "published"', "",
     ["field 'thesis.series.orders'", "available_from"]),
    ("end = 2014-12-31", "end = 2031-12-31",
     ["field 'thesis.events.first year.end'", "outside the data"]),
    ("written = 2020-06-01", "written = 2030-06-01", ["field 'thesis.written'", "outside"]),
    ('id = "planted_reversed"', 'id = "planted"', ['two [[thesis.claims]] entries are named '
                                                   '"planted"']),
])
def test_bad_input_exits_2_naming_claim_and_field(planted, tmp_path, old, new, expected):
    universe = _edit(planted, tmp_path, old, new)
    out = tmp_path / "results"
    result = runner.invoke(app, ["thesis", "--universe", str(universe), "--data",
                                 str(planted["data"]), "--out", str(out)])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    for piece in expected:
        assert piece in message
    assert "Traceback" not in result.output
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("option, expected", [
    (["--adjust", "bonferroni"], "--adjust 'bonferroni'"),
    (["--split", "2040-01-01"], "--split 2040-01-01 is outside"),
    (["--split", "June"], "--split 'June' is not a date"),
    (["--fundamentals", "/nonexistent/folder"], "--fundamentals /nonexistent/folder"),
])
def test_bad_options_exit_2(planted, tmp_path, option, expected):
    out = tmp_path / "results"
    result = runner.invoke(app, ["thesis", "--universe", str(planted["universe"]), "--data",
                                 str(planted["data"]), "--out", str(out), *option])
    assert result.exit_code == 2, result.output
    assert expected in " ".join(result.output.split())
    assert not out.exists() or not any(out.iterdir())


def test_a_fundamentals_series_without_its_folder_is_insufficient_data(planted, tmp_path,
                                                                         monkeypatch):
    universe = _edit(planted, tmp_path, 'csv = "orders.csv"', 'fundamentals = "orders.csv"')
    result = runner.invoke(app, ["thesis", "--universe", str(universe), "--data",
                                 str(planted["data"]), "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    content = json.loads(next((tmp_path / "a").iterdir()).joinpath("thesis.json").read_text())
    claims = {c["id"]: c for c in content["claims"]}
    assert claims["orders_lead"]["verdict"] == "insufficient data"
    assert claims["orders_lead"]["p_value"] is None and claims["orders_lead"]["p_adjusted"] is None
    assert "orders.csv" in claims["orders_lead"]["insufficient"]
    assert "--fundamentals" in claims["orders_lead"]["insufficient"]
    assert claims["planted"]["verdict"] == "supported"          # the others still run
    assert content["adjustment"]["tests"] == 5
    monkeypatch.setenv("DURATIONBT_FUNDAMENTALS", str(planted["root"]))
    result = runner.invoke(app, ["thesis", "--universe", str(universe), "--data",
                                 str(planted["data"]), "--out", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    content = json.loads(next((tmp_path / "b").iterdir()).joinpath("thesis.json").read_text())
    scored = next(c for c in content["claims"] if c["id"] == "orders_lead")
    assert scored["estimate"] == planted["claims"]["orders_lead"]["estimate"]


def test_a_universe_without_a_thesis_says_how_to_add_one(synth_data, synth_universe, tmp_path):
    result = runner.invoke(app, ["thesis", "--universe", str(synth_universe), "--data",
                                 str(synth_data), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "no [thesis] table" in result.output and "docs/thesis.md" in result.output


def test_claims_never_change_a_run():
    """The [thesis] table is left out of the universe's dump: run ids and cache keys of a
    universe do not move when its claims do."""
    from durationbt.thesis.kinds import discover_kinds
    from durationbt.thesis.load import typed_claims
    from durationbt.universe import load_universe

    u = load_universe("ai_capex")
    assert "thesis" not in u.model_dump()
    claims = typed_claims(u, discover_kinds(entry_points_enabled=False))
    kinds = {c.kind for c, _ in claims}
    assert len(claims) >= 6
    assert {"regime_spread", "sensitivity", "outcome", "timing"} <= kinds


def test_sensitivity_betas_of_all_replicates_equal_ols_by_hand():
    from durationbt.thesis.sensitivity import betas_of_replicates

    rng = np.random.default_rng(3)
    f, m = rng.normal(size=200), rng.normal(size=200)
    y = np.column_stack([0.5 * f + 0.2 * m + rng.normal(size=200) * 0.1,
                         -2.0 * f + rng.normal(size=200) * 0.1])
    sample = np.column_stack([y, f, m])
    got = betas_of_replicates(np.stack([sample, sample[::-1]]))
    X = np.column_stack([np.ones(200), f, m])
    for k in range(2):
        coef = np.linalg.lstsq(X, y[:, k], rcond=None)[0]
        assert got[0, k] == pytest.approx(coef[1] * 100, rel=1e-9)
        assert got[1, k] == pytest.approx(coef[1] * 100, rel=1e-9)


TIMING = """
[thesis]

[[thesis.claims]]
id = "held"
text = "Buying and holding times the market"
kind = "timing"
strategy = "buy_and_hold"

[[thesis.claims]]
id = "rotation"
text = "The rotation's edge is its timing"
kind = "timing"
strategy = "{strategy}"
params = {{ neutral_short = {neutral} }}
placebos = 200
"""


def _timing_universe(planted, tmp_path, strategy="liquidity_rotation", neutral="0.25"):
    head = planted["universe"].read_text().split("[thesis]")[0]
    path = tmp_path / "timing.toml"
    path.write_text(head + TIMING.format(strategy=strategy, neutral=neutral))
    return path


def test_timing_claims_use_the_runs_attribution(planted, tmp_path, strategies_dir):
    universe = _timing_universe(planted, tmp_path)
    result = runner.invoke(app, ["thesis", "--universe", str(universe), "--data",
                                 str(planted["data"]), "--out", str(tmp_path / "r"),
                                 "--strategies-dir", str(strategies_dir)])
    assert result.exit_code == 0, result.output
    content = json.loads(next((tmp_path / "r").iterdir()).joinpath("thesis.json").read_text())
    held, rotation = content["claims"]
    assert held["verdict"] == "insufficient data" and "buys once and holds" in held["insufficient"]
    stats, detail = rotation["stats"], rotation["detail"]
    assert rotation["p_value"] == max(stats["bootstrap_p"], stats["placebo_p"])
    assert detail["placebo"]["n"] == 200
    # the estimate is the run's Sharpe minus its static mix's
    assert rotation["estimate"] == pytest.approx(
        detail["strategy_sharpe"] - detail["static_mix"]["sharpe"], abs=1e-9)
    assert content["adjustment"]["tests"] == 1 and rotation["p_adjusted"] == rotation["p_value"]


@pytest.mark.parametrize("strategy, neutral, expected", [
    ("liquidity_rotaton", "0.25", ['claim "rotation", field \'strategy\'',
                                   'Did you mean "liquidity_rotation"']),
    ("liquidity_rotation", "7", ['claim "rotation", field \'params\'', "neutral_short"]),
])
def test_a_bad_timing_claim_exits_2(planted, tmp_path, strategies_dir, strategy, neutral,
                                    expected):
    universe = _timing_universe(planted, tmp_path, strategy, neutral)
    out = tmp_path / "r"
    result = runner.invoke(app, ["thesis", "--universe", str(universe), "--data",
                                 str(planted["data"]), "--out", str(out),
                                 "--strategies-dir", str(strategies_dir)])
    assert result.exit_code == 2, result.output
    for piece in expected:
        assert piece in " ".join(result.output.split())
    assert not out.exists() or not any(out.iterdir())


def test_a_narrower_window_leaves_out_the_events_and_split_outside_it(planted, tmp_path):
    result = runner.invoke(app, ["thesis", "--universe", str(planted["universe"]), "--data",
                                 str(planted["data"]), "--out", str(tmp_path / "r"),
                                 "--end", "2013-12-31"])
    assert result.exit_code == 0, result.output
    content = json.loads(next((tmp_path / "r").iterdir()).joinpath("thesis.json").read_text())
    assert content["events"] == [] and content["split"] is None
    assert any("first year" in n for n in content["notes"])
    assert any("thesis.written" in n for n in content["notes"])


def test_a_fundamentals_variable_naming_a_file_exits_2(planted, tmp_path, monkeypatch):
    monkeypatch.setenv("DURATIONBT_FUNDAMENTALS", str(planted["root"] / "orders.csv"))
    result = runner.invoke(app, ["thesis", "--universe", str(planted["universe"]), "--data",
                                 str(planted["data"]), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "DURATIONBT_FUNDAMENTALS" in result.output and "Traceback" not in result.output
