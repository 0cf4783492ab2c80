"""Every command through typer's CliRunner, on the synthetic data (fast, no network)."""

import json
import re
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from durationbt.cli.app import app

runner = CliRunner()


@pytest.fixture
def base(synth_data, synth_universe, strategies_dir, tmp_path):
    out = tmp_path / "results"
    return ["--universe", str(synth_universe), "--data", str(synth_data),
            "--strategies-dir", str(strategies_dir), "--out", str(out)], out


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_help_lists_commands():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("run", "compare", "sweep", "walkforward", "report", "universes", "data",
                    "strategies"):
        assert command in result.output


def test_run_writes_complete_folder_and_prints_path_last(base):
    args, out = base
    result = invoke("run", "liquidity_rotation", *args, "--param", "neutral_short=0.25")
    assert result.exit_code == 0, result.output
    run_dir = result.output.strip().splitlines()[-1]
    assert run_dir.startswith(str(out))
    folder = out / run_dir.rsplit("/", 1)[-1]
    assert sorted(p.name for p in folder.iterdir()) == [
        "duration.csv", "equity.csv", "exposures.csv", "manifest.json", "metrics.json",
        "orders.csv", "regimes.json", "report.html", "signal.csv", "targets.csv",
        "tearsheet.html", "timing.csv", "weights.csv"]
    manifest = json.loads((folder / "manifest.json").read_text())
    orders = pd.read_csv(folder / "orders.csv")
    assert list(orders.columns) == ["date", "ticker", "side", "quantity", "price", "notional",
                                    "fees", "slippage"]
    assert len(orders) == manifest["engine"]["orders"]
    assert (orders["fees"] + orders["slippage"]).sum() == pytest.approx(
        manifest["engine"]["costs_paid"], rel=1e-8)
    assert manifest["strategy"]["params"]["neutral_short"] == 0.25
    assert manifest["settings"]["fees_bps"] == 10.0 and manifest["settings"]["slippage_bps"] == 5.0
    assert "Sharpe" in result.output and "benchmark (BENCH)" in result.output


def test_run_options_reach_the_engine(base):
    args, out = base
    result = invoke("run", "buy_and_hold", *args, "--rebalance", "weekly", "--fees-bps", "0",
                    "--slippage-bps", "0", "--start", "2020-01-02", "--end", "2020-12-31",
                    "--init-cash", "5000")
    assert result.exit_code == 0, result.output
    folder = next(out.iterdir())
    manifest = json.loads((folder / "manifest.json").read_text())
    metrics = json.loads((folder / "metrics.json").read_text())
    assert manifest["settings"]["rebalance"] == "weekly"
    assert manifest["engine"]["costs_paid"] == 0
    assert metrics["strategy"]["start"] == "2020-01-02"
    assert metrics["strategy"]["end"] == "2020-12-31"
    equity = (folder / "equity.csv").read_text().splitlines()
    assert equity[0] == "date,equity,benchmark,risk_free" and equity[1] == "2020-01-02,5000,5000,0"


BAD = [
    (["run", "buy_and_hold", "--universe", "{tmp}/bad.toml"], "not valid TOML"),
    (["run", "buy_and_hold", "--universe", "ai_capx"], 'Did you mean "ai_capex"'),
    (["run", "buy_and_hld"], 'Unknown strategy "buy_and_hld". Did you mean "buy_and_hold"'),
    (["run", "liquidity_rotation", "--param", "neutral_shrt=1"], 'Did you mean "neutral_short"'),
    (["run", "liquidity_rotation", "--param", "neutral_short=abc"], "must be float, got 'abc'"),
    (["run", "buy_and_hold", "--universe", "{tmp}/ghost.toml"], "No data for ticker GHOST"),
    (["run", "buy_and_hold", "--start", "2021-01-01", "--end", "2020-01-01"], "is not before end"),
    (["run", "buy_and_hold", "--start", "2031-01-01"], "No data after --start"),
    (["run", "buy_and_hold", "--start", "2021-02-30"], "is not a date"),
    (["run", "buy_and_hold", "--rebalance", "yearly"], 'Unknown rebalance schedule "yearly"'),
    (["run", "buy_and_hold", "--fees-bps", "abc"], "--fees-bps"),
    (["run", "buy_and_hold", "--fees-bps", "-5"], "must be a number in [0, 10000)"),
    (["run", "liquidity_rotation", "--placebos", "50"], "--placebos must be 0 (no placebo test) "
                                                        "or a whole number from 200"),
    (["run", "liquidity_rotation", "--seed", "-1"], "--seed must be a whole number >= 0"),
]


