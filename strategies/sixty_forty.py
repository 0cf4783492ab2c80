"""The classic 60/40 benchmark: stocks and intermediate Treasuries, rebalanced."""

from durationbt import Context, Param, Strategy
from durationbt.errors import ParameterError


class SixtyForty(Strategy):
    """60% stocks (SPY) and 40% intermediate Treasuries (IEF), rebalanced on the schedule.

    A benchmark, not a bet: it ignores the signal. Both tickers must be bucket members or
    the universe's benchmark. Written in the point-in-time form (``weights_on``): it is
    given data up to each decision date only, so it needs no lookahead replay."""

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
