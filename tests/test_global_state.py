"""The library leaves global state it does not own alone: a notebook's matplotlib backend
and loggers survive a tearsheet, and nothing below the CLI reads the environment."""

import ast
import logging
from pathlib import Path

import numpy as np
import pandas as pd

SRC = Path(__file__).resolve().parents[1] / "src" / "durationbt"


def test_a_tearsheet_gives_the_users_backend_and_logger_level_back(tmp_path):
    import matplotlib

    from durationbt.report.tearsheet import write_tearsheet

    before = matplotlib.get_backend()
    fonts = logging.getLogger("matplotlib.font_manager")
    level = fonts.level
    matplotlib.use("svg", force=True)      # what a notebook user might have chosen
    fonts.setLevel(logging.DEBUG)
    try:
        days = pd.bdate_range("2024-01-01", periods=300)
        rng = np.random.default_rng(7)
        equity = pd.Series(1e6 * np.cumprod(1 + rng.normal(4e-4, 0.01, len(days))), index=days)
        bench = pd.Series(1e6 * np.cumprod(1 + rng.normal(3e-4, 0.01, len(days))), index=days)
        page = write_tearsheet(tmp_path / "t.html", equity, bench, title="t",
                               benchmark_name="SPY")
        assert page.stat().st_size > 10_000
        assert matplotlib.get_backend() == "svg"
        assert fonts.level == logging.DEBUG
    finally:
        fonts.setLevel(level)
        matplotlib.use(before, force=True)


def test_nothing_below_the_cli_reads_the_environment():
    """Settings come from cli/environment.py as arguments; a module that reads os.environ
    or os.getenv itself would make a notebook's result depend on the shell it started in."""
    readers = []
    for path in SRC.rglob("*.py"):
        if "cli" in path.relative_to(SRC).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv") \
                    and isinstance(node.value, ast.Name) and node.value.id == "os":
                readers.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert readers == []
