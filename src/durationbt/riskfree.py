"""The risk-free return every score is measured against, and where uninvested weight goes.

Sharpe, Sortino, PSR/DSR, regime and sweep scores are computed on daily returns in excess
of the risk-free return, so a strategy that only holds T-bills scores about 0, not 8. By
default the risk-free return is the daily total return (adjusted close to adjusted close)
of the universe's cash instrument (``cash = "BIL"`` in the universe file), and weight a
strategy leaves uninvested is held in that instrument, so cash earns what the scores
charge for it. ``--risk-free 0`` and ``--cash zero`` restore the old conventions (rf = 0,
idle cash earns nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import ParameterError, did_you_mean

if TYPE_CHECKING:  # the CLI reads this module's choices and help: keep it light to import
    import pandas as pd

    from .universe import Universe

__all__ = ["RiskFree", "resolve_risk_free", "refuse_leverage", "CASH_CHOICES", "RISK_FREE_HELP", "CASH_HELP",
           "DEFAULT_RISK_FREE", "DEFAULT_CASH"]

CASH_CHOICES = ("risk-free", "zero")
DEFAULT_RISK_FREE = "bills"
DEFAULT_CASH = "risk-free"
RISK_FREE_HELP = ("Risk-free return that Sharpe, Sortino, PSR/DSR and regime scores are in "
                  "excess of: bills (the universe's cash asset's daily total return), 0, or a "
                  "ticker of the universe.")
CASH_HELP = ("Uninvested weight: risk-free (held in the risk-free ticker, so it earns its "
             "return) or zero (idle cash earning nothing).")


@dataclass(frozen=True)
class RiskFree:
    """The scoring convention of a run: ``ticker`` is the instrument whose daily total
    return is the risk-free return (None: rf = 0); ``cash`` says whether uninvested weight
    is held in it (``risk-free``) or sits in cash earning nothing (``zero``)."""

    spec: str
    ticker: str | None
    cash: str = DEFAULT_CASH

    @property
    def cash_ticker(self) -> str | None:
        """Where uninvested weight is held, or None when it stays as zero-return cash."""
        return self.ticker if self.cash == "risk-free" else None

    def returns(self, prices: pd.DataFrame) -> pd.Series:
        """Daily risk-free return on ``prices``' days (0 on the first day, and on days
        before the instrument has a price)."""
        import pandas as pd

        if self.ticker is None:
            return pd.Series(0.0, index=prices.index, name="risk_free")
        series = prices[self.ticker]
        daily = series.pct_change(fill_method=None).fillna(0.0)
        return daily.rename("risk_free")

    def hold_cash(self, targets: pd.DataFrame, prices: pd.DataFrame) -> pd.DataFrame:
        """Validated targets with each row's uninvested weight (1 - sum) added to the cash
        ticker on decision dates when it has a price; unchanged under ``--cash zero``. A
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

    def conventions(self) -> dict[str, object]:
        """What ``metrics.json`` records under ``conventions``."""
        return {"risk_free": self.spec, "risk_free_ticker": self.ticker,
                "uninvested_weight": (f"held in {self.cash_ticker}" if self.cash_ticker
                                      else "cash earning nothing")}


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
    RiskFree, or a ParameterError naming the option and the choices."""
    if cash not in CASH_CHOICES:
        raise ParameterError(f'--cash "{cash}" is not a choice; use {" or ".join(CASH_CHOICES)}.')
    text = str(spec).strip()
    if text in ("0", "0.0", "zero", "none"):
        return RiskFree("0", None, cash)
    priced = tuple(dict.fromkeys([*universe.tickers, universe.benchmark]))
    if text.lower() == "bills":
        if universe.cash is None:
            raise ParameterError(f'Universe "{universe.name}" names no cash asset, so '
                                 '--risk-free bills has no instrument; add cash = "TICKER" to '
                                 "the universe file or pass --risk-free 0 or a ticker.")
        return RiskFree("bills", universe.cash, cash)
    if text in priced:
        return RiskFree(text, text, cash)
    raise ParameterError(f'--risk-free "{text}" is neither bills, 0 nor a ticker of universe '
                         f'"{universe.name}".' + did_you_mean(text, priced)
                         + f" Tickers: {', '.join(priced)}.")

