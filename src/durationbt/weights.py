"""Strategy output -> validated per-ticker target weights on the decision dates.

This is where a plugin's return value enters the system, so it is checked here: a
DataFrame, known columns, every decision date present, finite, >= 0 unless the strategy
sets ``allow_short = True``, each row within the run's gross and net limits
(``durationbt.book``: refused, never scaled), no short in the cash asset unless net
leverage is allowed, and no weight on a ticker without a price that day. Bucket weights,
negative ones too, are spread over the members that have a price on the decision date
(equal or inverse-volatility)."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .book import Book, resolve_book
from .errors import DurationbtError, ParameterError, StrategyError, did_you_mean
from .loading import plugin_file
from .sandbox import MAX_TIMEOUT, PluginTimeout, in_child, plugin_call, time_limit
from .strategy import Context, Strategy

__all__ = ["call_strategy", "guarded", "compute_weights", "resolve_target_weights",
           "validated_weights", "spread_weights", "tradable", "time_limit", "PluginTimeout",
           "bucket_shares", "grid_bucket_weights", "spread_grid", "call_grid", "check_cash_short",
           "WEIGHT_TOLERANCE", "VOL_WINDOW", "DEFAULT_TIMEOUT", "MAX_TIMEOUT", "check_timeout",
           "its_file"]

WEIGHT_TOLERANCE = 1e-9
DEFAULT_TIMEOUT = 600.0   # seconds one call of a plugin may take (--timeout)
VOL_WINDOW = 63  # trading days of returns behind inverse-volatility spreading


def _fail(strategy: Strategy | type[Strategy], problem: str) -> StrategyError:
    return StrategyError(f'Strategy "{strategy.name}" returned bad weights: {problem}'
                         + its_file(strategy))


def its_file(strategy: Strategy | type[Strategy]) -> str:
    """' Its file: PATH.' for a refusal ('' when the class has no file)."""
    path = plugin_file(strategy)
    return f" Its file: {path}." if path else ""


def _book(book: Book | None, strategy: Strategy | type[Strategy], ctx: Context) -> Book:
    return book if book is not None else resolve_book(None, ctx.universe, strategy)


def _check_rows(values: np.ndarray, dates: pd.DatetimeIndex, columns: Sequence[str],
                strategy: Strategy | type[Strategy], book: Book) -> None:
    """Signs and exposure limits of checked, finite weights (dates x columns)."""
    tol = WEIGHT_TOLERANCE
    lowest = values.min() if values.size else 0.0
    if not book.allow_short and lowest < -tol:
        row, col = np.argwhere(values < -tol)[0]
        raise _fail(strategy, f"{values[row, col]:.6g} for {columns[col]} on "
                    f"{dates[row].date()}; the strategy is long-only, so weights must be "
                    ">= 0. Set allow_short = True on its class to return shorts "
                    "(negative weights).")
    net = values.sum(axis=1)
    gross = net if lowest >= 0 else np.abs(values).sum(axis=1)   # equal when long only
    if (net > book.max_net + tol).any():
        row = int(np.argmax(net > book.max_net + tol))
        raise _fail(strategy, f"weights sum to {net[row]:.6g} on {dates[row].date()} "
                    f"(gross {gross[row]:.6g}); they must sum to at most {book.max_net:g} "
                    "(max_net; the rest is held as cash). Rows beyond a limit are refused, "
                    "never scaled: " + ("raise --max-net to lever the book." if book.max_net >= 1
                                        else "raise --max-net (a --max-gross below 1 lowers "
                                             "its default too)."))
    if (gross > book.max_gross + tol).any():
        row = int(np.argmax(gross > book.max_gross + tol))
        long = values[row][values[row] > 0].sum()
        raise _fail(strategy, f"gross exposure (sum of |w|) {gross[row]:.6g} on "
                    f"{dates[row].date()} (long {long:.6g}, short {long - net[row]:.6g}, net "
                    f"{net[row]:.6g}) is above max_gross {book.max_gross:g}. Rows beyond a "
                    "limit are refused, never scaled: raise --max-gross or size the legs "
                    "down.")


def _check_frame(raw: object, strategy: Strategy | type[Strategy], ctx: Context,
                 book: Book | None = None) -> pd.DataFrame:
    if not isinstance(raw, pd.DataFrame):
        raise _fail(strategy, f"expected a pandas DataFrame, got {type(raw).__name__}.")
    if strategy.weights_by == "bucket":
        known, kind = ctx.universe.bucket_names, "bucket"
    else:
        known, kind = tradable(ctx), "ticker"
    # positions by one hash lookup per column: a universe of thousands of tickers,
    # validated once per lookahead replay, must not cost columns x known comparisons
    columns = pd.Index(known)
    where = columns.get_indexer(raw.columns) if len(raw.columns) else np.empty(0, int)
    if (where < 0).any():
        column = raw.columns[int(np.argmax(where < 0))]
        raise _fail(strategy, f'unknown {kind} "{column}".' + did_you_mean(str(column), known)
                    + f" Known {kind}s: {', '.join(known)}.")
    if raw.columns.has_duplicates:
        twice = raw.columns[raw.columns.duplicated()][0]
        raise _fail(strategy, f'column "{twice}" appears more than once; give each {kind} one '
                    "column.")
    if not isinstance(raw.index, pd.DatetimeIndex):
        raise _fail(strategy, "the index must be dates (a DatetimeIndex).")
    missing = ctx.rebalance_dates.difference(raw.index)
    if len(missing):
        raise _fail(strategy, f"no row for decision date {missing[0].date()} "
                    f"({len(missing)} of {len(ctx.rebalance_dates)} decision dates missing).")
    if raw.index.has_duplicates:
        dup = raw.index[raw.index.duplicated()][0]
        raise _fail(strategy, f"date {dup.date()} appears more than once.")
    dates = ctx.rebalance_dates
    try:
        rows = raw if raw.index.equals(dates) else raw.iloc[raw.index.get_indexer(dates)]
        values = rows.to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise _fail(strategy, "weights must be numbers.") from None
    if not np.isfinite(values).all():
        row, col = np.argwhere(~np.isfinite(values))[0]
        raise _fail(strategy, f"{values[row, col]} for {raw.columns[col]} on "
                    f"{dates[row].date()}; weights must be finite numbers.")
    _check_rows(values, dates, raw.columns, strategy, _book(book, strategy, ctx))
    # columns the strategy left out hold nothing; tiny negatives within tolerance are zero
    # (a replay validates every decision date to its cut: each pass over them counts)
    if len(where) == len(known) and (where == np.arange(len(known))).all():
        out, ours = values, False            # may be the plugin's own array: copied below
    else:
        out, ours = np.zeros((len(dates), len(known))), True
        out[:, where] = values
    if out.size and out.min() < 0:
        out, ours = np.where((out < 0) & (out >= -WEIGHT_TOLERANCE), 0.0, out), True
    return pd.DataFrame(out, index=dates, columns=columns, copy=not ours)


def tradable(ctx: Context) -> tuple[str, ...]:
    """Bucket members plus the benchmark (so benchmarks such as 60/40 SPY/IEF can trade it)."""
    return tuple(dict.fromkeys([*ctx.universe.tickers, ctx.universe.benchmark]))


def bucket_shares(within_bucket: str, ctx: Context, dates: pd.DatetimeIndex) -> dict[str, pd.DataFrame]:
    """How each bucket's weight splits over its members on ``dates`` (dates x members,
    0 where a member has no price): equal over the priced members, or by inverse 63-day
    volatility. They depend on the context only, so a sweep computes them once for every
    combination."""
    listed = ctx.prices.loc[dates, list(tradable(ctx))].notna()
    if within_bucket == "inverse_vol":
        vol = ctx.returns[list(tradable(ctx))].rolling(VOL_WINDOW, min_periods=20).std().loc[dates]
    shares = {}
    for bucket in ctx.universe.buckets:
        members = list(bucket.tickers)
        live = listed[members]
        if within_bucket == "inverse_vol":
            inv = (1.0 / vol[members]).where(live & (vol[members] > 0))
            # members without enough history share like the rest: fall back to the mean
            inv = inv.apply(lambda row: row.fillna(row.mean()) if row.notna().any() else row,
                            axis=1).where(live)
            share = inv.div(inv.sum(axis=1), axis=0)
            share = share.where(share.notna(), live.div(live.sum(axis=1), axis=0))
        else:
            share = live.div(live.sum(axis=1), axis=0)
        shares[bucket.name] = share.fillna(0.0)
    return shares


def _spread(weights: pd.DataFrame, strategy: Strategy, ctx: Context) -> pd.DataFrame:
    out = pd.DataFrame(0.0, index=weights.index, columns=list(tradable(ctx)))  # benchmark: 0
    for bucket, share in bucket_shares(strategy.within_bucket, ctx, weights.index).items():
        out[list(share.columns)] = share.mul(weights[bucket], axis=0)
    return out


def grid_bucket_weights(raw: object, strategy: type[Strategy], ctx: Context,
                        n_combos: int, book: Book | None = None) -> np.ndarray:
    """The gate of ``_check_frame`` for a grid method's output (``{column: combos x
    decision dates}``), vectorised: combos x decision dates x known columns (buckets or
    tradable tickers), columns left out at 0, tiny negatives at 0. Errors name the
    combination's position in the batch."""
    if not isinstance(raw, Mapping):
        raise _fail(strategy, "target_weights_grid must return a dict of column -> array "
                    f"(combinations x decision dates), got {type(raw).__name__}.")
    if strategy.weights_by == "bucket":
        known, kind = ctx.universe.bucket_names, "bucket"
    else:
        known, kind = tradable(ctx), "ticker"
    shape = (n_combos, len(ctx.rebalance_dates))
    values = np.zeros((*shape, len(known)))
    for column, array in raw.items():
        if column not in known:
            raise _fail(strategy, f'unknown {kind} "{column}".' + did_you_mean(str(column), known)
                        + f" Known {kind}s: {', '.join(known)}.")
        try:
            array = np.asarray(array, dtype=float)
        except (TypeError, ValueError):
            raise _fail(strategy, f"weights for {column} must be numbers.") from None
        if array.shape != shape:
            raise _fail(strategy, f"target_weights_grid gave {column} the shape {array.shape}; "
                        f"expected {shape} (combinations x decision dates).")
        values[:, :, known.index(column)] = array
    book = _book(book, strategy, ctx)
    tol = WEIGHT_TOLERANCE
    bad = ~np.isfinite(values) | ((values < -tol) & (not book.allow_short))
    beyond = ((values.sum(axis=2) > book.max_net + tol)
              | (np.abs(values).sum(axis=2) > book.max_gross + tol))
    if bad.any() or beyond.any():
        combo = int(np.argwhere(bad.any(axis=(1, 2)) | beyond.any(axis=1))[0, 0])
        frame = pd.DataFrame(values[combo], index=ctx.rebalance_dates, columns=list(known))
        try:
            _check_frame(frame, strategy, ctx, book)
        except StrategyError as exc:
            raise StrategyError(f"{exc} (combination {combo + 1} of the batch)") from None
    return np.where((values < 0) & (values >= -tol), 0.0, values)


