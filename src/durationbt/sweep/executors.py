"""Where the map of a grid run happens: in this process, on local worker processes, or on
a running Dask distributed cluster. Each executor sends the ``GridJob`` (context, plugin
reference, lookahead settings) to each worker once and yields the batches' results in
the order of the tasks, so the driver's reduce is the same whatever runs the map."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Protocol

from ..errors import ParameterError
from .mapping import BatchResult, GridJob, Task, map_batch

__all__ = ["Executor", "InProcess", "LocalWorkers", "DaskCluster", "executor_for", "all_cores"]


class Executor(Protocol):
    """Runs ``map_batch`` over tasks; ``workers`` is what the time estimate divides by."""

    workers: int

    def map(self, job: GridJob, tasks: list[Task]) -> Iterator[BatchResult]: ...

    def close(self) -> None: ...


class InProcess:
    """The map in this process (``--workers 1``), the reference the others equal."""

    workers = 1

    def map(self, job: GridJob, tasks: list[Task]) -> Iterator[BatchResult]:
        for task in tasks:
            yield map_batch(job, task)

    def close(self) -> None:
        return None


_INSTALLED: GridJob | None = None   # a local worker process's job, set once by its initializer


def _install(job: GridJob) -> None:
    global _INSTALLED
    _INSTALLED = job


def _run_installed(task: Task) -> BatchResult:
    assert _INSTALLED is not None, "worker started without its job"
    return map_batch(_INSTALLED, task)


class LocalWorkers:
    """``workers`` local processes, started fresh (spawn: the plugin is re-imported from its
    file, as on a cluster; nothing inherited by fork), the job passed once to each through
    the pool's initializer. Started only when there is work left after the head batches."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def map(self, job: GridJob, tasks: list[Task]) -> Iterator[BatchResult]:
        if not tasks:
            return
        pool = ProcessPoolExecutor(min(self.workers, len(tasks)),
                                   mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_install, initargs=(job,))
        try:
            yield from pool.map(_run_installed, tasks)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        return None


def _run_on_dask(task: Task, job: GridJob) -> BatchResult:
    return map_batch(job, task)


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

    def close(self) -> None:
        self.client.close()


def all_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:   # not on Linux
        return os.cpu_count() or 1


def executor_for(workers: int | None = None, scheduler: str | None = None) -> Executor:
    """``--scheduler ADDRESS``: that Dask cluster; else ``--workers N`` local processes
    (default: every core; 1: in this process)."""
    if scheduler:
        if workers is not None:
            raise ParameterError("--workers and --scheduler exclude each other: the cluster's "
                                 "workers do the work; give one of them.")
        return DaskCluster(scheduler)
    workers = all_cores() if workers is None else workers
    if workers < 1:
        raise ParameterError(f"--workers {workers}: give 1 (in this process) or more.")
    return InProcess() if workers == 1 else LocalWorkers(workers)
