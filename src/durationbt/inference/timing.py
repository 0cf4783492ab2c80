"""Is the edge timing? A run of a strategy whose weights change is held against two
controls that share everything but the timing:

* its **static mix**: the run's own weights (by bucket, or by ticker for ticker
  strategies), each decision's weights standing until the next, averaged over the
  backtest's days, then held constant on the run's schedule, spread within buckets as the
  run spreads them and charged the run's costs. ``sharpe_minus_static`` is the run's Sharpe
  minus the mix's, with a paired stationary-bootstrap interval (the same resampled days for
  both, both in excess of the run's risk-free return);
* **re-timed placebos**: the run's own sequence of decisions, circularly shifted by a random
  offset and cut into blocks (of the regimes' mean spell, in decision rows; without a regime,
  the mean run of identical decisions) put in random order, each simulated by the sweep
  kernel with the run's costs. p = (1 + #placebo Sharpe >= the run's) / (n + 1).

"Timing adds value" only when both agree: the interval lies above 0 and p < 0.05. A strategy
that buys and holds, or whose weights never change, has no timing: ``untimed_reason`` says
why and ``timing_attribution`` refuses it rather than invent numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import DurationbtError
from .placebo import (
    DEFAULT_PLACEBOS,
    MIN_PLACEBOS,
    PlaceboTest,
    StaticMix,
    TimingAttribution,
    check_placebos,
    check_seed,
    mean_spell_days,
    retimed_orders,
    verdict,
)

if TYPE_CHECKING:
    from ..book import Book
    from ..pipeline import Backtest
    from ..session import Session

__all__ = ["timing_attribution", "untimed_reason", "attach_timing", "TimingAttribution", "StaticMix",
           "PlaceboTest", "TimingNotApplicable", "DEFAULT_PLACEBOS", "MIN_PLACEBOS",
           "BOOTSTRAP_REPLICATES", "BLOCK_DAYS", "check_placebos", "check_seed"]

BOOTSTRAP_REPLICATES = 2000
# the paired bootstrap's mean block: a month of trading days, as the sweep's bootstrap.
# Politis-White finds no serial dependence in the daily difference (1 day on the snapshot),
# and the interval barely moves from 5 to 68 days; arch's estimator would also import
# matplotlib (through arch.univariate) into every run
BLOCK_DAYS = 21.0
_TOLERANCE = 1e-9
_CHUNK_FLOATS = 4_000_000   # targets simulated per kernel call: combos x rows x assets


class TimingNotApplicable(DurationbtError):
    """The strategy has no timing to attribute (it buys and holds, or never changes)."""


def _executing(done: Backtest, calendar: pd.DatetimeIndex) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Execution rows of the run's decisions and the decision dates that trade (the
    kernel's ``execution_rows``, without importing the kernel for a strategy without
    timing)."""
    from ..engine import execution_schedule

    schedule = execution_schedule(calendar, pd.DatetimeIndex(done.targets.index))
    return (calendar.get_indexer(schedule.index).astype(np.int64),
            pd.DatetimeIndex(schedule.to_numpy()))


def _constant(decided: pd.DataFrame, priced: np.ndarray, by_bucket: bool) -> bool:
    """True when the decisions never change: bucket weights equal row to row; ticker
    weights equal up to members listing or ending (proportional on the tickers priced on
    both dates, with the same total), as an equal weight over what exists."""
    w = decided.to_numpy(dtype=float)
    if by_bucket:
        return bool(np.abs(np.diff(w, axis=0)).max(initial=0.0) <= _TOLERANCE)
    for i in range(1, len(w)):
        a, b = w[i - 1], w[i]
        if abs(a.sum() - b.sum()) > _TOLERANCE:
            return False
        common = priced[i - 1] & priced[i]
        sa, sb = a[common].sum(), b[common].sum()
        if sa > _TOLERANCE and sb > _TOLERANCE and (
                np.abs(a[common] / sa - b[common] / sb).max() > _TOLERANCE):
            return False
        if (sa > _TOLERANCE) != (sb > _TOLERANCE):
            return False
    return True


def untimed_reason(done: Backtest) -> str | None:
    """Why ``done`` has no timing to attribute (a sentence for ``metrics.json``'s
    ``timing_note``), or None when it has."""
    strategy = done.strategy
    if strategy.holds:
        return (f"{strategy.name} buys once and holds (holds = True): there is no timing to "
                "attribute, so no static mix or placebo is computed")
    if done.decided is None:
        return "the backtest did not keep the strategy's decided weights"
    calendar = pd.DatetimeIndex(done.result.equity.index)
    rows, dates = _executing(done, calendar)
    if len(rows) < 2:
        return "the run trades on fewer than two decision dates: there is no timing to attribute"
    decided = done.decided.loc[dates]
    priced = done.ctx.prices.reindex(columns=decided.columns).loc[dates].notna().to_numpy()
    if _constant(decided, priced, strategy.weights_by == "bucket"):
        kind = "bucket" if strategy.weights_by == "bucket" else "ticker"
        tail = "" if kind == "bucket" else " (apart from members listing or ending)"
        return (f"{strategy.name}'s {kind} weights never change{tail}: it is its own static "
                "mix, so there is no timing to attribute")
    return None