def spread_grid(values: np.ndarray, strategy: type[Strategy], ctx: Context,
                shares: dict[str, pd.DataFrame] | None) -> np.ndarray:
    """Checked grid weights (``grid_bucket_weights``) as ticker weights: combos x decision
    dates x tradable tickers, each bucket's weight times its members' shares (the same
    products as ``_spread``), or, for ticker weights, refused on a ticker without a price."""
    tickers = list(tradable(ctx))
    dates = ctx.rebalance_dates
    if strategy.weights_by == "bucket":
        shares = shares if shares is not None else bucket_shares(strategy.within_bucket, ctx, dates)
        out = np.zeros((values.shape[0], len(dates), len(tickers)))
        buckets = list(ctx.universe.bucket_names)
        for bucket, share in shares.items():
            columns = pd.Index(tickers).get_indexer(share.columns)
            out[:, :, columns] = share.to_numpy()[None] * values[:, :, buckets.index(bucket), None]
        return out
    unpriced = ctx.prices.loc[dates, tickers].isna().to_numpy()[None] & (values != 0)
    if unpriced.any():
        combo, row, col = np.argwhere(unpriced)[0]
        raise _fail(strategy, f"weight on {tickers[col]} on {dates[row].date()}, a day on which "
                    f"it has no price (not listed yet; combination {combo + 1} of the batch).")
    return values