@pytest.mark.parametrize("argv, message", BAD)
def test_bad_input_exits_2_with_message_and_no_run_folder(argv, message, synth_data,
                                                          synth_universe, strategies_dir,
                                                          tmp_path):
    (tmp_path / "bad.toml").write_text("benchmark = [\n")
    ghost = synth_universe.read_text().replace('tickers = ["SOFTA", "SOFTB"]',
                                               'tickers = ["SOFTA", "GHOST"]')
    (tmp_path / "ghost.toml").write_text(ghost)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    if "--universe" not in argv:
        argv += ["--universe", str(synth_universe)]
    out = tmp_path / "results"
    result = invoke(*argv, "--data", synth_data, "--strategies-dir", strategies_dir,
                    "--out", out)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert not out.exists() or not any(out.iterdir())


def test_failure_while_writing_leaves_nothing(base, monkeypatch):
    """The report page fails while the tearsheet is being drawn by the second process:
    neither a run folder, nor its temporary folder, nor the drafted tearsheet is left."""
    import durationbt.report.run_page as run_page

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device", "report.html")

    monkeypatch.setattr(run_page, "write_run_report", broken)
    args, out = base
    result = invoke("run", "buy_and_hold", *args)
    assert result.exit_code != 0
    assert not out.exists()                   # nor the --out folder the run had created


def test_debug_shows_traceback(base):
    args, _ = base
    result = invoke("--debug", "run", "nope", *args)
    assert result.exit_code == 1 and result.exception is not None


def test_universes_list_and_show(synth_universe):
    result = invoke("universes", "list")
    assert result.exit_code == 0 and "ai_capex" in result.output
    result = invoke("universes", "show", synth_universe)
    assert result.exit_code == 0
    lines = [line for line in result.output.splitlines() if "│" in line]
    ranks = [line.split("│")[1].strip() for line in lines if line.split("│")[1].strip()]
    assert ranks == ["0", "1", "4", "5"]
    assert "benchmark BENCH" in result.output


def test_universes_show_unknown():
    result = invoke("universes", "show", "nope")
    assert result.exit_code == 2 and 'Unknown universe "nope"' in result.output


def test_data_status(synth_data, synth_universe):
    result = invoke("data", "status", "--universe", synth_universe, "--data", synth_data)
    assert result.exit_code == 0, result.output
    assert "limited by LATE" in " ".join(result.output.split())
    assert "COIN-USD" in result.output


