"""Executors: where the runs of a sweep execute, behind one interface.

``SerialExecutor`` runs tasks in the client process; ``PoolExecutor`` in a
pool of spawned worker processes (default: one per core); ``DaskExecutor``
on a Dask distributed cluster (a scheduler address, or a ``LocalCluster``
it starts). All run :func:`experiments.runner.execute` on
:class:`experiments.runner.RunTask` objects and hand back outcomes in the
order they finish. Results do not depend on the executor: a run's random
streams are keyed by (seed, replication) only.

Lifecycle: ``with executor:`` starts the workers (and waits until they are
ready); :meth:`Executor.submit` queues a task (also while results are
being consumed); :meth:`Executor.completed` yields ``(task, outcome)`` until
nothing is pending; leaving the block stops the workers.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from experiments.runner import RunTask, execute, init_worker, one_line_error, ready
from sim.errors import InputError

#: Seconds to wait for the first Dask worker to join the scheduler.
DASK_WAIT_S = 120.0
#: Seconds to wait for a Dask scheduler to answer (``anjeon sweep --connect-timeout``).
CONNECT_TIMEOUT_S = 5.0
#: Times a task is resubmitted after the worker process running it died.
POOL_RETRIES = 2


class Executor:
    """Common interface of the executors (see the module docstring).

    Attributes
    ----------
    name : str
        Short description shown to users.
    workers : int
        Tasks that can run at once.
    writes_on_worker : bool
        Workers can write run directories into the client's sweep directory
        (they share its file system); otherwise tables come back to the client.
    """

    name = "executor"
    workers = 1
    writes_on_worker = True

    def __enter__(self) -> Executor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the workers and wait until they can take tasks."""

    def submit(self, task: RunTask) -> None:
        """Queue ``task``."""
        raise NotImplementedError

    def completed(self) -> Iterator[tuple[RunTask, dict[str, Any]]]:
        """Yield ``(task, outcome)`` as tasks finish, until nothing is pending."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop the workers (pending tasks are cancelled)."""


class SerialExecutor(Executor):
    """Run tasks one after another in the client process."""

    name = "serial (in process)"

    def __init__(self) -> None:
        self._queue: deque[RunTask] = deque()

    def submit(self, task: RunTask) -> None:
        """Queue ``task``."""
        self._queue.append(task)

    def completed(self) -> Iterator[tuple[RunTask, dict[str, Any]]]:
        """Run queued tasks in order, yielding each outcome."""
        while self._queue:
            task = self._queue.popleft()
            yield task, execute(task)


class _FutureQueue:
    """Futures by key, and a thread-safe queue of the finished ones (filled by done-callbacks)."""

    def __init__(self) -> None:
        self.pending: dict[Any, tuple[Any, RunTask]] = {}
        self.done: queue.Queue = queue.Queue()

    def add(self, key: Any, future: Any, task: RunTask) -> None:
        self.pending[key] = (future, task)
        future.add_done_callback(lambda f, k=key: self.done.put(k))

    def next_done(self) -> tuple[Any, RunTask] | None:
        """The next finished (future, task); wakes up twice a second so Ctrl-C is seen."""
        while self.pending:
            try:
                key = self.done.get(timeout=0.5)
            except queue.Empty:
                continue
            if key in self.pending:
                return self.pending.pop(key)
        return None