def check_cash_short(weights: np.ndarray, strategy: Strategy | type[Strategy], ctx: Context,
                     book: Book) -> None:
    """A short in the cash asset is a loan: refused unless max_net above 1 allows net
    leverage (it then pays the cash return plus the financing spread, see ``book``).
    ``weights``: (combos x) decision dates x tradable tickers."""
    cash = ctx.universe.cash
    tickers = list(tradable(ctx))
    if cash is None or cash not in tickers or book.max_net > 1 + WEIGHT_TOLERANCE:
        return
    column = weights[..., tickers.index(cash)]
    if (column < -WEIGHT_TOLERANCE).any():
        where = np.argwhere(column < -WEIGHT_TOLERANCE)[0]
        raise _fail(strategy, f"{column[tuple(where)]:.6g} on {cash}, the universe's cash asset, "
                    f"on {ctx.rebalance_dates[where[-1]].date()}: a short in the cash asset is "
                    "borrowing, allowed only with net leverage (--max-net above 1, which "
                    "charges the cash return plus --financing-bps).")


def validated_weights(raw: object, strategy: Strategy | type[Strategy], ctx: Context,
                      book: Book | None = None) -> pd.DataFrame:
    """The plugin's output checked (signs and ``book``'s limits; None: the universe's
    ``[portfolio]`` and the strategy's defaults), in its own columns (decision date x
    every bucket, or x every tradable ticker; columns it left out hold 0), before bucket
    spreading and cash: what a run decided, which its timing attribution averages and
    re-times, and what the lookahead replay compares."""
    return _check_frame(raw, strategy, ctx, _book(book, strategy, ctx))


