"""Every mistake a clear refusal, every crash leaves nothing behind, every page escaped:
user mistakes and hostile plugins through the CLI, kills mid-run, a race for the final
folder name, a full disk, markup in names. Synthetic data: fast, no network."""

import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from durationbt.cli.app import app
from durationbt.runs import TMP_PREFIX, clean_stale, staging_folder, write_json

runner = CliRunner()
DURATIONBT = Path(sys.executable).parent / "durationbt"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def one_paragraph_exit_2(result) -> str:
    text = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "Error:" in text, result.output
    return text[text.index("Error:"):]


@pytest.fixture
def base(synth_data, synth_universe, strategies_dir, tmp_path):
    return ["--universe", synth_universe, "--data", synth_data, "--strategies-dir",
            strategies_dir]


# --- user mistakes --------------------------------------------------------------------------

@pytest.mark.parametrize("extra, message", [
    (["--init-cash", "1e-300"], "--init-cash must be a number between 1 and 1e15, got 1e-300"),
    (["--param", "neutral_short=0.1", "--param", "neutral_short=0.2"],
     '--param names "neutral_short" twice'),
    (["--timeout", "0"], "--timeout must be a number of seconds above 0 and at most 86,400"),
    (["--timeout", "inf"], "--timeout must be a number of seconds above 0 and at most 86,400"),
    (["--timeout", "1e300"], "--timeout must be a number of seconds above 0 and at most"),
    (["--timeout", "nan"], "--timeout must be a number of seconds above 0 and at most"),
])
def test_run_option_mistakes(base, tmp_path, extra, message):
    out = tmp_path / "results"
    text = one_paragraph_exit_2(invoke("run", "liquidity_rotation", *base, "--out", out, *extra))
    assert message in text and not out.exists()


def test_out_that_is_a_file_is_refused_and_nothing_written(base, tmp_path):
    target = tmp_path / "results"
    target.write_text("not a folder")
    text = one_paragraph_exit_2(invoke("run", "buy_and_hold", *base, "--out", target))
    assert str(target) in text and "Nothing was written" in text
    assert target.read_text() == "not a folder"


def test_sweep_mistakes(base, tmp_path):
    out = ["--out", tmp_path / "r"]
    assert "--top must be at least 1, got 0" in one_paragraph_exit_2(
        invoke("sweep", "liquidity_rotation", *base, *out, "--top", "0"))
    assert '--grid "neutral_short=," gives no value for neutral_short' in one_paragraph_exit_2(
        invoke("sweep", "liquidity_rotation", *base, *out, "--grid", "neutral_short=,"))


def test_paths_that_are_folders_or_files(synth_data, synth_universe, tmp_path):
    text = one_paragraph_exit_2(invoke("signal", "--universe", synth_universe, "--data",
                                       synth_data, "--csv", tmp_path, "--html",
                                       tmp_path / "s.html"))
    assert f"{tmp_path} is a folder" in text
    assert not (tmp_path / "s.html").exists() and not list(tmp_path.glob(f"{TMP_PREFIX}*"))
    text = one_paragraph_exit_2(invoke("data", "status", "--universe", tmp_path,
                                       "--data", synth_data))
    assert "is a folder, not a universe file" in text
    text = one_paragraph_exit_2(invoke("data", "status", "--universe", synth_universe,
                                       "--data", synth_universe))
    assert "is a file, not a folder" in text


def test_bad_key_in_signal_weights_is_named_as_such(synth_data, synth_universe, tmp_path):
    path = tmp_path / "u.toml"
    path.write_text(synth_universe.read_text().replace(
        '[signal]\n', '[signal]\nweights = { rats = 2.0 }\n'))
    text = one_paragraph_exit_2(invoke("signal", "--universe", path, "--data", synth_data,
                                       "--html", tmp_path / "s.html"))
    assert "field 'signal.weights' names unknown component \"rats\"" in text


# --- hostile plugins ------------------------------------------------------------------------