class PoolExecutor(Executor):
    """A pool of spawned worker processes on this machine.

    Parameters
    ----------
    workers : int, optional
        Processes; default: every core (``os.cpu_count()``).
    """

    def __init__(self, workers: int | None = None):
        self.workers = int(workers or _cores())
        self.name = f"{self.workers} local process{'es' if self.workers > 1 else ''}"
        self._pool: ProcessPoolExecutor | None = None
        self._generation = 0
        self._futures = _FutureQueue()
        self._deaths: dict[str, int] = {}

    def start(self) -> None:
        """Spawn the processes and wait until each has imported the engine.

        Raises
        ------
        RuntimeError
            When the worker processes cannot start.
        """
        # spawn, not fork: the client may hold threads (progress bar, Dask) whose locks fork would copy
        ctx = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=init_worker,
                                         initargs=(os.getpid(),))
        try:
            for future in [self._pool.submit(ready, 0.05) for _ in range(self.workers)]:
                future.result()
        except BrokenProcessPool as exc:
            self.close()
            raise RuntimeError(
                "the worker processes could not start; a script that runs a sweep on processes must "
                "call it under `if __name__ == '__main__':` (see docs/howto-sweeps.md)") from exc

    def submit(self, task: RunTask) -> None:
        """Queue ``task`` on the pool."""
        if self._pool is None:
            raise RuntimeError("start() the executor before submitting tasks")
        self._futures.add(uuid.uuid4().hex, self._pool.submit(execute, task), (task, self._generation))

    def completed(self) -> Iterator[tuple[RunTask, dict[str, Any]]]:
        """Yield outcomes as processes finish them; a task whose process died is resubmitted."""
        while (item := self._futures.next_done()) is not None:
            future, (task, generation) = item
            error = future.exception()
            if error is None:
                yield task, future.result()
            elif isinstance(error, BrokenProcessPool):
                outcome = self._after_death(task, generation)
                if outcome is not None:
                    yield task, outcome
            else:
                yield task, failed_outcome(task, error)

    def _after_death(self, task: RunTask, generation: int) -> dict[str, Any] | None:
        if generation == self._generation:
            self._restart()
        self._deaths[task.run_id] = self._deaths.get(task.run_id, 0) + 1
        if self._deaths[task.run_id] > POOL_RETRIES:
            return failed_outcome(task, RuntimeError(
                f"the worker process died {self._deaths[task.run_id]} times while this run was pending"))
        self.submit(task)
        return None

    def _restart(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._generation += 1
        self.start()

    def close(self) -> None:
        """Shut the pool down, cancelling tasks not yet started."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskExecutor(Executor):
    """Tasks on a Dask distributed cluster.

    Parameters
    ----------
    address : str, optional
        Scheduler address such as ``tcp://10.0.0.5:8786``. Workers there may
        be on other machines: the tables of each run travel back to the
        client, which writes them.
    local_workers : int, optional
        Start a ``distributed.LocalCluster`` with this many single-threaded
        worker processes instead (they write run directories themselves).
    connect_timeout_s : float
        Seconds to wait for the scheduler at ``address`` to answer.
    """

    def __init__(self, address: str | None = None, local_workers: int | None = None,
                 connect_timeout_s: float = CONNECT_TIMEOUT_S):
        if (address is None) == (local_workers is None):
            raise ValueError("give exactly one of address and local_workers")
        self.address = address
        self.local_workers = local_workers
        self.connect_timeout_s = float(connect_timeout_s)
        self.writes_on_worker = address is None
        self.workers = local_workers or 0
        self.name = f"Dask scheduler {address}" if address else f"Dask LocalCluster ({local_workers} workers)"
        self._client: Any = None
        self._cluster: Any = None
        self._futures = _FutureQueue()

    def start(self) -> None:
        """Connect to (or start) the cluster, wait for a worker, import the engine on every worker.

        Raises
        ------
        InputError
            When the scheduler cannot be reached or no worker joins in time.
        """
        import dask
        from distributed import Client, LocalCluster

        flag = "--scheduler" if self.address else "--dask-local"
        try:
            if self.address is None:
                # the statistical profiler samples the running task every 10 ms: a few % of a run's time
                with dask.config.set({"distributed.worker.profile.enabled": False}):
                    self._cluster = LocalCluster(n_workers=self.local_workers, threads_per_worker=1,
                                                 processes=True, dashboard_address=None,
                                                 silence_logs=logging.ERROR)
                self._client = Client(self._cluster)
            else:
                self._client = Client(self.address, timeout=f"{self.connect_timeout_s}s")
            self._client.wait_for_workers(1, timeout=DASK_WAIT_S)
        except (OSError, TimeoutError) as exc:
            self.close()
            why = one_line_error(exc)
            if self.address is not None:
                why = (f"no scheduler answered at {self.address} within {self.connect_timeout_s:g} s "
                       f"(--connect-timeout): {why}")
            raise InputError(f"cannot use the Dask cluster: {why}", flag) from None
        self.workers = max(1, sum(w.get("nthreads", 1) for w in
                                  self._client.scheduler_info()["workers"].values()))
        try:
            self._client.run(init_worker)
        except Exception as exc:  # raised on a worker: its environment cannot run Anjeon
            self.close()
            raise InputError(f"the Dask workers cannot run Anjeon: {one_line_error(exc)}", flag) from None

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` (None before :meth:`start`)."""
        return self._client

    def submit(self, task: RunTask) -> None:
        """Submit ``task`` to the cluster (retried elsewhere by Dask if its worker dies)."""
        key = f"anjeon-{task.run_id}-{uuid.uuid4().hex[:8]}"
        future = self._client.submit(execute, task, key=key, pure=False)
        self._futures.add(key, future, task)

    def completed(self) -> Iterator[tuple[RunTask, dict[str, Any]]]:
        """Yield outcomes as the cluster finishes tasks; a task the cluster gave up on is a failed run."""
        while (item := self._futures.next_done()) is not None:
            future, task = item
            try:
                outcome = future.result()
            except Exception as exc:  # KilledWorker, CancelledError...: the run did not happen
                outcome = failed_outcome(task, exc)
            future.release()
            yield task, outcome

    def close(self) -> None:
        """Cancel what is pending, close the client and any cluster started here."""
        if self._client is not None:
            pending = [f for f, _ in self._futures.pending.values()]
            if pending:
                self._client.cancel(pending)
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def _cores() -> int:
    """Cores this process may use (its CPU affinity where the OS tells it)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)


def failed_outcome(task: RunTask, error: BaseException) -> dict[str, Any]:
    """Outcome of a task that did not return one (its worker died, the cluster gave up...).

    Parameters
    ----------
    task : RunTask
        The task.
    error : BaseException
        What the executor reported.

    Returns
    -------
    dict
        A failed outcome as from :func:`experiments.runner.execute`.
    """
    import traceback

    from sim.results import git_revision, versions

    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return {"run_id": task.run_id, "status": "failed", "error": one_line_error(error), "traceback": text,
            "wall_time_s": None, "versions": versions(), "git_revision": git_revision(), "host": None,
            "pid": None}


def make_executor(workers: int | None = None, scheduler: str | None = None,
                  dask_local: int | None = None, connect_timeout_s: float = CONNECT_TIMEOUT_S) -> Executor:
    """The executor chosen by the command-line options.

    Parameters
    ----------
    workers : int, optional
        Local processes; 1 runs serially in the client process; default: every core.
    scheduler : str, optional
        Dask scheduler address.
    dask_local : int, optional
        Workers of a Dask LocalCluster to start.
    connect_timeout_s : float
        Seconds to wait for the scheduler to answer.

    Returns
    -------
    Executor
    """
    if scheduler is not None:
        return DaskExecutor(address=scheduler, connect_timeout_s=connect_timeout_s)
    if dask_local is not None:
        return DaskExecutor(local_workers=dask_local)
    if workers == 1:
        return SerialExecutor()
    return PoolExecutor(workers)


__all__ = ["DaskExecutor", "Executor", "PoolExecutor", "SerialExecutor", "make_executor"]