def resolve_target_weights(raw: object, strategy: Strategy, ctx: Context,
                           book: Book | None = None) -> pd.DataFrame:
    """Validated target weights: decision date x every universe ticker, within ``book``'s
    limits (None: the universe's ``[portfolio]`` and the strategy's defaults).

    A bucket weight on a date when none of its members has a price (none listed yet, or
    all their data ended) stays as cash."""
    book = _book(book, strategy, ctx)
    return spread_weights(_check_frame(raw, strategy, ctx, book), strategy, ctx, book)


def spread_weights(frame: pd.DataFrame, strategy: Strategy, ctx: Context,
                   book: Book | None = None) -> pd.DataFrame:
    """``validated_weights`` as ticker targets: bucket weights (negative ones too) spread
    over the members priced that day; ticker weights refused on a ticker without a price;
    a short in the cash asset refused unless ``book`` allows net leverage."""
    if strategy.weights_by == "bucket":
        frame = _spread(frame, strategy, ctx)
    else:
        tickers = list(tradable(ctx))
        unpriced = frame.ne(0) & ctx.prices.loc[frame.index, tickers].isna()
        if unpriced.to_numpy().any():
            row, col = np.argwhere(unpriced.to_numpy())[0]
            raise _fail(strategy, f"weight on {tickers[col]} on {frame.index[row].date()}, a day "
                        "on which it has no price (not listed yet).")
    check_cash_short(frame.to_numpy(), strategy, ctx, _book(book, strategy, ctx))
    return frame


