"""Helpers of the command-line tests: run ``anjeon`` as a subprocess, a tiny valid scenario.

tests/data/bad/*.yaml are small variants of :data:`TINY_YAML`, each broken in one way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "data" / "bad"
PREFIX = "anjeon: error: "

TINY_YAML = """\
schema_version: 1
name: tiny
description: Minimal valid scenario for command-line tests (synthetic).
time:
  horizon: 1 d
geography:
  kind: matrix
  places: [centre, east]
  travel_min: [[0, 6], [6, 0]]
districts:
  city:
    zones: {centre: 1, east: 1}
stations:
  main: {district: city, location: centre}
hospitals:
  general: {location: east, capacity: 1}
unit_types:
  engine: {turnout: 1 min}
  ambulance: {transports: true}
fleets:
  main: {engine: 1, ambulance: 1}
incident_types:
  medical:
    priority_mix: {1: 0.4, 2: 0.6}
    target_response: 8 min
    required_units: {ambulance: 1}
    on_scene: {dist: exponential, mean: 15 min}
    transport_probability: 0.5
    handover: 10 min
demand:
  rates_per_hr:
    city: {medical: 1.5}
policy:
  dispatch: nearest
"""


def run_cli(args: Sequence[str], timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m sim.cli ARGS`` from the repository root; text output captured."""
    return subprocess.run([sys.executable, "-m", "sim.cli", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def error_line(proc: subprocess.CompletedProcess) -> str:
    """Check that ``proc`` failed as bad input must, and return its one error line (without prefix).

    Exit code 2, nothing on standard output, exactly one line on standard
    error starting with ``anjeon: error:``, no traceback anywhere.
    """
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert proc.stderr.endswith("\n")
    assert lines[0].startswith(PREFIX), lines[0]
    return lines[0][len(PREFIX):]


def run_all(jobs: Mapping[Any, Sequence[str]]) -> dict[Any, subprocess.CompletedProcess]:
    """Run ``anjeon`` with each argument list of ``jobs`` (subprocesses, all cores at once); by key."""
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool:
        futures = {key: pool.submit(run_cli, args) for key, args in jobs.items()}
        return {key: f.result() for key, f in futures.items()}


#: a bad-input case: (scenario dict, field path the error line must name, fragments of its message)
Case = tuple[dict[str, Any], str, tuple[str, ...]]


def check_and_run(work: Path, cases: Mapping[str, Case],
                  extra: Callable[[str], list[str]] = lambda name: []) -> dict:
    """Write each case to ``work/<name>.yaml``; run ``scenario check`` and ``run --out work/out-<name>``.

    ``extra(name)`` gives more arguments for a case. Returns the processes by ``(name, command)``.
    """
    jobs = {}
    for name, (scenario, _, _) in cases.items():
        path = work / f"{name}.yaml"
        path.write_text(yaml.safe_dump(scenario, sort_keys=False), encoding="utf-8")
        jobs[(name, "check")] = ["scenario", "check", str(path), *extra(name)]
        jobs[(name, "run")] = ["run", str(path), "--out", str(work / f"out-{name}"), *extra(name)]
    return run_all(jobs)


def assert_one_line_naming(work: Path, cases: Mapping[str, Case], procs: dict, name: str,
                           command: str) -> None:
    """The case's ``command`` (check or run) gave one error line naming its file and field, wrote nothing."""
    _, path, fragments = cases[name]
    line = error_line(procs[(name, command)])
    assert line.startswith(f"{work / name}.yaml: {path}: "), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    out = work / f"out-{name}"
    assert not out.exists(), "the output directory was created"
    assert not list(work.glob(f".out-{name}*")), "a temporary directory was left behind"


@pytest.fixture(scope="session")
def cli() -> Callable[..., subprocess.CompletedProcess]:
    """Function: run ``anjeon`` with the given arguments in a subprocess."""
    return run_cli


@pytest.fixture(scope="session")
def one_error_line() -> Callable[[subprocess.CompletedProcess], str]:
    """Function: assert a clean one-line input error and return it."""
    return error_line


@pytest.fixture(scope="session")
def tiny_text() -> str:
    """Text of the valid minimal scenario."""
    return TINY_YAML


@pytest.fixture
def tiny(tmp_path) -> Path:
    """A valid minimal scenario file."""
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_YAML, encoding="utf-8")
    return path
