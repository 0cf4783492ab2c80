"""Signal components as plugins: declared inputs, the registry (built-ins and entry points),
and a universe's own CSV components (point in time, weighted, listed, refused clearly)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from durationbt.cli.app import app
from durationbt.errors import UniverseError
from durationbt.signals import (
    BUILTINS,
    SignalData,
    build_signal,
    discover_components,
    select_components,
    signal_series,
)
from durationbt.signals.custom import csv_component
from durationbt.universe import CustomComponent, SignalSettings, load_universe
from test_signals import synthetic_signal_data

runner = CliRunner()

CAPEX_CSV = "date,capex_bn\n2023-09-30,90\n2023-12-31,100\n2024-03-31,110\n2024-06-30,125\n"
SIGNAL = """
[signal]
components = ["rates"]
window = 120
min_history = 60
weights = {{ capex = 3.0 }}

[[signal.custom]]
name = "capex"
csv = "{csv}"
column = "capex_bn"
lag_days = 45
{extra}
"""


def capex(lag: int = 45, **extra) -> CustomComponent:
    return CustomComponent(name="capex", csv=Path("capex.csv"), column="capex_bn",
                           lag_days=lag, **extra)


def quarterly() -> pd.Series:
    return pd.Series([90.0, 100.0, 110.0, 125.0],
                     index=pd.to_datetime(["2023-09-30", "2023-12-31", "2024-03-31",
                                           "2024-06-30"]), name="capex_bn")


def on_calendar(spec: CustomComponent, start="2024-01-01", end="2024-12-31") -> pd.Series:
    data = SignalData(pd.DataFrame(index=pd.bdate_range(start, end)), {}, {"capex": quarterly()})
    return csv_component(spec)(data)


# --- a CSV component is point in time -------------------------------------------------------

def test_a_value_is_first_used_lag_days_after_its_date():
    seen = on_calendar(capex(lag=45))
    # 2023-12-31 + 45 days = 2024-02-14; 2024-03-31 + 45 days = 2024-05-15
    assert seen.loc["2024-02-13"] == 90.0           # still the September figure
    assert seen.loc["2024-02-14"] == 100.0          # the December figure, public today
    assert seen.loc["2024-05-14"] == 100.0
    assert seen.loc["2024-05-15"] == 110.0


def test_a_quarterly_value_goes_stale_after_the_limit():
    # default: lag + 100 days, so nothing is stale between quarterly releases
    assert on_calendar(capex(lag=45)).loc["2024-02-14":"2024-11-13"].notna().all()
    # the June figure (public 2024-08-14) is 45 + 100 = 145 days old on 2024-11-22
    default = on_calendar(capex(lag=45))
    assert default.loc["2024-11-22"] == 125.0 and np.isnan(default.loc["2024-11-25"])
    # an explicit limit: the December figure is 60 days old on 2024-02-29, stale from March
    strict = on_calendar(capex(lag=45, max_stale_days=60))
    assert strict.loc["2024-02-29"] == 100.0 and np.isnan(strict.loc["2024-03-01"])


def test_transforms_and_sign():
    change = on_calendar(capex(transform="change"))
    assert change.loc["2024-02-14"] == 10.0 and change.loc["2024-05-15"] == 10.0
    growth = on_calendar(capex(transform="pct_change", periods=2))
    assert growth.loc["2024-05-15"] == pytest.approx(110 / 90 - 1)
    flipped = on_calendar(capex(sign=-1))
    assert flipped.loc["2024-05-15"] == -110.0


def test_truncated_data_change_nothing_before_the_cut():
    spec = capex(transform="change")
    cal = pd.bdate_range("2024-01-01", "2024-12-31")
    data = SignalData(pd.DataFrame(index=cal), {}, {"capex": quarterly()})
    full = csv_component(spec)(data)
    cut = pd.Timestamp("2024-05-20")
    part = csv_component(spec)(data.truncated(cut))
    pd.testing.assert_series_equal(part, full.loc[:cut])


# --- it enters the composite with its weight ------------------------------------------------

def test_custom_component_enters_the_composite_with_its_weight():
    data = synthetic_signal_data()
    cal = data.calendar
    quarters = pd.date_range(cal[0] - pd.Timedelta(days=400), cal[-1], freq="QE")
    rng = np.random.default_rng(9)
    series = pd.Series(100 + np.cumsum(rng.normal(0, 5, len(quarters))), index=quarters)
    data = SignalData(data.market, data.fred, {"capex": series})
    cfg = SignalSettings(window=120, min_history=60, components=("rates",), custom=(
        capex(lag=45, transform="change"),), weights={"capex": 3.0})
    sig = build_signal(data, cfg)
    assert list(sig.components.columns) == ["rates", "capex"]
    assert sig.weights == {"rates": 1.0, "capex": 3.0}
    both = sig.components.dropna()
    assert len(both) > 100
    expected = (both["rates"] + 3 * both["capex"]) / 4
    pd.testing.assert_series_equal(sig.composite.loc[both.index], expected, check_names=False)
    assert sig.inputs["capex"].user == ("capex",)


def test_without_its_series_the_custom_component_is_dropped_with_a_note():
    cfg = SignalSettings(window=120, min_history=60, custom=(capex(),))
    sig = build_signal(synthetic_signal_data(), cfg)
    assert "needs the universe's CSV series capex" in sig.dropped["capex"]


# --- the universe file ----------------------------------------------------------------------

def write_universe(folder: Path, extra: str = "", csv: str = "capex.csv",
                   body: str = CAPEX_CSV) -> Path:
    from conftest import SYNTH_UNIVERSE

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "capex.csv").write_text(body)
    base = SYNTH_UNIVERSE.split("[signal]")[0]
    path = folder / "mine.toml"
    path.write_text(base + SIGNAL.format(csv=csv, extra=extra))
    return path


def test_relative_csv_paths_resolve_against_the_universe_file(tmp_path, monkeypatch):
    path = write_universe(tmp_path / "u")
    monkeypatch.chdir(tmp_path)
    u = load_universe(path)
    assert u.signal.custom[0].csv == (tmp_path / "u" / "capex.csv").resolve()


def test_signal_command_shows_the_custom_component(tmp_path, synth_data):
    quarters = pd.date_range("2017-03-31", "2021-03-31", freq="QE")
    body = "date,capex_bn\n" + "".join(f"{d.date()},{100 + 7 * i + (i % 3) * 4}\n"
                                       for i, d in enumerate(quarters))
    path = write_universe(tmp_path / "u", 'transform = "change"', body=body)
    csv = tmp_path / "signal.csv"
    result = runner.invoke(app, ["signal", "--universe", str(path), "--data", str(synth_data),
                                 "--csv", str(csv), "--html", str(tmp_path / "s.html")])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "capex" in line)
    assert row.split("│")[3].strip() == "3"                       # its weight
    history = pd.read_csv(csv, index_col=0)
    assert list(history.columns) == ["composite", "regime", "rates", "capex"]
    assert history["capex"].notna().sum() > 100
    listed = runner.invoke(app, ["signal", "--universe", str(path), "--components"])
    assert listed.exit_code == 0, listed.output
    names = [line.split("│")[1].strip() for line in listed.output.splitlines()
             if line.startswith("│") and line.split("│")[1].strip()]
    assert names[:2] == ["rates", "capex"] and "credit" in names
    assert "not used" in listed.output                           # built-ins not selected
    from durationbt.signals.registry import list_components

    row = next(r for r in list_components(load_universe(path)) if r.name == "capex")
    assert row.weight == 3.0 and row.inputs == "capex.csv:capex_bn (+45d)"
    assert row.source == f"universe ({(tmp_path / 'u' / 'capex.csv').resolve()})"


BAD_SPECS = [
    ("missing file", {"csv": "nope.csv"}, "signal.custom.capex.csv", "does not exist"),
    ("missing column", {"extra": "", "column": "capex"}, "signal.custom.capex.column",
     "has no column 'capex'"),
    ("not a number", {"body": CAPEX_CSV.replace("110", "n/a")}, "signal.custom.capex.column",
     "not a number: 'n/a'"),
    ("negative lag", {"lag": "-3"}, "signal.custom.capex.lag_days", "greater than or equal to 0"),
    ("built-in name", {"name": "rates"}, "signal.custom.rates.name",
     '"rates" is already a signal component (built-in)'),
    ("bad transform", {"extra": 'transform = "diff"'}, "signal.custom.capex.transform",
     "'level', 'change' or 'pct_change'"),
]


@pytest.mark.parametrize("label,change,field,message", BAD_SPECS, ids=[b[0] for b in BAD_SPECS])
def test_bad_custom_specs_exit_2_naming_the_field(tmp_path, synth_data, label, change, field,
                                                  message):
    path = write_universe(tmp_path / "u", change.get("extra", ""), change.get("csv", "capex.csv"),
                          change.get("body", CAPEX_CSV))
    text = path.read_text()
    if "column" in change:
        text = text.replace('column = "capex_bn"', f'column = "{change["column"]}"')
    if "lag" in change:
        text = text.replace("lag_days = 45", f"lag_days = {change['lag']}")
    if "name" in change:
        text = text.replace('name = "capex"', f'name = "{change["name"]}"')
    path.write_text(text)
    result = runner.invoke(app, ["signal", "--universe", str(path), "--data", str(synth_data),
                                 "--html", str(tmp_path / "s.html")])
    output = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert f"field '{field}'" in output and message in output
    assert str(path.name) in output
    assert not (tmp_path / "s.html").exists()


def test_two_custom_components_with_one_name_are_refused(tmp_path):
    path = write_universe(tmp_path / "u")
    path.write_text(path.read_text() + '\n[[signal.custom]]\nname = "capex"\ncsv = "capex.csv"\n'
                    'column = "capex_bn"\nlag_days = 1\n')
    with pytest.raises(UniverseError, match='two \\[\\[signal.custom\\]\\] entries are named "capex"'):
        load_universe(path)


# --- the registry ---------------------------------------------------------------------------

def test_loaded_series_come_from_the_components_declarations(default_universe):
    series = signal_series(load_universe(default_universe),
                           discover_components(entry_points_enabled=False))
    # exactly what the separate lists (signals.inputs.MARKET_EXTRAS, the fred ids) said
    assert series.tickers == ("^TNX", "^IRX", "HYG", "IEF", "UUP", "DX-Y.NYB", "BTC-USD", "^VIX")
    assert series.fred == ("DGS10", "DFII10", "BAMLH0A0HYM2", "WALCL", "WTREGEN", "RRPONTSYD")
    assert series.listed == ()


def test_entry_point_components_are_discovered_and_used_when_named(installed_example,
                                                                   monkeypatch):
    registry = discover_components()
    assert "bill_level" in registry
    assert registry.source("bill_level").startswith("entry point bill_level")
    # installing a package never changes a score: only a universe naming it uses it
    assert [c.name for c in select_components(SignalSettings(), registry)] == [
        c.name for c in BUILTINS]
    cfg = SignalSettings(window=120, min_history=60, components=("rates", "bill_level"))
    sig = build_signal(synthetic_signal_data(), cfg, registry=registry)
    assert list(sig.components.columns) == ["rates", "bill_level"]
    assert sig.components["bill_level"].notna().sum() > 500
    assert "bill_level" not in discover_components(entry_points_enabled=False)
    # the CLI switches installed components off from the environment, like strategies
    from durationbt.cli.app import app

    listed = CliRunner().invoke(app, ["signal", "--components"])
    assert listed.exit_code == 0 and "bill_level" in listed.output
    monkeypatch.setenv("DURATIONBT_DISABLE_PLUGIN_AUTOLOAD", "1")
    listed = CliRunner().invoke(app, ["signal", "--components"])
    assert listed.exit_code == 0 and "bill_level" not in listed.output


def test_an_entry_point_clashing_with_a_built_in_names_both_sources():
    from durationbt.signals import Component
    from durationbt.signals.registry import ComponentRegistry

    registry = discover_components(entry_points_enabled=False)
    registry.register(Component("rates", "x", "x", BUILTINS[0].inputs, BUILTINS[0].compute),
                      "entry point rates (other.pkg:rates)")
    with pytest.raises(UniverseError, match='Two components are named "rates": built-in and '
                                            "entry point rates"):
        select_components(SignalSettings(), registry)
    assert isinstance(registry, ComponentRegistry)


def test_a_component_reading_an_undeclared_input_fails_loudly():
    from durationbt.signals import component

    @component("sneaky", summary="x", reads="x", tickers=("^TNX",))
    def sneaky(data):
        return data.market("^VIX")

    with pytest.raises(KeyError, match="not among the component's declared inputs"):
        sneaky(synthetic_signal_data())


# --- the built-ins compute what they computed before ----------------------------------------

def _old_formulas(data: SignalData) -> dict[str, pd.Series]:
    """The built-in components as written before they were plugins (reference)."""
    m, h = data.market, 63
    oas = data.fred_on_calendar("BAMLH0A0HYM2", 1, 7)
    real = data.fred_on_calendar("DFII10", 1, 7)
    walcl = data.fred_on_calendar("WALCL", 2, 14) / 1000.0
    tga = data.fred_on_calendar("WTREGEN", 2, 14) / 1000.0
    rrp = data.fred_on_calendar("RRPONTSYD", 1, 10_000).fillna(0.0)
    net = walcl - tga - rrp
    btc, vix = m["BTC-USD"], m["^VIX"]
    return {
        "rates": m["^TNX"] - m["^TNX"].shift(h),
        "front_end": m["^IRX"] - m["^IRX"].shift(h),
        "real_rates": real - real.shift(h),
        "credit": oas - oas.shift(h),
        "dollar": np.log(m["UUP"] / m["UUP"].shift(h)),
        "crypto_stress": 1.0 - btc / btc.rolling(252, min_periods=126).max(),
        "volatility": np.log(vix / vix.rolling(252, min_periods=126).median()),
        "net_liquidity": -(net - net.shift(h)),
    }


def test_builtins_compute_exactly_the_pre_plugin_formulas():
    data = synthetic_signal_data()
    old = _old_formulas(data)
    assert [c.name for c in BUILTINS] == list(old)
    for comp in BUILTINS:
        pd.testing.assert_series_equal(comp(data), old[comp.name], check_names=False,
                                       check_exact=True)


def test_the_docs_capex_example_is_valid(tmp_path):
    import re

    from conftest import REPO

    text = (REPO / "docs" / "signal.md").read_text()
    csv = re.search(r"```csv\n(.*?)```", text, re.S).group(1)
    toml = re.search(r"```toml\n(\[signal\].*?)```", text, re.S).group(1)
    (tmp_path / "capex.csv").write_text(csv)
    path = write_universe(tmp_path, body=csv)
    path.write_text(path.read_text().split("[signal]")[0] + toml)
    u = load_universe(path)
    spec = u.signal.custom[0]
    assert (spec.lag_days, spec.transform, spec.periods, spec.stale_after) == (45, "pct_change", 4, 145)
    from durationbt.data.market import load_custom_series

    series = load_custom_series(u)["capex"]
    cal = pd.bdate_range("2024-04-01", "2024-06-28")
    level = csv_component(spec.model_copy(update={"transform": "level"}))
    seen = level(SignalData(pd.DataFrame(index=cal), {}, {"capex": series}))
    assert seen.loc["2024-05-14"] != 100.0 and seen.loc["2024-05-15"] == 100.0   # as the docs say


@pytest.mark.parametrize("field, value", [("lag_days", 90_000), ("periods", 10**20)])
def test_an_absurd_lag_or_period_is_refused_naming_the_field(tmp_path, field, value):
    """Values that would overflow the date arithmetic are user mistakes, not tracebacks."""
    from durationbt.cli.app import app

    (tmp_path / "capex.csv").write_text("date,capex_bn\n2024-03-31,10\n2024-06-30,12\n")
    spec = {"lag_days": 45, "periods": 1, field: value}
    universe = tmp_path / "u.toml"
    universe.write_text('benchmark = "SPY"\nstart = 2015-01-02\n[buckets.bills]\nrank = 0\n'
                        'description = "b"\ntickers = ["BIL"]\n[[signal.custom]]\n'
                        'name = "capex"\ncsv = "capex.csv"\ncolumn = "capex_bn"\n'
                        f'lag_days = {spec["lag_days"]}\nperiods = {spec["periods"]}\n')
    result = CliRunner().invoke(app, ["universes", "show", str(universe)])
    assert result.exit_code == 2, result.output
    assert f"signal.custom.capex.{field}" in " ".join(result.output.split())


def test_a_component_without_a_value_in_the_range_is_named_not_silently_blank():
    data = synthetic_signal_data()
    cfg = SignalSettings(window=10_000, min_history=10_000, components=("rates",))
    sig = build_signal(data, cfg)
    assert sig.components["rates"].isna().all()
    assert sig.notes(data.calendar[0], data.calendar[-1]) == [
        "signal component rates has no value in the range (too little history or no input "
        "there)"]
    live = build_signal(data, SignalSettings(window=120, min_history=60, components=("rates",)))
    assert live.notes(data.calendar[0], data.calendar[-1]) == []


def test_a_component_that_stops_is_named_with_the_input_that_ended():
    """WTREGEN's last Wednesday level is 2022-06-01: usable from the Friday, stale after 14
    days, so net_liquidity's last value is on 2022-06-15; the note names the series."""
    data = synthetic_signal_data()
    fred = dict(data.fred, WTREGEN=data.fred["WTREGEN"].loc[:"2022-06-01"])
    cut = SignalData(data.market, fred)
    sig = build_signal(cut, SignalSettings(window=120, min_history=60,
                                           components=("rates", "net_liquidity")))
    last = data.calendar[-1].date()
    assert sig.components["net_liquidity"].last_valid_index() == pd.Timestamp("2022-06-15")
    assert sig.notes(data.calendar[0], data.calendar[-1], cut) == [
        "signal component net_liquidity has no value after 2022-06-15 (FRED WTREGEN ends "
        f"2022-06-01): from then to {last} the composite blends the other components"]
    # without the data the stop is still named, its cause not
    assert sig.notes(data.calendar[0], None)[0].startswith(
        "signal component net_liquidity has no value after 2022-06-15: from then")
    assert sig.last_dates() == {"rates": str(last), "net_liquidity": "2022-06-15"}
    assert sig.last_dates(pd.Timestamp("2022-03-01"))["net_liquidity"] == "2022-03-01"
    # a range that ends before the stop says nothing
    assert sig.notes(data.calendar[0], pd.Timestamp("2022-06-15"), cut) == []


