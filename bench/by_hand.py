"""The script a user would write by hand instead of ``durationbt run``: read the same
CSVs, hold the default universe's members equal-weighted, rebalanced monthly with
vectorbt's ``from_orders`` (fees and slippage), and write a quantstats HTML tearsheet.
``make bench`` times it beside the real run, in the same invocation.

    .venv/bin/python bench/by_hand.py DATA_DIR OUT.html"""

import sys
from pathlib import Path

import pandas as pd
import quantstats as qs
import vectorbt as vbt

TICKERS = ["BIL", "SHV", "MU", "WDC", "STX", "SNDK", "IEI", "IEF", "TLT", "CRM", "NOW", "ADBE",
           "WDAY", "INTU", "ADSK", "BTC-USD", "ETH-USD"]


def main(data: Path, out: Path) -> None:
    frames = {t: pd.read_csv(data / f"{t}.csv", index_col="Date", parse_dates=True)["Adj Close"]
              for t in [*TICKERS, "SPY"]}
    prices = pd.DataFrame(frames).loc["2015-01-02":"2026-03-25"]
    prices = prices[prices["SPY"].notna()].ffill()
    close, bench = prices[TICKERS], prices["SPY"]
    month_end = close.index.to_series().groupby(close.index.to_period("M")).transform("max")
    rebalance = close.index == month_end.to_numpy()
    listed = close.notna()
    weights = listed.div(listed.sum(axis=1), axis=0).where(pd.Series(rebalance, close.index),
                                                          axis=0)
    pf = vbt.Portfolio.from_orders(close=close.bfill(), size=weights.shift(1),
                                   size_type="targetpercent", direction="longonly", fees=0.001,
                                   slippage=0.0005, init_cash=1_000_000, cash_sharing=True,
                                   group_by=True, call_seq="auto", freq="1D")
    returns = pf.value().pct_change().iloc[1:].rename("Strategy")
    qs.reports.html(returns, benchmark=bench.pct_change().iloc[1:].rename("SPY"),
                    output=str(out), title="equal weight by hand", periods_per_year=252,
                    figfmt="svg")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