PLUGIN = '''
import sys
import time
import pandas as pd
from durationbt import Strategy

print("hello from {name} at import")


class P(Strategy):
    """A hostile plugin."""

    name = "{name}"

    def target_weights(self, ctx):
        print("hello from {name}")
        {body}
        return pd.DataFrame(0.0, index=ctx.rebalance_dates, columns=["bills"])
'''


def write(folder: Path, name: str, body: str = "pass") -> Path:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(PLUGIN.format(name=name, body=body))
    return folder


def test_sys_exit_in_target_weights_is_a_refusal_naming_the_plugin(synth_data, synth_universe,
                                                                   tmp_path):
    plugins = write(tmp_path / "p", "quitter", "sys.exit(0)")
    text = one_paragraph_exit_2(invoke("run", "quitter", "--universe", synth_universe, "--data",
                                       synth_data, "--strategies-dir", plugins, "--out",
                                       tmp_path / "r"))
    assert 'Strategy "quitter" raised SystemExit' in text and "quitter.py, line 17" in text
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())


def test_sys_exit_at_import_blocks_nothing(tmp_path, strategies_dir):
    plugins = tmp_path / "p"
    plugins.mkdir()
    (plugins / "bomb.py").write_text("import sys\nsys.exit(0)\n")
    shutil.copy(strategies_dir / "buy_and_hold.py", plugins / "buy_and_hold.py")
    result = invoke("strategies", "list", "--strategies-dir", plugins)
    assert result.exit_code == 0 and "buy_and_hold" in result.output
    assert "bomb.py: calls sys.exit(0) while being imported" in " ".join(result.output.split())


def test_plugin_that_never_returns_is_stopped_by_the_timeout(synth_data, synth_universe,
                                                             tmp_path):
    plugins = write(tmp_path / "p", "sleeper", "time.sleep(60)")
    started = time.perf_counter()
    text = one_paragraph_exit_2(invoke("run", "sleeper", "--universe", synth_universe, "--data",
                                       synth_data, "--strategies-dir", plugins, "--out",
                                       tmp_path / "r", "--timeout", "1"))
    assert 'Strategy "sleeper" did not return within 1 s' in text
    assert time.perf_counter() - started < 30


def test_a_plugins_output_is_printed_once_per_run(synth_data, synth_universe, tmp_path):
    plugins = write(tmp_path / "p", "chatty")
    result = invoke("strategies", "check", "chatty", "--universe", synth_universe,
                    "--strategies-dir", plugins)
    assert result.exit_code == 0, result.output
    assert result.output.count("hello from chatty\n") == 1       # replays are silent


def test_two_plugins_with_one_name_are_listed_and_refused_when_used(tmp_path):
    plugins = write(tmp_path / "p", "twin")
    (plugins / "twin_copy.py").write_text((plugins / "twin.py").read_text())
    listed = invoke("strategies", "list", "--strategies-dir", plugins)
    assert listed.exit_code == 0 and listed.output.count("twin") >= 2
    text = one_paragraph_exit_2(invoke("strategies", "check", "twin", "--strategies-dir",
                                       plugins))
    assert 'Two strategies are named "twin"' in text and "twin_copy.py" in text


# --- plugins that try to escape: each runs in a child process with a hard deadline ------------

HOSTILE = """
import os
import signal
import sys
import threading
import time
import numpy as np
import pandas as pd
from durationbt import Param, Strategy



def lower_recursion_limit():
    \"\"\"As low as the stack allows here (60 from a shell).\"\"\"
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    sys.setrecursionlimit(depth + 20)


{top}


class Hostile(Strategy):
    \"\"\"A plugin that misbehaves.\"\"\"

    name = "{name}"
    weights_by = "ticker"
    k = Param(1, "a parameter to sweep", low=1, grid=(1, 2, 3))
{init}
    def target_weights(self, ctx):
        {body}
        w = pd.DataFrame(0.0, index=ctx.rebalance_dates, columns=["SOFTA", "SOFTB"])
        w.loc[:, :] = 0.5
        return w
"""


def hostile(folder: Path, name: str, body: str = "pass", top: str = "", init: str = "") -> Path:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(HOSTILE.format(name=name, body=body, top=top, init=init))
    return folder


