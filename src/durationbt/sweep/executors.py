"""Where the map of a grid run happens: in worker processes forked from this one (one by
default on ``--workers 1``, or several), or on a running Dask distributed cluster. A
plugin's code never runs in the command's own process: each local worker is a sandbox
child (``sandbox.Child``) with the time limit per plugin call, killed with everything it
started when the map is done; on Dask each batch runs in such a child of the Dask worker.
Each executor yields the batches' results in the order of the tasks, so the driver's reduce
is the same whatever ran the map."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import wait
from typing import Any, Protocol

from ..errors import ParameterError
from ..sandbox import Child
from ..weights import DEFAULT_TIMEOUT
from .mapping import BatchResult, GridJob, Task, map_batch

__all__ = ["Executor", "OneWorker", "LocalWorkers", "DaskCluster", "executor_for", "all_cores",
           "in_a_child"]


class Executor(Protocol):
    """Runs ``map_batch`` over tasks; ``workers`` is what the time estimate divides by."""

    workers: int

    def map(self, job: GridJob, tasks: list[Task]) -> Iterator[BatchResult]: ...

    def release(self) -> None:
        """The grid run is done: stop what was kept for it (worker processes)."""

    def close(self) -> None: ...


def _map(holder: Any, task: Task) -> BatchResult:
    """In a worker: one batch of the job the worker was forked with."""
    return map_batch(holder.state, task)


def _child(job: GridJob) -> Child:
    """A worker process for ``job`` (inherited by the fork)."""
    return Child(f'Strategy "{job.name}"', job.timeout or DEFAULT_TIMEOUT, state=job,
                 source=job.file)


class LocalWorkers:
    """``workers`` processes forked from this one (``sandbox.Child``: the job inherited,
    not copied; the plugin imported in each from its file), started on first use and kept
    for the grid run's later batches; ``close`` kills them."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._children: list[Child] = []
        self._job: GridJob | None = None

    def map(self, job: GridJob, tasks: list[Task]) -> Iterator[BatchResult]:
        if not tasks:
            return
        if job is not self._job:
            self.release()
            self._job = job
        while len(self._children) < min(self.workers, len(tasks)):
            self._children.append(_child(job))
        yield from _dispatch(self._children, tasks)

    def release(self) -> None:
        for child in self._children:
            child.close()
        self._children.clear()
        self._job = None

    def close(self) -> None:
        self.release()


class OneWorker(LocalWorkers):
    """The map in one worker process beside this one (``--workers 1``), the reference the
    others equal."""

    def __init__(self) -> None:
        super().__init__(1)


def _dispatch(children: list[Child], tasks: list[Task]) -> Iterator[BatchResult]:
    """Each idle child gets the next task; results come back in the order of ``tasks``.
    A child that fails, ends or runs past its limit raises (its StrategyError)."""
    waiting = iter(enumerate(tasks))
    running: dict[Child, int] = {}
    done: dict[int, BatchResult] = {}
    following = 0

    def feed(child: Child) -> None:
        item = next(waiting, None)
        if item is not None:
            child.submit(_map, item[1])
            running[child] = item[0]

    for child in children:
        feed(child)
    while running:
        busy = list(running)
        left = min(c.deadline for c in busy) - time.monotonic()
        ready = wait([c.line for c in busy], timeout=min(max(left, 0.0), 60.0))
        for child in busy:
            if child.line in ready:
                finished, value = child.step()
                if finished:
                    done[running.pop(child)] = value
                    feed(child)
            elif child.deadline <= time.monotonic():
                child.expire()
        while following in done:
            yield done.pop(following)
            following += 1


def in_a_child(job: GridJob, fn: Any, *args: Any) -> Any:
    """``fn(holder, *args)`` for ``job`` in a worker process of its own (``holder.state``
    is the job): one-off plugin work on the driver's side, e.g. the best combination's
    weights after the grid."""
    with _child(job) as child:
        return child.call(fn, *args)


# In a Dask worker process: its sandbox child for each (job, worker thread), kept between
# the job's batches (a fork, the plugin's import and its probe per batch would cost a
# third of a batch's work); a new job's first batch stops the children of older jobs.
_DASK_CHILDREN: dict[tuple[str, int], Child] = {}


def _run_on_dask(task: Task, job: GridJob) -> BatchResult:
    """On a Dask worker: the batch in a sandbox child of the worker process."""
    key = (job.token, threading.get_ident())
    for old in [k for k in _DASK_CHILDREN if k[0] != job.token]:
        _DASK_CHILDREN.pop(old).close()
    child = _DASK_CHILDREN.get(key)
    if child is None or child.status is not None:
        child = _DASK_CHILDREN[key] = _child(job)
    try:
        return child.call(_map, task)
    except BaseException:
        _DASK_CHILDREN.pop(key).close()
        raise


class DaskCluster:
    """A running Dask distributed scheduler at ``address``. The job is scattered to every
    worker once (broadcast); each task carries only its combinations."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise ParameterError("--scheduler needs Dask distributed, which is not installed: "
                                 "pip install 'durationbt[dask]'.") from None
        try:
            self.client = Client(address, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ParameterError(f"Cannot reach a Dask scheduler at {address!r} ({exc}). Start "
                                 "one (`dask scheduler`, then `dask worker ADDRESS` on each "
                                 "machine) or check the address, e.g. tcp://10.0.0.5:8786.") from None
        threads = self.client.nthreads()
        self.workers = max(1, sum(threads.values()))

    def map(self, job: GridJob, tasks: list[Task]) -> Iterator[BatchResult]:
        if not tasks:
            return
        [shared] = self.client.scatter([job], broadcast=True, hash=False)
        futures = self.client.map(_run_on_dask, tasks, job=shared, pure=False)
        try:
            for future in futures:
                yield future.result()
        finally:
            self.client.cancel([*futures, shared])

    def release(self) -> None:
        return None

    def close(self) -> None:
        self.client.close()


def all_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:   # not on Linux
        return os.cpu_count() or 1


def executor_for(workers: int | None = None, scheduler: str | None = None) -> Executor:
    """``--scheduler ADDRESS``: that Dask cluster; else ``--workers N`` local worker
    processes (default: every core)."""
    if scheduler:
        if workers is not None:
            raise ParameterError("--workers and --scheduler exclude each other: the cluster's "
                                 "workers do the work; give one of them.")
        return DaskCluster(scheduler)
    workers = all_cores() if workers is None else workers
    if workers < 1:
        raise ParameterError(f"--workers {workers}: give 1 (one worker process) or more.")
    return OneWorker() if workers == 1 else LocalWorkers(workers)
