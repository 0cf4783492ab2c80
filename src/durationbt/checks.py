"""`strategies check`: run a strategy, validate its weights, and prove it does not look
ahead with the same point-in-time replay as every other command (``lookahead``)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from .data.market import MarketData
from .errors import DurationbtError
from .isolation import StrategyProcess
from .lookahead import LookaheadReport
from .session import RunSettings, Session
from .strategy import Strategy
from .universe import Universe
from .weights import resolve_target_weights

__all__ = ["CheckResult", "check_strategy"]


@dataclass(frozen=True)
class CheckResult:
    """Outcome of checking one strategy on one data set."""

    data: str
    ok: bool
    problems: tuple[str, ...]
    seconds: float            # one call of target_weights, validation included
    decisions: int
    lookahead: LookaheadReport | None = None   # None when the weights were already invalid


def check_strategy(strategy: Strategy, universe: Universe, market: MarketData, *,
                   rebalance: str = "monthly") -> CheckResult:
    """Run, validate and lookahead-check ``strategy`` on ``market``, through the same
    session (context, lookahead probe) every command uses."""
    session = Session(RunSettings(universe=universe.path or universe.name, rebalance=rebalance),
                      universe=universe, market=market)
    ctx = session.ctx
    began = time.perf_counter()
    with StrategyProcess(strategy) as plugin:     # the plugin's code runs in its own process
        try:
            checked = plugin.weights(session.shared_ctx, session.lookahead)
            resolve_target_weights(checked.frame, strategy, ctx)
            report = plugin.check()
        except DurationbtError as exc:
            return CheckResult(market.source, False, (str(exc),), time.perf_counter() - began,
                               len(ctx.rebalance_dates))
    problems = () if report.ok else (report.describe(),)
    return CheckResult(market.source, report.ok, problems, checked.seconds,
                       len(ctx.rebalance_dates), report)
