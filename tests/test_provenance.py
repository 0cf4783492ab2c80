"""Every results folder records how it was made the same way: package versions, the git
revision, and the data's source and fingerprint (runs.provenance)."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from durationbt.cli.app import app

runner = CliRunner()


def test_every_command_carries_the_same_provenance(synth_data, synth_universe,
                                                  strategies_dir, tmp_path):
    base = ["--universe", str(synth_universe), "--data", str(synth_data), "--strategies-dir",
            str(strategies_dir), "--out", str(tmp_path)]
    folders = {}
    for command, args, manifest in (
            ("run", ["liquidity_rotation", "--no-tearsheet"], "manifest.json"),
            ("compare", ["liquidity_rotation", "equal_weight"], "manifest.json"),
            ("sweep", ["liquidity_rotation", "--grid", "neutral_short=0,1", "--workers", "1"],
             "summary.json"),
            ("walkforward", ["liquidity_rotation", "--grid", "neutral_short=0,1", "--train",
                             "1y", "--test", "6m", "--workers", "1"], "manifest.json")):
        result = runner.invoke(app, [command, *args, *base])
        assert result.exit_code == 0, result.output
        folder = Path(result.output.strip().splitlines()[-1])
        folders[command] = json.loads((folder / manifest).read_text())
    fingerprints = set()
    for command, manifest in folders.items():
        assert manifest["packages"]["vectorbt"] and manifest["packages"]["pandas"], command
        assert "git" in manifest, command
        data = manifest["data_provenance"]
        assert data["source"].startswith("csv:") and len(data["fingerprint"]) == 64, command
        fingerprints.add(data["fingerprint"])
    assert len(fingerprints) == 1       # the same data, the same fingerprint everywhere
    assert {m["command"] for m in folders.values()} == set(folders)
    assert all(m["schema"] == 1 and m["created_utc"] for m in folders.values())
    # compare records the range it settled on, not the command line's text (none was given)
    run = folders["run"]["settings"]
    assert (folders["compare"]["start"], folders["compare"]["end"]) == (run["start"], run["end"])


def test_a_manifest_missing_a_field_is_refused_naming_it(runs, tmp_path):
    """``report`` and ``compare`` read a run folder through ``runs.read_run_folder``, which
    validates the manifest against its type: a hand-edited one is named, exit 2."""
    import shutil

    folder = tmp_path / "run"
    shutil.copytree(runs["liquidity_rotation"].run_dir, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["settings"]["rebalance"]
    manifest["engine"]["orders"] = "many"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    page = (folder / "report.html").read_bytes()
    for args in (["report", str(folder), "--no-tearsheet"], ["compare", str(folder)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        text = " ".join(result.output.split())
        assert "manifest.json: not the manifest of a run" in text
        assert "settings.rebalance: Field required" in text and "engine.orders" in text
    assert (folder / "report.html").read_bytes() == page     # nothing rewritten
    # metrics.json is typed too: what compare ranks by must be a number
    shutil.copy(runs["liquidity_rotation"].run_dir / "manifest.json", folder / "manifest.json")
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["strategy"]["sharpe"] = "high"
    (folder / "metrics.json").write_text(json.dumps(metrics))
    result = runner.invoke(app, ["compare", str(folder)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "metrics.json: not the metrics of a run (strategy.sharpe:" in text


@pytest.mark.parametrize("edit", [
    lambda m: None, lambda m: [], lambda m: {**m, "universe": "x"},
    lambda m: {**m, "universe": {**m["universe"], "definition": 5}},
    lambda m: {**m, "universe": {**m["universe"], "definition": {
        **m["universe"]["definition"], "buckets": [1, 2]}}},
    lambda m: {**m, "schema": 2},
    lambda m: {**m, "settings": {**m["settings"], "end": "2026-13-45"}},
])
def test_a_manifest_of_the_wrong_shape_is_refused_not_a_traceback(runs, tmp_path, edit):
    import shutil

    folder = tmp_path / "run"
    shutil.copytree(runs["liquidity_rotation"].run_dir, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps(edit(manifest)))
    result = runner.invoke(app, ["report", str(folder), "--no-tearsheet"])
    assert result.exit_code == 2, result.output
    assert "manifest.json" in result.output and "Traceback" not in result.output


def test_an_environment_path_that_is_a_file_is_refused(tmp_path, monkeypatch):
    (tmp_path / "f").write_text("x")
    monkeypatch.setenv("DURATIONBT_CACHE", str(tmp_path / "f"))
    result = runner.invoke(app, ["run", "buy_and_hold"])
    assert result.exit_code == 2
    assert "DURATIONBT_CACHE" in result.output and "it is a file" in result.output