def run_plugin(plugins, name, synth_data, synth_universe, out, *extra):
    return invoke("run", name, "--universe", synth_universe, "--data", synth_data,
                  "--strategies-dir", plugins, "--out", out, "--no-tearsheet", *extra)


def nothing_in(out: Path) -> bool:
    return not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("name, body", [
    ("ignores_alarm", "signal.signal(signal.SIGALRM, signal.SIG_IGN)\n        time.sleep(120)"),
    ("catches_everything", "while True:\n            try:\n                time.sleep(120)\n"
                           "            except BaseException:\n                pass"),
    ("swallows_term", "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                      "        signal.signal(signal.SIGALRM, lambda *a: None)\n"
                      "        time.sleep(120)"),
])
def test_a_plugin_that_never_returns_is_stopped_whatever_it_catches(
        name, body, synth_data, synth_universe, tmp_path):
    plugins = hostile(tmp_path / "p", name, body)
    started = time.perf_counter()
    result = run_plugin(plugins, name, synth_data, synth_universe, tmp_path / "r",
                        "--timeout", "1")
    text = one_paragraph_exit_2(result)
    assert f'Strategy "{name}" did not return within 1 s from target_weights' in text
    assert time.perf_counter() - started < 60 and nothing_in(tmp_path / "r")


@pytest.mark.parametrize("name, body, top, init, message", [
    ("exits_hard", "os._exit(0)", "", "",
     "ended the process it ran in while target_weights (exit code 0)"),
    ("aborts", "os.abort()", "", "", "(killed by signal SIGABRT)"),
    ("own_base_exception", "raise Boom('never caught')",
     "class Boom(BaseException):\n    pass", "", "raised Boom: never caught ("),
    ("generator_exit", "raise GeneratorExit('closing')", "", "",
     "raised GeneratorExit: closing ("),
    ("bad_init", "pass", "", "    def __init__(self, **kw):\n        raise ValueError('no init')\n",
     ("raised ValueError: no init (", ") in __init__.")),
    ("twice_the_column", "return pd.DataFrame(0.1, index=ctx.rebalance_dates, "
                         "columns=['SOFTA', 'SOFTA'])", "", "",
     'column "SOFTA" appears more than once'),
    ("recursion_limit", "lower_recursion_limit()\n        raise ValueError('too deep')", "",
     "", "raised ValueError: too deep"),
])
def test_a_plugin_that_ends_or_breaks_its_process_is_a_refusal(
        name, body, top, init, message, synth_data, synth_universe, tmp_path):
    plugins = hostile(tmp_path / "p", name, body, top, init)
    text = one_paragraph_exit_2(run_plugin(plugins, name, synth_data, synth_universe,
                                           tmp_path / "r"))
    fragments = message if isinstance(message, tuple) else (message,)
    assert f'Strategy "{name}"' in text and all(f in text for f in fragments), text
    assert nothing_in(tmp_path / "r")


def _metrics(out: Path) -> dict:
    [folder] = [p for p in out.iterdir() if (p / "metrics.json").is_file()]
    metrics = json.loads((folder / "metrics.json").read_text())
    return {k: metrics[k] for k in ("strategy", "benchmark", "portfolio_duration")} | {
        "regimes": json.loads((folder / "regimes.json").read_text())}