def test_data_status_reads_the_universes_own_csvs(tmp_path, snapshot, default_universe):
    universe = tmp_path / "u.toml"
    universe.write_text(Path(default_universe).read_text() + '\n[[signal.custom]]\nname = "capex"\n'
                        'csv = "capex.csv"\ncolumn = "capex_bn"\nlag_days = 45\n')
    (tmp_path / "capex.csv").write_text("date,capex_bn\n2024-03-31,10\n2024-06-30,12\n")
    args = ["data", "status", "-u", str(universe), "--data", str(snapshot)]
    ok = CliRunner().invoke(app, args)
    assert ok.exit_code == 0, ok.output
    assert "custom component capex:" in ok.output and "2 observations" in ok.output
    (tmp_path / "capex.csv").write_text("date,capex_bn\n2024-03-31,ten\n")
    bad = CliRunner().invoke(app, args)
    assert bad.exit_code == 2 and "signal.custom.capex" in " ".join(bad.output.split())


@pytest.fixture(scope="module")
def tnx_ends_early(synth_data, tmp_path_factory):
    """The synthetic folder with ^TNX (the rates component's input) ending 2021-03-31,
    three months before the prices."""
    import shutil

    folder = tmp_path_factory.mktemp("tnx") / "data"
    shutil.copytree(synth_data, folder)
    tnx = pd.read_csv(folder / "^TNX.csv")
    tnx[tnx["Date"] <= "2021-03-31"].to_csv(folder / "^TNX.csv", index=False)
    return folder


