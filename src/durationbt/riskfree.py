"""The risk-free return every score is measured against, and where uninvested weight goes.

Two separate choices. ``--risk-free`` is a scoring option: Sharpe, Sortino, PSR/DSR, regime
and sweep scores are computed on daily returns in excess of the risk-free return, so a
strategy that only holds T-bills scores about 0, not 8. By default it is the daily total
return (adjusted close to adjusted close) of the universe's cash instrument (``cash = "BIL"``
in the universe file); ``--risk-free 0`` scores against zero and ``--risk-free TICKER``
against any ticker of the universe. It never moves money. ``--cash`` decides where weight a
strategy leaves uninvested is held: in the universe's cash asset (``risk-free``, the
default, so cash earns what bills earn) or as cash earning nothing (``zero``).

A risk-free instrument without a price on some days of the backtest (a cash asset that
lists after the start, such as SGOV in 2020) has no return there. Those days take the
3-month Treasury bill yield ``^IRX`` as a daily return, (1 + IRX/100)^(1/252) - 1 of the
previous close's level, named in the run's notes and in ``metrics.json``'s conventions;
without ``^IRX`` in the data the run is refused, naming the instrument and its dates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import DataError, ParameterError, did_you_mean

if TYPE_CHECKING:  # the CLI reads this module's choices and help: keep it light to import
    import pandas as pd

    from .universe import Universe

__all__ = ["RiskFree", "resolve_risk_free", "bill_returns", "refuse_leverage", "CASH_CHOICES",
           "RISK_FREE_HELP", "CASH_HELP", "DEFAULT_RISK_FREE", "DEFAULT_CASH", "BILL_YIELD",
           "BILL_FORMULA"]

CASH_CHOICES = ("risk-free", "zero")
DEFAULT_RISK_FREE = "bills"
DEFAULT_CASH = "risk-free"
BILL_YIELD = "^IRX"       # 13-week Treasury bill yield, a level in percent
BILL_FORMULA = "(1 + IRX/100)^(1/252) - 1 of the previous close's level"
RISK_FREE_HELP = ("Risk-free return that Sharpe, Sortino, PSR/DSR and regime scores are in "
                  "excess of (scores only: it never changes the portfolio): bills (the "
                  "universe's cash asset's daily total return), 0, or a ticker of the universe.")
CASH_HELP = ("Uninvested weight: risk-free (held in the universe's cash asset, so it earns "
             "the bill return) or zero (idle cash earning nothing).")


def bill_returns(inputs: pd.DataFrame | None, index: pd.DatetimeIndex) -> pd.Series | None:
    """The daily return of holding 3-month bills on ``index``'s days: the ``^IRX`` level of
    the previous day, in percent a year, as (1 + y/100)^(1/252) - 1. None when the inputs
    hold no ``^IRX``; NaN on a day without the previous day's level (the first included)."""
    from .metrics import PERIODS_PER_YEAR

    if inputs is None or BILL_YIELD not in inputs.columns or inputs[BILL_YIELD].isna().all():
        return None
    level = inputs[BILL_YIELD].reindex(index).shift(1)
    return ((1.0 + level / 100.0) ** (1.0 / PERIODS_PER_YEAR) - 1.0).rename("risk_free")


