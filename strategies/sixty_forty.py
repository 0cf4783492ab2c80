"""The classic 60/40 benchmark: stocks and intermediate Treasuries, rebalanced."""

import numpy as np

from durationbt import Context, Param, Strategy
from durationbt.errors import ParameterError


class SixtyForty(Strategy):
    """60% stocks (SPY) and 40% intermediate Treasuries (IEF), rebalanced on the schedule.

    A benchmark, not a bet: it ignores the signal. Both tickers must be bucket members or
    the universe's benchmark. Written in the point-in-time form (``weights_on``): it is
    given data up to each decision date only, so a run needs no lookahead replay (a sweep
    replays its grid method, as any other)."""

    name = "sixty_forty"
    weights_by = "ticker"

    equity_share = Param(0.6, "weight of the equity ticker", low=0.0, high=1.0,
                         grid=(0.4, 0.6, 0.8))
    equity = Param("SPY", "equity ticker")
    bonds = Param("IEF", "bond ticker")

    def weights_on(self, ctx: Context) -> dict[str, float]:
        for ticker in (self.equity, self.bonds):
            if ticker not in ctx.prices.columns:
                raise ParameterError(f'Strategy "{self.name}": ticker {ticker} is neither a '
                                     f"member nor the benchmark of universe {ctx.universe.name}.")
        return {self.equity: self.equity_share, self.bonds: 1 - self.equity_share}

    @classmethod
    def target_weights_grid(cls, ctx: Context, combos) -> dict[str, np.ndarray]:
        """The same weights for many combinations at once (sweeps): each combination's
        ``weights_on``, which never changes with the date, on every decision date."""
        out: dict[str, np.ndarray] = {}
        for k, combo in enumerate(combos):
            for ticker, weight in cls(**combo).weights_on(ctx).items():
                out.setdefault(ticker, np.zeros((len(combos), len(ctx.rebalance_dates))))[k] = weight
        return out
