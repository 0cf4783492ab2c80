"""One strategy's plugin code for one command, in a child process of its own (``sandbox``):
the import of its file, the call on the full data and every lookahead replay. The command's
process gets plain numbers back: the weights, checked again here before anything is
simulated, and the replay's report. What the plugin does to its data, its interpreter or
its process stays in the child, which is killed when the command is done with it (or when
a call runs past ``--timeout``)."""

from __future__ import annotations

import contextlib
import io
import sys
import time
from typing import Any

import numpy as np
import pandas as pd

from .book import Book
from .errors import StrategyError
from .loading import plugin_file
from .lookahead import LookaheadProbe, LookaheadReport, LookaheadSettings
from .plugins import IMPORT_TIMEOUT, real_class
from .sandbox import Child, plugin_call
from .shipping import Shared
from .strategy import Context, Strategy
from .weights import DEFAULT_TIMEOUT, call_strategy, guarded, tradable, validated_weights

__all__ = ["StrategyProcess", "Weights"]


class Weights:
    """A strategy's output on the full data as the child validated it: decision dates x
    every known column (``weights.validated_weights``), to be validated again here
    before it is spread and traded; and how long its call took."""

    def __init__(self, frame: pd.DataFrame, seconds: float) -> None:
        self.frame = frame
        self.seconds = seconds


class StrategyProcess:
    """The child process that runs ``strategy``'s code for a command. It is forked at once
    and starts importing the plugin's file while the command loads its data (fork it
    before starting threads: a child forked while another thread imports a module could
    wait for that import forever)."""

    def __init__(self, strategy: Strategy, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.strategy = strategy
        self.child = Child(f'Strategy "{strategy.name}"', timeout, state=strategy,
                           source=plugin_file(strategy))
        self.child.submit(_load, timeout)
        self._loading = True

    def weights(self, ctx: Context | Shared, lookahead: LookaheadSettings | None = None,
                book: Book | None = None) -> Weights:
        """The plugin called on ``ctx`` in the child; its weights validated within ``book``'s
        limits (None: the universe's and the strategy's defaults). With ``lookahead``
        (every_date, seed, timeout: ``LookaheadProbe.settings``) the child builds the same
        probe (``check`` runs its replays, judged within the same limits). The context
        reaches the child through shared memory: pass the session's ``shared_ctx`` so every
        strategy of a command maps the same pages (a bare context is packed for this one)."""
        shared = ctx if isinstance(ctx, Shared) else Shared(ctx)
        ctx = shared.value
        if self._loading:
            self._loading = False
            self.child.result()
        values, out, err, seconds = self.child.call(_weights, shared, lookahead, book)
        for text, stream in ((out, sys.stdout), (err, sys.stderr)):
            if text:
                stream.write(text)
        known = (ctx.universe.bucket_names if self.strategy.weights_by == "bucket"
                 else tradable(ctx))
        shape = (len(ctx.rebalance_dates), len(known))
        if not isinstance(values, np.ndarray) or values.shape != shape:
            raise StrategyError(f'Strategy "{self.strategy.name}": its process sent back '
                                f"weights that are not a {shape[0]} x {shape[1]} array.")
        frame = pd.DataFrame(values.astype(float, copy=False), index=ctx.rebalance_dates,
                             columns=list(known))
        return Weights(frame, float(seconds))

    def start_check(self) -> None:
        """Start the lookahead replays in the child (``report`` collects them), so they run
        while the command simulates."""
        self.child.submit(_check)

    def report(self) -> LookaheadReport:
        """The replays' report (started by ``start_check``)."""
        report = self.child.result()
        if not isinstance(report, LookaheadReport):
            raise StrategyError(f'Strategy "{self.strategy.name}": its process sent back no '
                                "lookahead report.")
        return report

    def check(self) -> LookaheadReport:
        """The replays, waited for."""
        self.start_check()
        return self.report()

    def close(self) -> None:
        """Done: the child is killed."""
        self.child.close()

    def __enter__(self) -> StrategyProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- in the child ------------------------------------------------------------------------

def _load(holder: Any, timeout: float) -> None:
    """Import the plugin's class and make the instance (its own ``__init__`` may run)."""
    strategy: Strategy = holder.state
    with plugin_call(f"importing {strategy.name}'s file", min(timeout, IMPORT_TIMEOUT)):
        try:
            cls = real_class(type(strategy))
        except StrategyError:
            raise
        except BaseException as exc:
            raise StrategyError(f'Strategy "{strategy.name}" failed to import: '
                                f"{type(exc).__name__}: {exc}.") from None
    holder.timeout = timeout
    holder.plugin = guarded(strategy, lambda: cls(**strategy.values()), timeout, "__init__")


def _weights(holder: Any, ctx: Context, lookahead: tuple | None, book: Book | None) -> tuple:
    """The call on the full data: validated weights (values), printed text, seconds."""
    holder.ctx = ctx
    holder.book = book
    holder.probe = None
    if lookahead is not None:
        every, seed, timeout = lookahead
        holder.probe = LookaheadProbe(ctx, every_date=every, seed=seed, timeout=timeout)
    out, err = io.StringIO(), io.StringIO()
    began = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        holder.raw = call_strategy(holder.plugin, ctx, holder.timeout)
    values = validated_weights(holder.raw, holder.plugin, ctx, book).to_numpy()
    return values, _read(out), _read(err), time.perf_counter() - began


def _check(holder: Any) -> LookaheadReport:
    """The lookahead replays of the call ``_weights`` made."""
    return holder.probe.check(holder.plugin, holder.raw, book=holder.book)


def _read(buffer: io.StringIO) -> str:
    """What was printed (nothing, if the plugin closed the buffer)."""
    try:
        return buffer.getvalue()
    except ValueError:
        return ""