def test_data_status_without_network_or_cache(synth_universe, tmp_path, monkeypatch):
    monkeypatch.setenv("DURATIONBT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("DURATIONBT_DATA", raising=False)
    import durationbt.data.yahoo as yahoo

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(yahoo, "yf_download", offline)
    result = invoke("run", "buy_and_hold", "--universe", synth_universe, "--out", tmp_path / "r")
    assert result.exit_code == 2
    assert "--data" in result.output and "no cached copy" in result.output
    assert not (tmp_path / "r").exists()


def test_strategies_list(strategies_dir):
    result = invoke("strategies", "list", "--strategies-dir", strategies_dir)
    assert result.exit_code == 0
    assert "buy_and_hold" in result.output and "liquidity_rota" in result.output


def test_env_var_selects_csv_folder(synth_data, synth_universe, strategies_dir, tmp_path,
                                    monkeypatch):
    monkeypatch.setenv("DURATIONBT_DATA", str(synth_data))
    result = invoke("run", "buy_and_hold", "--universe", synth_universe, "--strategies-dir",
                    strategies_dir, "--out", tmp_path / "r")
    assert result.exit_code == 0, result.output
    folder = next((tmp_path / "r").iterdir())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["data"]["source"] == f"csv:{synth_data.resolve()}"
    shutil.rmtree(tmp_path / "r")


def _last_path(result):
    from pathlib import Path

    return Path(result.output.strip().splitlines()[-1])


def test_report_rerenders_a_run_folder_without_rerunning(base, tmp_path):
    args, out = base
    run = invoke("run", "buy_and_hold", *args)
    folder = _last_path(run)
    (folder / "report.html").unlink()
    before = (folder / "equity.csv").read_bytes()
    result = invoke("report", folder, "--no-tearsheet")
    assert result.exit_code == 0, result.output
    page = (folder / "report.html").read_text()
    assert "Headline: strategy vs benchmark" in page and "Scores by regime" in page
    assert page.count("Plotly.newPlot") == 5 and (folder / "equity.csv").read_bytes() == before
    bad = invoke("report", tmp_path)
    assert bad.exit_code == 2 and "not a durationbt run folder" in bad.output


def test_compare_strategies_and_a_run_folder(base):
    args, out = base
    run = _last_path(invoke("run", "momentum_gate", *args))
    result = invoke("compare", "buy_and_hold", "liquidity_rotation", run, *args, "--sort", "cagr")
    assert result.exit_code == 0, result.output
    folder = _last_path(result)
    board = (folder / "leaderboard.csv").read_text().splitlines()
    assert board[0] == ("strategy,cagr,volatility,sharpe,sortino,max_drawdown,calmar,turnover,"
                        "avg_duration,information_ratio,total_return,sharpe_ci_low,sharpe_ci_high,"
                        "sharpe_vs_benchmark_ci_low,sharpe_vs_benchmark_ci_high,"
                        "universe,benchmark,cash_asset,start,end,rebalance,costs,risk_free,cash")
    assert len(board) == 5  # three strategies and the benchmark
    assert sorted(p.name for p in folder.iterdir()) == [
        "compare.html", "equity.csv", "leaderboard.csv", "manifest.json", "regime_scores.csv"]
    assert invoke("compare", "nope", *args).exit_code == 2
    assert "is not a leaderboard column" in invoke("compare", "buy_and_hold", *args,
                                                    "--sort", "alpha").output


def test_sweep_writes_ranked_folder(base):
    args, out = base
    result = invoke("sweep", "liquidity_rotation", *args, "--grid", "neutral_short=0,0.5,1",
                    "--grid", "long_min_rank=4,5")
    assert result.exit_code == 0, result.output
    folder = _last_path(result)
    assert sorted(p.name for p in folder.iterdir()) == [
        "best_equity.csv", "summary.json", "sweep.csv", "sweep.html"]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["n_combos"] == 6 and 1 <= summary["n_trials"] <= 6
    assert set(summary["stats"]) >= {"dsr", "psr", "pbo", "best_sharpe"}
    assert "deflated Sharpe" in result.output
    assert '"type":"heatmap"' in (folder / "sweep.html").read_text()
    bad = invoke("sweep", "liquidity_rotation", *args, "--grid", "neutral_shrt=0,1")
    assert bad.exit_code == 2 and 'Did you mean "neutral_short"' in bad.output
    assert not any(p.name.startswith(".tmp") for p in out.iterdir())


def test_walkforward_writes_windows(base):
    args, out = base
    result = invoke("walkforward", "liquidity_rotation", *args, "--grid", "neutral_short=0,0.5,1",
                    "--train", "9m", "--test", "6m")
    assert result.exit_code == 0, result.output
    folder = _last_path(result)
    assert sorted(p.name for p in folder.iterdir()) == [
        "equity.csv", "manifest.json", "summary.csv", "walkforward.html", "windows.csv"]
    assert "In sample vs out of sample" in result.output
    bad = invoke("walkforward", "liquidity_rotation", *args, "--train", "3 years")
    assert bad.exit_code == 2 and "is not a span" in bad.output


def test_sweep_of_a_single_combination_still_reports(base):
    args, out = base
    result = invoke("sweep", "liquidity_rotation", *args, "--grid", "neutral_short=0.5")
    assert result.exit_code == 0, result.output
    summary = json.loads((_last_path(result) / "summary.json").read_text())
    assert summary["n_trials"] == 1 and summary["stats"]["pbo"] is None
    assert summary["stats"]["dsr"] is None


def test_report_omits_panels_whose_files_are_missing(base):
    args, out = base
    folder = _last_path(invoke("run", "buy_and_hold", *args))
    for name in ("signal.csv", "duration.csv", "regimes.json", "orders.csv"):
        (folder / name).unlink()
    result = invoke("report", folder, "--no-tearsheet")
    assert result.exit_code == 0, result.output
    page = (folder / "report.html").read_text()
    assert "Equity and drawdown" in page and "Bucket weights" in page
    assert "Liquidity-scarcity signal" not in page and "Scores by regime" not in page
    assert "Trading" not in page
    assert page.count("Plotly.newPlot") == 2


def test_docstrings_render_as_prose_with_code():
    from durationbt.report.html import doc_html

    text = "Holds ``bills`` when\nthe regime is `scarce`.\n\n<b>Second</b> paragraph."
    assert doc_html(text) == ("<p>Holds <code>bills</code> when the regime is <code>scarce</code>."
                              "</p><p>&lt;b&gt;Second&lt;/b&gt; paragraph.</p>")


def test_version_and_run_help_lists_strategies():
    version = invoke("--version")
    assert version.exit_code == 0 and version.output.startswith("durationbt ")
    help_text = " ".join(invoke("run", "--help").output.split())
    assert "Strategies: buy_and_hold, duration_spread, duration_tilt, equal_weight" in help_text
    assert "--risk-free" in help_text and "--cash" in help_text


def test_strategies_dir_adds_to_the_builtins_and_the_hint_names_it(tmp_path):
    folder = tmp_path / "mine"
    created = invoke("strategies", "new", "my_own", "--strategies-dir", folder,
                     "--tests-dir", tmp_path / "tests")
    assert created.exit_code == 0, created.output
    assert f"durationbt run my_own --strategies-dir {folder}" in " ".join(created.output.split())
    listed = invoke("strategies", "list", "--strategies-dir", folder).output
    assert "my_own" in listed and "liquidity_rota" in listed


def test_a_backtest_shorter_than_a_year_is_flagged(base):
    args, _ = base
    result = invoke("run", "equal_weight", *args, "--start", "2020-06-01", "--end", "2020-06-30")
    assert result.exit_code == 0, result.output
    assert "less than a year" in " ".join(result.output.split())


def test_compare_refuses_unlike_runs_unless_allowed(base):
    args, out = base
    monthly = _last_path(invoke("run", "equal_weight", *args))
    weekly = _last_path(invoke("run", "equal_weight", *args, "--rebalance", "weekly"))
    refused = invoke("compare", monthly, weekly, *args)
    text = " ".join(refused.output.split())
    assert refused.exit_code == 2
    assert "differ in schedule (monthly for equal_weight@" in text and "weekly for" in text
    assert "--allow-mixed" in text and not any(p.name.endswith("compare") or "-compare-" in p.name
                                               for p in out.iterdir())
    later = invoke("compare", "liquidity_rotation", monthly, *args, "--start", "2020-01-02")
    text = " ".join(later.output.split())
    assert later.exit_code == 2 and "differ in start (2020-01-02 for liquidity_rotation; " \
        f"2019-01-02 for equal_weight@{monthly.name[:15]} ({monthly})" in text
    allowed = invoke("compare", monthly, weekly, *args, "--allow-mixed")
    assert allowed.exit_code == 0, allowed.output
    board = (_last_path(allowed) / "leaderboard.csv").read_text()
    assert ",monthly," in board and ",weekly," in board


def _universe_like(synth_universe, folder, name, **changes):
    """A copy of the synthetic universe as ``folder/name.toml`` with top-level keys changed."""
    text = synth_universe.read_text()
    for key, value in changes.items():
        text = text.replace(next(line for line in text.splitlines()
                                 if line.startswith(f"{key} =")), f"{key} = {value}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.toml").write_text(text)
    return folder / f"{name}.toml"


def test_compare_refuses_runs_of_two_universes_naming_both_folders(base, synth_universe,
                                                                   tmp_path):
    args, out = base
    other = _universe_like(synth_universe, tmp_path / "u", "synth_b", benchmark='"SOFTB"')
    mine = _last_path(invoke("run", "equal_weight", *args))
    theirs = _last_path(invoke("run", "equal_weight", *args, "--universe", other))
    before = sorted(out.iterdir())
    refused = invoke("compare", mine, theirs, *args)
    text = " ".join(refused.output.split())
    assert refused.exit_code == 2, refused.output
    assert "differ in universe (synth for equal_weight@" in text and "synth_b for" in text
    assert str(mine) in text and str(theirs) in text and "--allow-mixed" in text
    assert "Traceback" not in refused.output and sorted(out.iterdir()) == before
    # a strategy run now, on the command's universe, against a folder of another one:
    # refused before any backtest runs
    fresh = invoke("compare", "liquidity_rotation", theirs, *args)
    assert fresh.exit_code == 2 and "differ in universe" in " ".join(fresh.output.split())
    assert sorted(out.iterdir()) == before


def test_compare_tells_one_universe_name_with_two_meanings_apart(base, synth_universe, tmp_path):
    """The same file name in another folder, with another benchmark: not the same universe."""
    args, out = base
    edited = _universe_like(synth_universe, tmp_path / "edited", "synth", benchmark='"SOFTB"')
    mine = _last_path(invoke("run", "equal_weight", *args))
    theirs = _last_path(invoke("run", "equal_weight", *args, "--universe", edited))
    refused = invoke("compare", mine, theirs, *args)
    text = " ".join(refused.output.split())
    assert refused.exit_code == 2, refused.output
    assert "differ in universe (synth (assets " in text and str(theirs) in text


def test_compare_allow_mixed_shows_each_rows_universe_period_and_benchmark(
        base, synth_universe, tmp_path):
    args, out = base
    other = _universe_like(synth_universe, tmp_path / "u", "synth_b", benchmark='"SOFTB"')
    mine = _last_path(invoke("run", "equal_weight", *args))
    theirs = _last_path(invoke("run", "equal_weight", *args, "--universe", other,
                               "--start", "2020-01-02"))
    allowed = invoke("compare", mine, theirs, *args, "--allow-mixed")
    assert allowed.exit_code == 0, allowed.output
    folder = _last_path(allowed)
    board = pd.read_csv(folder / "leaderboard.csv", index_col=0)
    mine_label = f"equal_weight@{mine.name[:15]}"
    theirs_label = f"equal_weight@{theirs.name[:15]}"
    assert board.loc[mine_label, ["universe", "benchmark", "start"]].tolist() == [
        "synth", "BENCH", "2019-01-02"]
    assert board.loc[theirs_label, ["universe", "benchmark", "start"]].tolist() == [
        "synth_b", "SOFTB", "2020-01-02"]
    # one benchmark row per benchmark and period, each scored as its own run scored it
    benchmarks = {"benchmark (BENCH)": mine, "benchmark (SOFTB)": theirs}
    assert set(board.index) == {mine_label, theirs_label, *benchmarks}
    for row, run in benchmarks.items():
        metrics = json.loads((run / "metrics.json").read_text())["benchmark"]
        assert board.loc[row, "cagr"] == pytest.approx(metrics["cagr"], rel=1e-9)
        assert board.loc[row, "universe"] in ("synth", "synth_b")
        assert pd.isna(board.loc[row, "costs"]) and pd.isna(board.loc[row, "rebalance"])
    assert set(pd.read_csv(folder / "equity.csv", index_col=0).columns) == set(board.index)
    # the terminal shows the shared settings in the title, the differing ones in a table
    text = " ".join(allowed.output.split())
    assert "schedule monthly" in text and "Where the rows differ" in text
    made = text[text.index("Where the rows differ"):]
    for shown in ("Universe", "synth_b", "benchmark", "SOFTB", "Start", "2020-01-02"):
        assert shown in made, shown
    # the manifest records each row's universe and data, and names no single universe
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["universe"] is None and manifest["rebalance"] == "monthly"
    rows = manifest["rows"]
    assert rows[mine_label]["universe"]["name"] == "synth"
    assert rows[theirs_label]["universe"]["name"] == "synth_b"
    assert rows[theirs_label]["universe"]["path"] == str(other)
    assert rows[theirs_label]["benchmark"] == "SOFTB" and rows[theirs_label]["start"] == "2020-01-02"
    for label, run in ((mine_label, mine), (theirs_label, theirs)):
        made = json.loads((run / "manifest.json").read_text())
        assert rows[label]["data_provenance"] == made["data_provenance"]
        assert rows[label]["source"] == str(run)
    page = (folder / "compare.html").read_text()
    assert "What each row was made on" in page and "synth_b" in page and "SOFTB" in page


def test_compare_manifest_of_like_folders_records_their_shared_universe_and_data(base):
    """Folders alone (no strategy run by compare): the manifest's universe and data are the
    folders', not the command's defaults."""
    args, out = base
    a = _last_path(invoke("run", "equal_weight", *args))
    b = _last_path(invoke("run", "buy_and_hold", *args))
    result = invoke("compare", a, b, "--out", out)     # no --universe: the default is not used
    assert result.exit_code == 0, result.output
    manifest = json.loads((_last_path(result) / "manifest.json").read_text())
    made = json.loads((a / "manifest.json").read_text())
    assert manifest["universe"] == "synth"
    assert manifest["data_provenance"] == made["data_provenance"]
    assert manifest["fees_bps"] == 10.0 and manifest["risk_free"] == made["settings"]["risk_free"]


# "0.35 (33.60%)": two numbers, and nothing says what either is
_UNLABELLED = re.compile(r"-?\d+\.\d+ \(-?\d+\.\d+%\)")


def test_regime_scores_say_what_each_number_is(base):
    args, _ = base
    run = invoke("run", "equal_weight", *args, "--no-tearsheet")
    assert run.exit_code == 0, run.output
    text = " ".join(run.output.split())
    assert not _UNLABELLED.search(text), text
    cell = r"(-?\d+\.\d+ \(-?\d+\.\d+ to -?\d+\.\d+\)|too few spells)"   # issue 23: intervals
    assert re.search(rf"By regime: scarce Sharpe {cell} on \d+\.\d+% of days, \d+ spells; "
                     "neutral Sharpe", text), text
    compared = invoke("compare", "equal_weight", "buy_and_hold", *args)
    assert compared.exit_code == 0, compared.output
    text = " ".join(compared.output.split())
    assert not _UNLABELLED.search(text), text
    assert "Sharpe (95% CI)" in text and "CAGR (95% CI)" in text      # issue 23: one row a regime
    assert re.search(r"scarce │ +(-?\d+\.\d+ \(-?\d+\.\d+ to -?\d+\.\d+\)|too few spells)", text)
    page = (_last_path(run) / "report.html").read_text()
    assert re.search(r"Portfolio duration, average \(% per 100 bp\)</td><td[^>]*>-?\d+\.\d+<", page)


def test_two_runs_of_one_second_are_told_apart_by_their_folder_names(base):
    """Two runs started in the same second share ``name@<second>``: each row is then named by
    its whole folder; one folder given twice is still refused."""
    args, out = base
    first = _last_path(invoke("run", "equal_weight", *args, "--no-tearsheet"))
    twin = first.with_name(first.name[:-8] + "ffffffff")
    shutil.copytree(first, twin)
    result = invoke("compare", first, twin, "--out", out)
    assert result.exit_code == 0, result.output
    board = pd.read_csv(_last_path(result) / "leaderboard.csv", index_col=0)
    assert {f"equal_weight@{first.name}", f"equal_weight@{twin.name}"} <= set(board.index)
    again = invoke("compare", first, str(first) + "/", "--out", out)
    assert again.exit_code == 2 and "Compared twice" in again.output
