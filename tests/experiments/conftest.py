"""Helpers for the sweep tests: spec files, a real Dask cluster, and checks of a sweep directory."""

from __future__ import annotations

import collections
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
ANJEON = [str(BIN / "anjeon")] if (BIN / "anjeon").exists() else [sys.executable, "-m", "sim.cli"]
DASK = str(BIN / "dask")
EXAMPLE = ROOT / "experiments" / "sweeps" / "ansan_policy_fleet.yaml"
STORE_FILES = {"experiment.yaml", "plan.json", "manifest.jsonl", "summary.parquet", "runs", ".lock"}

BOOM_POLICY = '''
"""A dispatch policy that raises inside the engine while the file boom.on exists beside it."""
from pathlib import Path

import numpy as np

FLAG = Path(__file__).with_name("boom.on")


class Boom:
    def __init__(self, world):
        self.world = world

    def select(self, c, k):
        if FLAG.exists():
            raise RuntimeError("boom: this policy fails on purpose")
        order = np.lexsort((c.units, c.arrival_min))
        return order[np.isfinite(c.arrival_min[order])][:k]
'''


def write_spec(path: Path, **fields) -> Path:
    """Write an experiment YAML on ansan with small defaults, updated by ``fields``."""
    spec = {"name": "t", "scenarios": ["ansan"], "seed": 5, "replications": 2, "horizon": "2 d",
            "warmup": "0.5 d", "keep_tables": ["incidents", "units"]}
    spec.update(fields)
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def anjeon(*args: str, cwd: Path | None = None, env: dict | None = None,
           timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the ``anjeon`` command and capture its output."""
    return subprocess.run([*ANJEON, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def manifest(path: Path) -> list[dict]:
    return [json.loads(line) for line in (path / "manifest.jsonl").read_text().splitlines()]


def wait_for_lines(path: Path, n: int, proc: subprocess.Popen, timeout: float = 120) -> int:
    """Wait until the manifest has at least ``n`` lines (or the process ended); return the count."""
    deadline = time.monotonic() + timeout
    count = 0
    while time.monotonic() < deadline and proc.poll() is None:
        f = path / "manifest.jsonl"
        count = len(f.read_text().splitlines()) if f.exists() else 0
        if count >= n:
            return count
        time.sleep(0.05)
    return count


def assert_complete_store(path: Path, n_runs: int) -> pd.DataFrame:
    """Every planned run present exactly once, every file readable, nothing temporary left."""
    plan = json.loads((path / "plan.json").read_text())
    expected = {f"{c['config_id']}-r{r:03d}" for c in plan["configurations"]
                for r in range(plan["replications"])}
    assert len(expected) == n_runs
    assert {p.name for p in path.iterdir()} <= STORE_FILES
    records = manifest(path)
    ok = collections.Counter(r["run_id"] for r in records if r["status"] == "ok")
    assert set(ok) == expected and set(ok.values()) == {1}
    summary = pd.read_parquet(path / "summary.parquet")
    assert summary["run_id"].is_unique and set(summary["run_id"]) == expected
    runs = {p.name for p in (path / "runs").iterdir()}
    assert runs == expected, runs ^ expected
    for p in path.rglob("*"):
        assert ".tmp" not in p.name and ".old-" not in p.name, p
        if p.suffix == ".parquet":
            pd.read_parquet(p)
        if p.suffix == ".json":
            json.loads(p.read_text())
    for rid in expected:
        assert {"run.json", "scenario.json"} <= {p.name for p in (path / "runs" / rid).iterdir()}
    return summary


def metric_columns(summary: pd.DataFrame) -> pd.DataFrame:
    """Per-run results (everything but the wall time), in run_id order."""
    return summary.drop(columns=["wall_time_s"]).sort_values("run_id").reset_index(drop=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DaskCluster:
    """A ``dask scheduler`` and workers started from the project's venv on 127.0.0.1."""

    def __init__(self, tmp: Path, n_workers: int = 2):
        self.tmp = tmp
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.n_workers = n_workers
        self.procs: list[subprocess.Popen] = []
        self.workers: list[subprocess.Popen] = []
        tmp.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        scheduler = self._spawn([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                 "--no-dashboard"], "scheduler")
        # workers only once the scheduler listens: a worker started at the same time may bind the
        # scheduler's still-free port for its own listener, and the client then waits on the worker
        self._await_listening(scheduler)
        for i in range(self.n_workers):
            self.workers.append(self._spawn(
                [DASK, "worker", self.address, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny",
                 "--no-dashboard", "--name", f"w{i}", "--local-directory", str(self.tmp / f"w{i}")],
                f"w{i}"))

    def _await_listening(self, scheduler: subprocess.Popen, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and scheduler.poll() is None:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"the dask scheduler is not listening on port {self.port}: "
                           f"{(self.tmp / 'scheduler.log').read_text()[-2000:]}")

    def _spawn(self, cmd: list[str], name: str) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=self.tmp)
        self.procs.append(proc)
        return proc

    def wait(self, n: int, timeout: float = 90) -> None:
        from distributed import Client

        with Client(self.address, timeout=f"{timeout}s") as client:
            client.wait_for_workers(n, timeout=timeout)

    def stop(self) -> None:
        """Workers first (while the scheduler is there to say goodbye to), then the scheduler."""
        workers, scheduler = self.procs[1:], self.procs[:1]
        for group in (workers, scheduler):
            for proc in group:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in group:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)


@pytest.fixture
def dask_cluster(tmp_path):
    """A running cluster with two single-threaded workers; stopped after the test, even on failure."""
    cluster = DaskCluster(tmp_path / "dask-cluster")
    try:
        cluster.start()
        cluster.wait(2)
        yield cluster
    finally:
        cluster.stop()
