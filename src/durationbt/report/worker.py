"""The tearsheet, written by a second process while the run does everything else.

quantstats and matplotlib take seconds to import and the tearsheet seconds to draw, all
independent of the report page, durations and regime tables. A worker process
(``python -m durationbt.report.worker``: a fresh interpreter, so it neither re-runs the
caller's script nor shares its BLAS threads) is started when the run starts, imports them
while the parent loads data and simulates, then draws the page the moment the equity curve
is known. The parent waits for it before the run folder is renamed into place, so the
folder stays all-or-nothing."""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from ..errors import DurationbtError

__all__ = ["TearsheetWorker"]


def _serve(jobs: BinaryIO, answers: BinaryIO) -> None:
    """Child: warm the imports, then draw one tearsheet per job until told to stop."""
    from . import tearsheet

    tearsheet.warm_up()
    while True:
        try:
            job = pickle.load(jobs)
        except EOFError:
            return
        if job is None:
            return
        try:
            answer = ("ok", str(tearsheet.write_run_tearsheet(*job)))
        except BaseException as exc:  # report every failure to the parent, then go on
            answer = ("error", f"{type(exc).__name__}: {exc}")
        pickle.dump(answer, answers)
        answers.flush()


class TearsheetWorker:
    """A child process that draws ``tearsheet.html`` for the parent."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "durationbt.report.worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._pending = False

    def submit(self, folder: Path, equity: pd.Series, benchmark: pd.Series, manifest: dict,
               path: Path | None = None) -> None:
        """Start drawing the tearsheet of ``folder`` (see ``write_run_tearsheet``)."""
        try:
            pickle.dump((folder, equity, benchmark, manifest, path), self._process.stdin)
            self._process.stdin.flush()
        except (BrokenPipeError, OSError):
            pass                      # the child died: result() says so
        self._pending = True

    def result(self) -> Path:
        """Wait for the submitted tearsheet; its failure is raised here, in the parent."""
        if not self._pending:
            raise RuntimeError("no tearsheet was submitted")
        self._pending = False
        try:
            answer = pickle.load(self._process.stdout)
        except (EOFError, pickle.UnpicklingError):
            raise DurationbtError("The tearsheet process ended without writing the page (exit "
                                  f"code {self._process.poll()}). Run again with "
                                  "--no-tearsheet to skip it.") from None
        if answer[0] == "ok":
            return Path(answer[1])
        raise DurationbtError(f"Writing the quantstats tearsheet failed: {answer[1]}. Run "
                              "again with --no-tearsheet to skip it.")

    def close(self) -> None:
        """Stop the child (at once if it is still importing or drawing)."""
        try:
            pickle.dump(None, self._process.stdin)
            self._process.stdin.close()
        except (BrokenPipeError, OSError, ValueError):
            pass
        try:
            self._process.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process.stdout.close()

    def __enter__(self) -> TearsheetWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _die_with_parent() -> None:
    """Linux: ask the kernel to kill this process when its parent dies (a killed run must
    not leave a worker drawing a page nobody waits for)."""
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    if os.getppid() != parent:          # the parent died before the request took effect
        os._exit(1)


if __name__ == "__main__":
    _die_with_parent()
    # the protocol owns the original stdout; anything a library prints goes to stderr
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    _serve(sys.stdin.buffer, answers)
    # every answer is flushed: skip the interpreter's teardown of quantstats, matplotlib and
    # pandas (over 0.5 s, which the parent's close() waited for)
    os._exit(0)
