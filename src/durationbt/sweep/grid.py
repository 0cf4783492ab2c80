"""Parameter grids: ``--grid name=a,b,c`` from the CLI, or each ``Param``'s declared grid."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from ..errors import ParameterError, did_you_mean
from ..strategy import Strategy

__all__ = ["parse_grid", "combinations"]


def parse_grid(strategy: type[Strategy], specs: Sequence[str],
               fixed: dict[str, Any] | None = None) -> dict[str, list[Any]]:
    """``["lookback=63,126", ...]`` -> {name: [coerced values]}. Without specs, every
    parameter that declares a grid is swept. Parameters not swept keep ``fixed`` or their
    default. Errors name the parameter and the strategy."""
    params = strategy.params()
    fixed = dict(fixed or {})
    grid: dict[str, list[Any]] = {}
    for spec in specs:
        name, sep, values = spec.partition("=")
        name = name.strip()
        if not sep or not name or not values.strip():
            raise ParameterError(f'--grid "{spec}" is not of the form name=a,b,c.')
        if name not in params:
            raise ParameterError(f'Strategy "{strategy.name}" has no parameter "{name}".'
                                 + did_you_mean(name, params)
                                 + f" Parameters: {', '.join(params) or 'none'}.")
        if name in grid:
            raise ParameterError(f'--grid names "{name}" twice.')
        raw = [v.strip() for v in values.split(",") if v.strip()]
        if not raw:
            raise ParameterError(f'--grid "{spec}" gives no value for {name}; use name=a,b,c.')
        grid[name] = list(dict.fromkeys(params[name].coerce(name, v, strategy.name) for v in raw))
    if not specs:
        grid = {name: list(dict.fromkeys(p.coerce(name, v, strategy.name) for v in p.grid))
                for name, p in params.items() if p.grid and name not in fixed}
    if not params:
        raise ParameterError(f'Strategy "{strategy.name}" has no parameters, so there is nothing '
                             "to sweep; run it with `durationbt run`.")
    if not grid:
        raise ParameterError(f'Strategy "{strategy.name}" declares no sweep grid; give one with '
                             f"--grid name=a,b,c (parameters: {', '.join(params) or 'none'}).")
    clash = sorted(set(grid) & set(fixed))
    if clash:
        raise ParameterError(f"Parameter {clash[0]} is both swept (--grid) and fixed (--param).")
    for name, value in fixed.items():
        if name not in params:
            raise ParameterError(f'Strategy "{strategy.name}" has no parameter "{name}".'
                                 + did_you_mean(name, params))
        grid[name] = [params[name].coerce(name, value, strategy.name)]
    return grid


def combinations(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination, the first parameter varying slowest."""
    names = list(grid)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*grid.values())]