STOPPED = ("signal component rates has no value after 2021-03-31 (^TNX ends 2021-03-31): "
           "from then to 2021-06-30 the composite blends the other components")


def test_run_and_compare_name_a_component_that_stopped(tnx_ends_early, synth_universe, tmp_path):
    from durationbt.manifest import RunManifest
    from durationbt.runs import read_run_folder

    args = ["-u", str(synth_universe), "--data", str(tnx_ends_early)]
    run = runner.invoke(app, ["run", "buy_and_hold", *args, "--out", str(tmp_path / "runs"),
                              "--no-tearsheet"])
    assert run.exit_code == 0, run.output
    assert STOPPED in " ".join(run.output.split())
    folder = next((tmp_path / "runs").iterdir())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert STOPPED in manifest["data"]["warnings"]
    assert manifest["signal"]["last_dates"]["rates"] == "2021-03-31"
    assert set(manifest["signal"]["components"]) <= set(manifest["signal"]["last_dates"])
    assert manifest["signal"]["last_dates"]["real_rates"] is None      # dropped: no DFII10
    compared = runner.invoke(app, ["compare", "equal_weight", str(folder), *args, "--out",
                                   str(tmp_path / "cmp")])
    assert compared.exit_code == 0, compared.output
    assert " ".join(compared.output.split()).count(STOPPED) == 1
    # a manifest written before last dates were recorded still reads
    del manifest["signal"]["last_dates"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert RunManifest.model_validate(manifest).signal.last_dates == {}
    assert read_run_folder(folder).manifest["signal"]["components"] == manifest["signal"][
        "components"]


def test_signal_names_a_component_that_stopped(tnx_ends_early, synth_universe, tmp_path):
    result = runner.invoke(app, ["signal", "-u", str(synth_universe), "--data",
                                 str(tnx_ends_early), "--html", str(tmp_path / "s.html")])
    assert result.exit_code == 0, result.output
    assert STOPPED in " ".join(result.output.split())
