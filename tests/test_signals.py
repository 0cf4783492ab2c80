import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from durationbt.cli.app import app
from durationbt.errors import UniverseError
from durationbt.signals import (
    SignalData,
    build_signal,
    default_components,
    regimes_with_hysteresis,
    standardise,
)
from durationbt.signals.components import net_liquidity, rates
from durationbt.signals.evaluate import forward_spread, information_coefficients, newey_west_t
from durationbt.universe import SignalSettings, load_universe

FAST = SignalSettings(window=120, min_history=60)


def synthetic_signal_data(days: int = 700, seed: int = 5) -> SignalData:
    rng = np.random.default_rng(seed)
    cal = pd.bdate_range("2021-01-04", periods=days, name="date")

    def walk(start, vol):
        return start + np.cumsum(rng.normal(0, vol, days))

    market = pd.DataFrame({
        "^TNX": walk(2.0, 0.05), "^IRX": walk(1.0, 0.03),
        "HYG": 80 * np.exp(walk(0, 0.005)), "IEF": 100 * np.exp(walk(0, 0.004)),
        "UUP": 25 * np.exp(walk(0, 0.004)), "BTC-USD": 30000 * np.exp(walk(0, 0.04)),
        "^VIX": 18 * np.exp(walk(0, 0.05)),
    }, index=cal)
    wednesdays = pd.date_range(cal[0], cal[-1], freq="W-WED")
    daily = pd.date_range(cal[0], cal[-1], freq="D")
    fred = {
        "WALCL": pd.Series(7_000_000 + np.cumsum(rng.normal(0, 20_000, len(wednesdays))),
                           index=wednesdays),
        "WTREGEN": pd.Series(700_000 + np.cumsum(rng.normal(0, 10_000, len(wednesdays))),
                             index=wednesdays),
        "RRPONTSYD": pd.Series(np.abs(500 + np.cumsum(rng.normal(0, 10, len(daily)))),
                               index=daily),
        "DFII10": pd.Series(walk(0.5, 0.04), index=cal),
        "BAMLH0A0HYM2": pd.Series(walk(4.0, 0.05), index=cal),
    }
    return SignalData(market, fred)


@pytest.fixture(scope="module")
def data():
    return synthetic_signal_data()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=30, max_value=699))
def test_point_in_time_truncation_changes_nothing_before_the_cut(data, cut):
    full = build_signal(data, FAST).frame()
    end = data.calendar[cut]
    part = build_signal(data.truncated(end), FAST).frame()
    pd.testing.assert_frame_equal(part, full.loc[:end], check_exact=True)


def test_all_components_computed_on_complete_data(data):
    sig = build_signal(data, FAST)
    assert list(sig.components.columns) == list(default_components())
    assert sig.dropped == {}
    assert sig.components.abs().max().max() <= 3.0
    assert set(sig.regime.unique()) <= {"scarce", "neutral", "abundant"}


def test_rising_yields_raise_rates():
    cal = pd.bdate_range("2020-01-01", periods=400)
    tnx = pd.Series(2.0, index=cal)
    tnx.iloc[300:] = 2.0 + 0.01 * np.arange(100)        # +1pp over 100 days
    tnx += np.random.default_rng(1).normal(0, 0.001, 400)
    raw = rates(SignalData(pd.DataFrame({"^TNX": tnx}), {}))
    assert raw.iloc[-1] == pytest.approx(0.63, abs=0.01)   # 63 days x 1bp
    z = standardise(raw, 252, 60, 3.0)
    assert z.iloc[-1] > 1.5 and z.iloc[280] < 1.0


def test_standardise_hand_computed():
    raw = pd.Series([1.0, 2.0, 3.0, 4.0, 10.0])
    z = standardise(raw, window=3, min_history=3, clip=100)
    assert np.isnan(z.iloc[1])
    assert z.iloc[2] == pytest.approx((3 - 2) / 1.0)
    assert z.iloc[4] == pytest.approx((10 - 17 / 3) / np.std([3, 4, 10], ddof=1))
    assert standardise(raw, 3, 3, clip=0.5).iloc[4] == 0.5


