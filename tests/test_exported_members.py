"""The public API is explicit, documented, and light to import."""

import importlib
import inspect
import subprocess
import sys

import durationbt
from durationbt.cli.app import app


def test_all_is_exact_and_resolvable():
    for name in durationbt.__all__:
        assert getattr(durationbt, name) is not None
    assert sorted(durationbt.__all__) == sorted(set(durationbt.__all__))


def test_every_public_item_has_a_docstring():
    missing = []
    for name in durationbt.__all__:
        obj = getattr(durationbt, name)
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and not inspect.getdoc(obj):
            missing.append(name)
    for module_name in ("universe", "engine", "api", "metrics", "scoring", "runs", "weights", "plugins",
                        "strategy", "data.calendar", "data.market", "data.csv", "data.yahoo",
                        "signals.components", "signals.composite", "signals.inputs",
                        "signals.evaluate", "report.signal_chart", "duration",
                        "report.duration_chart", "statistics", "checks", "synthetic", "now",
                        "data.fred", "data.fetch", "data.update", "data.status",
                        "sweep.mapping", "sweep.executors", "inference.timing",
                        "inference.placebo", "report.timing_section", "thesis.scorecard",
                        "thesis.series", "thesis.load", "thesis.kinds", "thesis.claim",
                        "thesis.regime_spread", "thesis.sensitivity", "thesis.outcome",
                        "thesis.lead", "thesis.timing", "report.thesis_page"):
        module = importlib.import_module(f"durationbt.{module_name}")
        assert inspect.getdoc(module), module_name
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isfunction(obj) and not inspect.getdoc(obj):
                missing.append(f"{module_name}.{name}")
    assert missing == []


def test_every_cli_command_has_help():
    import typer.main

    group = typer.main.get_command(app)

    def walk(command, path):
        assert command.help, f"no help for {' '.join(path)}"
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(group, ["durationbt"])


def test_import_is_light():
    code = ("import sys, durationbt, durationbt.cli.app; "
            "heavy = [m for m in ('vectorbt', 'quantstats', 'yfinance', 'numba', 'pandas') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

    code = "import sys, durationbt; print('typer' in sys.modules or 'rich' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
