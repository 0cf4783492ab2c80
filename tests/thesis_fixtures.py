"""A synthetic data folder with a planted regime effect, for the thesis tests: the 10-year
yield is a slow wave, so the signal (its `rates` component alone) passes through scarce and
abundant spells; PLANT earns 0.3% a day less than its noise on days that follow a scarce
close and 0.3% more after an abundant one (truth: -0.006 x 252 = -1.512 a year, scarce
minus abundant); PLACEBO is noise; bills earn a steady trickle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from durationbt.signals import build_signal
from durationbt.signals.inputs import SignalData
from durationbt.universe import SignalSettings

PLANTED_DAILY = 0.003
TRUTH = -2 * PLANTED_DAILY * 252          # scarce minus abundant, a year

UNIVERSE = """
description = "planted regime effect"
benchmark = "BENCH"
cash = "CASH"
start = 2013-06-03

[buckets.bills]
rank = 0
description = "cash-like"
tickers = ["CASH"]

[buckets.planted]
rank = 4
description = "falls behind when scarce, by construction"
tickers = ["PLANT"]

[buckets.placebo]
rank = 3
description = "noise"
tickers = ["PLACEBO"]

[signal]
components = ["rates"]

[thesis]
written = 2020-06-01
{adjust}

[[thesis.claims]]
id = "planted"
text = "The planted asset falls behind bills when capital is scarce"
kind = "regime_spread"
long = "planted"
short = "bills"
expect = "scarce < abundant"

[[thesis.claims]]
id = "planted_reversed"
text = "The planted asset does better when scarce (false by construction)"
kind = "regime_spread"
long = "planted"
short = "bills"
expect = "scarce > abundant"

[[thesis.claims]]
id = "placebo"
text = "The placebo falls behind when scarce (noise)"
kind = "regime_spread"
long = "placebo"
short = "CASH"
expect = "scarce < abundant"

[[thesis.claims]]
id = "yields_momentum"
text = "The yield keeps rising after the signal turns scarce"
kind = "outcome"
series = "^TNX"
horizon = 21
expect = "> 0"

[[thesis.claims]]
id = "orders_lead"
text = "Orders lead the yield"
kind = "outcome"
series = "^TNX"
driver = "orders"
horizon = 21
expect = "> 0"

[[thesis.claims]]
id = "signal_leads_plant"
text = "A scarcer signal comes before the planted asset falls behind"
kind = "lead"
long = "planted"
short = "bills"
horizons = [21, 63]
expect = "< 0"

[[thesis.series]]
name = "orders"
csv = "orders.csv"
column = "orders"
available_from = "published"

[[thesis.events]]
name = "first year"
start = 2014-01-02
end = 2014-12-31
"""


def planted_folder(root: Path, adjust: str = "") -> tuple[Path, Path]:
    """Write the data folder and the universe (with its orders.csv); return both paths."""
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    days = pd.bdate_range("2012-01-02", "2021-12-31")
    n = len(days)
    rng = np.random.default_rng(7)
    t = np.arange(n)
    tnx = pd.Series(3.0 + np.sin(2 * np.pi * t / 260) + np.cumsum(rng.normal(0, 0.01, n)),
                    index=days)
    signal = build_signal(SignalData(pd.DataFrame({"^TNX": tnx}), {}),
                          SignalSettings(components=("rates",)))
    acting = signal.regime.shift(1)
    effect = np.where(acting.eq("scarce"), -PLANTED_DAILY,
                      np.where(acting.eq("abundant"), PLANTED_DAILY, 0.0))
    series = {"^TNX": tnx,
              "CASH": 100 * np.cumprod(1 + rng.normal(1e-4, 5e-4, n)),
              "PLANT": 100 * np.cumprod(1 + rng.normal(2e-4, 0.006, n) + effect),
              "PLACEBO": 100 * np.cumprod(1 + rng.normal(2e-4, 0.01, n)),
              "BENCH": 100 * np.cumprod(1 + rng.normal(3e-4, 0.01, n))}
    for ticker, values in series.items():
        frame = pd.DataFrame({"Date": days.strftime("%Y-%m-%d"),
                              "Adj Close": np.asarray(values, dtype=float)})
        frame.to_csv(data / f"{ticker}.csv", index=False)
    quarters = pd.date_range("2012-03-31", "2021-09-30", freq="QE")
    orders = pd.DataFrame({"date": quarters.strftime("%Y-%m-%d"),
                           "published": (quarters + pd.Timedelta(days=45)).strftime("%Y-%m-%d"),
                           "orders": np.round(100 + np.cumsum(rng.normal(1, 3, len(quarters))), 3)})
    orders.to_csv(root / "orders.csv", index=False)
    universe = root / "planted.toml"
    universe.write_text(UNIVERSE.format(adjust=adjust))
    return data, universe
