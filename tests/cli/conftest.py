"""Helpers of the command-line tests: run ``anjeon`` as a subprocess, a tiny valid scenario.

tests/data/bad/*.yaml are small variants of :data:`TINY_YAML`, each broken in one way.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

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