def _spread(done: Backtest, dates: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """How a row of decided weights meets the run's tickers on each date: each ticker's
    decided column (its bucket, or itself for a ticker strategy; -1 for none) and its share
    of that column's weight (dates x tickers: its bucket share among the priced members, as
    the run spreads them; 1 where a ticker strategy's ticker is priced)."""
    from ..weights import bucket_shares

    position = {ticker: k for k, ticker in enumerate(done.targets.columns)}
    columns = list(done.decided.columns)
    column = np.full(len(position), -1, dtype=np.int64)
    share = np.zeros((len(dates), len(position)))
    if done.strategy.weights_by == "bucket":
        shares = bucket_shares(done.strategy.within_bucket, done.ctx, dates)
        for b, bucket in enumerate(columns):
            members = [position[member] for member in shares[bucket].columns]
            column[members] = b
            share[:, members] = shares[bucket].to_numpy(dtype=float)
        return column, share
    members = [position[ticker] for ticker in columns]
    column[members] = np.arange(len(columns))
    share[:, members] = done.ctx.prices.reindex(columns=columns).loc[dates].notna().to_numpy()
    return column, share


def _chunks(run: np.ndarray, decided: np.ndarray, source: np.ndarray,
            spread: tuple[np.ndarray, np.ndarray], cash: int | None, cash_priced: np.ndarray):
    """The books' targets (books x rows x tickers) in chunks of at most _CHUNK_FLOATS
    weights, memory for one chunk whatever the placebos: first the run's own (``run``, rows
    x tickers), then one book per row of ``source``, whose row ``r`` holds the decided
    weights ``decided[source[p, r]]`` spread over that date's tickers, the uninvested
    weight placed in the cash ticker where it has a price (as ``RiskFree.hold_cash``; net
    leverage, a long/short book's sum above 1, borrows there). Each chunk is yielded in the
    same array, to be simulated before the next."""
    from .retimed import fill_targets

    column, share = spread
    # a bucket rotation decides a few distinct rows: each is spread and summed once per date
    distinct, which = np.unique(decided, axis=0, return_inverse=True)
    by_ticker = np.append(distinct, np.zeros((len(distinct), 1)), axis=1)[:, column]
    source = np.ascontiguousarray(which.reshape(-1)[source], dtype=np.int64)
    placed = np.full((len(distinct), len(run)), np.nan)
    books = 1 + len(source)
    per_call = min(books, max(1, _CHUNK_FLOATS // max(1, run.size)))
    out = np.empty((per_call, *run.shape))
    for lo in range(0, books, per_call):
        chunk = out[:min(books, lo + per_call) - lo]
        first = 1 if lo == 0 else 0
        if first:
            chunk[0] = run
        fill_targets(by_ticker, source[lo + first - 1:lo + len(chunk) - 1], share,
                     -1 if cash is None else cash, cash_priced, placed, chunk[first:])
        yield chunk


def _block_days(done: Backtest, calendar: pd.DatetimeIndex, decided: np.ndarray,
                rows: np.ndarray) -> tuple[float, str]:
    """The placebos' block length in days: the regimes' mean spell over the backtest; without
    a regime (no signal could be computed), the mean run of identical decisions."""
    signal = done.ctx.signal
    regime = None if signal is None else signal.regime.reindex(calendar)
    if regime is not None and regime.notna().any():
        return mean_spell_days(regime), "the regimes' mean spell"
    changed = np.r_[True, np.abs(np.diff(decided, axis=0)).max(axis=1) > _TOLERANCE]
    return (len(calendar) - rows[0]) / int(changed.sum()), "the mean run of identical decisions"


def _simulate(window: pd.DataFrame, chunks, rows: np.ndarray, session: Session,
              book: Book) -> np.ndarray:
    """Daily equity (books x days) of each chunk of target sets (books x rows x tickers;
    an array is one chunk) by the sweep kernel, with the run's borrow, financing and band
    (``book``), on prices prepared once for all of them."""
    from ..longshort import carry_rates
    from ..sweep.kernel import simulate_many
    from ..sweep.prepared import prepare_prices

    carry = carry_rates(list(window.columns), book, session.risk_free.cash_ticker)
    market = prepare_prices(window, rows)
    parts = [simulate_many(market, chunk, rows, costs=session.settings.costs,
                           init_cash=session.settings.init_cash, carry_rate=carry,
                           band=book.band)[0]
             for chunk in ([chunks] if isinstance(chunks, np.ndarray) else chunks)]
    return np.concatenate(parts)


def timing_attribution(done: Backtest, session: Session, *, placebos: int = DEFAULT_PLACEBOS,
                       seed: int = 0) -> TimingAttribution:
    """Is ``done``'s edge timing? Its static mix, the paired-bootstrap Sharpe difference to
    it and the re-timed placebo test, with a verdict.

    Inputs: ``done``, a ``pipeline.Backtest`` of a strategy whose weights change (its
    decided weights, targets, simulated equity, risk-free return and context); ``session``,
    the Session it ran on (prices, costs, capital, where uninvested weight goes);
    ``placebos``, the number of re-timed schedules (0: no placebo test, so timing is never
    credited; else at least 200); ``seed``, for the placebos and the bootstrap (same seed,
    same numbers). Raises TimingNotApplicable (with ``untimed_reason``'s sentence) for a
    strategy that buys and holds or never changes its weights."""
    from ..metrics import PERIODS_PER_YEAR, cagr, sharpe
    from . import sharpe_difference

    placebos, seed = check_placebos(placebos), check_seed(seed)
    reason = untimed_reason(done)
    if reason is not None:
        raise TimingNotApplicable(f"No timing attribution: {reason}.")
    tickers = list(done.targets.columns)
    window = session.window[tickers]
    calendar = pd.DatetimeIndex(window.index)
    rows, dates = _executing(done, calendar)
    decided = done.decided.loc[dates].to_numpy(dtype=float)
    spread = _spread(done, dates)
    cash_ticker = session.risk_free.cash_ticker
    cash = tickers.index(cash_ticker) if cash_ticker in tickers else None
    cash_priced = (done.ctx.prices[cash_ticker].loc[dates].notna().to_numpy() if cash is not None
                   else np.zeros(len(dates), dtype=bool))

    stands = np.diff(np.append(rows, len(calendar)))        # days each decision stands
    mix = (decided * stands[:, None]).sum(axis=0) / stands.sum()
    mix[np.abs(mix) < 1e-15] = 0.0
    rng = np.random.default_rng([seed, 23])
    block_days, block_source = _block_days(done, calendar, decided, rows)
    block_rows = max(1, round(block_days * len(rows) / (len(calendar) - 1)))
    orders = retimed_orders(len(rows), block_rows, placebos, rng)
    # the books' decided rows: 0 the static mix, 1 + i the run's decision i
    source = np.concatenate([np.zeros((1, len(rows)), dtype=np.int64), 1 + orders])
    chunks = _chunks(done.targets.loc[dates].to_numpy(dtype=float), np.vstack([mix, decided]),
                     source, spread, cash, cash_priced)
    equity = _simulate(window, chunks, rows, session, done.book)
    returns = equity[:, 1:] / equity[:, :-1] - 1.0
    rf = done.risk_free.reindex(calendar).to_numpy(dtype=float)
    sharpes = np.asarray(sharpe(returns.T, rf[1:], PERIODS_PER_YEAR), dtype=float)

    run_returns = done.result.equity.pct_change().to_numpy()[1:]
    estimate = sharpe_difference(run_returns, returns[1], rf[1:], mean_block=BLOCK_DAYS,
                                 n_boot=BOOTSTRAP_REPLICATES, seed=seed)
    static = StaticMix(weights=dict(zip(done.decided.columns, mix.tolist(), strict=True)),
                       sharpe=float(sharpes[1]), cagr=float(cagr(returns[1])),
                       equity=pd.Series(equity[1], index=calendar, name="static_mix"))
    placebo = None
    if placebos:
        actual = sharpes[0]
        beaten = int((sharpes[2:] >= actual - 1e-12).sum())
        band = np.quantile(equity[2:], [0.05, 0.5, 0.95], axis=0)
        placebo = PlaceboTest(
            n=placebos, p_value=(1 + beaten) / (placebos + 1), seed=seed,
            block_days=block_days, block_rows=block_rows, sharpes=sharpes[2:],
            band=pd.DataFrame(band.T, index=calendar,
                              columns=["placebo_p05", "placebo_p50", "placebo_p95"]),
            method=(f"{placebos} re-timed schedules: the run's {len(rows)} decisions circularly "
                    f"shifted by a random offset, cut into blocks of {block_rows} decision "
                    f"rows ({block_source}, {block_days:.0f} days) put in random "
                    "order, each simulated with the run's costs by the sweep kernel"))
    run_sharpe = float(sharpe(run_returns, rf[1:], PERIODS_PER_YEAR))
    text, adds = verdict(done.strategy.name, run_sharpe, static, estimate, placebo)
    return TimingAttribution(sharpe=run_sharpe, static_mix=static, sharpe_minus_static=estimate,
                             placebo=placebo, verdict=text, adds_value=adds,
                             equity=done.result.equity.rename("strategy"),
                             weights_by=done.strategy.weights_by)


def attach_timing(done: Backtest, session: Session) -> Backtest:
    """``done`` with its timing attribution (``session.settings``' placebos and seed):
    ``metrics["timing"]`` and ``done.timing``, or ``timing`` null and ``timing_note`` saying
    why for a strategy without timing."""
    from dataclasses import replace

    settings = session.settings
    reason = untimed_reason(done)
    if reason is not None:
        return replace(done, metrics={**done.metrics, "timing": None, "timing_note": reason})
    session.say(f"{done.strategy.name}: timing attribution (static mix, {settings.placebos} "
                "re-timed placebos)")
    found = timing_attribution(done, session, placebos=settings.placebos, seed=settings.seed)
    return replace(done, metrics={**done.metrics, "timing": found.to_json()}, timing=found)
