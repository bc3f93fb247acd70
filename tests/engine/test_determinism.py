"""Same scenario + seed + replication => the same event log, in one process or in two."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import scenarios
import sim
from sim.results import TABLES

ROOT = Path(__file__).resolve().parents[2]
PROVENANCE = ("scenario", "scenario_sha256", "policy", "seed", "replication", "versions",
              "wall_time_s", "summary")


@pytest.mark.nojit
def test_in_process_runs_are_identical():
    s = scenarios.load("ansan")
    a = sim.run(s, seed=3, replication=2, days=2)
    b = sim.run(s, seed=3, replication=2, days=2)
    assert len(a.events) > 1000
    assert a.events.equals(b.events)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


@pytest.mark.nojit
def test_precompiled_world_gives_the_same_run():
    s = scenarios.load("ansan")
    s2 = scenarios.override(s, {"time.horizon": 2 * 1440.0})
    world = sim.compile(s2)
    a = sim.run(s2, seed=4, world=world)
    b = sim.run(s2, seed=4, world=world)          # a World serves many runs
    c = sim.run(s2, seed=4)
    assert a.events.equals(b.events) and a.events.equals(c.events)


@pytest.fixture(scope="module")
def two_cli_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("determinism")
    outs = [base / "first", base / "second"]
    procs = [subprocess.Popen([sys.executable, "-m", "sim.cli", "run", "ansan", "--days", "2", "--seed", "8",
                               "--replication", "1", "--quiet", "--out", str(out)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for out in outs]
    for p in procs:
        _, stderr = p.communicate(timeout=300)
        assert p.returncode == 0, stderr
        assert stderr == ""
    return outs


def test_cli_runs_in_two_processes_are_identical(two_cli_runs):
    first, second = two_cli_runs
    for name in TABLES:
        a = pd.read_parquet(first / f"{name}.parquet")
        b = pd.read_parquet(second / f"{name}.parquet")
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    ma, mb = (json.loads((d / "run.json").read_text()) for d in two_cli_runs)
    for meta in (ma, mb):
        meta.pop("wall_time_s")
        meta.pop("git_revision")        # others may commit to this tree while the test runs
    assert ma == mb


def test_cli_run_matches_the_in_process_run(two_cli_runs):
    result = sim.run("ansan", seed=8, replication=1, days=2)
    events = pd.read_parquet(two_cli_runs[0] / "events.parquet")
    pd.testing.assert_frame_equal(events, result.events, check_exact=True)


def test_cli_out_directory_holds_tables_and_provenance(two_cli_runs):
    out = two_cli_runs[0]
    names = {p.name for p in out.iterdir()}
    assert {f"{t}.parquet" for t in TABLES} | {"run.json"} <= names
    assert not [n for n in names if n.startswith(".")]            # no temporary leftovers
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]
    meta = json.loads((out / "run.json").read_text())
    missing = [k for k in PROVENANCE if k not in meta]
    assert not missing
    assert meta["scenario"] == "ansan"
    assert meta["scenario_sha256"] == scenarios.scenario_hash(
        scenarios.override(scenarios.load("ansan"), {"time.horizon": 2 * 1440.0}))
    assert len(meta["scenario_sha256"]) == 64
    assert meta["policy"]["dispatch"] == "nearest"
    assert (meta["seed"], meta["replication"]) == (8, 1)
    assert {"python", "numpy", "simpy", "pandas"} <= set(meta["versions"])
    assert meta["wall_time_s"] >= 0
    assert meta["summary"]["incidents"] > 0
    events = pd.read_parquet(out / "events.parquet")
    assert meta["n_events"] == len(events)
    assert list(events.columns[:6]) == ["t_min", "seq", "kind", "incident_id", "unit_id", "detail"]