def test_hysteresis():
    cfg = SignalSettings()          # enter 0.5 / exit 0 / enter -0.5 / exit 0
    score = pd.Series([0.0, 0.6, 0.3, 0.1, -0.1, -0.4, -0.6, -0.2, 0.1, 0.49, 0.5, np.nan, 0.2])
    expected = ["neutral", "scarce", "scarce", "scarce", "neutral", "neutral", "abundant",
                "abundant", "neutral", "neutral", "scarce", "neutral", "neutral"]
    assert regimes_with_hysteresis(score, cfg).tolist() == expected


def test_walcl_is_used_from_the_friday_after_its_wednesday():
    cal = pd.bdate_range("2024-01-01", "2024-01-12")
    walcl = pd.Series([100.0, 200.0], index=pd.to_datetime(["2023-12-27", "2024-01-03"]))
    data = SignalData(pd.DataFrame(index=cal), {"WALCL": walcl})
    seen = data.fred_on_calendar("WALCL", lag_days=2, max_stale_days=14)
    assert seen.loc["2024-01-04"] == 100.0        # Thursday: the 3 Jan level is not public yet
    assert seen.loc["2024-01-05"] == 200.0        # Friday: now it is


def test_net_liquidity_units():
    cal = pd.bdate_range("2024-01-01", periods=200)
    weds = pd.date_range("2023-12-01", cal[-1], freq="W-WED")
    walcl = pd.Series(8_000_000.0, index=weds)    # $mn
    walcl.iloc[-5:] = 7_900_000.0                 # the Fed shrinks by $100bn
    tga = pd.Series(800_000.0, index=weds)        # $mn
    rrp = pd.Series(500.0, index=pd.date_range("2023-12-01", cal[-1], freq="D"))   # $bn
    data = SignalData(pd.DataFrame(index=cal), {"WALCL": walcl, "WTREGEN": tga,
                                                "RRPONTSYD": rrp})
    assert net_liquidity(data).iloc[-1] == pytest.approx(100.0)   # drained $100bn -> +100


def test_missing_inputs_drop_components_with_reasons(data):
    thin = SignalData(data.market[["^TNX"]], {})
    sig = build_signal(thin, FAST)
    assert list(sig.components.columns) == ["rates"]
    assert "needs FRED DFII10" in sig.dropped["real_rates"]
    assert "needs one of HYG" in sig.dropped["credit"]
    assert sig.composite.dropna().equals(sig.components["rates"].dropna().rename("composite"))


def test_weights_and_component_selection(data):
    cfg = SignalSettings(window=120, min_history=60, components=("rates", "dollar"),
                       weights={"rates": 3.0})
    sig = build_signal(data, cfg)
    expected = (3 * sig.components["rates"] + sig.components["dollar"]) / 4
    pd.testing.assert_series_equal(sig.composite.dropna(), expected.dropna(), check_names=False)
    contributions = sig.contributions().sum(axis=1, min_count=1)
    pd.testing.assert_series_equal(contributions.dropna(), sig.composite.dropna(),
                                   check_names=False)


def test_unknown_component_is_a_universe_error(data):
    with pytest.raises(UniverseError, match='unknown component "rate". Did you mean "rates"'):
        build_signal(data, SignalSettings(components=("rate",)), "u.toml")


def test_newey_west_equals_naive_t_without_lags():
    u = np.random.default_rng(3).normal(0.1, 1, 500)
    naive = u.mean() / (u.std(ddof=0) / np.sqrt(len(u)))
    assert newey_west_t(u, 0) == pytest.approx(naive)
    persistent = np.repeat(u[:50], 10)               # heavy overlap inflates naive t
    assert abs(newey_west_t(persistent, 20)) < abs(newey_west_t(persistent, 0))


def test_forward_spread_hand_computed(synth_universe):
    u = load_universe(synth_universe)
    cal = pd.bdate_range("2024-01-01", periods=6)
    prices = pd.DataFrame(100.0, index=cal, columns=[*u.tickers, "BENCH"])
    prices["CHIPA"] = [100, 110, 121, 121, 121, 121]        # short side (chips, rank 1)
    prices["LATE"] = np.nan                                  # not listed: not in the mean
    spread = forward_spread(prices, u, horizon=2)
    # day 0: next two days' returns. short = mean(bills 0%, chips +10%/+10%) per day = 5%/5%
    assert spread.iloc[0] == pytest.approx(1.05 * 1.05 - 1)
    assert np.isnan(spread.iloc[-1])


