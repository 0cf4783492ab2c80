"""Plugin code runs in a child process, never in the command's own.

A plugin is user code and may be hostile or broken: it may rewrite the data it is handed,
patch numpy, lower the recursion limit, close sys.stdout, start threads, catch every
exception and signal in a loop, or end the process with ``os._exit``. So every command
runs a plugin's import and calls in a ``Child``: a process forked from the command's own
(it inherits the loaded libraries, so it starts in milliseconds) that receives its work as
pickled calls of this package's functions and answers with plain values (numbers, arrays,
dates, this package's dataclasses: nothing else is unpickled here, so an answer cannot run
code in the command's process). The child has its own memory, its own process group and no
file of the parent open but its line to it; it dies with the parent.

Each plugin call tells the parent it starts (``tick``), and the parent gives it the time
limit from then on; past it (plus a grace for the child's own timer to speak first) the
child's process group is killed with SIGKILL, which nothing can catch. A child that ends
(``os._exit``, a crash, SIGABRT) is noticed as the end of its line. Either way the command
gets a StrategyError naming the plugin and what it was doing: exit code 2, nothing
written."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import io
import os
import pickle
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import is_dataclass
from multiprocessing.connection import Connection, Pipe
from os import _exit as _hard_exit  # kept: a plugin may replace os._exit in its child
from types import SimpleNamespace
from typing import Any

from .errors import DurationbtError, StrategyError
from .shipping import incoming, outgoing, send

__all__ = ["Child", "PluginTimeout", "Stopped", "Ended", "time_limit", "plugin_call", "tick",
           "in_child", "importing", "GRACE", "MAX_TIMEOUT"]

GRACE = 2.0             # seconds past the limit before the parent kills (the child speaks first)
MAX_TIMEOUT = 86_400.0  # a day: the longest time limit (a timer cannot hold 1e300 s)

# The module's state: in a child, its line to the parent (``tick`` writes to it; None in
# every other process: the child belongs to this module entirely); and a lock a thread
# holds while it imports heavy libraries (``importing``), which a fork waits for: a child
# forked mid-import would wait for that import's module locks forever.
_line: Connection | None = None
_imports = threading.Lock()


@contextlib.contextmanager
def importing() -> Iterator[None]:
    """Around a background import (vectorbt's, in ``engine``): no child is forked meanwhile."""
    with _imports:
        yield


class PluginTimeout(BaseException):
    """Raised inside a plugin call that ran past its time limit (a BaseException, so a
    plugin's own ``except Exception`` cannot swallow it; one that catches BaseException is
    killed by the parent instead)."""


class Stopped(StrategyError):
    """The parent killed a child whose plugin call ran past its time limit."""


class Ended(StrategyError):
    """A child ended by itself (``os._exit``, a crash, a signal) in the middle of a call;
    ``how`` says how, in words."""

    def __init__(self, message: str, how: str) -> None:
        super().__init__(message)
        self.how = how


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt the block after ``seconds`` with PluginTimeout (SIGALRM: main thread of a
    Unix process; elsewhere, e.g. in worker threads, no limit is set)."""
    usable = (seconds and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise PluginTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, min(seconds, MAX_TIMEOUT))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def in_child() -> bool:
    """True in a sandbox child."""
    return _line is not None


def tick(what: str, seconds: float | None = None, tag: str = "") -> None:
    """In a child: tell the parent that ``what`` (a plugin call) starts now, to be given
    ``seconds`` (default: the child's limit). ``tag`` names the source being imported, so
    the parent can leave it out and go on. Elsewhere: nothing."""
    if _line is not None:
        _line.send_bytes(pickle.dumps(("tick", what, seconds, tag)))


@contextlib.contextmanager
def plugin_call(what: str, seconds: float | None, tag: str = "") -> Iterator[None]:
    """Around one call into plugin code: announced to the parent (``tick``), under the time
    limit, and the interpreter's recursion limit put back afterwards (a plugin that set it
    to 60 would break the code that reads its answer)."""
    limit = sys.getrecursionlimit()
    tick(what, seconds, tag)
    try:
        with time_limit(seconds):
            yield
    finally:
        if sys.getrecursionlimit() < limit:
            sys.setrecursionlimit(limit)


# --- what the parent accepts back -------------------------------------------------------

_ALLOWED = {
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("pandas._libs.tslibs.timestamps", "_unpickle_timestamp"),
    ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "complex"),
}


class _Answers(pickle.Unpickler):
    """Unpickles plain data only: builtins, numpy arrays, timestamps and this package's
    dataclasses. Anything else (a class of the plugin's, ``os.system``) is refused."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        if module.startswith("durationbt.") and "." not in name:
            found = super().find_class(module, name)
            if isinstance(found, type) and is_dataclass(found):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not a plain value")


def _loads(data: bytes) -> Any:
    return _Answers(io.BytesIO(data)).load()


# --- the child --------------------------------------------------------------------------

def _isolate(keep: int) -> None:
    """In a fresh child: its own process group (the parent kills it whole), killed when the
    parent dies, default signal handling, stdin from /dev/null and no file of the parent's
    open but the line ``keep`` (a plugin must not write into the parent's files or pipes)."""
    gc.freeze()        # what the fork inherited is never scanned (nor copied by the scan)
    os.setpgid(0, 0)
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    if os.getppid() != parent:                  # the parent died before that took effect
        _hard_exit(1)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM):
        signal.signal(sig, signal.SIG_DFL)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.closerange(3, keep)
    os.closerange(keep + 1, 1 << 16)


def _serve(line: Connection, state: Any, owner: str) -> None:
    """The child's loop: run each call ``fn(holder, *args)`` the parent sends and answer
    with its value, or with the error a user reads."""
    holder = SimpleNamespace(state=state, owner=owner)
    while True:
        try:
            job = pickle.loads(line.recv_bytes())
        except EOFError:
            return
        if job is None:
            return
        fn, args, shared = job
        try:
            if shared:          # descriptors of values sent through shared memory follow
                args = incoming(line, args, shared)
            answer: tuple = ("value", fn(holder, *args))
        except DurationbtError as exc:
            answer = ("error", str(exc))
        except BaseException as exc:   # whatever escaped: our code broken by the plugin
            answer = ("error", f"{_what(holder)} broke the process it runs in: "
                      f"{type(exc).__name__}: {_text(exc)} ({_where(exc)}).")
        try:
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:
            data = pickle.dumps(("error", f"{_what(holder)} returned something that cannot "
                                 f"be sent back ({type(exc).__name__}: {_text(exc)})."))
        line.send_bytes(data)


def _what(holder: SimpleNamespace) -> str:
    return str(getattr(holder, "owner", "The plugin"))


def _text(exc: BaseException) -> str:
    try:
        text = str(exc)
    except BaseException:
        return "(no message)"
    return text if isinstance(text, str) else "(no message)"


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{frames[-1].filename}, line {frames[-1].lineno}" if frames else "no traceback"


class Child:
    """A forked process that runs calls for ``owner`` (e.g. 'Strategy "x"', whose file is
    ``source``), each plugin call in it limited to ``timeout`` seconds. ``state`` is
    inherited by the fork, not pickled (a class defined in a notebook or a test works).
    One call at a time: ``submit`` then ``result``, or ``call``."""

    def __init__(self, owner: str, timeout: float, state: Any = None, source: str = "") -> None:
        self.owner = owner
        self.source = f" Its file: {source}." if source else ""
        self.timeout = min(timeout, MAX_TIMEOUT)
        ours, theirs = Pipe()
        for stream in (sys.stdout, sys.stderr):   # nothing buffered is written twice
            with contextlib.suppress(AttributeError, ValueError, OSError):
                stream.flush()
        with _imports, warnings.catch_warnings():   # 3.12+ warns on forking with threads
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:                      # the child: never returns into the caller
            global _line
            try:
                ours.close()
                _isolate(theirs.fileno())
                _line = theirs
                _serve(theirs, state, owner)
            finally:
                _hard_exit(0)
        theirs.close()
        self.pid = pid
        self.line = ours
        self.doing = "starting"
        self.tag = ""
        self.limit = self.timeout
        self.deadline = float("inf")
        self.busy = False
        self.status: int | None = None

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Send one call; ``fn(holder, *args)`` runs in the child (``holder.state``: the
        inherited state, attributes set by earlier calls kept). An argument wrapped in
        ``shipping.Shared`` reaches it through shared memory, unwrapped."""
        if self.busy:
            raise RuntimeError("a call is still running in this child")
        self.busy = True
        self.doing, self.tag, self.limit = "starting", "", self.timeout
        self.deadline = time.monotonic() + self.timeout + GRACE
        args, fds = outgoing(args)
        try:
            self.line.send_bytes(pickle.dumps((fn, args, len(fds)),
                                              protocol=pickle.HIGHEST_PROTOCOL))
            if fds:
                send(self.line, fds)
        except OSError:
            self._ended()

    def step(self) -> tuple[bool, Any]:
        """Read one message: (True, value) for the answer, (False, None) for a tick. An
        error from the child, its end or a message that is not plain data raise."""
        try:
            data = self.line.recv_bytes()
        except (EOFError, OSError):
            self._ended()
        try:
            message = _loads(data)
            kind = message[0]
        except Exception as exc:
            self.kill()
            raise StrategyError(f"{self.owner} sent back something that is not plain data "
                                f"while {self.doing} ({_text(exc)}); it was stopped.") from None
        if kind == "tick":
            _, self.doing, seconds, self.tag = message
            self.limit = min(seconds or self.timeout, MAX_TIMEOUT)
            self.deadline = time.monotonic() + self.limit + GRACE
            return False, None
        self.busy = False
        if kind == "error":
            raise StrategyError(str(message[1]))
        return True, message[1]

    def result(self) -> Any:
        """Wait for the answer of the call submitted, each plugin call within its limit."""
        while True:
            left = self.deadline - time.monotonic()
            if self.line.poll(min(max(left, 0.0), 60.0)):   # what arrived counts, even late
                done, value = self.step()
                if done:
                    return value
            elif left <= 0:
                self.expire()

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``submit`` and ``result``."""
        self.submit(fn, *args)
        return self.result()

    def expire(self) -> None:
        """Kill the child past its deadline; the StrategyError says what it was doing."""
        self.kill()
        raise Stopped(f"{self.owner} did not return within {self.limit:g} s from "
                      f"{self.doing} and was stopped.{self.source} If it is only slow, raise "
                      "--timeout.")

    def _ended(self) -> None:
        self._reap(1.0)                 # it ended by itself: its own exit status, not our kill
        self.kill()
        how = self.how()
        raise Ended(f"{self.owner} ended the process it ran in while {self.doing} ({how})."
                    f"{self.source} A plugin must return its weights or raise an error, not "
                    "end its process "
                    "(os._exit, abort, a crash in compiled code or running out of memory end "
                    "it this way).", how)

    def how(self) -> str:
        """How the child ended, in words."""
        status = self.status
        if status is None:
            return "it closed its line to the command"
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            with contextlib.suppress(ValueError):
                return f"killed by signal {signal.Signals(sig).name}"
            return f"killed by signal {sig}"
        return f"exit code {os.WEXITSTATUS(status)}"

    def _reap(self, seconds: float) -> None:
        """Collect the child's exit status if it ends within ``seconds``."""
        until = time.monotonic() + seconds
        while self.status is None and time.monotonic() < until:
            with contextlib.suppress(ChildProcessError):
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    self.status = status
                    break
            time.sleep(0.01)

    def kill(self) -> None:
        """Stop the child and everything it started, at once (SIGKILL to its group)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)       # what it started, too
        if self.status is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                _, self.status = os.waitpid(self.pid, 0)
        self.line.close()
        self.busy = False

    def close(self) -> None:
        """Done with the child: it is killed (it holds nothing worth keeping)."""
        self.kill()

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
