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
from experiments.spec import load_spec
from experiments.store import SweepStore, write_run

#: Where sweeps go without ``--out``: ``out/sweeps/<experiment name>``.
DEFAULT_ROOT = Path("out") / "sweeps"


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


def load_plan(spec_path: str | Path, probe: bool = True) -> tuple[Plan, str]:
    """Read, validate and resolve an experiment file.

    Parameters
    ----------
    spec_path : str or Path
        The experiment YAML.
    probe : bool
        Run each base scenario for a day (warms the numba cache, checks metric names).

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
    return make_plan(spec, str(spec_path), Path(spec_path).parent, probe=probe), text


def run_sweep(spec_path: str | Path, out: str | Path | None = None, executor: Executor | None = None, *,
              retry_failed: bool = False, quiet: bool = False, on_start: Any = None) -> SweepResult:
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
    on_start : callable, optional
        Called as ``on_start(result, to_do, executor)`` once the store is open (for messages).

    Returns
    -------
    SweepResult

    Raises
    ------
    InputError
        For a bad spec or an unusable sweep directory (nothing is written then).
    """
    started = time.perf_counter()
    plan, text = load_plan(spec_path)
    path = Path(out) if out is not None else default_out(plan.spec.name)
    store = SweepStore.open(path, plan.to_json(), text)
    result = SweepResult(path, plan, timings={"plan_s": time.perf_counter() - started})
    try:
        schedule = Schedule(plan, store, retry_failed)
        todo = schedule.initial()
        todo_ids = {run_id(c.config_id, r) for c, r in todo}
        result.skipped = sum(1 for c in plan.configurations for r in range(schedule.planned[c.config_id])
                             if store.status(run_id(c.config_id, r)) is not None
                             and run_id(c.config_id, r) not in todo_ids)
        executor = executor or PoolExecutor()
        if on_start is not None:
            on_start(result, len(todo), executor)
        if todo:
            _execute(plan, store, schedule, executor, todo, result, quiet)
    finally:
        store.close()
    result.summary = store.summary()
    result.failed_runs = store.failed_runs()
    result.timings["total_s"] = time.perf_counter() - started
    return result


def _execute(plan: Plan, store: SweepStore, schedule: Schedule, executor: Executor,
             todo: list[tuple[Configuration, int]], result: SweepResult, quiet: bool) -> None:
    t0 = time.perf_counter()
    with SweepProgress(len(todo), quiet, plan.spec.name) as progress, executor:
        t1 = time.perf_counter()
        result.timings["start_s"] = t1 - t0
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
        result.timings["run_s"] = time.perf_counter() - t1


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
