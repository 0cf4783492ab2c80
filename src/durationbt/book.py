"""Long/short books: the exposure limits the weights gate enforces and the carry the engine
charges, settled once per run from the CLI, the universe's ``[portfolio]`` table and the
strategy (in that order of precedence).

* gross = sum of |w|, net = sum of w, on a decision date's weights as the strategy returned
  them (before the idle weight 1 - net is placed in the cash asset). A row beyond a limit is
  refused, never scaled. Defaults: max_gross 2.0 for a strategy that sets
  ``allow_short = True``, else 1.0; max_net 1.0.
* borrow: each trading day cash pays ``borrow_bps / 1e4 / 252`` of the short positions'
  value at the previous close (the cash asset excepted: a short there is a loan).
* financing: net leverage (net > 1) is a loan in the cash asset (its weight 1 - net is
  negative); it pays the asset's return through the position plus ``financing_bps / 1e4 /
  252`` a day of the loan's value at the previous close."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .duration import day_blocks
from .errors import ParameterError

if TYPE_CHECKING:
    from .strategy import Strategy
    from .universe import Universe

__all__ = ["Book", "BookOptions", "resolve_book", "exposures", "EXPOSURE_COLUMNS",
           "DEFAULT_BORROW_BPS", "DEFAULT_FINANCING_BPS", "DEFAULT_MAX_NET", "SHORT_MAX_GROSS",
           "TRADING_DAYS"]

DEFAULT_BORROW_BPS = 50.0        # a year, on the short positions' value
DEFAULT_FINANCING_BPS = 100.0    # a year over the cash asset's return, on net leverage
DEFAULT_MAX_NET = 1.0
SHORT_MAX_GROSS = 2.0            # default max_gross of a strategy that allows shorts
TRADING_DAYS = 252


def _check(option: str, value: float | None, *, low: float, high: float,
           inclusive_low: bool = True) -> None:
    if value is None:
        return
    ok = (math.isfinite(value) and (value >= low if inclusive_low else value > low)
          and value <= high)
    if not ok:
        bound = "[" if inclusive_low else "("
        raise ParameterError(f"{option} must be a finite number in {bound}{low:g}, {high:g}], "
                             f"got {value}.")


@dataclass(frozen=True)
class BookOptions:
    """What the user asked for on the command line (None: the universe's or the default)."""

    max_gross: float | None = None
    max_net: float | None = None
    borrow_bps: float | None = None
    financing_bps: float | None = None
    band: float = 0.0     # rebalance band in weight units (see ``engine``): 0 trades every drift

    def __post_init__(self) -> None:
        _check("--max-gross", self.max_gross, low=0.0, high=100.0, inclusive_low=False)
        _check("--max-net", self.max_net, low=-100.0, high=100.0)
        _check("--borrow-bps", self.borrow_bps, low=0.0, high=10_000.0)
        _check("--financing-bps", self.financing_bps, low=0.0, high=10_000.0)
        _check("--band", self.band, low=0.0, high=1.0)


@dataclass(frozen=True)
class Book:
    """The settled limits and carry of one run (every field a number)."""

    max_gross: float = 1.0
    max_net: float = DEFAULT_MAX_NET
    borrow_bps: float = DEFAULT_BORROW_BPS
    financing_bps: float = DEFAULT_FINANCING_BPS
    allow_short: bool = False
    band: float = 0.0

    @property
    def borrow_rate(self) -> float:
        """The daily borrow fee as a fraction of the short value."""
        return self.borrow_bps / 10_000 / TRADING_DAYS

    @property
    def financing_rate(self) -> float:
        """The daily financing spread as a fraction of the loan's value."""
        return self.financing_bps / 10_000 / TRADING_DAYS

    def record(self) -> dict[str, float | bool]:
        """What manifests and ``metrics.json`` record."""
        return {"allow_short": self.allow_short, "max_gross": self.max_gross,
                "max_net": self.max_net, "borrow_bps": self.borrow_bps,
                "financing_bps": self.financing_bps, "band": self.band}


def resolve_book(options: BookOptions | None, universe: Universe | None,
                 strategy: Strategy | type[Strategy] | None) -> Book:
    """The run's Book: a CLI option wins over the universe's ``[portfolio]`` value, which
    wins over the default (max_gross 2.0 for a strategy with ``allow_short``, else 1.0).
    A max_net above max_gross is refused, naming where each came from."""
    options = options or BookOptions()
    table = universe.portfolio if universe is not None else None
    allow_short = bool(getattr(strategy, "allow_short", False))
    settled: dict[str, float] = {}
    source: dict[str, str] = {}
    defaults = {"max_gross": SHORT_MAX_GROSS if allow_short else 1.0,
                "max_net": DEFAULT_MAX_NET, "borrow_bps": DEFAULT_BORROW_BPS,
                "financing_bps": DEFAULT_FINANCING_BPS}
    for key, default in defaults.items():
        given = getattr(options, key)
        from_file = getattr(table, key, None) if table is not None else None
        if given is not None:
            settled[key], source[key] = float(given), f"--{key.replace('_', '-')}"
        elif from_file is not None:
            settled[key], source[key] = float(from_file), f"[portfolio] {key} of {universe.name}"
        else:
            settled[key], source[key] = default, "the default"
    if source["max_net"] == "the default":     # a default never contradicts a given gross
        settled["max_net"] = min(settled["max_net"], settled["max_gross"])
    if settled["max_net"] > settled["max_gross"] + 1e-12:
        raise ParameterError(
            f"max_net {settled['max_net']:g} ({source['max_net']}) is above max_gross "
            f"{settled['max_gross']:g} ({source['max_gross']}): the net exposure can never "
            "exceed the gross; lower max_net or raise max_gross.")
    return Book(allow_short=allow_short, band=options.band, **settled)


EXPOSURE_COLUMNS = ("long", "short", "gross", "net")


def exposures(weights: pd.DataFrame, cash_ticker: str | None) -> pd.DataFrame:
    """Daily long, short (as a positive number), gross and net exposure of end-of-day
    weights, the cash asset left out (it is where idle capital and the leverage loan sit,
    not a position taken)."""
    found = _signed_sums(weights, cash_ticker)
    if found is None:
        risky = weights.drop(columns=[cash_ticker], errors="ignore") if cash_ticker else weights
        long = risky.clip(lower=0.0).sum(axis=1)
        short = -risky.clip(upper=0.0).sum(axis=1)
    else:
        long, short = (pd.Series(v, index=weights.index) for v in found)
        short = -short
    frame = {"long": long, "short": short, "gross": long + short, "net": long - short}
    return pd.DataFrame(frame, columns=list(EXPOSURE_COLUMNS))


#: days per block of ``_signed_sums``: bounds its memory at a few arrays of _DAYS x tickers
_DAYS = 256


def _signed_sums(weights: pd.DataFrame,
                 cash_ticker: str | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Each day's sum of the positive and of the negative weights but cash's, as pandas'
    ``clip(...).sum(axis=1)`` gives them bit for bit, a block of days at a time instead of
    several days x tickers frames. A one-block float frame of 6 days or more whose days
    lie in memory as rows and holds no NaN is summed by pandas along each day's row
    (numpy's pairwise sum), as here; any other layout (pandas copies a frame with a NaN
    and adds its columns one by one) goes through pandas (None)."""
    blocks = weights._mgr.blocks
    values = weights.to_numpy() if len(blocks) == 1 else None
    if (values is None or values.dtype != np.float64 or not values.flags.c_contiguous
            or len(weights) < 6 or not weights.columns.is_unique):
        return None
    at = weights.columns.get_indexer([cash_ticker]) if cash_ticker else np.array([-1])
    last = values.shape[1] - 1
    columns = (slice(None) if at[0] < 0 else slice(1, None) if at[0] == 0 else
               slice(0, last) if at[0] == last else np.delete(np.arange(last + 1), at[0]))
    if values.shape[1] == (at[0] >= 0):     # nothing but cash
        return None
    long, short = np.empty(len(weights)), np.empty(len(weights))
    for days in day_blocks(0, len(weights), _DAYS):
        block = values[days][:, columns]
        if np.isnan(block).any():
            return None
        long[days] = np.where(block >= 0.0, block, 0.0).sum(axis=1)
        short[days] = np.where(block <= 0.0, block, 0.0).sum(axis=1)
    return long, short