def test_signal_cli_on_synthetic_data(synth_data, synth_universe, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["signal", "--universe", str(synth_universe), "--data",
                                 str(synth_data), "--csv", str(tmp_path / "s.csv"), "--html",
                                 str(tmp_path / "s.html"), "--evaluate"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "regime" in text and "since" in text and "component real_rates dropped" in text
    assert "IC 3m" in text
    history = pd.read_csv(tmp_path / "s.csv", index_col=0)
    assert list(history.columns[:3]) == ["composite", "regime", "rates"]
    html = (tmp_path / "s.html").read_text()
    assert "plotly" in html and '<script src="http' not in html


def test_signal_cli_bad_dates(synth_data, synth_universe):
    result = CliRunner().invoke(app, ["signal", "--universe", str(synth_universe), "--data",
                                      str(synth_data), "--start", "2021-01-01", "--end",
                                      "2020-01-01"])
    assert result.exit_code == 2 and "is not before --end" in result.output


# ---- signal --evaluate: legs, non-overlapping IC, leave one out (issue 23) ---------------

def _planted_world(synth_universe):
    """A score ("lead", an AR(1)) that moves the next day's chips-minus-software return, a
    component of noise, and one ("soft_dd") declared as reading SOFTA, a ticker of a leg."""
    from durationbt.signals.composite import Signal, blend, regimes_with_hysteresis
    from durationbt.signals.inputs import Inputs

    u = load_universe(synth_universe)
    days = pd.bdate_range("2012-01-02", periods=2600)
    rng = np.random.default_rng(31)
    lead = np.zeros(len(days))
    for t in range(1, len(days)):
        lead[t] = 0.97 * lead[t - 1] + rng.normal(0, 0.25)
    tilt = np.concatenate([[0.0], 0.002 * lead[:-1]])          # today's score, tomorrow's move
    returns = {t: rng.normal(0, 0.01, len(days)) for t in [*u.tickers, "BENCH"]}
    returns["CHIPA"] += tilt
    returns["LATE"] += tilt
    returns["SOFTA"] -= tilt
    returns["SOFTB"] -= tilt
    prices = pd.DataFrame({t: 100 * np.cumprod(1 + r) for t, r in returns.items()}, index=days)
    components = pd.DataFrame({"lead": lead, "noise": rng.normal(0, 1, len(days)),
                               "soft_dd": rng.normal(0, 1, len(days))}, index=days)
    weights = {"lead": 1.0, "noise": 1.0, "soft_dd": 1.0}
    composite = blend(components, weights)
    signal = Signal(composite, components, weights,
                    regimes_with_hysteresis(composite, SignalSettings()), {}, SignalSettings(),
                    {"lead": Inputs(), "noise": Inputs(), "soft_dd": Inputs(tickers=("SOFTA",))})
    return u, prices, signal


def test_legs_default_explicit_and_refused(synth_universe):
    from durationbt.errors import ParameterError
    from durationbt.signals import choose_legs

    u = load_universe(synth_universe)
    legs = choose_legs(u)
    assert legs.long == ("bills", "chips") and legs.short == ("software", "coins")
    assert choose_legs(u, ["chips"], ["software,coins"]).describe() == "chips minus software, coins"
    assert choose_legs(u, ["software"]).short == ("coins",)     # the default minus the other leg
    assert choose_legs(u, ["software"]).tickers(u) == ("SOFTA", "SOFTB", "COIN-USD")
    with pytest.raises(ParameterError, match='--long "chip" is not a bucket.*Did you mean "chips"'):
        choose_legs(u, ["chip"])
    with pytest.raises(ParameterError, match="chips cannot be on both legs"):
        choose_legs(u, ["chips"], ["chips"])
    with pytest.raises(ParameterError, match="The --short leg has no bucket"):
        choose_legs(u, ["software", "coins"])


def test_forward_spread_of_chosen_legs_hand_computed(synth_universe):
    from durationbt.signals import choose_legs

    u = load_universe(synth_universe)
    cal = pd.bdate_range("2024-01-01", periods=5)
    prices = pd.DataFrame(100.0, index=cal, columns=[*u.tickers, "BENCH"])
    prices["CHIPA"] = [100, 110, 121, 121, 121]
    prices["LATE"] = np.nan
    prices["SOFTA"] = [100, 100, 90, 90, 90]
    spread = forward_spread(prices, u, 2, legs=choose_legs(u, ["chips"], ["software"]))
    # chips +10%, +10%; software (SOFTA, SOFTB) 0%, then (-10% + 0%) / 2 = -5%
    assert spread.iloc[0] == pytest.approx(1.1 * 1.1 - 1 - (1.0 * 0.95 - 1))


def test_a_planted_predictor_is_found_overlapping_and_not_and_noise_is_not(synth_universe):
    from durationbt.signals import evaluate_signal

    u, prices, signal = _planted_world(synth_universe)
    found = evaluate_signal(signal, prices, u, None, None)
    lead, noise = found.find("lead", "1m"), found.find("noise", "1m")
    assert lead.ic > 0.2 and lead.t_stat > 3 and abs(noise.t_stat) < 2
    sparse = found.find("lead", "1m", overlapping=False)
    assert not sparse.overlapping and sparse.n == len(prices.index[::21]) - 1  # the last runs out
    assert sparse.ic > 0.2 and sparse.t_stat > 2
    assert abs(found.find("noise", "1m", overlapping=False).t_stat) < 2
    # non-overlapping IC by hand: Spearman's rho on every 21st day
    fwd = forward_spread(prices, u, 21)
    days = prices.index[::21]
    pair = pd.concat([signal.components["lead"].reindex(days), fwd.reindex(days)], axis=1).dropna()
    assert sparse.ic == pytest.approx(pair.corr(method="spearman").iloc[0, 1], rel=1e-9)
    z = pair.rank()
    z = ((z - z.mean()) / z.std(ddof=0)).prod(axis=1)
    assert sparse.t_stat == pytest.approx(z.mean() / z.std(ddof=0) * np.sqrt(len(z)), rel=1e-9)


def test_leave_one_out_and_the_legs_own_components(synth_universe):
    from durationbt.signals import evaluate_signal
    from durationbt.signals.evaluate import WITHOUT_OWN

    u, prices, signal = _planted_world(synth_universe)
    found = evaluate_signal(signal, prices, u, None, None)
    assert found.own_components == ("soft_dd",)                 # declared: reads SOFTA
    assert [r.series for r in found.overlapping[:3]] == ["composite", WITHOUT_OWN, "lead"]
    by_hand = information_coefficients(
        signal, prices, u, legs=found.legs,
        series={"x": (signal.components["lead"] + signal.components["noise"]) / 2})
    for label in ("1m", "3m", "6m"):
        one = found.find("without soft_dd", label)
        assert one.ic == pytest.approx(next(r.ic for r in by_hand if r.horizon == label),
                                       rel=1e-12)
        assert found.find(WITHOUT_OWN, label).ic == one.ic
    # dropping the predictor costs the composite its IC; dropping noise does not
    full = found.find("composite", "1m").ic
    assert found.find("without lead", "1m").ic < full - 0.1
    assert found.find("without noise", "1m").ic > full - 0.05


def test_signal_evaluate_cli_legs_and_footnote(synth_data, synth_universe, tmp_path):
    runner = CliRunner()
    args = ["signal", "--universe", str(synth_universe), "--data", str(synth_data), "--html",
            str(tmp_path / "s.html")]
    result = runner.invoke(app, [*args, "--long", "chips", "--short", "software"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "forward return of chips minus software" in text
    assert "predicts chips beating software" in text and "bills" not in text.split(
        "Positive IC")[1]
    assert "non-overlapping" in text and "Leave one component out" in text
    assert "without rates" in text
    bad = runner.invoke(app, [*args, "--long", "chip"])
    assert bad.exit_code == 2 and 'Did you mean "chips"' in bad.output