@pytest.mark.parametrize("name, body, top", [
    ("patches_numpy", "np.sqrt = lambda x: 0 * x\n        np.mean = None", ""),
    ("patches_numpy_at_import", "pass", "np.sqrt = lambda x: 0 * x\npd.DataFrame.std = None"),
    ("closes_stdout", "sys.stdout.close()\n        sys.stderr.close()", ""),
    ("lowers_recursion", "w = pd.DataFrame(0.5, index=ctx.rebalance_dates, "
                         "columns=['SOFTA', 'SOFTB'])\n        lower_recursion_limit()\n"
                         "        return w", ""),
    ("rewrites_the_data", "ctx.prices.loc[:, :] *= 2\n        ctx.inputs.loc[:, :] = 0\n"
                          "        ctx.signal.regime.loc[:] = 'scarce'\n"
                          "        ctx.signal.components.loc[:, :] = 3.0\n"
                          "        ctx.signal.composite.loc[:] = 3.0", ""),
])
def test_what_a_plugin_breaks_in_its_process_changes_no_number(
        name, body, top, synth_data, synth_universe, tmp_path):
    """Its weights are those of a clean twin; so must every number of its run be."""
    plugins = hostile(tmp_path / "p", name, body, top)
    hostile(plugins, "clean_twin")
    done = run_plugin(plugins, name, synth_data, synth_universe, tmp_path / "r")
    assert done.exit_code == 0, done.output
    assert Path(done.output.strip().splitlines()[-1]).parent == tmp_path / "r"
    clean = run_plugin(plugins, "clean_twin", synth_data, synth_universe, tmp_path / "c")
    assert clean.exit_code == 0, clean.output
    assert _metrics(tmp_path / "r") == _metrics(tmp_path / "c")


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("name, body, message", [
    ("exits_in_a_sweep", "if self.k == 2:\n            os._exit(0)",
     "ended the process it ran in while target_weights (exit code 0)"),
    ("hangs_in_a_sweep", "if self.k == 3:\n            signal.signal(signal.SIGALRM, "
                         "signal.SIG_IGN)\n            time.sleep(120)",
     "did not return within 1 s from target_weights"),
])
def test_a_sweep_stops_a_plugin_that_exits_or_hangs_in_a_worker(
        workers, name, body, message, synth_data, synth_universe, tmp_path):
    plugins = hostile(tmp_path / "p", name, body)
    started = time.perf_counter()
    text = one_paragraph_exit_2(invoke("sweep", name, "--universe", synth_universe, "--data",
                                       synth_data, "--strategies-dir", plugins, "--out",
                                       tmp_path / "r", "--workers", workers, "--timeout", "1"))
    assert f'Strategy "{name}"' in text and message in text, text
    assert nothing_in(tmp_path / "r") and time.perf_counter() - started < 120


def test_compare_gives_each_strategy_the_same_numbers_in_any_order(
        synth_data, synth_universe, strategies_dir, tmp_path):
    """A plugin that rewrites prices, inputs and regimes before equal_weight runs (or after)
    leaves equal_weight's numbers alone: before, its Sharpe depended on the order."""
    plugins = hostile(tmp_path / "p", "vandal",
                      "ctx.prices.loc[:, :] *= 2\n        ctx.signal.regime.loc[:] = 'scarce'")
    shutil.copy(strategies_dir / "equal_weight.py", plugins / "equal_weight.py")
    boards = []
    for order in (["vandal", "equal_weight"], ["equal_weight", "vandal"]):
        out = tmp_path / "-".join(order)
        done = invoke("compare", *order, "--universe", synth_universe, "--data", synth_data,
                      "--strategies-dir", plugins, "--out", out)
        assert done.exit_code == 0, done.output
        [folder] = list(out.iterdir())
        boards.append(pd.read_csv(folder / "leaderboard.csv", index_col=0).sort_index())
    pd.testing.assert_frame_equal(boards[0], boards[1])


def test_weights_on_returning_none_is_refused_not_held_as_cash(synth_data, synth_universe,
                                                              tmp_path):
    plugins = tmp_path / "p"
    plugins.mkdir()
    (plugins / "nothing.py").write_text(
        "from durationbt import Strategy\n\n\nclass Nothing(Strategy):\n"
        '    """Forgets to return."""\n\n    name = "nothing"\n\n'
        "    def weights_on(self, ctx):\n        ctx.prices.iloc[-1]\n")
    text = one_paragraph_exit_2(run_plugin(plugins, "nothing", synth_data, synth_universe,
                                           tmp_path / "r"))
    assert 'Strategy "nothing": weights_on returned NoneType on' in text
    assert "({} holds everything in cash)" in text


