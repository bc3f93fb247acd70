"""Scenario files are data, through the real command line (issue #16, items 7, 11, 12, 13, 15, 17).

Each case is a small scenario broken in one way, run as ``anjeon scenario
check FILE`` and ``anjeon run FILE --out DIR`` in-process: exactly one line
on standard error naming the file and the field (or the line), exit code 2,
nothing written. The alias bomb and the code-naming scenario also run as
real processes: the first must end fast (``anjeon run`` used to grow to
3.8 GB), the second must import nothing.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import sim.cli
from tests.cli.conftest import TINY_YAML

#: The tiny scenario on plain coordinates: a 4 x 4 km district and a hospital just outside it.
PLANE_YAML = """\
schema_version: 1
name: plane
description: Minimal scenario on plain coordinates (synthetic).
time:
  horizon: 1 d
geography: {kind: coordinates, speed_kmh: 40}
districts:
  city: {population: 10000, boundary: [[0, 0], [4, 0], [4, 4], [0, 4]]}
stations:
  main: {district: city, location: [1, 1]}
hospitals:
  general: {location: [5, 2], capacity: 1}
unit_types:
  ambulance: {transports: true}
fleets:
  main: {ambulance: 1}
incident_types:
  medical:
    priority_mix: {1: 1.0}
    target_response: 8 min
    required_units: {ambulance: 1}
    on_scene: 15 min
    transport_probability: 0.5
demand:
  rates_per_hr:
    city: {medical: 1.5}
"""
BOMB = "\n".join(['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
                 + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)])
PARAMS = "  dispatch: nearest\n"


def _params(text: str) -> str:
    indented = "".join(f"    {line}\n" for line in text.splitlines())
    return TINY_YAML.replace(PARAMS, PARAMS + "  params:\n" + indented)


#: case -> (scenario text, what the line names after the file: a field path, or the start of the line
#: holding the problem as ``"line of <text>"`` (its second occurrence for duplicates), fragments)
CASES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "second_fleets_section": (TINY_YAML + "fleets:\n  main: {engine: 2}\n", "line of fleets:",
                              ("duplicate key 'fleets' (first given on line 20)",)),
    "server_twice": (TINY_YAML.replace("  main: {engine: 1, ambulance: 1}\n",
                                       "  main:\n    engine: 5\n    engine: 1\n    ambulance: 1\n"),
                     "line of     engine:", ("duplicate key 'engine' (first given on line 22)",)),
    "district_twice": (TINY_YAML.replace("stations:\n", "  city: {zones: {east: 1}}\nstations:\n"),
                       "line of   city:", ("duplicate key 'city' (first given on line 11)",)),
    "alias_bomb_in_params": (_params(BOMB), "line of     a5:", ("alias bomb",)),    # 9^6 nodes by a5
    "deep_list": (_params("x: " + "[" * 100_000 + "]" * 100_000), "line of     x: [[[",
                  ("nesting is deeper than 50 levels",)),
    "deep_mapping": (TINY_YAML + "components:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(5000)),
                     "line of " + "  " * 49 + "k48:", ("nesting is deeper than 50 levels",)),
    "infinite_rate": (TINY_YAML.replace("{medical: 1.5}", "{medical: .inf}"),
                      "demand.rates_per_hr.city.medical", ("finite number",)),
    "absurd_rate": (TINY_YAML.replace("{medical: 1.5}", "{medical: 1e300}"), "demand",
                    ("incidents expected", "a day over 1 d", "at most 2,000,000")),
    "billion_day_horizon": (TINY_YAML.replace("horizon: 1 d", "horizon: 1000000000 d"), "time.horizon",
                            ("24,000,000,000 hourly demand bins", "at most 1,000,000")),
    "station_outside_its_district": (PLANE_YAML.replace("location: [1, 1]", "location: [6, 1]"),
                                     "stations.main.location",
                                     ("[6, 1] lies 2.00 km outside the boundary of its district 'city'",
                                      "at most 0.5 km")),
    "hospital_400_km_away": (PLANE_YAML.replace("location: [5, 2]", "location: [404, 2]"),
                             "hospitals.general.location",
                             ("lies 400.0 km from the nearest district", "5.7 km corner to corner")),
    "nodes_file_is_a_system_file": (
        PLANE_YAML.replace("{kind: coordinates, speed_kmh: 40}",
                           "{kind: network, nodes: /etc/passwd, edges: /etc/hostname}"),
        "geography.nodes", ("/etc/passwd: line 1: expected a CSV file with the header id,x_km,y_km",)),
}


def _where(case: str) -> str:
    """The field path of ``case``, or ``line N`` of the last line starting with its text."""
    text, where, _ = CASES[case]
    if not where.startswith("line of "):
        return where
    start = where.removeprefix("line of ")
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if line.startswith(start)]
    return f"line {lines[-1]}"


def _in_process(argv: list[str], capsys) -> str:
    code = sim.cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert (code, out) == (2, ""), (code, out, err)
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    assert lines[0].startswith("anjeon: error: "), err
    return lines[0][len("anjeon: error: "):]


def test_the_base_scenarios_are_valid(tmp_path, capsys):
    for name, text in (("tiny", TINY_YAML), ("plane", PLANE_YAML)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        assert sim.cli.main(["scenario", "check", str(path)]) == 0
        assert capsys.readouterr().out.startswith(f"ok: {name} ")


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_one_line_naming_file_and_field_or_line(tmp_path, capsys, case, command):
    text, _, fragments = CASES[case]
    where = _where(case)
    path = tmp_path / f"{case}.yaml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    argv = ["scenario", "check", path] if command == "check" else ["run", path, "--out", out]
    line = _in_process(argv, capsys)
    assert re.match(rf"{re.escape(f'{path}: {where}')}(, column \d+)?: ", line), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    assert not out.exists()


def test_a_system_file_named_as_nodes_is_not_quoted(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(CASES["nodes_file_is_a_system_file"][0], encoding="utf-8")
    line = _in_process(["scenario", "check", path], capsys)
    first = Path("/etc/passwd").read_text(encoding="utf-8", errors="replace").splitlines()[0]
    assert first.split(":")[0] not in line.split("/etc/passwd", 1)[1], line
    assert not re.search(r"root:|/bin/", line), line


# -- as real processes ----------------------------------------------------------------------------


def test_run_refuses_an_alias_bomb_quickly(tmp_path, cli, one_error_line):
    path = tmp_path / "bomb.yaml"
    path.write_text(CASES["alias_bomb_in_params"][0], encoding="utf-8")
    out = tmp_path / "out"
    line = one_error_line(cli(["run", path, "--out", out], timeout=60))
    assert line.startswith(f"{path}: {_where('alias_bomb_in_params')}, column 14: aliases expand"), line
    assert not out.exists()


MARKER = """\
import pathlib
pathlib.Path(__file__).with_name("imported").write_text("this module ran")
from agents.policies.dispatch import Nearest as Policy
from agents.components import Component
class Part(Component):
    pass
