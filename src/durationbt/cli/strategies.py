"""``durationbt strategies list|new|check``."""

from __future__ import annotations

import keyword
import os
import re
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from .console import STRATEGIES_DIR_HELP, data_option, err, out, universe_option, user_errors

__all__ = ["app"]

app = typer.Typer(help="Strategy plugins: list, scaffold and check them.", no_args_is_help=True)
MAX_NAME = 64   # a file name, a class name and a run folder's name are made from it



@app.command("list")
@user_errors
def list_(strategies_dir: Path = typer.Option(None, "--strategies-dir", help=STRATEGIES_DIR_HELP)) -> None:
    """List strategies with their source, one-line help and parameters."""
    from ..plugins import discover_strategies
    from .environment import read_environment

    registry = discover_strategies(strategies_dir,
                                   entry_points_enabled=read_environment().entry_points)
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
    for name, sources in sorted(registry.clashes.items()):
        for source in sources:
            table.add_row(name, "-", "[red]name used by more than one plugin: rename one "
                          "(refused when used)[/]", "-", source)
    out.print(table)
    for problem in registry.errors:
        err.print(f"[red]failed to load:[/] {escape(str(problem))}", soft_wrap=True)


@app.command("new")
@user_errors
def new(
    name: str = typer.Argument(..., help="Strategy name: lowercase letters, digits, underscores."),
    strategies_dir: Path = typer.Option(Path("strategies"), "--strategies-dir",
                                        help="Folder for the new plugin."),
    tests_dir: Path = typer.Option(Path("tests"), "--tests-dir", help="Folder for its test."),
) -> None:
    """Scaffold strategies/NAME.py (a documented template) and tests/test_NAME.py; never
    overwrites an existing file."""
    from ..errors import StrategyError
    from ..runs import files_together
    from ..templates import STRATEGY_TEMPLATE, TEST_TEMPLATE, class_name

    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or len(name) > MAX_NAME:
        raise StrategyError(f'Strategy name "{name}" must start with a lowercase letter, '
                            "use only lowercase letters, digits and underscores, and have at "
                            f"most {MAX_NAME} characters.")
    cls = class_name(name)
    if keyword.iskeyword(cls):
        raise StrategyError(f'Strategy name "{name}" would make the class {cls}, a Python '
                            "keyword; choose another name.")
    plugin = strategies_dir / f"{name}.py"
    test = tests_dir / f"test_{name}.py"
    for path in (plugin, test):
        if os.path.lexists(path):
            raise StrategyError(f"{path} already exists; choose another name or remove it.")
    with files_together([plugin, test]) as (plugin_tmp, test_tmp):   # both files or nothing
        plugin_tmp.write_text(STRATEGY_TEMPLATE.format(
            name=name, cls=cls, title=name.replace("_", " ").capitalize()), encoding="utf-8")
        test_tmp.write_text(TEST_TEMPLATE.format(name=name), encoding="utf-8")
    out.print(f"created {plugin} and {test}")
    from ..paths import search_dirs

    # ./strategies is searched anyway; any other folder has to be named again
    found = strategies_dir.resolve() in search_dirs("strategies")
    flag = "" if found else f" --strategies-dir {strategies_dir}"
    out.print(f"next: durationbt strategies check {name}{flag}  then  "
              f"durationbt run {name}{flag}", soft_wrap=True)


@app.command("check")
@user_errors
def check(
    name: str = typer.Argument(..., help="Strategy name."),
    universe: str = universe_option(),
    rebalance: str = typer.Option("monthly", "--rebalance", help="daily | weekly | monthly."),
    param: list[str] = typer.Option([], "--param", "-p", help="Parameter as name=value."),
    data: Path = data_option(),
    strategies_dir: Path = typer.Option(None, "--strategies-dir", help=STRATEGIES_DIR_HELP),
) -> None:
    """Run a strategy on synthetic data and on the real data, validate its weights
    (finite, >= 0, sum <= 1, known buckets/tickers, every decision date) and prove it does
    not look ahead: replayed on data cut at its decision dates (future removed, mirrored,
    scrambled or rescaled), its weights must not move. Exits 2 when anything fails."""
    from ..checks import check_strategy
    from ..errors import StrategyError
    from ..session import RunSettings, Session
    from ..synthetic import synthetic_market
    from .environment import read_environment

    env = read_environment()
    session = Session(RunSettings(universe=universe, rebalance=rebalance,
                                  data=env.data_folder(data), strategies_dir=strategies_dir,
                                  cache_dir=env.cache_dir, entry_points=env.entry_points))
    strategy = session.strategy(name, param)
    u = session.universe
    markets = [synthetic_market(u)]
    if env.data_folder(data):
        markets.append(session.market)
    else:
        err.print("[yellow]note:[/] no --data or $DURATIONBT_DATA: checked on synthetic data only")
    table = Table(title=f"strategies check {name}")
    for column in ("data", "decisions", "time per call", "lookahead check", "result"):
        table.add_column(column)
    failures = []
    with err.status("Checking", spinner="dots"):
        results = [check_strategy(strategy, u, m, rebalance=rebalance) for m in markets]
    for result in results:
        look = result.lookahead
        checked = ("-" if look is None else "per-date form, safe by construction"
                   if look.method != "replay" else
                   f"{len(look.cuts)} dates replayed in {look.seconds:,.2f} s")
        table.add_row(result.data, str(result.decisions), f"{result.seconds * 1000:,.1f} ms",
                      checked,
                      "[green]ok[/]" if result.ok else "[red]" + "; ".join(result.problems) + "[/]")
        failures += result.problems
    out.print(table)
    for result in results:
        if result.lookahead is not None and result.lookahead.method == "replay":
            out.print(f"lookahead check on {result.data}: {len(result.lookahead.cuts)} decision "
                      f"dates replayed in {result.lookahead.seconds:,.2f} s", soft_wrap=True)
    if failures:
        raise StrategyError(f'Strategy "{name}" failed its checks: ' + " | ".join(failures))
    out.print(f"{name}: weights valid and no lookahead found.")