def _spans(mask: pd.Series) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Consecutive runs of True in ``mask`` as (first day, last day)."""
    ids = mask.ne(mask.shift()).cumsum()[mask]
    return [(days.index[0], days.index[-1]) for _, days in ids.groupby(ids)]


def _priced(series: pd.Series) -> str:
    """'run from A to B' for the days ``series`` has a price."""
    days = series.dropna().index
    return f"run from {days[0].date()} to {days[-1].date()}" if len(days) else "are absent"


def _describe(spans: list[tuple[pd.Timestamp, pd.Timestamp]]) -> str:
    return ", ".join(str(a.date()) if a == b else f"{a.date()} to {b.date()}" for a, b in spans)


@dataclass(frozen=True)
class RiskFree:
    """The conventions of a run. ``ticker`` is the instrument whose daily total return is
    the risk-free return (None: rf = 0), used for scores only. ``cash_asset`` is the
    universe's cash asset and ``cash`` says whether uninvested weight is held in it
    (``risk-free``) or sits in cash earning nothing (``zero``)."""

    spec: str
    ticker: str | None
    cash: str = DEFAULT_CASH
    cash_asset: str | None = None

    @property
    def cash_ticker(self) -> str | None:
        """Where uninvested weight is held, or None when it stays as zero-return cash: the
        universe's cash asset under ``--cash risk-free``, whatever ``--risk-free`` says."""
        return self.cash_asset if self.cash == "risk-free" else None

    def hold_cash(self, targets: pd.DataFrame, prices: pd.DataFrame) -> pd.DataFrame:
        """Validated targets with each row's uninvested weight (1 - sum) added to the cash
        asset on decision dates when it has a price; unchanged under ``--cash zero``. A
        separate step after validation, so the plugin's own weights stay what it returned."""
        ticker = self.cash_ticker
        residual = 1.0 - targets.sum(axis=1)
        if ticker is None or ticker not in targets.columns:
            refuse_leverage(residual, None)
            return targets
        priced = prices[ticker].reindex(targets.index).notna()
        refuse_leverage(residual.where(~priced, 0.0), ticker)
        out = targets.copy()
        # net leverage (sum > 1, beyond the gate's tolerance) borrows in the cash asset:
        # its weight goes negative
        placed = priced & ((residual > 1e-12) | (residual < -1e-9))
        out[ticker] = out[ticker] + residual.where(placed, 0.0)
        return out

    def _missing(self, prices: pd.DataFrame) -> pd.Series:
        """Days after the first on which the instrument has no daily return."""
        daily = prices[self.ticker].pct_change(fill_method=None)
        return daily.isna() & (daily.index > daily.index[0])

    def returns(self, prices: pd.DataFrame, inputs: pd.DataFrame | None = None) -> pd.Series:
        """Daily risk-free return on ``prices``' days (0 on the first day). Days on which
        the instrument has no return (before its listing, after its data end) take the
        bill yield ``^IRX`` from ``inputs`` (``bill_returns``); a DataError naming the
        instrument, its dates and what to do when there is none."""
        import pandas as pd

        if self.ticker is None:
            return pd.Series(0.0, index=prices.index, name="risk_free")
        daily = prices[self.ticker].pct_change(fill_method=None)
        daily.iloc[0] = 0.0
        missing = self._missing(prices)
        if missing.any():
            bills = bill_returns(inputs, pd.DatetimeIndex(prices.index))
            uncovered = missing if bills is None else missing & bills.isna()
            if uncovered.any():
                raise self._refusal(prices, missing, bills is None, uncovered)
            daily = daily.where(~missing, bills)
        return daily.rename("risk_free")

    def _refusal(self, prices: pd.DataFrame, missing: pd.Series, no_yield: bool,
                 uncovered: pd.Series) -> DataError:
        priced = prices[self.ticker].dropna()
        listed = (f"has prices only from {priced.index[0].date()} to {priced.index[-1].date()}"
                  if len(priced) else "has no price in the backtest")
        gap = (f"the data hold no {BILL_YIELD} (3-month Treasury bill yield) to stand in for it"
               if no_yield else f"{BILL_YIELD}, which stands in for it, has no level for "
               f"{_describe(_spans(uncovered))}")
        remedies = [f"pass --risk-free 0 or another ticker, or add {BILL_YIELD}.csv (its daily "
                    "level in percent) to the data folder"]
        if len(priced) > 1:
            remedies.insert(0, f"run from {priced.index[0].date()} to {priced.index[-1].date()} "
                               "at most (--start, --end)")
        return DataError(
            f"The risk-free instrument {self.ticker} (--risk-free {self.spec}) {listed}, so it "
            f"has no daily return on {int(missing.sum())} days of the backtest "
            f"({_describe(_spans(missing))}), and {gap}. To score this run, "
            + "; or ".join(remedies) + ".")

    def notes(self, prices: pd.DataFrame, inputs: pd.DataFrame | None = None) -> list[str]:
        """What a reader must know about the risk-free return and the idle weight over
        ``prices``' days: days on which ``^IRX`` stood in for the instrument, and days on
        which the cash asset has no price (uninvested weight stays as zero-return cash)."""
        out = []
        if self.ticker is not None:
            missing = self._missing(prices)
            if missing.any():
                out.append(f"risk-free: {self.ticker}'s prices {_priced(prices[self.ticker])}, "
                           f"so on {int(missing.sum()):,} days ({_describe(_spans(missing))}) "
                           "it has no daily return and the 3-month Treasury bill yield "
                           f"{BILL_YIELD} stands in: {BILL_FORMULA}")
        ticker = self.cash_ticker
        if ticker is not None and ticker in prices.columns and prices[ticker].isna().any():
            unpriced = prices[ticker].isna()
            out.append(f"uninvested weight decided on days the cash asset {ticker} has no price "
                       f"({_describe(_spans(unpriced))}; its prices "
                       f"{_priced(prices[ticker])}) is held as cash earning nothing until a "
                       f"decision on which {ticker} is priced")
        return out

    def conventions(self, prices: pd.DataFrame | None = None,
                    inputs: pd.DataFrame | None = None) -> dict[str, object]:
        """What ``metrics.json`` records under ``conventions``; with the backtest's
        ``prices``, also the days ``^IRX`` stood in for the instrument (only when it did)."""
        held = "cash earning nothing"
        if self.cash_ticker:
            held = f"held in {self.cash_ticker}"
            if prices is not None and prices[self.cash_ticker].isna().any():
                unpriced = prices[self.cash_ticker].isna()
                held += (f" (cash earning nothing when decided on "
                         f"{_describe(_spans(unpriced))}: no price)")
        out: dict[str, object] = {"risk_free": self.spec, "risk_free_ticker": self.ticker,
                                  "uninvested_weight": held}
        if self.ticker is not None and prices is not None:
            missing = self._missing(prices)
            if missing.any():
                out["risk_free_fallback"] = {
                    "source": BILL_YIELD, "formula": BILL_FORMULA, "days": int(missing.sum()),
                    "dates": _describe(_spans(missing))}
        return out