"""


@pytest.mark.parametrize(("section", "path"), [
    ("policy:\n  dispatch: nearest\n", "policy.dispatch"),
    ("demand:\n", "components.anjeon_marker_mod:Part"),
], ids=["policy", "component"])
def test_a_scenario_naming_code_imports_nothing(tmp_path, section, path):
    import subprocess

    (tmp_path / "anjeon_marker_mod.py").write_text(MARKER, encoding="utf-8")
    if path == "policy.dispatch":
        text = TINY_YAML.replace(section, "policy:\n  dispatch: anjeon_marker_mod:Policy\n")
    else:
        text = TINY_YAML + "components:\n  anjeon_marker_mod:Part: {}\n"
    scenario = tmp_path / "drill.yaml"
    scenario.write_text(text, encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    for argv in (["scenario", "check", scenario], ["run", scenario, "--out", tmp_path / "out"]):
        proc = subprocess.run([sys.executable, "-m", "sim.cli", *map(str, argv)], cwd=root, text=True,
                              capture_output=True, timeout=120,
                              env={"PYTHONPATH": f"{tmp_path}:{root}", "PATH": "/usr/bin:/bin"})
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.count("\n") == 1, proc.stderr
        assert proc.stderr.startswith(f"anjeon: error: {scenario}: {path}: "), proc.stderr
        assert "names code; a scenario may name registered" in proc.stderr
        assert "use --allow-code or the Python API" in proc.stderr
        assert not (tmp_path / "imported").exists(), "the scenario imported a module"
        assert not (tmp_path / "out").exists()
