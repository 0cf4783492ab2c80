"""Every mistake a clear refusal, every crash leaves nothing behind, every page escaped:
user mistakes and hostile plugins through the CLI, kills mid-run, a race for the final
folder name, a full disk, markup in names. Synthetic data: fast, no network."""

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
    (["--timeout", "0"], "--timeout must be a positive number of seconds"),
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