def refuse_leverage(residual: pd.Series, ticker: str | None) -> None:
    """Net leverage (weights summing above 1) is a loan in the cash asset: refused when
    there is none to borrow in (``--cash zero``, no cash asset, or it has no price yet)."""
    from .errors import EngineError

    short = residual < -1e-9
    if short.any():
        day = residual.index[short.to_numpy().argmax()]
        where = (f"the cash asset {ticker} has no price on {day.date()}" if ticker
                 else "uninvested weight is not held in a cash asset (--cash zero or no cash "
                      "asset in the universe)")
        raise EngineError(f"The weights sum to {1 - residual.loc[day]:.6g} on {day.date()}: "
                          "net leverage is a loan in the cash asset, but " + where + ".")


def resolve_risk_free(spec: str, cash: str, universe: Universe) -> RiskFree:
    """``--risk-free`` (``bills``, ``0`` or a ticker of the universe) and ``--cash`` as a
    RiskFree, or a ParameterError naming the option and the choices. Idle weight goes to
    the universe's cash asset (or nowhere, without one) whatever ``--risk-free`` says."""
    if cash not in CASH_CHOICES:
        raise ParameterError(f'--cash "{cash}" is not a choice; use {" or ".join(CASH_CHOICES)}.')
    text = str(spec).strip()
    if text in ("0", "0.0", "zero", "none"):
        return RiskFree("0", None, cash, universe.cash)
    priced = tuple(dict.fromkeys([*universe.tickers, universe.benchmark]))
    if text.lower() == "bills":
        if universe.cash is None:
            raise ParameterError(f'Universe "{universe.name}" names no cash asset, so '
                                 '--risk-free bills has no instrument; add cash = "TICKER" to '
                                 "the universe file or pass --risk-free 0 or a ticker.")
        return RiskFree("bills", universe.cash, cash, universe.cash)
    if text in priced:
        return RiskFree(text, text, cash, universe.cash)
    raise ParameterError(f'--risk-free "{text}" is neither bills, 0 nor a ticker of universe '
                         f'"{universe.name}".' + did_you_mean(text, priced)
                         + f" Tickers: {', '.join(priced)}.")
