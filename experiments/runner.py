"""The worker side of a sweep: one task = one replication of one configuration.

:func:`execute` runs in whatever process the executor chose (the client
itself, a pool process or a Dask worker). It never raises for a problem of
the run: an exception inside the engine comes back as a failed outcome with
its traceback, so one bad configuration does not stop a sweep. Workers share
no state; each keeps a small cache of configured scenarios and compiled
Worlds so that the replications of a configuration compile it once.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import traceback
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Compiled worlds kept per worker process (configurations are usually run replication by replication).
CACHE_SIZE = 8


@dataclass(frozen=True)
class RunTask:
    """What a worker needs to run one replication (small and picklable).

    ``run_dir`` is where the worker writes the run's tables (atomically); when
    None the tables travel back to the client, which writes them (workers on
    other machines need not share the client's file system).
    """

    run_id: str
    config_id: str
    scenario_ref: str
    scenario_sha256: str
    overrides: dict[str, Any]
    seed: int
    replication: int
    keep_tables: tuple[str, ...]
    run_dir: str | None = None


def configure(base: Any, overrides: dict[str, Any]) -> Any:
    """The scenario ``base`` with ``overrides`` (field path -> value) applied and validated.

    Parameters
    ----------
    base : scenarios.Scenario
        The base scenario as loaded.
    overrides : dict
        Dotted field paths to values, applied in order.

    Returns
    -------
    scenarios.Scenario

    Raises
    ------
    InputError
        When a path or value is not valid for the scenario.
    """
    import scenarios

    return scenarios.override(base, overrides) if overrides else base


def run_replication(scenario: Any, policy: str | None = None, replication: int = 0, *,
                    seed: int | None = None, world: Any = None, log_events: bool = True) -> Any:
    """Run one replication (the single entry point a sweep calls; a thin wrapper of :func:`sim.run`).

    Parameters
    ----------
    scenario : scenarios.Scenario
        The configured scenario.
    policy : str, optional
        Dispatch policy; default: the scenario's (with its parameters).
    replication : int
        Replication number: replication r of every configuration sees the same incidents.
    seed : int, optional
        Root seed; default: the scenario's.
    world : sim.world.World, optional
        The World compiled from ``scenario``.
    log_events : bool
        Keep the event log (needed only when the events table is kept).

    Returns
    -------
    sim.RunResult

    Raises
    ------
    InputError
        Bad scenario, policy, seed or replication.
    """
    import sim

    return sim.run(scenario, policy=policy, seed=seed, replication=replication, world=world,
                   log_events=log_events)


class _WorldCache:
    """Configured scenarios and their Worlds by config_id, least recently used dropped first."""

    def __init__(self, size: int):
        self.size = size
        self._bases: dict[str, Any] = {}
        self._items: OrderedDict[str, tuple[Any, Any]] = OrderedDict()

    def get(self, task: RunTask) -> tuple[Any, Any]:
        """(scenario, world) of ``task``'s configuration, checked against the client's hash.

        Raises
        ------
        RuntimeError
            When the scenario resolved here differs from the one the client planned.
        """
        hit = self._items.get(task.config_id)
        if hit is not None:
            self._items.move_to_end(task.config_id)
            return hit
        import scenarios
        from sim.world import compile_world

        if task.scenario_ref not in self._bases:
            self._bases[task.scenario_ref] = scenarios.load(task.scenario_ref)
        scenario = configure(self._bases[task.scenario_ref], task.overrides)
        sha = scenarios.scenario_hash(scenario)
        if sha != task.scenario_sha256:
            raise RuntimeError(f"scenario {task.scenario_ref!r} resolved on {socket.gethostname()} has "
                               f"SHA-256 {sha[:12]}, the plan expects {task.scenario_sha256[:12]}: "
                               "the worker sees a different scenario file or Anjeon version")
        item = self._items[task.config_id] = (scenario, compile_world(scenario))
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return item


_CACHE = _WorldCache(CACHE_SIZE)


def execute(task: RunTask) -> dict[str, Any]:
    """Run ``task`` and return its outcome; never raises for a problem of the run.

    Parameters
    ----------
    task : RunTask
        The replication to run.

    Returns
    -------
    dict
        ``run_id``, ``status`` (``"ok"`` or ``"failed"``), ``wall_time_s``,
        ``metrics`` (flat, from :func:`analysis.metrics.run_metrics`),
        ``scenario``, ``scenario_sha256``, ``policy``, ``versions``,
        ``git_revision``, ``host``, ``pid``; for failures ``error`` (one line)
        and ``traceback``; when ``task.run_dir`` is None, ``tables``, ``meta``
        and ``scenario_doc`` for the client to write.
    """
    from sim.results import git_revision, versions

    started = time.perf_counter()
    base = {"run_id": task.run_id, "host": socket.gethostname(), "pid": os.getpid(),
            "versions": versions(), "git_revision": git_revision()}
    try:
        out = _run(task)
    except Exception as exc:  # the engine's failure is data for the manifest, not a crash of the sweep
        out = {"status": "failed", "error": one_line_error(exc), "traceback": traceback.format_exc()}
    return {**base, **out, "wall_time_s": round(time.perf_counter() - started, 4)}


def _run(task: RunTask) -> dict[str, Any]:
    from analysis.metrics import component_metrics, run_metrics
    from experiments.store import write_run

    scenario, world = _CACHE.get(task)
    result = run_replication(scenario, replication=task.replication, seed=task.seed, world=world,
                             log_events="events" in task.keep_tables)
    metrics = run_metrics(result.incidents, result.units)
    metrics.update(component_metrics(result.meta))  # citizens_deaths, ... (issue #12)
    result.summary()
    tables = {name: getattr(result, name) for name in task.keep_tables}
    tables.update(result.extra)  # the geography and components' tables (small; listed in run.json)
    out = {"status": "ok", "metrics": metrics, "scenario": result.meta["scenario"],
           "scenario_sha256": result.meta["scenario_sha256"], "policy": result.meta["policy"]["dispatch"]}
    if task.run_dir is not None:
        write_run(Path(task.run_dir), tables, result.meta, result.scenario)
        return out
    return {**out, "tables": tables, "meta": result.meta, "scenario_doc": result.scenario}


def one_line_error(exc: BaseException) -> str:
    """``Type: message`` on one line (at most 500 characters).

    Parameters
    ----------
    exc : BaseException
        The exception.

    Returns
    -------
    str
    """
    text = exc.one_line() if hasattr(exc, "one_line") else str(exc)
    line = " ".join(f"{type(exc).__name__}: {text}".split())
    return line if len(line) <= 500 else line[:497] + "..."


def warm_up(scenario: Any, world: Any) -> dict[str, float]:
    """Run ``scenario`` for a simulated day after warm-up with ``nearest``: compiles (or loads) numba kernels.

    Run in the client before workers start, so that they load compiled
    kernels from the on-disk cache instead of each compiling them cold.

    Parameters
    ----------
    scenario : scenarios.Scenario
        A scenario (its own policy is not used).
    world : sim.world.World
        Its compiled World.

    Returns
    -------
    dict
        The run's flat metrics (their names are the metrics a sweep can report).
    """
    import sim
    from analysis.metrics import component_metrics, run_metrics
    from sim.kernels import warm

    warm()  # every kernel, also those this scenario's run does not call
    result = sim.run(scenario, policy="nearest", params={}, world=world,
                     until=min(world.warmup_min + 1440.0, world.horizon_min), log_events=False)
    return run_metrics(result.incidents, result.units) | component_metrics(result.meta)


def init_worker(parent_pid: int | None = None) -> None:
    """Prepare a worker process: import the engine, and exit if the parent process dies.

    Parameters
    ----------
    parent_pid : int, optional
        The client's pid; when given, a daemon thread ends this process soon
        after the client is gone (a killed client must not leave workers behind).
    """
    import agents.model  # noqa: F401  (import cost paid once, before the first task)
    import analysis.metrics  # noqa: F401

    if parent_pid is not None:
        threading.Thread(target=_watch_parent, args=(parent_pid,), name="anjeon-parent-watch",
                         daemon=True).start()


def _watch_parent(parent_pid: int, every_s: float = 0.5) -> None:
    while os.getppid() == parent_pid:
        time.sleep(every_s)
    os._exit(3)


def ready(delay_s: float = 0.0) -> int:
    """A no-op task (optionally sleeping): used to start workers and to measure overhead.

    Parameters
    ----------
    delay_s : float
        Seconds to sleep.

    Returns
    -------
    int
        This process's pid.
    """
    if delay_s:
        time.sleep(delay_s)
    return os.getpid()