def test_random_weights_are_refused_as_not_deterministic(synth_data, synth_universe, tmp_path):
    plugins = hostile(tmp_path / "p", "dice",
                      "w = pd.DataFrame(0.0, index=ctx.rebalance_dates, columns=['SOFTA'])\n"
                      "        w['SOFTA'] = np.random.default_rng().uniform(0, 1, len(w))\n"
                      "        return w")
    text = one_paragraph_exit_2(run_plugin(plugins, "dice", synth_data, synth_universe,
                                           tmp_path / "r"))
    assert 'Strategy "dice" is not deterministic' in text and "looks into" not in text


@pytest.mark.parametrize("top, message", [
    ("time.sleep(120)", "did not finish importing within 1 s and was stopped"),
    ("signal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    try:\n"
     "        time.sleep(120)\n    except BaseException:\n        pass",
     "did not finish importing within 1 s and was stopped"),
    ("os._exit(0)", "ended the process importing it (exit code 0)"),
])
def test_a_plugin_file_that_hangs_or_exits_at_import_blocks_nothing(
        top, message, synth_data, synth_universe, strategies_dir, tmp_path):
    plugins = hostile(tmp_path / "p", "at_import", top=top)
    shutil.copy(strategies_dir / "buy_and_hold.py", plugins / "buy_and_hold.py")
    started = time.perf_counter()
    if "exit" in message:          # a hang would take the default limit of an import, 20 s
        listed = invoke("strategies", "list", "--strategies-dir", plugins)
        text = " ".join(listed.output.split())
        assert listed.exit_code == 0 and "buy_and_hold" in text and message in text, text
    done = run_plugin(plugins, "buy_and_hold", synth_data, synth_universe, tmp_path / "r",
                      "--timeout", "1")
    assert done.exit_code == 0, done.output
    refused = one_paragraph_exit_2(run_plugin(plugins, "at_import", synth_data, synth_universe,
                                              tmp_path / "x", "--timeout", "1"))
    assert 'Unknown strategy "at_import"' in refused and "at_import.py: " + message in refused
    assert nothing_in(tmp_path / "x") and time.perf_counter() - started < 120


