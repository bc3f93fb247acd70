"""Sweeps end to end: identical results on every executor, failures retried, crash-safe resume."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import time

import numpy as np
import pandas as pd
import psutil

from experiments import SerialExecutor, run_sweep
from experiments.schedule import half_width
from tests.experiments.conftest import (
    ANJEON,
    BOOM_POLICY,
    EXAMPLE,
    anjeon,
    assert_complete_store,
    manifest,
    metric_columns,
    wait_for_lines,
    write_spec,
)

GRID = {"policy": {"path": "policy.dispatch", "levels": ["nearest", "district_first"]},
        "singil_ambulances": {"path": "fleets.Singil.ambulance", "levels": [2, 3]}}


def test_example_gives_identical_runs_serially_in_processes_and_on_dask(tmp_path, dask_cluster):
    serial = run_sweep(EXAMPLE, tmp_path / "serial", SerialExecutor(), quiet=True)
    assert serial.ok == 16 and serial.failed == 0
    expected = metric_columns(assert_complete_store(tmp_path / "serial", 16))
    assert pd.read_parquet(tmp_path / "serial" / "summary.parquet").shape[0] == 16
    for name, flags in (("pool", ["--workers", "2"]), ("on_dask", ["--scheduler", dask_cluster.address])):
        done = anjeon("sweep", EXAMPLE, "--out", tmp_path / name, "--quiet", *flags)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip().endswith("16 runs in summary.parquet; 0 failed")
        got = metric_columns(assert_complete_store(tmp_path / name, 16))
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
    executors = {r["executor"] for r in manifest(tmp_path / "on_dask")}
    assert executors == {f"Dask scheduler {dask_cluster.address}"}
    # replication r sees the same incidents in every configuration (common random numbers)
    counts = expected.pivot(index="replication", columns="config_id", values="n_incidents")
    assert (counts.nunique(axis=1) == 1).all()


def test_dask_local_cluster_gives_the_same_runs(tmp_path):
    spec = write_spec(tmp_path / "local.yaml", factors={"policy": GRID["policy"]})
    expected = run_sweep(spec, tmp_path / "serial", SerialExecutor(), quiet=True).summary
    done = anjeon("sweep", spec, "--out", tmp_path / "local", "--dask-local", "2", "--quiet")
    assert done.returncode == 0, done.stderr
    got = assert_complete_store(tmp_path / "local", 4)
    pd.testing.assert_frame_equal(metric_columns(got), metric_columns(expected))
    assert {r["executor"] for r in manifest(tmp_path / "local")} == {"Dask LocalCluster (2 workers)"}


def test_failed_configuration_is_recorded_and_retried_alone(tmp_path, monkeypatch):
    (tmp_path / "boom_policy.py").write_text(BOOM_POLICY)
    (tmp_path / "boom.on").touch()
    spec = write_spec(tmp_path / "fail.yaml", factors={
        "policy": {"path": "policy.dispatch", "levels": ["nearest", "boom_policy:Boom"]}})
    env = {"PYTHONPATH": str(tmp_path)}
    out = tmp_path / "out"
    first = anjeon("sweep", spec, "--out", out, "--workers", "2", "--quiet", "--allow-code", env=env)
    assert first.returncode == 1, first.stderr
    records = manifest(out)
    failed = sorted(r["run_id"] for r in records if r["status"] == "failed")
    assert len(records) == 4 and len(failed) == 2
    for r in records:
        if r["status"] == "failed":
            assert r["policy"] == "boom_policy:Boom"
            assert r["error"] == "RuntimeError: boom: this policy fails on purpose"
            assert "Traceback" in r["traceback"] and "in select" in r["traceback"]
    assert len(pd.read_parquet(out / "summary.parquet")) == 2
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(
        r["run_id"] for r in records if r["status"] == "ok")
    monkeypatch.syspath_prepend(str(tmp_path))
    again = run_sweep(spec, out, SerialExecutor(), quiet=True, allow_code=True)  # leaves failed runs alone
    assert again.ran == 0 and again.failed_runs == failed and len(manifest(out)) == 4
    (tmp_path / "boom.on").unlink()
    retry = anjeon("sweep", spec, "--out", out, "--workers", "1", "--retry-failed", "--quiet", "--allow-code",
                   env=env)
    assert retry.returncode == 0, retry.stderr
    new = manifest(out)[4:]
    assert sorted(r["run_id"] for r in new) == failed
    assert {r["status"] for r in new} == {"ok"} and {r["attempt"] for r in new} == {2}
    assert_complete_store(out, 4)


def _session_processes(pid: int) -> list[psutil.Process]:
    return [p for p in psutil.process_iter() if _sid(p) == pid]


def _sid(p: psutil.Process) -> int | None:
    try:
        return os.getsid(p.pid)
    except OSError:
        return None


def _kill_midway(spec, out, flags, after):
    proc = subprocess.Popen([*ANJEON, "sweep", str(spec), "--out", str(out), "--quiet", *flags],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        seen = wait_for_lines(out, after, proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _session_processes(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _session_processes(proc.pid), "worker processes outlived the killed client"
        return seen
    finally:
        for p in _session_processes(proc.pid):
            p.kill()


def test_sigkill_midway_then_rerun_completes_every_run_once(tmp_path):
    spec = write_spec(tmp_path / "kill.yaml", replications=8, horizon="3 d", factors=GRID,
                      keep_tables=["incidents", "assignments", "units", "events"])
    out = tmp_path / "out"
    seen = _kill_midway(spec, out, ["--workers", "2"], after=5)
    assert 5 <= seen < 32, "the sweep was not killed midway"
    _kill_midway(spec, out, ["--workers", "1"], after=seen + 4)  # killed while writing in-process
    assert len(manifest(out)) < 32, "the sweep was not killed midway"
    done = anjeon("sweep", spec, "--out", out, "--workers", "2", "--quiet")
    assert done.returncode == 0, done.stderr
    assert_complete_store(out, 32)
    assert collections.Counter(r["run_id"] for r in manifest(out)).most_common(1)[0][1] == 1


def test_dask_worker_killed_midway_sweep_completes(tmp_path, dask_cluster):
    spec = write_spec(tmp_path / "dask.yaml", replications=8, horizon="3 d", factors=GRID)
    out = tmp_path / "out"
    proc = subprocess.Popen([*ANJEON, "sweep", str(spec), "--out", str(out), "--quiet",
                             "--scheduler", dask_cluster.address],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = wait_for_lines(out, 4, proc)
        dask_cluster.workers[0].kill()
        _, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert 4 <= seen < 32, "the worker was not killed midway"
    assert proc.returncode == 0, stderr
    assert_complete_store(out, 32)
    assert len(manifest(out)) == 32
    assert dask_cluster.workers[0].poll() is not None


def test_pool_worker_killed_midway_sweep_completes(tmp_path):
    spec = write_spec(tmp_path / "pool.yaml", replications=6, horizon="2 d", factors=GRID)
    out = tmp_path / "out"
    proc = subprocess.Popen([*ANJEON, "sweep", str(spec), "--out", str(out), "--quiet", "--workers", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = wait_for_lines(out, 4, proc)
        workers = [c for c in psutil.Process(proc.pid).children(recursive=True)
                   if "resource_tracker" not in " ".join(c.cmdline())]
        workers[0].kill()
        _, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert 4 <= seen < 24, "the worker was not killed midway"
    assert proc.returncode == 0, stderr
    assert_complete_store(out, 24)


def test_adaptive_replications_stop_at_the_target_or_the_cap(tmp_path):
    target = 0.06
    spec = write_spec(tmp_path / "adaptive.yaml", replications=2, horizon="2 d", keep_tables=[],
                      factors={"policy": GRID["policy"]},
                      adaptive={"metric": "mean_response_min", "half_width": target, "max_replications": 7,
                                "batch": 2})
    result = run_sweep(spec, tmp_path / "out", SerialExecutor(), quiet=True)
    s = result.summary
    assert result.failed == 0 and len(s) == result.ok
    for _, g in s.groupby("config_id"):
        reps = sorted(g["replication"])
        assert reps == list(range(len(reps))) and 2 <= len(reps) <= 7
        values = g.sort_values("replication")["mean_response_min"].to_numpy()
        hw = half_width(values, 0.95)
        assert len(reps) == 7 or hw <= target
        if len(reps) > 2:  # it went on only because the previous batch was not precise enough
            before = 2 + ((len(reps) - 2 - 1) // 2) * 2
            assert half_width(values[:before], 0.95) > target
    assert not (tmp_path / "out" / "runs" / s["run_id"].iloc[0] / "incidents.parquet").exists()
    again = run_sweep(spec, tmp_path / "out", SerialExecutor(), quiet=True)
    assert again.ran == 0 and len(again.summary) == len(s)


def test_resume_skips_finished_runs_and_more_replications_extend(tmp_path):
    spec = write_spec(tmp_path / "r.yaml", replications=2, factors={"policy": GRID["policy"]})
    first = run_sweep(spec, tmp_path / "out", SerialExecutor(), quiet=True)
    assert first.ran == 4 and first.ok == 4
    again = run_sweep(spec, tmp_path / "out", SerialExecutor(), quiet=True)
    assert again.ran == 0 and again.skipped == 4
    write_spec(spec, replications=3, factors={"policy": GRID["policy"]})
    more = run_sweep(spec, tmp_path / "out", SerialExecutor(), quiet=True)
    assert more.ran == 2 and sorted(more.summary["replication"]) == [0, 0, 1, 1, 2, 2]
    assert np.isfinite(more.summary["mean_response_min"]).all()
    write_spec(spec, replications=3, factors={"policy": GRID["policy"]}, horizon="3 d")
    changed = anjeon("sweep", spec, "--out", tmp_path / "out", "--workers", "1")
    assert changed.returncode == 2 and "different plan" in changed.stderr
