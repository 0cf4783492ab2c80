"""``durationbt strategies list``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from .console import err, out, user_errors

__all__ = ["app"]

app = typer.Typer(help="Strategy plugins: list what is installed.", no_args_is_help=True)


@app.command("list")
@user_errors
def list_(
    strategies_dir: Path = typer.Option(None, "--strategies-dir",
                                        help="Load strategies from this folder instead of ./strategies."),
) -> None:
    """List strategies with their source, one-line help and parameters."""
    from ..plugins import discover_strategies

    registry = discover_strategies(strategies_dir)
    table = Table(title="Strategies")
    table.add_column("name", no_wrap=True)
    table.add_column("weights by")
    table.add_column("summary", ratio=2)
    table.add_column("parameters (default)", ratio=1)
    table.add_column("source", overflow="fold", ratio=1)
    for name in registry.names():
        cls = registry.get(name)
        params = ", ".join(f"{k}={p.default!r}" for k, p in cls.params().items()) or "-"
        table.add_row(name, cls.weights_by, cls.summary(), params, registry.source(name))
    out.print(table)
    for problem in registry.errors:
        err.print(f"[red]failed to load:[/] {problem}", soft_wrap=True, markup=True)
