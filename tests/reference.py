"""An independent share-based simulation of the engine's conventions, in plain numpy, to
cross-check vectorbt. It shares no code with durationbt.engine."""

from __future__ import annotations

import numpy as np
import pandas as pd


def simulate_shares(close: pd.DataFrame, executed: pd.DataFrame, fees: float = 0.0,
                    slippage: float = 0.0, init_cash: float = 1_000_000.0,
                    exact_post_fee: bool = False, cash_asset: str | None = None,
                    borrow: float = 0.0, financing: float = 0.0, band: float = 0.0) -> pd.Series:
    """Equity at each close. ``executed`` holds target weights on the days they trade.

    Default convention (durationbt's): an asset whose prices end is held at its last price
    and sold at the next execution; targets are fractions of the pre-trade value; sells
    first, then buys from the smallest to the largest order value, each trimmed to the cash
    left. The weight an execution still targets in a delisted asset goes to the
    ``cash_asset`` column when it has a price that day (else it stays as cash). With
    ``exact_post_fee`` the post-trade holdings are exactly ``w * V_after`` where
    ``V_after`` is the value left after paying this rebalance's costs (found by fixed point).

    Long/short: a negative weight is a short (a sale adds its proceeds to cash, a cover is a
    buy trimmed to the cash left, never below zero). Each day before trading, cash pays
    ``borrow`` (a daily rate) of every short's value at the previous close, ``financing``
    instead for a short in ``cash_asset``. ``band``: an asset whose weight at the
    execution's close is within ``band`` of its target is not traded.
    """
    prices = close.to_numpy(dtype=float)
    # after an asset's last price (delisted, stale feed) it is worth that price until sold
    valuation = close.ffill().bfill().fillna(1.0).to_numpy(dtype=float)
    last_row = np.array([close.index.get_loc(close[c].last_valid_index())
                         if close[c].notna().any() else -1 for c in close.columns])
    cash = init_cash
    shares = np.zeros(prices.shape[1])
    equity = np.empty(len(close))
    exec_rows = {close.index.get_loc(d): executed.loc[d].to_numpy(dtype=float)
                 for d in executed.index}
    rate = np.array([financing if c == cash_asset else borrow for c in close.columns])
    for i in range(len(close)):
        p = valuation[i]
        if i > 0:
            for j in range(len(shares)):
                if shares[j] < 0:
                    cash -= rate[j] * -shares[j] * valuation[i - 1, j]
        if i in exec_rows:
            gone = (last_row >= 0) & (i > last_row)
            w = np.where(gone, 0.0, exec_rows[i])       # a delisted asset is sold
            if cash_asset is not None and not np.isnan(prices[i, close.columns.get_loc(cash_asset)]):
                w[close.columns.get_loc(cash_asset)] += np.where(gone, exec_rows[i], 0.0).sum()
            live = ~np.isnan(prices[i]) | gone
            value = cash + float(np.sum(shares * p))
            if exact_post_fee:
                after = value
                for _ in range(200):
                    delta = np.where(live, w * after / p - shares, 0.0)
                    buy_cost = np.sum(np.where(delta > 0, delta * p * (1 + slippage) * (1 + fees), 0.0))
                    sell_gain = np.sum(np.where(delta < 0, -delta * p * (1 - slippage) * (1 - fees), 0.0))
                    new_after = cash - buy_cost + sell_gain + float(np.sum((shares + delta) * p))
                    if abs(new_after - after) < 1e-12 * value:
                        break
                    after = new_after
                delta = np.where(live, w * after / p - shares, 0.0)
                order = np.argsort(np.where(live, w * after - shares * p, np.nan), kind="stable")
            else:
                delta = np.where(live, w * value / p - shares, 0.0)
                if band > 0:    # within the band of its target: not traded
                    delta = np.where((np.abs(shares * p / value - w) <= band) & ~gone, 0.0, delta)
                # ascending approximate order value, ties in column order (vectorbt's
                # insertion sort), columns without a price last
                order = np.argsort(np.where(live, w * value - shares * p, np.nan), kind="stable")
            for j in order:
                d = delta[j]
                if d < 0:
                    cash += -d * p[j] * (1 - slippage) * (1 - fees)
                    shares[j] += d
                elif d > 0:
                    unit = p[j] * (1 + slippage) * (1 + fees)
                    if d * unit > cash:
                        d = max(cash, 0.0) / unit
                    cash -= d * unit
                    shares[j] += d
        equity[i] = cash + float(np.sum(shares * p))
    return pd.Series(equity, index=close.index, name="equity")


def order_rows(holdings: np.ndarray, rows: np.ndarray, valuation: pd.DataFrame,
               costs) -> pd.DataFrame:
    """The long/short order log by a plain loop over the trades (what
    ``longshort.fills`` did before it was vectorised): a buy or cover fills at close x
    (1 + slippage), a sell or short at close x (1 - slippage), fees on the fill; a trade
    through zero is two rows, the closing part first."""
    before = np.vstack([np.zeros((1, holdings.shape[1])), holdings[:-1]])
    change = holdings - before
    out: list[tuple] = []
    close = valuation.to_numpy()
    for r, j in zip(*np.nonzero(change), strict=True):
        q, was = change[r, j], before[r, j]
        price = close[rows[r], j]
        fill = price * (1 + costs.slippage if q > 0 else 1 - costs.slippage)
        if q > 0:
            first = min(q, max(-was, 0.0))
            parts = (("cover", first), ("buy", q - first))
        else:
            first = min(-q, max(was, 0.0))
            parts = (("sell", first), ("short", -q - first))
        for side, quantity in parts:
            if quantity > 0:
                out.append((valuation.index[rows[r]], valuation.columns[j], side, quantity, fill,
                            quantity * fill, quantity * fill * costs.fees,
                            abs(fill - price) * quantity))
    frame = pd.DataFrame(out, columns=["date", "ticker", "side", "quantity", "price", "notional",
                                       "fees", "slippage"])
    return frame.sort_values(["date"], kind="stable").reset_index(drop=True)
