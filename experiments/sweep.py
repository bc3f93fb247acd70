"""Run a sweep: plan it, open its store, hand runs to an executor, record every outcome.

The client process (the one calling :func:`run_sweep`) is the single
writer of the manifest and the summary. Workers return outcomes; run
directories are written by the workers when they share the client's file
system and by the client otherwise. Rerunning a sweep into the same
directory resumes it: runs whose latest attempt is recorded are skipped,
and ``retry_failed`` reruns the failed ones.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.executors import Executor, PoolExecutor, failed_outcome
from experiments.plan import Configuration, Plan, make_plan, run_id
from experiments.progress import SweepProgress
from experiments.runner import RunTask, one_line_error
from experiments.schedule import Schedule
from experiments.spec import Experiment, load_spec
from experiments.store import SweepStore, write_run
from sim.errors import InputError

#: Where sweeps go without ``--out``: ``out/sweeps/<experiment name>``.
DEFAULT_ROOT = Path("out") / "sweeps"
#: The most configurations a sweep may plan (each is validated and hashed up front, a few ms each).
MAX_CONFIGURATIONS = 20_000
#: The most runs (configurations x replications, adaptive cap included): a manifest line and a
#: summary row each, and the schedule lists them.
MAX_RUNS = 1_000_000


@dataclass
class SweepResult:
    """What a sweep session did.

    Attributes
    ----------
    path : Path
        The sweep directory.
    plan : Plan
        The resolved plan.
    ran, ok, failed : int
        Runs attempted in this session, and how they ended.
    skipped : int
        Planned runs already recorded before this session.
    summary : DataFrame
        summary.parquet as written at the end.
    failed_runs : list of str
        run_ids whose latest attempt failed (this session or earlier).
    timings : dict
        Seconds spent: ``plan_s`` (validation, warm-up run), ``start_s``
        (starting the workers), ``run_s`` (first submission to last
        outcome), ``total_s``.
    """

    path: Path
    plan: Plan
    ran: int = 0
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    failed_runs: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def default_out(name: str) -> Path:
    """``out/sweeps/<name>`` with unsafe characters replaced."""
    slug = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name.strip()).strip("-.")
    return DEFAULT_ROOT / (slug or "sweep")


def load_plan(spec_path: str | Path, probe: bool = True, *, allow_code: bool = False) -> tuple[Plan, str]:
    """Read, validate and resolve an experiment file.

    Parameters
    ----------
    spec_path : str or Path
        The experiment YAML.
    probe : bool
        Run each base scenario for a day (warms the numba cache, checks metric names).
    allow_code : bool
        Accept policies named as ``package.module:Name`` (``anjeon sweep --allow-code``).

    Returns
    -------
    (Plan, str)
        The plan and the spec file's text.

    Raises
    ------
    InputError
        For any problem of the spec, naming its field.
    """
    spec, text = load_spec(spec_path)
    check_size(spec, str(spec_path))
    code = {"allow_code": True} if allow_code else {}    # make_plan refuses code by default
    return make_plan(spec, str(spec_path), Path(spec_path).parent, probe=probe, **code), text


def count_configurations(spec: Experiment) -> tuple[int, str, str]:
    """Configurations ``spec`` asks for, counted without building them.

    Parameters
    ----------
    spec : Experiment
        A validated spec.

    Returns
    -------
    (int, str, str)
        The count (sampled designs: before repeated points are merged), the
        spec field that sets it, and how it arises (for messages).
    """
    kind, n_scen = spec.design.kind, len(spec.scenarios)
    if kind == "grid":
        sizes = [len(f.levels or []) for f in spec.factors.values()]
        how = " x ".join(f"{n:,}" for n in sizes) + " levels" if sizes else "no factors"
        n, where = math.prod(sizes), "factors"
    elif kind == "list":
        n, where, how = len(spec.design.configurations or []), "design.configurations", "listed"
    else:
        n, where, how = spec.design.samples or 0, "design.samples", f"{kind} samples"
    if n_scen > 1:
        how += f", x {n_scen} scenarios"
    return n * n_scen, where, how


def check_size(spec: Experiment, source: str) -> None:
    """Refuse a sweep too large to plan, before any configuration is built.

    Parameters
    ----------
    spec : Experiment
        A validated spec.
    source : str
        The spec file (for messages).

    Raises
    ------
    InputError
        Naming the field that makes it too large, with the count.
    """
    n, where, how = count_configurations(spec)
    if n > MAX_CONFIGURATIONS:
        raise InputError(f"{n:,} configurations ({how}); a sweep plans at most {MAX_CONFIGURATIONS:,}: "
                         "use fewer levels, or a sampled design (lhs, random)", source, where)
    for key, reps in (("replications", spec.replications),
                      ("adaptive.max_replications", spec.adaptive and spec.adaptive.max_replications)):
        if reps and n * reps > MAX_RUNS:
            raise InputError(f"{n:,} configurations x {reps:,} replications = {n * reps:,} runs; a sweep "
                             f"runs at most {MAX_RUNS:,}", source, key)


def run_sweep(spec_path: str | Path, out: str | Path | None = None, executor: Executor | None = None, *,
              retry_failed: bool = False, quiet: bool = False, on_start: Any = None,
              allow_code: bool = False) -> SweepResult:
    """Run (or resume) the sweep of an experiment file.

    Parameters
    ----------
    spec_path : str or Path
        The experiment YAML.
    out : str or Path, optional
        The sweep directory; default ``out/sweeps/<name>``. An existing one is resumed.
    executor : Executor, optional
        Where runs execute; default: a process pool over every core.
    retry_failed : bool
        Rerun runs whose latest attempt failed.
    quiet : bool
        No progress bar.
    allow_code : bool
        Accept policies named as ``package.module:Name`` (imports them).
    on_start : callable, optional
        Called as ``on_start(result, to_do, executor)`` once the store is open and the executor
        has started (for messages).

    Returns
    -------
    SweepResult

    Raises
    ------
    InputError
        For a bad spec, an unusable sweep directory or executor (nothing is written then: a
        directory made by this call that records no run is removed again).
    """
    started = time.perf_counter()
    plan, text = load_plan(spec_path, allow_code=allow_code)
    path = Path(out) if out is not None else default_out(plan.spec.name)
    created = [p for p in (path, *path.parents) if not p.exists()]
    try:
        store = SweepStore.open(path, plan.to_json(), text)
    except BaseException:
        if created:
            _remove_new(created)
        raise
    result = SweepResult(path, plan, timings={"plan_s": time.perf_counter() - started})
    try:
        schedule = Schedule(plan, store, retry_failed)
        todo = schedule.initial()
        todo_ids = {run_id(c.config_id, r) for c, r in todo}
        result.skipped = sum(1 for c in plan.configurations for r in range(schedule.planned[c.config_id])
                             if store.status(run_id(c.config_id, r)) is not None
                             and run_id(c.config_id, r) not in todo_ids)
        executor = executor or PoolExecutor()
        if todo:
            _execute(plan, store, schedule, executor, todo, result, quiet,
                     lambda: on_start and on_start(result, len(todo), executor))
        elif on_start is not None:
            on_start(result, 0, executor)
    except BaseException:
        store.close()
        if created and not store.latest:     # a new directory that records nothing: leave no trace
            _remove_new(created)
        raise
    store.close()
    result.summary = store.summary()
    result.failed_runs = store.failed_runs()
    result.timings["total_s"] = time.perf_counter() - started
    return result


def _remove_new(created: list[Path]) -> None:
    """Remove the sweep directory and its parents made by this session (``created``: innermost first)."""
    shutil.rmtree(created[0], ignore_errors=True)
    for p in created[1:]:
        try:
            p.rmdir()
        except OSError:
            break


def _execute(plan: Plan, store: SweepStore, schedule: Schedule, executor: Executor,
             todo: list[tuple[Configuration, int]], result: SweepResult, quiet: bool,
             started: Any) -> None:
    t0 = time.perf_counter()
    # the executor first: one that cannot start (an unreachable scheduler) fails before any output
    with executor:
        started()
        t1 = time.perf_counter()
        result.timings["start_s"] = t1 - t0
        with SweepProgress(len(todo), quiet, plan.spec.name) as progress:
            _submit_and_record(plan, store, schedule, executor, todo, result, progress)
        result.timings["run_s"] = time.perf_counter() - t1


def _submit_and_record(plan: Plan, store: SweepStore, schedule: Schedule, executor: Executor,
                       todo: list[tuple[Configuration, int]], result: SweepResult, progress: Any) -> None:
    tasks = {}
    for config, r in todo:
        task = _task(plan, store, executor, config, r)
        tasks[task.run_id] = config
        executor.submit(task)
    for task, outcome in executor.completed():
        config = tasks[task.run_id]
        outcome = _store_tables(store, task, outcome)
        store.record(manifest_record(config, task, outcome, store.attempts(task.run_id) + 1,
                                     executor.name))
        ok = outcome["status"] == "ok"
        result.ran += 1
        result.ok += ok
        result.failed += not ok
        progress.advance(ok)
        more = schedule.finished(task.config_id)
        progress.add(len(more))
        for config2, r2 in more:
            task2 = _task(plan, store, executor, config2, r2)
            tasks[task2.run_id] = config2
            executor.submit(task2)


def _task(plan: Plan, store: SweepStore, executor: Executor, config: Configuration, r: int) -> RunTask:
    rid = run_id(config.config_id, r)
    run_dir = str((store.runs_dir / rid).resolve()) if executor.writes_on_worker else None
    return RunTask(run_id=rid, config_id=config.config_id, scenario_ref=config.scenario_ref,
                   scenario_sha256=config.scenario_sha256, overrides=config.overrides, seed=config.seed,
                   replication=r, keep_tables=tuple(plan.spec.keep_tables), run_dir=run_dir)


def _store_tables(store: SweepStore, task: RunTask, outcome: dict[str, Any]) -> dict[str, Any]:
    """Write the run directory when the tables came back to the client; drop them from the outcome."""
    tables = outcome.pop("tables", None)
    meta = outcome.pop("meta", None)
    doc = outcome.pop("scenario_doc", None)
    if outcome["status"] != "ok" or task.run_dir is not None:
        return outcome
    try:
        write_run(store.runs_dir / task.run_id, tables or {}, meta or {}, doc or {})
    except OSError as exc:
        failed = failed_outcome(task, exc)
        failed["error"] = f"could not write the run directory: {one_line_error(exc)}"
        return failed
    return outcome


def manifest_record(config: Configuration, task: RunTask, outcome: dict[str, Any], attempt: int,
                    executor: str) -> dict[str, Any]:
    """The manifest line of one run attempt.

    Parameters
    ----------
    config : Configuration
        The run's configuration.
    task : RunTask
        The task.
    outcome : dict
        What the worker returned (see :func:`experiments.runner.execute`).
    attempt : int
        1 for the first attempt of this run_id, then 2, ...
    executor : str
        The executor's description.

    Returns
    -------
    dict
        run_id, config_id, config, label, scenario, scenario_sha256, policy,
        seed, replication, status, wall_time_s, versions, git_revision,
        finished_at, error, traceback, attempt, executor, host, pid and (ok
        runs) metrics.
    """
    ok = outcome["status"] == "ok"
    return {
        "run_id": task.run_id, "config_id": config.config_id, "config": config.values,
        "label": config.label, "scenario": outcome.get("scenario", config.scenario),
        "scenario_sha256": outcome.get("scenario_sha256", config.scenario_sha256),
        "policy": outcome.get("policy", config.policy), "seed": config.seed,
        "replication": task.replication, "status": outcome["status"],
        "wall_time_s": outcome.get("wall_time_s"), "versions": outcome.get("versions"),
        "git_revision": outcome.get("git_revision"),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        "error": None if ok else outcome.get("error"), "traceback": None if ok else outcome.get("traceback"),
        "attempt": attempt, "executor": executor, "host": outcome.get("host"), "pid": outcome.get("pid"),
        "metrics": outcome.get("metrics") if ok else None,
    }