def _console(*args, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"),
           "COLUMNS": "200"}
    return subprocess.Popen([sys.executable, "-m", "durationbt", *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def test_a_thread_a_plugin_leaves_running_does_not_keep_the_command_alive(
        synth_data, synth_universe, tmp_path):
    plugins = hostile(tmp_path / "p", "threads",
                      "threading.Thread(target=time.sleep, args=(300,)).start()")
    proc = _console("run", "threads", "--universe", synth_universe, "--data", synth_data,
                    "--strategies-dir", plugins, "--out", tmp_path / "r", "--no-tearsheet")
    output, _ = proc.communicate(timeout=240)
    assert proc.returncode == 0, output


def test_sigterm_from_outside_is_not_blamed_on_the_plugin(synth_data, synth_universe,
                                                          tmp_path):
    marker = tmp_path / "pid"
    plugins = hostile(tmp_path / "p", "slow",
                      f"open({str(marker)!r}, 'w').write(str(os.getpid()))\n"
                      "        time.sleep(300)")
    proc = _console("run", "slow", "--universe", synth_universe, "--data", synth_data,
                    "--strategies-dir", plugins, "--out", tmp_path / "r", "--no-tearsheet")
    deadline = time.time() + 180
    while not (marker.exists() and marker.read_text()) and time.time() < deadline:
        time.sleep(0.1)
    child = int(marker.read_text())
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, output
    assert "SystemExit" not in output and "Traceback" not in output, output
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):       # the plugin's process went with the command
        os.kill(child, 0)
    assert nothing_in(tmp_path / "r")


# --- crashes leave nothing behind -----------------------------------------------------------

def _run_then_kill(argv: list[str], out: Path, sig: int) -> None:
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.Popen([str(DURATIONBT), *map(str, argv)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.glob(f"{TMP_PREFIX}*")):
        if proc.poll() is not None:
            pytest.fail("the run ended before it could be killed")
        time.sleep(0.02)
    time.sleep(0.3)                                 # inside the writing of the run folder
    proc.send_signal(sig)
    proc.wait(timeout=60)


@pytest.mark.skipif(not DURATIONBT.exists(), reason="console script not installed")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killed_run_leaves_no_run_and_the_next_run_cleans_up(sig, synth_data, synth_universe,
                                                            strategies_dir, tmp_path):
    out = tmp_path / "results"
    argv = ["run", "buy_and_hold", "--universe", synth_universe, "--data", synth_data,
            "--strategies-dir", strategies_dir, "--out", out]
    _run_then_kill(argv, out, sig)
    leftovers = list(out.iterdir()) if out.exists() else []
    finished = [p for p in leftovers if (p / "manifest.json").is_file()
                and not p.name.startswith(TMP_PREFIX)]
    assert finished == []
    if sig == signal.SIGTERM:                       # SIGTERM unwinds and removes its folders,
        assert not out.exists()                     # --out too, which the run had created
    for left in leftovers:                          # never read as a run
        assert invoke("report", left).exit_code == 2
    done = invoke(*argv)
    assert done.exit_code == 0, done.output
    assert [p.name for p in out.iterdir()] == [Path(done.output.strip().splitlines()[-1]).name]


def _claim(args):
    """One process taking ``name`` in ``folder`` as a run would, recording its run id."""
    folder, name, k = args
    with staging_folder(Path(folder), name) as (tmp, final):
        write_json(tmp / "manifest.json", {"run_id": final[0].name, "writer": k})
    return final[0].name


def test_race_for_the_final_name_loses_no_run(tmp_path):
    jobs = [(str(tmp_path), "20260101-000000-x-deadbeef", k) for k in range(48)]
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        names = pool.map(_claim, jobs)
    assert len(set(names)) == 48
    folders = sorted(p for p in tmp_path.iterdir())
    assert len(folders) == 48 and not list(tmp_path.glob(f"{TMP_PREFIX}*"))
    for folder in folders:                          # run ids equal folder names
        assert pd.read_json(folder / "manifest.json", typ="series")["run_id"] == folder.name


def test_stale_temp_folder_of_a_dead_process_is_removed_a_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    reserved = tmp_path / "20260101-000000-x-1"
    reserved.mkdir()
    stale = tmp_path / f"{TMP_PREFIX}{dead}-abcd1234-{reserved.name}"
    stale.mkdir()
    live = tmp_path / f"{TMP_PREFIX}{os.getpid()}-abcd1234-20260101-000000-y-2"
    live.mkdir()
    assert clean_stale(tmp_path) == [stale]
    assert not reserved.exists() and live.exists()


@pytest.fixture
def tiny_disk(tmp_path):
    """A 3 MB tmpfs, where the system allows mounting one (root on Linux)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_full_disk_is_a_refusal_and_leaves_nothing(tiny_disk, synth_data, synth_universe,
                                                  strategies_dir):
    text = one_paragraph_exit_2(invoke("run", "buy_and_hold", "--universe", synth_universe,
                                       "--data", synth_data, "--strategies-dir",
                                       strategies_dir, "--out", tiny_disk / "results"))
    assert "the disk is full" in text and "Nothing was written" in text
    assert not (tiny_disk / "results").exists()     # not even the folder the run created


# --- escaping -------------------------------------------------------------------------------

def test_tearsheet_title_carries_markup_as_text(tmp_path):
    from durationbt.report import write_run_tearsheet

    days = pd.bdate_range("2024-01-01", periods=300)
    equity = pd.Series(1e6 * 1.0003 ** np.arange(300), index=days)
    bench = pd.Series(1e6 * 1.0002 ** np.arange(300), index=days)
    manifest = {"strategy": {"name": "<script>alert('s')</script>"},
                "universe": {"name": "<img src=x onerror=alert(1)>",
                             "definition": {"benchmark": "<b>SPY</b>"}}}
    page = write_run_tearsheet(tmp_path, equity, bench, manifest).read_text()
    assert "<script>alert('s')" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(" in page