def check_timeout(seconds: float) -> float:
    """``seconds`` if it is a usable time limit (positive, at most MAX_TIMEOUT), else a
    ParameterError naming ``--timeout``."""
    if not 0 < seconds <= MAX_TIMEOUT:   # also refuses NaN and inf
        raise ParameterError(f"--timeout must be a number of seconds above 0 and at most "
                             f"{MAX_TIMEOUT:,.0f} (a day), got {seconds:g}.")
    return seconds


def _raised(strategy: Strategy | type[Strategy], exc: BaseException,
            method: str = "") -> StrategyError:
    """A plugin's own exception as a StrategyError naming the line of its own file that
    failed (not a pandas internal) and the method it was in."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = plugin_file(strategy)
    frame = next((f for f in reversed(frames) if f.filename == own), frames[-1] if frames else None)
    where = f" ({frame.filename}, line {frame.lineno})" if frame is not None else ""
    during = f" in {method}" if method else ""
    return StrategyError(f'Strategy "{strategy.name}" raised {type(exc).__name__}: '
                         f"{_text(exc)}{where}{during}.")


def _text(exc: BaseException) -> str:
    """``str(exc)``, which is plugin code too: one that fails or returns junk is not the
    message."""
    try:
        text = str(exc)
    except BaseException:   # a __str__ that raises says nothing
        return "(its message could not be read)"
    return text if isinstance(text, str) else "(its message could not be read)"


def guarded(strategy: Strategy | type[Strategy], call: Callable[[], object],
             timeout: float | None, method: str) -> object:
    """Run one call into plugin code: stopped after ``timeout`` seconds; whatever it raises,
    ``sys.exit``, Ctrl-C and its own BaseException subclasses included, reported as a
    StrategyError naming the plugin. (A call that must not be able to escape, whatever it
    catches or breaks, runs in a child process: ``sandbox``.)"""
    try:
        with plugin_call(method, timeout):
            return call()
    except PluginTimeout:
        raise StrategyError(f'Strategy "{strategy.name}" did not return within {timeout:g} s '
                            f"from {method} and was stopped. If it is only slow, raise "
                            "--timeout.") from None
    except KeyboardInterrupt as exc:
        if not in_child():     # Ctrl-C; in a sandbox child only the plugin can raise it
            raise StrategyError(f'Interrupted while strategy "{strategy.name}" was running.') \
                from None
        raise _raised(strategy, exc, method) from exc
    except DurationbtError:
        raise
    except BaseException as exc:   # sys.exit, GeneratorExit, its own BaseException subclasses
        raise _raised(strategy, exc, method) from exc


def call_strategy(strategy: Strategy, ctx: Context,
                  timeout: float | None = DEFAULT_TIMEOUT) -> object:
    """The plugin's raw output, its failures named (see ``guarded``): the line of its own
    file that failed, not a pandas internal. It is handed a private copy of ``ctx``
    (``Context.private``): what it writes into the data stays in that call."""
    return guarded(strategy, lambda: strategy.target_weights(ctx.private()), timeout,
                    "target_weights")


def call_grid(strategy: type[Strategy], ctx: Context, combos: Sequence[dict[str, Any]],
              timeout: float | None = DEFAULT_TIMEOUT) -> object:
    """``strategy.target_weights_grid(ctx, combos)``, guarded as ``call_strategy`` is."""
    return guarded(strategy, lambda: strategy.target_weights_grid(ctx.private(), combos),
                    timeout, "target_weights_grid")


def compute_weights(strategy: Strategy, ctx: Context,
                    timeout: float | None = DEFAULT_TIMEOUT) -> pd.DataFrame:
    """Call the plugin and validate what it returns."""
    return resolve_target_weights(call_strategy(strategy, ctx, timeout), strategy, ctx)
