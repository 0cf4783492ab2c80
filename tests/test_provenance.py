"""Every results folder records how it was made the same way: package versions, the git
revision, and the data's source and fingerprint (runs.provenance)."""

import json
from pathlib import Path

from typer.testing import CliRunner

from durationbt.cli.app import app

runner = CliRunner()


def test_compare_sweep_and_walkforward_carry_the_runs_provenance(synth_data, synth_universe,
                                                                 strategies_dir, tmp_path):
    base = ["--universe", str(synth_universe), "--data", str(synth_data), "--strategies-dir",
            str(strategies_dir), "--out", str(tmp_path)]
    folders = {}
    for command, args, manifest in (
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
